import type { ExecutorContext } from '@nx/devkit';
import { runPrepare } from '@trajgen/tasks';
import { runStage } from '../shared/run-stage';
import type { PrepareExecutorOptions } from './schema';

/** `nx run <p>:prepare`: reconcile the ledger, validate and stage the manifest's tasks, write prepare/batch.json (libs/tasks). */
export default async function prepareExecutor(options: PrepareExecutorOptions, context: ExecutorContext) {
  return runStage(context, 'prepare', (pipeline, io) => runPrepare(pipeline, io, options));
}
