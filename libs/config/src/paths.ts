import { isAbsolute, join, basename } from 'node:path';
import { resolveConfigPathRaw } from './config-paths.cjs';

/**
 * Where everything of pipeline `name` lives. All outputs are under
 * artifacts/<name>/ with the seeds' layout; stages never write elsewhere
 * (except an explicitly configured LLaMA-Factory data dir).
 */
export interface PipelinePaths {
  workspaceRoot: string;
  pipelineDir: string;
  configFile: string;
  artifacts: string;
  tasksStaging: string;
  prepareOut: string;
  batchFile: string;
  ledgerFile: string;
  ledgerDir: string;
  jobs: string;
  litellm: string;
  rolloutOut: string;
  data: string;
  imData: string;
  lfData: string;
  registerOut: string;
  trainingConfig: string;
  model: string;
  trainOut: string;
  logs: string;
  index: string;
  archives: string;
  report: string;
  cache: string;
  tmp: string;
}

export const RESERVED_PIPELINE_NAMES = new Set(['data', 'env', 'bench', 'tmp']);

export function pipelinePaths(workspaceRoot: string, name: string): PipelinePaths {
  const artifacts = join(workspaceRoot, 'artifacts', name);
  const pipelineDir = join(workspaceRoot, 'pipelines', name);
  return {
    workspaceRoot,
    pipelineDir,
    configFile: join(pipelineDir, 'config.yaml'),
    artifacts,
    tasksStaging: join(artifacts, 'tasks'),
    prepareOut: join(artifacts, 'prepare'),
    batchFile: join(artifacts, 'prepare', 'batch.json'),
    ledgerFile: join(artifacts, 'consumption_ledger.yaml'),
    ledgerDir: join(artifacts, '.ledger'),
    jobs: join(artifacts, 'jobs'),
    litellm: join(artifacts, 'litellm'),
    rolloutOut: join(artifacts, 'rollout'),
    data: join(artifacts, 'data'),
    imData: join(artifacts, 'data', 'im_data'),
    lfData: join(artifacts, 'data', 'lf_data'),
    registerOut: join(artifacts, 'register'),
    trainingConfig: join(artifacts, 'training_config'),
    model: join(artifacts, 'model'),
    trainOut: join(artifacts, 'train'),
    logs: join(artifacts, 'logs'),
    index: join(artifacts, 'index.yaml'),
    archives: join(artifacts, 'archives'),
    report: join(artifacts, 'report'),
    cache: join(artifacts, 'cache'),
    tmp: join(artifacts, 'tmp'),
  };
}

/**
 * Resolve a path written in config.yaml: `{workspaceRoot}/…` and `{artifacts}/…`
 * prefixes, absolute paths as they are, anything else relative to the pipeline
 * folder.
 */
export function resolveConfigPath(paths: PipelinePaths, value: string): string {
  return resolveConfigPathRaw(paths.workspaceRoot, basename(paths.artifacts), value);
}

/** training.output_dir: relative values resolve to artifacts/<p>/model/<basename> (as the prior art does: a bare name never writes into the workspace root or the cwd). */
export function resolveOutputDir(paths: PipelinePaths, outputDir: string): string {
  if (isAbsolute(outputDir)) return outputDir;
  if (outputDir.startsWith('{')) return resolveConfigPath(paths, outputDir);
  return join(paths.model, basename(outputDir));
}
