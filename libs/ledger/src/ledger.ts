import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { basename, join, relative } from 'node:path';
import { TrajgenError, acquireLock, atomicWriteFileSync, type HeldLock, type LockHolder } from '@trajgen/core';
import type { PipelineConfig, PipelinePaths } from '@trajgen/config';
import { JOURNAL_FILE, LEDGER_FILE } from './ledger-digest.cjs';
import { JOURNAL_VERSION, JournalWriter, readJournal, type JournalRead } from './journal';
import { EntryStore } from './entry-store';
import { emitEntry, emitLedgerYaml, parseLedgerYaml, scanTrustedLedger } from './ledger-yaml';
import { planExclusions, planStatusEdits, type StatusEdit } from './edits';
import { planReconcile } from './reconcile';
import { applyTrialOutcome } from './status-rule';
import { taskIdProblem } from './task-id';
import {
  LEDGER_STATUSES,
  TERMINAL_STATUSES,
  emptyEntry,
  type LedgerEntry,
  type LedgerStatus,
  type LedgerSummary,
  type OpenReport,
  type ReconcileReport,
  type TrialOutcome,
} from './types';

export const LOCK_FILE = join('.ledger', 'lock');
/** `<bytes> <sha256>` of the YAML as compaction wrote it: lets the next open trust it (see scanTrustedLedger). */
export const YAML_CHECKSUM_FILE = join('.ledger', 'yaml.sha256');
export const DEFAULT_COMPACT_EVERY = 1000;

export interface OpenLedgerOptions {
  /** What this holder does, shown to anyone refused the lock (e.g. "prepare", "rollout <job>"). */
  purpose: string;
  /** rollout.max_retries: infrastructure failures allowed after the first attempt, across runs. */
  maxRetries: number;
  /** ledger.resample_unresolved → ledger.max_attempts: sample unresolved tasks again up to this many attempts (see applyTrialOutcome). */
  resampleMaxAttempts?: number;
  /** Wait this long for another holder to let go; default 0 = fail fast naming the holder. */
  waitMs?: number;
  /**
   * ledger.compact_every: fold the journal into the YAML after at least this
   * many records — once the journal is also half the YAML's size, so
   * a large ledger is not rewritten for a few records — and always on close.
   */
  compactEvery?: number;
  /** Reconcile at open (default true). Only tests turn this off. */
  reconcile?: boolean;
  /** Who people's edits are attributed to (default `<user>@<host>`). */
  by?: string;
  /** Clock for timestamps (tests). */
  now?: () => Date;
}

export interface RecordResult {
  status: LedgerStatus;
  attempts: number;
  /** False when this exact trial was already recorded (a repeated call changes nothing). */
  changed: boolean;
}

export type { StatusEdit } from './edits';

function defaultBy(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return `${user}@${hostname()}`;
}

/** Read-only view of a ledger state: lookups and summaries. */
export class LedgerView {
  protected readonly entries: EntryStore;

