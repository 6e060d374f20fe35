import type { ExecutorContext } from '@nx/devkit';
import { runCheck } from '@trajgen/preflight';
import { runTarget } from '../shared/run-stage';
import type { CheckExecutorOptions } from './schema';

/**
 * `nx run <p>:check`: every external requirement of the pipeline in one table (libs/preflight).
 * runTarget, not runStage: an invalid config.yaml is one of the things it reports, so it does not load it first.
 */
export default async function checkExecutor(options: CheckExecutorOptions, context: ExecutorContext) {
  return runTarget(context, 'check', (pipeline, io) => runCheck(context.root, pipeline, io, options));
}
