import type { ExecutorContext } from '@nx/devkit';
import { runPrepareFor } from '@trajgen/tasks';
import { runStage } from '../shared/run-stage';
import { skipForExistingJobs } from '../shared/from-jobs';
import type { PrepareExecutorOptions } from './schema';

/** `nx run <p>:prepare`: reconcile the ledger, validate and stage the manifest's tasks, write prepare/batch.json. */
export default async function prepareExecutor(_options: PrepareExecutorOptions, context: ExecutorContext) {
  return runStage(context, 'prepare', async (pipeline, io) => skipForExistingJobs(pipeline, 'prepare', pipeline.paths.prepareOut) ?? (await runPrepareFor(pipeline, { log: io.log, warn: io.warn })).summary);
}
