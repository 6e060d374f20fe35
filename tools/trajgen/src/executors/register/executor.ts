import type { ExecutorContext } from '@nx/devkit';
import { runRegister } from '@trajgen/llamafactory';
import { runStage } from '../shared/run-stage';
import type { RegisterExecutorOptions } from './schema';

/** `nx run <p>:register`: the dataset into LLaMA-Factory's dataset_info.json and the receipt train reads (libs/llamafactory). */
export default async function registerExecutor(options: RegisterExecutorOptions, context: ExecutorContext) {
  return runStage(context, 'register', (pipeline, io) => runRegister(pipeline, io, options));
}