  constructor(
    readonly paths: PipelinePaths,
    entries: EntryStore,
  ) {
    this.entries = entries;
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string): Readonly<LedgerEntry> | undefined {
    return this.entries.get(id);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  status(id: string): LedgerStatus | undefined {
    return this.entries.status(id);
  }

  /** All entries, parsed (file order, then new ones; sort if you need stable output). */
  all(): IterableIterator<[string, Readonly<LedgerEntry>]> {
    return this.entries.entries();
  }

  /** True for done, failed and skipped: never handed to a rollout again. */
  isConsumed(id: string): boolean {
    const s = this.entries.status(id);
    return s !== undefined && TERMINAL_STATUSES.has(s);
  }

  /** Sorted ids with a terminal status: what Harbor's `exclude_task_names` gets at launch. */
  exclusions(): string[] {
    const out: string[] = [];
    for (const [id, s] of this.entries.statuses()) if (TERMINAL_STATUSES.has(s)) out.push(id);
    return out.sort();
  }

  /** Sorted ids that may be claimed now. */
  pendingIds(): string[] {
    const out: string[] = [];
    for (const [id, s] of this.entries.statuses()) if (s === 'pending') out.push(id);
    return out.sort();
  }

  summary(): LedgerSummary {
    const counts = Object.fromEntries(LEDGER_STATUSES.map((s) => [s, 0])) as Record<LedgerStatus, number>;
    const ids = Object.fromEntries(LEDGER_STATUSES.map((s) => [s, [] as string[]])) as Record<LedgerStatus, string[]>;
    const failed: LedgerSummary['failed'] = [];
    for (const [id, s] of this.entries.statuses()) {
      counts[s]++;
      ids[s].push(id);
      if (s === 'failed') {
        const e = this.entries.get(id)!;
        failed.push({ id, exception_type: e.exception_type, attempts: e.attempts, job: e.job });
      }
    }
    for (const s of LEDGER_STATUSES) ids[s].sort();
    failed.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { total: this.entries.size, counts, ids, failed };
  }
}

interface LoadedState {
  entries: EntryStore;
  slow: boolean;
  trusted: boolean;
  yamlBytes: number;
  journal: JournalRead;
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function readChecksum(path: string): { bytes: number; sha: string } | undefined {
  try {
    const [bytes, sha] = readFileSync(path, 'utf8').trim().split(' ');
    return { bytes: Number(bytes), sha };
  } catch {
    return undefined;
  }
}

function display(paths: PipelinePaths, p: string): string {
  return relative(paths.workspaceRoot, p) || p;
}

function loadState(paths: PipelinePaths): LoadedState {
  const name = basename(paths.artifacts);
  const yamlPath = join(paths.artifacts, LEDGER_FILE);
  const journalPath = join(paths.artifacts, JOURNAL_FILE);
  let entries = new EntryStore();
  let slow = false;
  let trusted = false;
  let yamlBytes = 0;
  if (existsSync(yamlPath)) {
    const bytes = readFileSync(yamlPath);
    yamlBytes = bytes.length;
    const text = bytes.toString('utf8');
    const sum = readChecksum(join(paths.artifacts, YAML_CHECKSUM_FILE));
    // Written by trajgen and untouched since: valid by construction, read lazily. Anything else: checked line by line.
    const scan = sum && sum.bytes === bytes.length && sum.sha === sha256Hex(bytes) ? scanTrustedLedger(text) : undefined;
    let pipeline: string | null;
    if (scan) {
      entries = new EntryStore(scan);
      pipeline = scan.pipeline;
      trusted = true;
    } else {
      const parsed = parseLedgerYaml(text, display(paths, yamlPath));
      entries = new EntryStore();
      for (const [id, e] of parsed.entries) entries.set(id, e);
      pipeline = parsed.pipeline;
      slow = parsed.slow;
    }
    if (pipeline !== null && pipeline !== name) {
      throw new TrajgenError(`${display(paths, yamlPath)} belongs to pipeline "${pipeline}", not "${name}"`, {
        hint: `A ledger copied from another pipeline would hand out the wrong tasks. Move it back, or change its "pipeline:" line to "${name}" if this pipeline was renamed.`,
      });
    }
  }
  const journal = readJournal(journalPath, display(paths, journalPath));
  for (const record of journal.records) {
    for (const [id, e] of Object.entries(record.set)) entries.set(id, e);
  }
  return { entries, slow, trusted, yamlBytes, journal };
}

/** Read the ledger without taking the lock (for summaries while a rollout runs). Never writes. */
export function readLedger(paths: PipelinePaths): LedgerView & { tornJournalLine?: { line: number; bytes: number }; journalRecords: number; holder?: LockHolder } {
  const state = loadState(paths);
  const view = new LedgerView(paths, state.entries) as LedgerView & { tornJournalLine?: { line: number; bytes: number }; journalRecords: number; holder?: LockHolder };
  view.tornJournalLine = state.journal.torn;
  view.journalRecords = state.journal.records.length;
  try {
    view.holder = JSON.parse(readFileSync(join(paths.artifacts, LOCK_FILE), 'utf8')) as LockHolder;
  } catch {
    view.holder = undefined;
  }
  return view;
}

/**
 * readLedger plus what reconcile would change now — finished trials under
 * jobs/ and in a restored rollout/trials.json adopted, interrupted claims
 * returned — applied in memory only: `nx run <p>:ledger` shows the consumed
 * tasks at once after a clone restored the graph from the remote cache, and
 * nothing is written (the next stage that opens the ledger writes it), so
 * showing never changes prepare's fingerprint.
 */
export function readLedgerReconciled(
  paths: PipelinePaths,
  rule: { maxRetries: number; resampleMaxAttempts?: number },
): ReturnType<typeof readLedger> & { pendingReconcile: ReconcileReport } {
  const view = readLedger(paths) as ReturnType<typeof readLedger> & { pendingReconcile: ReconcileReport };
  const store = (view as unknown as { entries: EntryStore }).entries;
  // While a rollout holds the lock its running tasks are live: show them as they are.
  const lookup = view.holder ? { statuses: () => [...store.statuses()].filter(([, st]) => st !== 'running'), get: (id: string) => store.get(id) } : store;
  const { changes, report } = planReconcile(lookup, { paths, rule, at: new Date().toISOString() });
  for (const [id, e] of changes) store.set(id, e);
  view.pendingReconcile = report;
  return view;
}

/**
 * The ledger opened for writing: holds `.ledger/lock` until close(). Every
 * mutation is exactly one durable journal append; the YAML is rewritten only
 * at compaction (see OpenLedgerOptions.compactEvery, and on close).
 */
export class Ledger extends LedgerView {
  /** What opening found and did: stale lock, torn journal line, reconcile. */
  readonly openReport: OpenReport;
  private readonly name: string;
  private readonly yamlPath: string;
  private readonly checksumPath: string;
  private readonly writer: JournalWriter;
  private readonly fragments = new Map<string, string>();
  private sortedIds: string[] | undefined;
  private recordsSinceCompact: number;
  /** Size of the YAML as last read or written: compaction waits for the journal to reach half of it. */
  private yamlBytes: number;
  private closed = false;

