/**
 * @trajgen/tasks — Harbor task dirs and the prepare stage.
 *
 *   runPrepare(pipeline, io, options): Promise<string>
 *     The prepare stage (`nx run <p>:prepare`), its summary line returned; a
 *     pipeline with conversion.from_jobs has nothing to prepare.
 *   preparePipeline(pipeline, opts?): Promise<PrepareResult>
 *     The same on the configured ledger backend, returning all it did.
 *   prepareBatch(pipeline, opts?): PrepareResult
 *     The work itself on the YAML ledger: effective ledger digest first,
 *     task root (as in the prior art: the source, <source>/<basename>, or
 *     an immediate subdirectory, whichever holds the manifest or a task), manifest (only listed ids; missing/empty manifest =
 *     error unless task_source.allow_unverified; unsafe ids = error naming
 *     their lines), the ledger opened under its lock and reconciled,
 *     excluded_tasks.txt → skipped, candidates (listed, not consumed, not
 *     excluded) validated and checksummed, staged (refreshed every run), and
 *     prepare/batch.json written (docs/architecture.md).
 *   inspectTaskDir(dir) / taskChecksum(dir) / taskNameOf / taskMetadataOf
 *   parseToml(text, file)    task.toml through smol-toml, errors with file:line:column
 *   readManifest / readExcludedTasks / parseIdList
 *   refreshStaging(plan)     links (default) or copies, refreshed every run
 *   runLedger(pipeline, io, options)   `nx run <p>:ledger` (needs the manifest's ids, so here)
 *   skipForExistingJobs      prepare's and rollout's note for a pipeline of existing jobs
 */
export { findTaskRoot, looksLikeTaskDir, parseManifestText, parseManifestLines } from './task-root.cjs';
export { parseToml, TomlError, type TomlTable, type TomlValue } from './toml';
export { inspectTaskDir, taskChecksum, taskNameOf, taskMetadataOf, type TaskDirInspection } from './task-dir';
export { parseIdList, readManifest, readExcludedTasks, type IdListFile } from './manifest';
export { refreshStaging, STAGING_INDEX, type StagingPlan, type StagingReport, type StagingTask } from './staging';
export {
  prepareBatch,
  preparePipeline,
  resolveTaskSource,
  batchDigest,
  type PrepareOptions,
  type PrepareResult,
  type BatchFile,
  type BatchTask,
  type BatchCounts,
  type TaskSource,
} from './prepare';
export { runPrepare, type PrepareStageOptions } from './run-prepare';
export { runLedger, type LedgerStageOptions } from './run-ledger';
export { skipForExistingJobs } from './from-jobs';
export { taskIdProblem, isSafeTaskId } from '@trajgen/ledger';
