import type { StageIO } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';
import { skipForExistingJobs } from './from-jobs';
import { preparePipeline } from './prepare';

/** Options of `nx run <p>:prepare` (tools/trajgen/src/executors/prepare/schema.json): none. */
export type PrepareStageOptions = Record<string, never>;

/**
 * The prepare stage (`nx run <p>:prepare`): reconcile the ledger, validate
 * and stage the manifest's tasks, write prepare/batch.json; a pipeline that
 * converts existing jobs has nothing to prepare. Returns the summary line.
 */
export async function runPrepare(pipeline: LoadedPipeline, io: StageIO, _options: PrepareStageOptions = {}): Promise<string> {
  return skipForExistingJobs(pipeline, 'prepare', pipeline.paths.prepareOut) ?? (await preparePipeline(pipeline, { log: io.log, warn: io.warn })).summary;
}