  /** @internal use openLedger() */
  constructor(
    paths: PipelinePaths,
    state: LoadedState,
    private readonly lock: HeldLock,
    private readonly options: Required<Pick<OpenLedgerOptions, 'maxRetries' | 'compactEvery' | 'by' | 'now'>> & Pick<OpenLedgerOptions, 'resampleMaxAttempts'>,
    staleLock: LockHolder | undefined,
  ) {
    super(paths, state.entries);
    this.name = basename(paths.artifacts);
    this.yamlPath = join(paths.artifacts, LEDGER_FILE);
    this.checksumPath = join(paths.artifacts, YAML_CHECKSUM_FILE);
    this.writer = new JournalWriter(join(paths.artifacts, JOURNAL_FILE));
    // Continue after the last good record: drops a torn tail and the zeros a killed writer left ahead of its records.
    const j = state.journal;
    if (j.torn || j.missingNewline || j.fileBytes !== j.validBytes) this.writer.repair(j.validBytes, j.missingNewline);
    this.recordsSinceCompact = state.journal.records.length;
    this.yamlBytes = state.yamlBytes;
    this.openReport = {
      staleLock,
      tornJournalLine: state.journal.torn,
      journalRecords: state.journal.records.length,
      slowParse: state.slow,
      trusted: state.trusted,
      reconcile: { finalized: [], returned: [], adopted: [] },
    };
  }

