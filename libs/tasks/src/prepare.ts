import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { TrajgenError, formatTable, resetDir } from '@trajgen/core';
import { writeBatchFile, type BatchCounts, type BatchFile, type BatchTask } from '@trajgen/contracts';
import { resolveConfigPath, type LoadedPipeline } from '@trajgen/config';
import { effectiveLedgerDigest, effectivePipelineLedgerDigest, formatReconcileReport, isPostgres, ledgerRuleOptions, openLedger, openPipelineLedger, taskIdProblem, type OpenReport, type StatusEdit } from '@trajgen/ledger';
import { readExcludedTasks, readManifest } from './manifest';
import { refreshStaging, type StagingReport } from './staging';
import { inspectTaskDir, taskChecksum, taskMetadataOf, taskNameOf } from './task-dir';
import { findTaskRoot } from './task-root.cjs';

// prepare/batch.json's types are its contract's (libs/contracts): the schema is the source of truth.
export type { BatchTask, BatchCounts, BatchFile } from '@trajgen/contracts';

export interface PrepareOptions {
  log?: (line: string) => void;
  warn?: (line: string) => void;
  /** Refresh the staging dir (default true). Off: compute and write the batch only (benchmarks). */
  stage?: boolean;
  /** Write prepare/batch.json (default true). */
  writeBatch?: boolean;
  /** Wait for the ledger lock this long (default 0: fail fast naming the holder). */
  lockWaitMs?: number;
  /** Called once the ledger lock is held, before anything is changed (tests synchronise on it). */
  afterLock?: () => void;
}

/** The ledger as prepare uses it: the YAML Ledger, or a PostgreSQL ledger's staged view (preparePipeline). */
export interface PrepareLedger {
  openReport: OpenReport;
  isConsumed(id: string): boolean;
  applyExclusions(excluded: ReadonlySet<string>): { skipped: string[]; restored: StatusEdit[] };
  register(ids: Iterable<string>): string[];
  close(): void;
}

interface OpenedLedger {
  ledger: PrepareLedger;
  /** The effective ledger digest seen before anything changed (what the Nx fingerprint saw). */
  digestBefore: string;
}

export interface PrepareResult {
  batch: BatchFile;
  openReport: OpenReport;
  exclusions: { skipped: string[]; restored: StatusEdit[] };
  /** Batch ids newly registered as pending in the ledger. */
  registered: number;
  staging?: StagingReport;
  /** Milliseconds: total, staging I/O, everything but staging, and each phase. */
  timings: { total_ms: number; staging_ms: number; excluding_staging_ms: number; phases: Record<string, number> };
  /** One line for runStage. */
  summary: string;
}

export interface TaskSource {
  source: string;
  root: string;
  /** Absolute manifest path, or null when allow_unverified and there is none. */
  manifest: string | null;
  ids: string[];
  duplicates: { id: string; line: number; first: number }[];
  dataset: string;
  stagingDir: string;
}

const rel = (pipeline: LoadedPipeline, p: string) => relative(pipeline.paths.workspaceRoot, p) || '.';

/** Resolve task_source: task root (the source, <source>/<basename> or an immediate subdirectory), manifest ids, dataset name. Throws clear errors. */
export function resolveTaskSource(pipeline: LoadedPipeline, warn: (line: string) => void = () => {}): TaskSource {
  const ts = pipeline.config.task_source;
  const source = resolveConfigPath(pipeline.paths, ts.path);
  let st;
  try {
    st = statSync(source);
  } catch {
    throw new TrajgenError(`task_source.path: ${rel(pipeline, source)} does not exist`, {
      hint: `Point task_source.path in ${rel(pipeline, pipeline.paths.configFile)} at the directory of Harbor task dirs the upstream block produces.`,
    });
  }
  if (!st.isDirectory()) throw new TrajgenError(`task_source.path: ${rel(pipeline, source)} is not a directory`);
  const root = findTaskRoot(source, ts.manifest);
  if (!root) {
    throw new TrajgenError(`No task root under ${rel(pipeline, source)}: neither it, ${basename(source)}/ inside it, nor an immediate subdirectory holds ${ts.manifest} or a task dir`, {
      hint: 'A task dir has task.toml, instruction.md, environment/ and tests/test.sh (reference: Harbor task format).',
    });
  }
  const manifestPath = join(root, ts.manifest);
  let ids: string[];
  let duplicates: TaskSource['duplicates'] = [];
  let manifest: string | null = manifestPath;
  if (existsSync(manifestPath)) {
    const m = readManifest(manifestPath, rel(pipeline, manifestPath));
    ids = m.ids;
    duplicates = m.duplicates;
  } else if (ts.allow_unverified) {
    manifest = null;
    ids = readdirSync(root, { withFileTypes: true })
      .filter((d) => (d.isDirectory() || d.isSymbolicLink()) && !d.name.startsWith('.') && existsSync(join(root, d.name, 'task.toml')))
      .map((d) => d.name)
      .filter((name) => !taskIdProblem(name))
      .sort();
    warn(`no manifest at ${rel(pipeline, manifestPath)}: task_source.allow_unverified is on, so every task dir under ${rel(pipeline, root)} counts as listed (${ids.length})`);
    if (ids.length === 0) throw new TrajgenError(`No task dirs (with a task.toml) under ${rel(pipeline, root)}`);
  } else {
    throw new TrajgenError(`Manifest ${rel(pipeline, manifestPath)} not found`, {
      hint: `The manifest of verified task ids is the contract with the upstream block; only listed ids are staged. Create it (one id a line), or set task_source.allow_unverified: true to stage every valid task (not recommended).`,
    });
  }
  const dataset = ts.dataset ?? basename(root);
  const dsProblem = taskIdProblem(dataset);
  if (dsProblem) throw new TrajgenError(`Dataset name ${JSON.stringify(dataset)} ${dsProblem}`, { hint: 'Set task_source.dataset to a plain name.' });
  return { source, root, manifest, ids, duplicates, dataset, stagingDir: join(pipeline.paths.tasksStaging, dataset) };
}

