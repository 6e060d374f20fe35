import type { ExecutorContext } from '@nx/devkit';
import { runArchive } from '@trajgen/archive';
import { runStage } from '../shared/run-stage';
import type { ArchiveExecutorOptions } from './schema';

/**
 * `nx run <p>:archive`: the summary of every upstream output and the HTML report (libs/archive).
 * Run records (index.yaml, archives/run_NNN) are written by the plugin's postTasksExecution hook.
 */
export default async function archiveExecutor(options: ArchiveExecutorOptions, context: ExecutorContext) {
  return runStage(context, 'archive', (pipeline, io) => runArchive(pipeline, io, options));
}