  private rule(): { maxRetries: number; resampleMaxAttempts?: number } {
    return { maxRetries: this.options.maxRetries, resampleMaxAttempts: this.options.resampleMaxAttempts };
  }

  private stamp(): string {
    return this.options.now().toISOString();
  }

  private assertOpen(): void {
    if (this.closed) throw new TrajgenError(`The ledger of pipeline "${this.name}" was already closed; open it again to change it.`);
  }

  /** One durable journal append for a set of new entries, then apply them. */
  private commit(op: string, changes: Map<string, LedgerEntry>, at = this.stamp()): void {
    if (changes.size === 0) return;
    this.writer.append({ v: JOURNAL_VERSION, op, at, set: Object.fromEntries(changes) });
    for (const [id, e] of changes) {
      if (!this.entries.has(id)) this.sortedIds = undefined;
      this.entries.set(id, e);
      this.fragments.delete(id);
    }
    this.recordsSinceCompact++;
    if (this.recordsSinceCompact >= this.options.compactEvery && this.writer.size * 2 >= this.yamlBytes) this.compact();
  }

  private fragment(id: string): string {
    let f = this.fragments.get(id);
    if (f === undefined) {
      f = this.entries.unchangedLines(id) ?? emitEntry(id, this.entries.get(id)!);
      this.fragments.set(id, f);
    }
    return f;
  }

  /** Compactions done by this session (for benchmarks and tests). */
  compactions = 0;

  /** Fold the journal into the YAML: atomic rewrite, then empty the journal. A crash in between replays idempotently. */
  compact(): void {
    this.assertOpen();
    this.compactions++;
    if (!this.sortedIds) this.sortedIds = [...this.entries.ids()].sort();
    const bytes = Buffer.from(emitLedgerYaml(this.name, this.sortedIds, (id) => this.fragment(id)), 'utf8');
    atomicWriteFileSync(this.yamlPath, bytes);
    this.yamlBytes = bytes.length;
    // A hint, not state: if it is lost or torn, the next open just checks the YAML line by line. So no fsync.
    const tmp = `${this.checksumPath}.${process.pid}.tmp`;
    writeFileSync(tmp, `${bytes.length} ${sha256Hex(bytes)}\n`);
    renameSync(tmp, this.checksumPath);
    this.writer.truncate();
    this.recordsSinceCompact = 0;
  }

  /**
   * Running entries vs what is on disk, plus adoption of finished trials from
   * rollout/trials.json. openLedger() runs it first thing; call again only if
   * something outside this process may have changed the jobs.
   */
  reconcile(): ReconcileReport {
    this.assertOpen();
    const at = this.stamp();
    const { changes, report } = planReconcile(this.entries, { paths: this.paths, rule: this.rule(), at });
    this.commit('reconcile', changes, at);
    return report;
  }

  /** Add pending entries for ids the ledger does not know yet. Returns the ids added. */
  register(ids: Iterable<string>): string[] {
    this.assertOpen();
    const changes = new Map<string, LedgerEntry>();
    for (const id of ids) {
      if (this.entries.has(id) || changes.has(id)) continue;
      const p = taskIdProblem(id);
      if (p) throw new TrajgenError(`Cannot register task ${JSON.stringify(id)}: the id ${p}`);
      changes.set(id, emptyEntry('pending'));
    }
    this.commit('register', changes);
    return [...changes.keys()];
  }

