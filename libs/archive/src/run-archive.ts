import type { StageIO } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';
import { archivePipeline, formatArchiveSummary } from './stage';

/** Options of `nx run <p>:archive` (tools/trajgen/src/executors/archive/schema.json): none. */
export type ArchiveStageOptions = Record<string, never>;

/**
 * The archive stage (`nx run <p>:archive`): the summary of every upstream
 * output and the HTML report. Run records (index.yaml, archives/run_NNN) are
 * written by the plugin's postTasksExecution hook, not here. Returns the summary line.
 */
export async function runArchive(pipeline: LoadedPipeline, io: StageIO, _options: ArchiveStageOptions = {}): Promise<string> {
  return formatArchiveSummary(await archivePipeline(pipeline, io));
}
