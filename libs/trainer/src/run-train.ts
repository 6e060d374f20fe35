import type { StageIO } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';
import { trainPipeline } from './train-pipeline';

/** Options of `nx run <p>:train` (tools/trajgen/src/executors/train/schema.json): none. */
export type TrainStageOptions = Record<string, never>;

/**
 * The train stage (`nx run <p>:train`): plan, run the configured backend
 * (progress from trainer_log.jsonl), write train/ and the config write-back.
 * Returns the summary line.
 */
export async function runTrain(pipeline: LoadedPipeline, io: StageIO, _options: TrainStageOptions = {}): Promise<string> {
  return (await trainPipeline(pipeline, io)).summary;
}
