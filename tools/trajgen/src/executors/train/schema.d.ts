// The options' type is the lib's, so the executor and run<Stage> cannot drift apart; schema.json is what Nx validates.
export type { TrainStageOptions as TrainExecutorOptions } from '@trajgen/trainer';
