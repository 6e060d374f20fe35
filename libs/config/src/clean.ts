import { existsSync, rmSync } from 'node:fs';
import { relative } from 'node:path';
import { TrajgenError, type StageIO } from '@trajgen/core';
import type { LoadedPipeline } from './load';
import type { PipelinePaths } from './paths';

/**
 * Options of `nx run <p>:clean` (tools/trajgen/src/executors/clean/schema.json).
 * Clean lives here because what it may remove is a question about the artifact
 * layout, which this lib owns (paths.ts), and about nothing else.
 */
export interface CleanStageOptions {
  /** Also data/ (IM and LF datasets), the convert memo and the register receipt. */
  data?: boolean;
  /** Also model/, train/ and training_config/. */
  models?: boolean;
  /** Say what would go, remove nothing. */
  dryRun?: boolean;
  /** Refused: rollout jobs are append-only. */
  jobs?: boolean;
  /** Refused: the ledger keeps tasks consumed once. */
  ledger?: boolean;
}

/**
 * What clean may remove. Rollout jobs and the ledger are never in any of
 * these lists: jobs are the append-only record of what was rolled out and the
 * ledger is what guarantees a task is consumed once.
 */
export function cleanTargets(paths: PipelinePaths, options: CleanStageOptions): string[] {
  const targets = [paths.tmp, paths.logs, paths.litellm];
  // Datasets and the convert memo. Not prepare/ and rollout/: tiny indexes the ledger's
  // fingerprint reads (removing them would make prepare re-run), and not the task staging,
  // which trial configs point at.
  if (options.data) targets.push(paths.data, paths.cache, paths.registerOut);
  if (options.models) targets.push(paths.model, paths.trainOut, paths.trainingConfig);
  return targets;
}

export function cleanPipeline(paths: PipelinePaths, options: CleanStageOptions, log: (line: string) => void): string[] {
  if (options.jobs) {
    throw new TrajgenError('clean refuses to delete rollout jobs: they are append-only and immutable', {
      hint: `The ledger keeps those tasks consumed either way. If you really mean to lose trajectories, delete ${relative(paths.workspaceRoot, paths.jobs)}/<job> by hand.`,
    });
  }
  if (options.ledger) {
    throw new TrajgenError('clean refuses to delete the consumption ledger', {
      hint: 'Reset or skip single tasks through the ledger target instead; deleting it would hand consumed tasks out again.',
    });
  }
  const removed: string[] = [];
  for (const target of cleanTargets(paths, options)) {
    if (!existsSync(target)) continue;
    removed.push(target);
    log(`${options.dryRun ? 'would remove' : 'removing'} ${relative(paths.workspaceRoot, target)}`);
    if (!options.dryRun) rmSync(target, { recursive: true, force: true });
  }
  return removed;
}

/** `nx run <p>:clean`: remove what the options allow (never jobs, never the ledger). Returns the summary line. */
export async function runClean(pipeline: LoadedPipeline, io: StageIO, options: CleanStageOptions = {}): Promise<string> {
  const removed = cleanPipeline(pipeline.paths, options, io.log);
  return `${options.dryRun ? 'would remove' : 'removed'} ${removed.length} path${removed.length === 1 ? '' : 's'}`;
}
