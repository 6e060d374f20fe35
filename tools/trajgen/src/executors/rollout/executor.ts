import type { ExecutorContext } from '@nx/devkit';
import { rolloutPipeline } from '@trajgen/rollout';
import { runStage } from '../shared/run-stage';
import { skipForExistingJobs } from '../shared/from-jobs';
import type { RolloutExecutorOptions } from './schema';

/**
 * `nx run <pipeline>:rollout`: run the agent on every task of prepare's batch
 * behind the job's recording proxy, verify, record each trial in the ledger,
 * write rollout/trials.json and rollout/run.json (libs/rollout, docs/rollout.md).
 */
export default async function rolloutExecutor(_options: RolloutExecutorOptions, context: ExecutorContext) {
  return runStage(context, 'rollout', async (pipeline, io) => skipForExistingJobs(pipeline, 'rollout', pipeline.paths.rolloutOut) ?? (await rolloutPipeline(pipeline, io)).summary);
}
