import type { ExecutorContext } from '@nx/devkit';
import { runTrain } from '@trajgen/trainer';
import { runStage } from '../shared/run-stage';
import type { TrainExecutorOptions } from './schema';

/** `nx run <p>:train`: train on the registered dataset with the configured backend, write train/ and the config write-back (libs/trainer). */
export default async function trainExecutor(options: TrainExecutorOptions, context: ExecutorContext) {
  return runStage(context, 'train', (pipeline, io) => runTrain(pipeline, io, options));
}
