import type { ExecutorContext } from '@nx/devkit';
import { runClean } from '@trajgen/config';
import { runStage } from '../shared/run-stage';
import type { CleanExecutorOptions } from './schema';

/** `nx run <p>:clean`: remove temporary outputs, data and models when asked; never rollout jobs or the ledger (libs/config). */
export default async function cleanExecutor(options: CleanExecutorOptions, context: ExecutorContext) {
  return runStage(context, 'clean', (pipeline, io) => runClean(pipeline, io, options));
}
