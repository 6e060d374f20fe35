import type { ExecutorContext } from '@nx/devkit';
import { runScore } from '@trajgen/score';
import { runStage } from '../shared/run-stage';
import type { ScoreExecutorOptions } from './schema';

/** `nx run <p>:score`: score every IM row, apply scoring.filters, write the LF data, its stats and plots (libs/score). */
export default async function scoreExecutor(options: ScoreExecutorOptions, context: ExecutorContext) {
  return runStage(context, 'score', (pipeline, io) => runScore(pipeline, io, options));
}
