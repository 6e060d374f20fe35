/**
 * @trajgen/archive — run history of a pipeline.
 *
 *   artifacts/<p>/index.yaml                  runs: [{id, started_at, completed_at, status, archive, stages_ran, notes}]
 *   artifacts/<p>/archives/run_NNN/           config.yaml (secrets blanked) + metadata.yaml + logs/<stage>.log
 *   artifacts/<p>/report/history.js           the index for the report page (not an Nx output)
 *   artifacts/<p>/.runs/<invocation>/*.json   run markers of executing stages (see markers.ts)
 *   artifacts/<p>/archive/summary.json        the archive stage's summary (an Nx output)
 *
 * Who calls what: the plugin's postTasksExecution hook → recordInvocation;
 * its preTasksExecution hook → recoverInterruptedRuns; the archive executor →
 * runArchive (archivePipeline).
 */
export { runArchive, type ArchiveStageOptions } from './run-archive';
export { archivePipeline, formatArchiveSummary, type ArchiveResult } from './stage';
export {
  recordInvocation,
  recoverInterruptedRuns,
  ensureHistoryScript,
  pipelinesWithMarkers,
  DEFAULT_STAGES,
  METADATA_SCHEMA_VERSION,
  type InvocationInput,
  type TaskOutcome,
  type NxTaskStatus,
  type RecordedRun,
  type StageRecord,
  type StageRunStatus,
} from './recorder';
export { collectSummary, pipelineFacts, ledgerCounts, readScoreValues, readLossCurve, type PipelineFacts } from './summary';
export { redactConfigText, scrubText, REDACTED, type Redaction } from './redact';
export { readRunIndex, writeRunIndex, allocateRunDir, archiveRunIds, formatRunId, writeHistoryScript, RUN_ID, INDEX_SCHEMA_VERSION, type RunIndex } from './run-index';
export { readMarkerSets, isDeadSet, removeMarkerSet, runsDir, RUNS_DIR, type RunMarker, type MarkerSet, type MarkerStatus } from './markers';
export { gitInfo, type GitInfo } from './git';
export { restoredOrigins, formatRestored, runDetails, type RestoredOrigin } from './run-details';
export { writeTrialViewerData, trialFileId, type TrialViewerResult } from './trials';
export { textScrubber, type TextScrubber } from './redact';
export { keepStageLogs, formatReplayNote, stageResultLine, REPLAY_MARK, type ExecutedStageOutput } from './replay';
