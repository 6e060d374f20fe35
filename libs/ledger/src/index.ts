/**
 * @trajgen/ledger — the consumption ledger: which verified task was handed to
 * which rollout, and what came of it. Each task is consumed exactly once.
 *
 * Storage (artifacts/<p>/):
 *   consumption_ledger.yaml   canonical, human-readable; `schema_version`, `pipeline`, `tasks: {id: entry}`
 *   .ledger/journal.jsonl     append-only journal; each line = one mutation with the full new entries
 *   .ledger/lock              {pid, host, purpose, acquired_at}: one writer at a time
 * Every mutation is one durable journal append (write + fdatasync). The YAML
 * is rewritten atomically only at compaction: after `ledger.compact_every`
 * records once the journal is also half the YAML's size (a large
 * ledger is not rewritten for a few records), and on close(). After close() the two files are a pure function of
 * the logical state (YAML in a fixed layout, empty journal), so the Nx
 * fingerprint (`ledgerStateDigest`) changes only when the state does.
 *
 * ── How rollout uses it ──────────────────────────────────────────────────────
 *
 *   const ledger = openLedger(paths, { purpose: `rollout ${job}`, maxRetries: config.rollout.max_retries,
 *                                      compactEvery: config.ledger.compact_every });
 *   try {
 *     // openLedger already reconciled; print formatReconcileReport(ledger.openReport.reconcile)
 *     const ids = ledger.claim(batchIdsStillWanted, { job });       // pending → running; the exactly-once gate
 *     harborConfig.exclude_task_names = ledger.exclusions();         // derived at launch, never by hand
 *     for each finished trial:
 *       ledger.recordTrialOutcome(id, { job, trial, reward, trajectory_path, trajectory_digest,
 *                                       exception_type, started_at, finished_at });   // durable on return
 *   } finally {
 *     ledger.close();                                                // compacts, releases the lock
 *   }
 *   // then take ledgerStateDigest(paths.artifacts) for run.json.ledger_digest_after
 *
 * ── API ──────────────────────────────────────────────────────────────────────
 *
 *   openLedger(paths: PipelinePaths, opts: {purpose: string; maxRetries: number; waitMs?: number;
 *              compactEvery?: number; reconcile?: boolean; by?: string; now?: () => Date}): Ledger
 *       Takes the lock (fails fast naming pid/host/purpose unless waitMs; recovers a stale lock of a
 *       dead pid on this host and reports it in openReport.staleLock), loads YAML + journal (malformed
 *       → LedgerFormatError naming the line; a torn last journal line is ignored, reported in
 *       openReport.tornJournalLine and cut off), then reconciles (openReport.reconcile).
 *   withLedger(paths, opts, fn)                          open, run, always close
 *   readLedger(paths): LedgerView                        read-only, no lock (summaries while a run holds it)
 *
 *   ledger.reconcile(): ReconcileReport
 *       running entries vs trial dirs of their job: a finished trial (result.json — Harbor writes it
 *       once, at trial end — or a verifier that finished before a kill: reward file + trajectory) →
 *       status by the rule below; none → pending (not counted as an attempt). Then adopts every
 *       finished trial the ledger lacks, from jobs/ (the ground truth; jobs-scan.ts) and from a
 *       restored rollout/trials.json: a lost, stale or fresh ledger never hands those tasks out
 *       again. Trials retired on purpose (a reset done task, a resample) are never adopted back.
 *   readLedgerReconciled(paths, rule)                    readLedger + reconcile applied in memory only
 *
 * ── Backends ─────────────────────────────────────────────────────────────────
 *   openPipelineLedger(pipeline, {purpose}): Promise<AnyLedger>   by ledger.backend
 *       yaml: the Ledger above. postgres: PostgresLedger (postgres.ts) — same API, mutations async,
 *       claims are leases (FOR UPDATE SKIP LOCKED, heartbeat, expiry reconciled), schema migrated
 *       here; digest `pg:<count>:<max rev>` for prepare's fingerprint (ledger-digest.cjs).
 *   ledger.register(ids): string[]                       pending entries for unknown ids (prepare)
 *   ledger.claim(ids, {job}): string[]                   pending/unknown → running; others refused
 *   ledger.recordTrialOutcome(id, outcome: TrialOutcome): {status, attempts, changed}
 *       the task must be running under outcome.job; the same job/trial again is a no-op.
 *   ledger.exclusions(): string[]                        sorted done/failed/skipped ids
 *   ledger.pendingIds(), ledger.isConsumed(id), ledger.get(id), ledger.summary(): LedgerSummary
 *   ledger.setStatuses([{id, status: 'pending'|'skipped'}], note, {by?}) / setStatus(id, status, note)
 *       people's edits: done|failed|skipped → pending (attempts reset; a done task's trial retired),
 *       pending|failed|unknown → skipped;
 *       all or nothing; note required; recorded in the entry's history {at, change, by, note}.
 *   ledger.applyExclusions(ids)                           excluded_tasks.txt → skipped (and back when removed)
 *   ledger.compact(), ledger.close()
 *
 * ── The status rule (applyTrialOutcome) ─────────────────────────────────────
 *   n = outcome.attempts ?? 1 (engine attempts this trial stands for)
 *   1. trajectory AND verifier result (finite reward, 1.0 or 0.0 alike)  → done,    attempts += n
 *   2. else CancelledError                                               → pending, attempts unchanged
 *   3. else AgentTimeoutError (never retried)                            → failed,  attempts += n
 *   4. else (infrastructure: other exception / no result / no trajectory) attempts += n;
 *        attempts > max_retries → failed, else → pending (claimed again by a later run)
 *   So a task gets at most 1 + max_retries attempts in total, across runs.
 *   With ledger.resample_unresolved, (1) with reward < 1 and fewer than ledger.max_attempts attempts
 *   → pending (the trial retired, kept in the data).
 */