export function batchDigest(tasks: readonly { id: string; checksum: string }[]): string {
  const lines = tasks.map((t) => `${t.id}:${t.checksum}\n`).sort();
  return createHash('sha256').update(lines.join('')).digest('hex');
}

function list(ids: string[], limit = 20): string {
  return ids.length <= limit ? ids.join(', ') : `${ids.slice(0, limit).join(', ')}, … and ${ids.length - limit} more`;
}

/** Warn about what opening the ledger recovered from, and log the reconcile report. */
function reportLedgerOpen(open: OpenReport, log: (line: string) => void, warn: (line: string) => void): void {
  if (open.staleLock) warn(`recovered a stale ledger lock of pid ${open.staleLock.pid} on ${open.staleLock.host} (${open.staleLock.purpose}, since ${open.staleLock.acquired_at}): that process is gone`);
  if (open.tornJournalLine) warn(`ignored a torn last journal line (line ${open.tornJournalLine.line}, ${open.tornJournalLine.bytes} bytes): a write cut off by a crash`);
  if (open.slowParse) warn('the ledger YAML is not in trajgen\'s layout (hand-edited?); it was read with the full YAML parser and is rewritten in the canonical layout at the next change');
  for (const line of formatReconcileReport(open.reconcile)) log(line);
}

/**
 * Classify the listed ids. Consumed and excluded ids are decided from the ledger alone (no disk access),
 * so a large, mostly consumed pool costs only what the batch costs.
 */
function classifyIds(ids: readonly string[], excludedSet: ReadonlySet<string>, ledger: PrepareLedger) {
  const candidates: string[] = [];
  const keep = new Set<string>();
  let consumed = 0;
  let excludedCount = 0;
  for (const id of ids) {
    if (excludedSet.has(id)) {
      excludedCount++;
      continue;
    }
    if (ledger.isConsumed(id)) {
      consumed++;
      keep.add(id);
      continue;
    }
    candidates.push(id);
  }
  return { candidates, keep, consumed, excludedCount };
}

/** Inspect and checksum each candidate task dir: the batch (sorted by id), and the missing and invalid ids, warned about. */
function checkCandidates(pipeline: LoadedPipeline, src: TaskSource, candidates: readonly string[], log: (line: string) => void, warn: (line: string) => void) {
  const missing: string[] = [];
  const invalid: { id: string; problems: string[] }[] = [];
  const tasks: BatchTask[] = [];
  const progressEvery = candidates.length >= 20000 ? 10000 : 0;
  for (let i = 0; i < candidates.length; i++) {
    const id = candidates[i];
    const dir = join(src.root, id);
    const inspection = inspectTaskDir(dir);
    if (inspection.problems[0] === 'does not exist') missing.push(id);
    else if (inspection.problems.length > 0) invalid.push({ id, problems: inspection.problems });
    else {
      tasks.push({
        id,
        name: taskNameOf(inspection.config, dir),
        checksum: taskChecksum(dir),
        source_path: rel(pipeline, dir),
        staged_path: rel(pipeline, join(src.stagingDir, id)),
        metadata: taskMetadataOf(inspection.config),
      });
    }
    if (progressEvery && (i + 1) % progressEvery === 0) log(`checked ${i + 1}/${candidates.length} candidate task dirs`);
  }
  tasks.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (missing.length) warn(`${missing.length} listed id${missing.length === 1 ? '' : 's'} missing on disk under ${rel(pipeline, src.root)}: ${list(missing)}`);
  for (const bad of invalid.slice(0, 20)) warn(`${bad.id}: not a valid task dir (${bad.problems.join('; ')}); not staged`);
  if (invalid.length > 20) warn(`… and ${invalid.length - 20} more invalid task dirs`);
  return { missing, invalid, tasks };
}

