import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pipelinePaths, type PipelinePaths } from '@trajgen/config';
import { fromWorkspacePath } from '@trajgen/llamafactory';
import { copyTree } from './outputs';
import { readTrainResult } from './train-pipeline';
import { cachedCheckpointMissing } from './cached-checkpoint.cjs';

export interface MaterializeReport {
  /** Workspace-relative paths written back into the run dir. */
  restored: string[];
  /** Why nothing was done, when nothing was. */
  skipped?: string;
}

/**
 * After Nx restored `train/` from its cache (a fresh clone, another machine),
 * the run dir `model/<run>/` — not a declared output — may be missing, while
 * runtime_info.output.checkpoint_path and result.json point into it. This
 * copies the cached newest checkpoint (and the initialised base weights)
 * back to where checkpoint_path says, when missing. Idempotent; never
 * overwrites an existing checkpoint. The plugin's postTasksExecution hook
 * calls it (through restoreCachedCheckpoint) after a train task restored from
 * a cache; also safe to call by hand before using checkpoint_path.
 */
export function materializeTrainOutputs(paths: PipelinePaths): MaterializeReport {
  const result = readTrainResult(paths);
  if (!result) return { restored: [], skipped: 'no train/result.json' };
  if (!result.cached_checkpoint) return { restored: [], skipped: 'no cached checkpoint (cache_checkpoint: none, or no checkpoint saved)' };
  const ws = paths.workspaceRoot;
  const restored: string[] = [];
  const target = fromWorkspacePath(ws, result.checkpoint_path);
  const source = fromWorkspacePath(ws, result.cached_checkpoint);
  if (!existsSync(target) && existsSync(source)) {
    copyTree(source, target);
    restored.push(result.checkpoint_path);
  }
  if (result.cached_base_model) {
    const base = join(fromWorkspacePath(ws, result.output_dir), 'base_model');
    const cachedBase = fromWorkspacePath(ws, result.cached_base_model);
    if (!existsSync(base) && existsSync(cachedBase)) {
      copyTree(cachedBase, base);
      restored.push(`${result.output_dir}/base_model`);
    }
  }
  return restored.length ? { restored } : { restored, skipped: 'the run dir already holds the checkpoint' };
}

/**
 * For the plugin's postTasksExecution hook, after Nx restored `<pipeline>:train`
 * from a cache: put the checkpoint back where checkpoint_path points.
 * Returns the workspace-relative paths written (none when nothing was missing).
 */
export function restoreCachedCheckpoint(workspaceRoot: string, pipeline: string): string[] {
  if (!cachedCheckpointMissing(workspaceRoot, pipeline)) return [];
  return materializeTrainOutputs(pipelinePaths(workspaceRoot, pipeline)).restored;
}
