export * from './schema';
export {
  loadPipeline,
  validatePipelineConfigText,
  findWorkspaceRoot,
  formatIssue,
  formatKeyPath,
  ConfigError,
  type ConfigIssue,
  type LoadedPipeline,
  type ValidationResult,
  type KeyPath,
} from './load';
export { findLiteralSecrets, isSecretBearingKey, type SecretFinding } from './secrets';
export { pipelinePaths, resolveConfigPath, resolveOutputDir, RESERVED_PIPELINE_NAMES, type PipelinePaths } from './paths';
export { mergeRuntimeOutput, writeRuntimeOutput } from './writeback';
export { LLAMAFACTORY_KEYS } from './llamafactory-keys';
export { cleanTargets, cleanPipeline, runClean, type CleanStageOptions } from './clean';
