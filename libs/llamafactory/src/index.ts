export { scanLfFile, detectLfLayout, type LfFileScan, type LfFileLayout, type LfLayout, type LfVariant } from './lf-file';
export {
  entryForLayout,
  entryForHub,
  validateDatasetEntry,
  readDatasetInfo,
  writeDatasetEntry,
  diffEntries,
  ENTRY_KEYS,
  COLUMN_KEYS,
  TAG_KEYS,
  type DatasetEntry,
  type RegistryWrite,
  type RegisterAction,
} from './dataset-info';
export {
  registerDataset,
  readRegisterReceipt,
  registerReceiptPath,
  receiptDatasetDir,
  fileNameFor,
  REGISTER_RECEIPT_VERSION,
  type RegisterReceipt,
  type RegisterResult,
} from './register';
export {
  buildTrainingArgs,
  validateTrainingArgs,
  renderTrainingYaml,
  formatYamlNumber,
  TRAJGEN_ONLY_TRAINING_KEYS,
  MANAGED_KEYS,
  FLOAT_KEYS,
  type TrainingYamlContext,
} from './training-yaml';
export {
  guardOutputDir,
  clearRunDir,
  listCheckpoints,
  newestCheckpoint,
  resolveResumeCheckpoint,
  dirEntries,
  type CheckpointInfo,
  type OutputDirDecision,
} from './output-dir';
export {
  launchEnv,
  llamafactoryLaunchPlan,
  TEXT_ONLY_PLACEHOLDERS,
  DEFAULT_MULTI_NODE_PORT,
  type LaunchPlan,
  type DistributedConfig,
  type DistributedMode,
} from './launch';
export {
  parseTrainerLog,
  parseTrainerLogLine,
  TrainerLogTail,
  formatProgress,
  entryKind,
  type TrainerLogEntry,
  type ParsedTrainerLog,
  type TrainerLogKind,
} from './trainer-log';
export {
  runTrainingProcess,
  collectRankErrors,
  trainingFailure,
  defaultEcho,
  logStamp,
  type TrainingProcessOptions,
  type TrainingProcessResult,
  type RankError,
} from './process';
export {
  runLlamaFactoryTrain,
  ensureLlamaFactoryEnv,
  ensureLlamaFactoryPython,
  resolveLlamaFactoryCli,
  managedLlamaFactoryDir,
  explainLlamaFactoryInstallFailure,
  LLAMAFACTORY_REQUIREMENTS,
  LLAMAFACTORY_VERSION,
  LLAMAFACTORY_PYTHON_DIR,
  type LlamaFactoryRun,
} from './backend';
export {
  llamafactoryPreflight,
  commonTrainingChecks,
  llamafactoryInIndex,
  visibleGpus,
  localModelProblem,
  type TrainingCheck,
} from './preflight';
export { workspacePath, fromWorkspacePath, isInside } from './paths';
export { which } from './which';
export { runRegister, type RegisterStageOptions } from './run-register';
