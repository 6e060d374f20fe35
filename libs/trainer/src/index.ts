export { trainPipeline, planTraining, resolveModelPath, readTrainResult, type TrainPlan, type TrainOutcome } from './train-pipeline';
export { runTrain, type TrainStageOptions } from './run-train';
export { materializeTrainOutputs, restoreCachedCheckpoint, type MaterializeReport } from './materialize';
export { cachedCheckpointMissing } from './cached-checkpoint.cjs';
export { trainingPreflight } from './preflight';
export { runHfTrainer, hfTrainerEnv, HF_SUPPORTED_TEMPLATES, type HfRun } from './hf-backend';
export {
  ensureTrainerEnv,
  trainerEnvDir,
  trainerRequirements,
  pinCpuTorch,
  cpuTorchVersion,
  TRAINER_PYTHON_DIR,
  TRAINER_REQUIREMENTS_FILE,
} from './env';
export { lossPlotSvg, copyTree, TRAIN_RESULT_VERSION, type TrainResult, type TrainResults } from './outputs';
export { rowsOverCutoff, formatCutoffWarning, type CutoffReport } from './cutoff';
