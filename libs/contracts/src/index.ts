/**
 * @trajgen/contracts — every file one stage writes and another reads, as one
 * zod schema each: the schema is the source of truth, the producer's type is
 * its inferred type (or is checked against it where the producer writes), and
 * both sides go through `read<Thing>File` (parse + validate; a ContractError
 * names the file, each key path, what was expected and what to do) and
 * `write<Thing>File` (validate, then write atomically). A format change breaks
 * a type check, not a report.
 *
 *   prepare/batch.json                  prepare  → rollout, archive
 *   rollout/run.json                    rollout  → prepare (fingerprint), archive
 *   rollout/trials.json                 rollout  → convert, ledger, archive
 *   data/im_data/<name>.stats.json      convert  → archive
 *   data/lf_data/<name>.stats.json      score    → train (cutoff check), archive
 *   register/receipt.json               register → train, archive
 *   train/result.json                   train    → archive, the plugin's restore hook
 *   archive/summary.json                archive  → run recorder
 *   ledger counts (in summary.json)     ledger   → archive
 */
export { defineContract, keyPath, ContractError, type Contract, type ContractProblem, type ReadOptions } from './contract';
export { batchFile, batchFileSchema, batchTaskSchema, batchCountsSchema, readBatchFile, writeBatchFile, type BatchFile, type BatchTask, type BatchCounts } from './batch';
export {
  runRecord,
  runRecordSchema,
  readRunFile,
  writeRunFile,
  trialsIndex,
  trialsIndexSchema,
  trialsIndexEntrySchema,
  readTrialsFile,
  writeTrialsFile,
  type RunRecord,
  type TrialsIndex,
  type TrialsIndexEntry,
} from './rollout';
export {
  convertStats,
  convertStatsSchema,
  readConvertStatsFile,
  writeConvertStatsFile,
  scoreStats,
  scoreStatsSchema,
  readScoreStatsFile,
  writeScoreStatsFile,
  numberSummarySchema,
  type ConvertStats,
  type ScoreStats,
  type NumberSummary,
} from './stats';
export { registerReceipt, registerReceiptSchema, datasetEntrySchema, readReceiptFile, writeReceiptFile, type RegisterReceipt, type DatasetEntry } from './receipt';
export {
  trainResult,
  trainResultSchema,
  workerTrainResultSchema,
  trainResultFileSchema,
  readTrainResultFile,
  writeTrainResultFile,
  isWorkerResult,
  type TrainResult,
  type WorkerTrainResult,
  type TrainResultFile,
} from './train-result';
export { summaryFile, summaryFileSchema, ledgerCountsSchema, readSummaryFile, writeSummaryFile, type SummaryFile, type LedgerCounts, type Part } from './summary';
