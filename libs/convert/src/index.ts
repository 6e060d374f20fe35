export { convertPipeline, type ConvertPipelineOptions, type ConvertResult, type ConvertStats } from './pipeline';
export { runConvert, runGenerateExcludedRepos, type ConvertStageOptions, type GenerateExcludedReposStageOptions } from './run-convert';
export { convertTrial, SCAFFOLD_CONVERTERS, type TrialOutcome, type TrialConvertOptions } from './trial';
export { listTrials, selectByOutcome, type TrialRef, type TrialList, type InstanceStatus } from './trials';
export { convertRawFile, type RawFileVerdict, type RawFileOptions } from './inspect';
export { reconstructFromLog, type Reconstruction, type Survivor, type RecordFacts, type LogCounts } from './reconstruct';
export { scaffoldFromAgentName, scaffoldFromContent, scaffoldFromRequest } from './detect';
export {
  buildRepoExclusion,
  loadRepoExclusion,
  parseRepoList,
  normaliseRepoList,
  reposFromFile,
  reposFromHuggingFace,
  writeRepoList,
  generateExcludedRepos,
  type GenerateOptions,
  diffRepoLists,
  excludedReposHeader,
  SWE_BENCH_DATASETS,
  type RepoExclusion,
  type RepoListDiff,
} from './exclude';
export { parseTomlMetadata } from './task-metadata';
export { converterVersion } from './version';
export { ConvertRejection, SCAFFOLD_NAMES, type ScaffoldName, type Conversation, type ScaffoldOutput } from './types';
