import type { StageIO } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';
import { skipForExistingJobs } from '@trajgen/tasks';
import { rolloutPipeline } from './stage';

/** Options of `nx run <p>:rollout` (tools/trajgen/src/executors/rollout/schema.json): none. */
export type RolloutStageOptions = Record<string, never>;

/**
 * The rollout stage (`nx run <p>:rollout`): run the agent on every task of
 * prepare's batch behind the job's recording proxy, verify, record each trial
 * in the ledger, write rollout/trials.json and rollout/run.json
 * (docs/rollout.md); a pipeline that converts existing jobs has nothing to
 * roll out. Returns the summary line. Live progress goes to stdout: an
 * in-place status line on a TTY, plain lines elsewhere (progress.ts).
 */
export async function runRollout(pipeline: LoadedPipeline, io: StageIO, _options: RolloutStageOptions = {}): Promise<string> {
  return skipForExistingJobs(pipeline, 'rollout', pipeline.paths.rolloutOut) ?? (await rolloutPipeline(pipeline, { log: io.log, warn: io.warn })).summary;
}