  /**
   * The exactly-once gate: pending (or unknown) → running for `job`. Ids that
   * are running, done, failed or skipped are refused (left out of the result).
   * Returns the ids actually claimed, in input order. One journal append.
   */
  claim(ids: Iterable<string>, opts: { job: string }): string[] {
    this.assertOpen();
    const jobProblem = taskIdProblem(opts.job);
    if (jobProblem) throw new TrajgenError(`Cannot claim tasks for job ${JSON.stringify(opts.job)}: the job name ${jobProblem}`);
    const list = [...ids];
    const bad = list.filter((id) => taskIdProblem(id));
    if (bad.length) throw new TrajgenError(`Cannot claim unsafe task ids: ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
    const at = this.stamp();
    const changes = new Map<string, LedgerEntry>();
    for (const id of list) {
      if (changes.has(id)) continue;
      const e = this.entries.get(id);
      if (e && e.status !== 'pending') continue;
      changes.set(id, {
        ...(e ?? emptyEntry()),
        status: 'running',
        job: opts.job,
        trial: null,
        reward: null,
        trajectory_path: null,
        trajectory_digest: null,
        started_at: at,
        finished_at: null,
        exception_type: null,
        note: null,
      });
    }
    this.commit('claim', changes, at);
    return [...changes.keys()];
  }

  /**
   * Record one finished trial of a claimed task and set its status by the
   * status rule (see applyTrialOutcome). One durable journal append; returns
   * only once the record is on disk. Recording the same job/trial again is a
   * no-op; recording for a task that is not running is an error.
   */
  recordTrialOutcome(id: string, outcome: TrialOutcome): RecordResult {
    this.assertOpen();
    const e = this.entries.get(id);
    const what = `trial ${outcome.job}/${outcome.trial} of task ${JSON.stringify(id)}`;
    for (const [field, value] of [['job', outcome.job], ['trial', outcome.trial]] as const) {
      const p = typeof value === 'string' ? taskIdProblem(value) : 'is missing';
      if (p) throw new TrajgenError(`Cannot record ${what}: the ${field} name ${p}`);
    }
    if (outcome.reward !== null && typeof outcome.reward !== 'number') throw new TrajgenError(`Cannot record ${what}: reward must be a number or null`);
    if (!e) throw new TrajgenError(`Cannot record ${what}: the ledger has no such task`, { hint: 'Claim tasks (ledger.claim) before running them.' });
    if (e.status !== 'running') {
      if (e.job === outcome.job && e.trial === outcome.trial) return { status: e.status, attempts: e.attempts, changed: false };
      throw new TrajgenError(`Cannot record ${what}: the task is ${e.status}, not running`, {
        hint: TERMINAL_STATUSES.has(e.status) ? 'It was already consumed; a task is never run twice.' : 'Claim it (ledger.claim) before running it.',
      });
    }
    if (e.job !== outcome.job) {
      throw new TrajgenError(`Cannot record ${what}: the task was claimed by job ${e.job}`, { hint: 'Record outcomes under the job that claimed the task.' });
    }
    const at = this.stamp();
    const next = applyTrialOutcome(e, outcome, { ...this.rule(), at, by: 'rollout' });
    this.commit('outcome', new Map([[id, next]]), at);
    return { status: next.status, attempts: next.attempts, changed: true };
  }

  /**
   * People's edits, all or nothing, as one journal append:
   *  - → pending: from done, failed or skipped (a fresh attempt budget: attempts = 0); a done
   *    task's trial is retired (kept on disk and in the data, never adopted back by reconcile);
   *  - → skipped: from pending or failed, or for an id the ledger does not know yet.
   * Every change goes into the entry's history with the note, time and `by`.
   * Running tasks cannot be changed; done ones only back to pending, on purpose.
   */
  setStatuses(edits: { id: string; status: 'pending' | 'skipped' }[], note: string, opts: { by?: string } = {}): StatusEdit[] {
    this.assertOpen();
    const at = this.stamp();
    const { changes, result } = planStatusEdits(this.entries, edits, note, opts.by ?? this.options.by, at);
    this.commit('edit', changes, at);
    return result;
  }

  /** setStatuses for one task. */
  setStatus(id: string, status: 'pending' | 'skipped', note: string, opts: { by?: string } = {}): StatusEdit | undefined {
    return this.setStatuses([{ id, status }], note, opts)[0];
  }

  /**
   * Apply excluded_tasks.txt: listed ids that are pending/failed (or unknown)
   * become skipped with note "excluded_tasks.txt"; ids skipped that way and no
   * longer listed get back the status they had before. One journal append.
   */
  applyExclusions(excluded: ReadonlySet<string>): { skipped: string[]; restored: StatusEdit[] } {
    this.assertOpen();
    const at = this.stamp();
    const { changes, skipped, restored } = planExclusions(this.entries, excluded, at);
    this.commit('exclusions', changes, at);
    return { skipped, restored };
  }

  /** Replace entries wholesale (`ledger --export` from PostgreSQL): one journal append of the entries that differ. */
  importEntries(entries: Iterable<[string, LedgerEntry]>): number {
    this.assertOpen();
    const changes = new Map<string, LedgerEntry>();
    for (const [id, e] of entries) {
      const p = taskIdProblem(id);
      if (p) throw new TrajgenError(`Cannot import task ${JSON.stringify(id)}: the id ${p}`);
      const cur = this.entries.get(id);
      if (!cur || JSON.stringify(cur) !== JSON.stringify(e)) changes.set(id, e);
    }
    this.commit('import', changes);
    return changes.size;
  }

  /** Compact if anything was recorded since the last compaction, then release the lock. Idempotent. */
  close(): void {
    if (this.closed) return;
    try {
      if (this.recordsSinceCompact > 0) this.compact();
    } finally {
      this.closed = true;
      this.writer.close();
      this.lock.release();
    }
  }
}

/**
 * Open the ledger of a pipeline for writing: take `.ledger/lock` (fail fast,
 * naming the holder, unless waitMs; a stale lock of a dead process on this
 * host is taken over and reported), load YAML + journal (a malformed file is
 * an error naming the line; a torn last journal line is ignored, reported
 * and cut off), then reconcile. Call close() when done (try/finally).
 */
export function openLedger(paths: PipelinePaths, opts: OpenLedgerOptions): Ledger {
  const name = basename(paths.artifacts);
  let stale: LockHolder | undefined;
  let lock: HeldLock;
  try {
    lock = acquireLock(join(paths.artifacts, LOCK_FILE), { purpose: opts.purpose, waitMs: opts.waitMs ?? 0, onStale: (h) => (stale = h) });
  } catch (error) {
    if (error instanceof TrajgenError) {
      throw new TrajgenError(`The ledger of pipeline "${name}" is in use: ${error.message}`, { hint: error.hint, cause: error });
    }
    throw error;
  }
  try {
    const state = loadState(paths);
    const ledger = new Ledger(
      paths,
      state,
      lock,
      {
        maxRetries: opts.maxRetries,
        compactEvery: Math.max(1, opts.compactEvery ?? DEFAULT_COMPACT_EVERY),
        by: opts.by ?? defaultBy(),
        now: opts.now ?? (() => new Date()),
        resampleMaxAttempts: opts.resampleMaxAttempts,
      },
      stale,
    );
    if (opts.reconcile !== false) {
      try {
        ledger.openReport.reconcile = ledger.reconcile();
      } catch (error) {
        ledger.close();
        throw error;
      }
    }
    return ledger;
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** Open, run `fn`, always close. */
export function withLedger<T>(paths: PipelinePaths, opts: OpenLedgerOptions, fn: (ledger: Ledger) => T): T {
  const ledger = openLedger(paths, opts);
  try {
    return fn(ledger);
  } finally {
    ledger.close();
  }
}

/** The openLedger options every stage takes from config.yaml (rollout.max_retries, ledger.*). */
export function ledgerRuleOptions(config: PipelineConfig): Pick<OpenLedgerOptions, 'maxRetries' | 'compactEvery' | 'resampleMaxAttempts'> {
  return {
    maxRetries: config.rollout.max_retries,
    compactEvery: config.ledger.compact_every,
    resampleMaxAttempts: config.ledger.resample_unresolved ? config.ledger.max_attempts : undefined,
  };
}
