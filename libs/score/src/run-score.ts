import type { StageIO } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';
import { formatScoreSummary, scorePipeline } from './pipeline';

/** Options of `nx run <p>:score` (tools/trajgen/src/executors/score/schema.json): none. */
export type ScoreStageOptions = Record<string, never>;

/** The score stage (`nx run <p>:score`): score every IM row, apply scoring.filters, write the LF data, its stats and plots. Returns the summary line. */
export async function runScore(pipeline: LoadedPipeline, io: StageIO, _options: ScoreStageOptions = {}): Promise<string> {
  return formatScoreSummary(await scorePipeline(pipeline, io));
}
