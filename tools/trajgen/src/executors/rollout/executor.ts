import type { ExecutorContext } from '@nx/devkit';
import { runRollout } from '@trajgen/rollout';
import { runStage } from '../shared/run-stage';
import type { RolloutExecutorOptions } from './schema';

/**
 * `nx run <p>:rollout`: run the agent on every task of prepare's batch
 * behind the job's recording proxy, verify, record each trial in the ledger,
 * write rollout/trials.json and rollout/run.json (libs/rollout, docs/rollout.md).
 */
export default async function rolloutExecutor(options: RolloutExecutorOptions, context: ExecutorContext) {
  return runStage(context, 'rollout', (pipeline, io) => runRollout(pipeline, io, options));
}