export { ledgerStateDigest, effectiveLedgerDigest, effectiveDigestOf, postgresLedgerDigest, LEDGER_FILE, JOURNAL_FILE } from './ledger-digest.cjs';
export { openPipelineLedger, isPostgres, postgresUrlOf, currentLedgerDigest, effectivePipelineLedgerDigest, type AnyLedger } from './backend';
export { PostgresLedger, openPostgresLedger, connectLedgerDatabase, migrateLedgerSchema, postgresDigest, PG_SCHEMA_VERSION, type PostgresLedgerOptions } from './postgres';
export { planStatusEdits, planExclusions } from './edits';
export {
  openLedger,
  readLedger,
  readLedgerReconciled,
  withLedger,
  ledgerRuleOptions,
  Ledger,
  LedgerView,
  LOCK_FILE,
  DEFAULT_COMPACT_EVERY,
  type OpenLedgerOptions,
  type RecordResult,
  type StatusEdit,
} from './ledger';
export { applyTrialOutcome, isResolved, AGENT_TIMEOUT_ERROR, CANCELLED_ERROR, type RuleContext } from './status-rule';
export { formatReconcileReport, reconcileIsEmpty, trialPrefix, retiredTrials } from './reconcile';
export { primaryRewardOf, TRAJECTORY_FILES, scanJobs, scanTrialDir, verifierRewards, type ScannedTrial } from './jobs-scan';
export { LedgerFormatError, parseLedgerYaml } from './ledger-yaml';
export { taskIdProblem, isSafeTaskId, showId } from './task-id';
export { runLedgerCommand, runLedgerCommandFor, formatLedgerSummary, type LedgerCommandOptions, type LedgerCommandResult } from './command';
export {
  LEDGER_STATUSES,
  TERMINAL_STATUSES,
  LEDGER_SCHEMA_VERSION,
  EXCLUDED_NOTE,
  emptyEntry,
  type LedgerStatus,
  type LedgerEntry,
  type HistoryItem,
  type TrialOutcome,
  type ReconcileItem,
  type ReconcileReport,
  type OpenReport,
  type LedgerSummary,
} from './types';
