// The options' type is the lib's, so the executor and run<Stage> cannot drift apart; schema.json is what Nx validates.
export type { GenerateExcludedReposStageOptions as GenerateExcludedReposExecutorOptions } from '@trajgen/convert';
