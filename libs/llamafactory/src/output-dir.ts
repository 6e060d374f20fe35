import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { TrajgenError } from '@trajgen/core';

export interface CheckpointInfo {
  step: number;
  name: string;
  path: string;
}

const CHECKPOINT = /^checkpoint-(\d+)$/;

/** `checkpoint-<step>` dirs of a run, by step (never by mtime: a copied or touched dir would pass for the newest). */
export function listCheckpoints(dir: string): CheckpointInfo[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && CHECKPOINT.test(e.name))
    .map((e) => ({ step: Number(CHECKPOINT.exec(e.name)![1]), name: e.name, path: join(dir, e.name) }))
    .sort((a, b) => a.step - b.step);
}

export function newestCheckpoint(dir: string): CheckpointInfo | undefined {
  const all = listCheckpoints(dir);
  return all[all.length - 1];
}

export function dirEntries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  if (!statSync(dir).isDirectory()) throw new TrajgenError(`output_dir ${dir} exists and is not a directory`);
  return readdirSync(dir).sort();
}

/**
 * `training.resume_from_checkpoint` as an absolute checkpoint dir: `latest` is
 * the newest checkpoint of the run; a bare `checkpoint-N` is looked up in the
 * run dir; other relative paths resolve like every config path.
 */
export function resolveResumeCheckpoint(value: string, outputDir: string, resolveConfigPath: (p: string) => string): string {
  let dir: string;
  if (value === 'latest' || value === 'true') {
    const newest = newestCheckpoint(outputDir);
    if (!newest) {
      throw new TrajgenError(`resume_from_checkpoint: latest, but ${outputDir} has no checkpoint-* directory`, {
        hint: 'Train without resume first (checkpoints are written every save_steps), or name a checkpoint path.',
      });
    }
    dir = newest.path;
  } else if (!isAbsolute(value) && !value.startsWith('{') && CHECKPOINT.test(value)) {
    dir = join(outputDir, value);
  } else {
    dir = resolve(resolveConfigPath(value));
  }
  if (!existsSync(dir)) {
    const have = listCheckpoints(outputDir).map((c) => c.name);
    throw new TrajgenError(`resume_from_checkpoint ${dir} does not exist`, {
      hint: have.length ? `Checkpoints of this run: ${have.join(', ')}; or use "latest".` : 'This run has no checkpoints yet.',
    });
  }
  if (!existsSync(join(dir, 'trainer_state.json'))) {
    throw new TrajgenError(`${dir} is not a training checkpoint (no trainer_state.json)`, { hint: 'Point resume_from_checkpoint at a checkpoint-<step> directory.' });
  }
  const hasOptimizer = existsSync(join(dir, 'optimizer.pt')) || readdirSync(dir).some((n) => /^global_step\d+$/.test(n) || n === 'optimizer.bin');
  if (!hasOptimizer) {
    throw new TrajgenError(`${dir} holds no optimizer state: it was saved with save_only_model: true and cannot be resumed`, {
      hint: 'Resume needs optimizer, scheduler and RNG state (LLaMA-Factory resumes only from a full checkpoint). Start a new run from these weights instead (model_name_or_path / adapter_name_or_path).',
    });
  }
  return dir;
}

/** What LLaMA-Factory/transformers write into a run dir; `overwrite` removes only these. */
const RUN_OUTPUT = [
  CHECKPOINT,
  /^trainer_log\.jsonl$/,
  /^trainer_state\.json$/,
  /^(train|eval|predict|all)_results\.json$/,
  /^training_(loss|eval_loss|eval_accuracy)\.(png|svg)$/,
  /^adapter_(model\.safetensors|model\.bin|config\.json)$/,
  /^model(-\d+-of-\d+)?\.safetensors(\.index\.json)?$/,
  /^pytorch_model(-\d+-of-\d+)?\.bin(\.index\.json)?$/,
  /^(config|generation_config|tokenizer|tokenizer_config|special_tokens_map|added_tokens|vocab|preprocessor_config|processor_config)\.json$/,
  /^(merges\.txt|vocab\.txt|tokenizer\.model|chat_template\.jinja|chat_template\.json)$/,
  /^training_args\.(bin|json)$/,
  /^README\.md$/,
  /^generated_predictions\.jsonl$/,
  /^running_log\.txt$/,
  /^base_model$/,
  /^runs$/,
];

/**
 * Empty a run dir for `overwrite_output_dir: true`: remove what a training run
 * writes there (checkpoints, logs, results, weights), keep anything else and
 * say so. Without this a stale `checkpoint-N` from a longer earlier run would
 * pass for this run's newest checkpoint.
 */
export function clearRunDir(dir: string): { removed: string[]; kept: string[] } {
  const removed: string[] = [];
  const kept: string[] = [];
  for (const name of dirEntries(dir)) {
    if (RUN_OUTPUT.some((re) => re.test(name))) {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } else kept.push(name);
  }
  return { removed, kept };
}

export type OutputDirDecision =
  | { action: 'fresh' }
  | { action: 'resume'; checkpoint: string }
  | { action: 'overwrite'; removed: string[]; kept: string[] };

function listSome(names: string[]): string {
  return names.length > 6 ? `${names.slice(0, 6).join(', ')}, … (${names.length} entries)` : names.join(', ');
}

/**
 * The clobber guard: never train over an earlier run's output. A non-empty run dir is refused unless the run
 * resumes from a checkpoint, or `overwrite_output_dir: true` says to replace
 * it. One opt-in, not the prior art's config key + SFT_ALLOW_OVERWRITE_OUTPUT
 * env var: the key is written in a reviewed file, and an env var would make the
 * same cached stage behave differently per shell.
 */
export function guardOutputDir(
  outputDir: string,
  options: { resumeFromCheckpoint?: string | null; overwrite: boolean; clear?: boolean },
): OutputDirDecision {
  const entries = dirEntries(outputDir);
  if (options.resumeFromCheckpoint) return { action: 'resume', checkpoint: options.resumeFromCheckpoint };
  if (entries.length === 0) return { action: 'fresh' };
  if (!options.overwrite) {
    throw new TrajgenError(`Refusing to train into ${outputDir}: it is not empty (${listSome(entries)})`, {
      hint: 'Set training.resume_from_checkpoint: latest to continue that run, training.overwrite_output_dir: true to replace it, or choose another training.output_dir.',
    });
  }
  if (options.clear === false) return { action: 'overwrite', removed: [], kept: entries };
  return { action: 'overwrite', ...clearRunDir(outputDir) };
}
