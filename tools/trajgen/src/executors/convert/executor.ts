import type { ExecutorContext } from '@nx/devkit';
import { runConvert } from '@trajgen/convert';
import { runStage } from '../shared/run-stage';
import type { ConvertExecutorOptions } from './schema';

/** `nx run <p>:convert`: every finished trial → IM rows and their stats (libs/convert). */
export default async function convertExecutor(options: ConvertExecutorOptions, context: ExecutorContext) {
  return runStage(context, 'convert', (pipeline, io) => runConvert(pipeline, io, options));
}