/** prepare/batch.json's content. */
function batchFileOf(
  pipeline: LoadedPipeline,
  src: TaskSource,
  tasks: BatchTask[],
  counts: BatchCounts,
  missing: readonly string[],
  invalid: { id: string; problems: string[] }[],
  ledgerDigestBefore: string,
): BatchFile {
  return {
    schema_version: 1,
    pipeline: pipeline.name,
    dataset: src.dataset,
    task_root: rel(pipeline, src.root),
    manifest: src.manifest ? rel(pipeline, src.manifest) : null,
    tasks,
    counts,
    missing: [...missing].sort(),
    invalid: invalid.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    ledger_digest_before: ledgerDigestBefore,
    batch_digest: batchDigest(tasks),
  };
}

/** Refresh the staging dir to the batch; consumed tasks stay staged while listed and their source still exists. */
function stageBatch(pipeline: LoadedPipeline, src: TaskSource, tasks: readonly BatchTask[], keep: ReadonlySet<string>): StagingReport {
  return refreshStaging({
    dir: src.stagingDir,
    mode: pipeline.config.task_source.staging,
    tasks: tasks.map((t) => ({ id: t.id, source: join(src.root, t.id), checksum: t.checksum })),
    keep: (id) => keep.has(id) && existsSync(join(src.root, id)),
  });
}

/** The counts table prepare prints ('-' for staged when staging is off). */
function batchTable(counts: BatchCounts, staged: boolean, batch: number): string {
  return formatTable(
    ['listed', 'staged', 'consumed', 'excluded', 'missing', 'invalid', 'batch'],
    [[counts.listed, staged ? counts.staged : '-', counts.consumed, counts.excluded, counts.missing, counts.invalid, batch]],
  );
}

/** Milliseconds per named phase since the previous one; restart() leaves the time since the last mark out (staging is timed apart). */
function phaseClock(start: number) {
  const phases: Record<string, number> = {};
  let mark = start;
  return {
    phases,
    phase: (name: string) => {
      const now = performance.now();
      phases[name] = (phases[name] ?? 0) + (now - mark);
      mark = now;
    },
    restart: () => {
      mark = performance.now();
    },
  };
}

/** The task source (manifest ids, logged; repeated ids warned about) and excluded_tasks.txt. */
function readTaskLists(pipeline: LoadedPipeline, log: (line: string) => void, warn: (line: string) => void) {
  const src = resolveTaskSource(pipeline, warn);
  const excludedFile = resolveConfigPath(pipeline.paths, pipeline.config.ledger.excluded_tasks_file);
  const excluded = readExcludedTasks(excludedFile, rel(pipeline, excludedFile));
  log(`task root ${rel(pipeline, src.root)}, ${src.manifest ? `manifest ${rel(pipeline, src.manifest)}` : 'no manifest'}: ${src.ids.length} ids listed`);
  for (const d of src.duplicates.slice(0, 20)) warn(`${src.manifest ? rel(pipeline, src.manifest) : 'manifest'}:${d.line}: ${d.id} is listed again (first on line ${d.first}); counted once`);
  return { src, excluded };
}

/** excluded_tasks.txt into the ledger: listed tasks skipped, no-longer-listed ones restored; both logged. */
function applyExcludedTasks(ledger: PrepareLedger, excluded: ReadonlySet<string>, log: (line: string) => void): ReturnType<PrepareLedger['applyExclusions']> {
  const exclusions = ledger.applyExclusions(excluded);
  if (exclusions.skipped.length) log(`excluded_tasks.txt: ${exclusions.skipped.length} skipped (${list(exclusions.skipped)})`);
  for (const r of exclusions.restored) log(`excluded_tasks.txt: ${r.id} no longer listed: skipped → ${r.to}`);
  return exclusions;
}

