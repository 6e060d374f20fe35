import type { ExecutorContext } from '@nx/devkit';
import { runGenerateExcludedRepos } from '@trajgen/convert';
import { runStage } from '../shared/run-stage';
import type { GenerateExcludedReposExecutorOptions } from './schema';

/** `nx run <p>:generate-excluded-repos`: rewrite the repo exclusion list from benchmark exports and print the diff (libs/convert). */
export default async function generateExcludedReposExecutor(options: GenerateExcludedReposExecutorOptions, context: ExecutorContext) {
  return runStage(context, 'generate-excluded-repos', (pipeline, io) => runGenerateExcludedRepos(pipeline, io, options));
}