const stagingLine = (pipeline: LoadedPipeline, src: TaskSource, staging: StagingReport) =>
  `staged (${pipeline.config.task_source.staging}) into ${rel(pipeline, src.stagingDir)}: ${staging.added.length} added, ${staging.replaced.length} replaced, ${staging.unchanged} unchanged, ${staging.kept} consumed kept, ${staging.removed.length} removed`;

/**
 * The prepare stage: reconcile the ledger, validate manifest/ids/task dirs,
 * apply excluded_tasks.txt, stage, write prepare/batch.json. Holds the ledger
 * lock throughout; a second concurrent run fails fast naming the holder.
 */
export function prepareBatch(pipeline: LoadedPipeline, options: PrepareOptions = {}, opened?: OpenedLedger): PrepareResult {
  const started = performance.now();
  const { phases, phase, restart } = phaseClock(started);
  const log = options.log ?? (() => {});
  const warn = options.warn ?? log;
  // Before anything can change the ledger: the digest the Nx fingerprint saw.
  const ledgerDigestBefore = opened?.digestBefore ?? effectiveLedgerDigest(pipeline.paths.artifacts);
  const { paths, config } = pipeline;
  phase('ledger_digest');

  const { src, excluded } = readTaskLists(pipeline, log, warn);
  phase('manifest');

  const ledger: PrepareLedger = opened?.ledger ?? openLedger(paths, { purpose: 'prepare', ...ledgerRuleOptions(config), waitMs: options.lockWaitMs ?? 0 });
  let stagingMs = 0;
  try {
    phase('ledger_open');
    options.afterLock?.();
    const open = ledger.openReport;
    reportLedgerOpen(open, log, warn);

    // prepare/ is this stage's declared output: replace it (only now that we hold the lock).
    resetDir(paths.prepareOut);

    const excludedSet = new Set(excluded.ids);
    const exclusions = applyExcludedTasks(ledger, excludedSet, log);

    phase('exclusions');
    const { candidates, keep, consumed, excludedCount } = classifyIds(src.ids, excludedSet, ledger);
    phase('classify');
    const { missing, invalid, tasks } = checkCandidates(pipeline, src, candidates, log, warn);

    phase('validate_checksum');
    const registered = ledger.register(tasks.map((t) => t.id)).length;
    phase('register');

    let staging: StagingReport | undefined;
    if (options.stage !== false) {
      const t0 = performance.now();
      staging = stageBatch(pipeline, src, tasks, keep);
      stagingMs = performance.now() - t0;
      restart();
      log(stagingLine(pipeline, src, staging));
    }

    const counts: BatchCounts = {
      listed: src.ids.length,
      staged: staging?.staged ?? 0,
      consumed,
      excluded: excludedCount,
      missing: missing.length,
      invalid: invalid.length,
    };
    const batch = batchFileOf(pipeline, src, tasks, counts, missing, invalid, ledgerDigestBefore);
    if (options.writeBatch !== false) writeBatchFile(paths.batchFile, batch);
    phase('batch_json');

    log(batchTable(counts, options.stage !== false, tasks.length));
    if (tasks.length === 0) log('nothing to roll out: every listed task is consumed, excluded, missing or invalid');
    ledger.close();
    phase('ledger_close');
    const total = performance.now() - started;
    return {
      batch,
      openReport: open,
      exclusions,
      registered,
      staging,
      timings: { total_ms: total, staging_ms: stagingMs, excluding_staging_ms: total - stagingMs, phases },
      summary: `batch of ${tasks.length} (listed ${counts.listed}, consumed ${counts.consumed}, excluded ${counts.excluded}, missing ${counts.missing}, invalid ${counts.invalid})`,
    };
  } finally {
    ledger.close();
  }
}

/**
 * prepare on the configured ledger backend. YAML: prepareBatch. PostgreSQL: the
 * digest and reconcile from the database, then prepareBatch on the ledger's
 * snapshot, its exclusions and registrations written at the end (an
 * unreachable database fails here, before anything is staged).
 */
export async function preparePipeline(pipeline: LoadedPipeline, options: PrepareOptions = {}): Promise<PrepareResult> {
  if (pipeline.config.ledger.backend !== 'postgres') return prepareBatch(pipeline, options);
  const digestBefore = await effectivePipelineLedgerDigest(pipeline);
  const ledger = await openPipelineLedger(pipeline, { purpose: 'prepare' });
  try {
    if (!isPostgres(ledger)) throw new Error('unreachable: backend is postgres');
    const result = prepareBatch(pipeline, options, { ledger: ledger.stagedForPrepare(), digestBefore });
    await ledger.flush();
    return result;
  } finally {
    await ledger.close();
  }
}
