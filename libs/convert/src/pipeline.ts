import { closeSync, copyFileSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { acquireLock, TrajgenError, writeFileDurablySync } from '@trajgen/core';
import { resolveConfigPath, type ConversionConfig, type PipelinePaths } from '@trajgen/config';
import { convertStats } from '@trajgen/contracts';
import { loadRepoExclusion, type RepoExclusion } from './exclude';
import { FileDigests, MemoWriter, memoKey, readMemo, type MemoOutcome } from './memo';
import { convertTrial, type TrialOutcome } from './trial';
import { listTrials, selectByOutcome, type TrialRef } from './trials';
import { converterVersion } from './version';

/**
 * The convert stage: selected trials → `data/im_data/<data_name>.jsonl`
 * (IM v2, ordered by job, trial, row) and `<data_name>.stats.json`.
 *
 * Incremental: each trial's result is memoised under the digest of its raw
 * inputs + converter version + options (`cache/convert/`), so new jobs
 * convert only their new trials. The output is rebuilt every run from the
 * memo in one streaming pass; rows of unchanged trials are copied as bytes
 * from the previous output when it is still the file this stage wrote
 * (`cache/convert/<data_name>.index.json` records where each trial's rows
 * are), else from their memo entries. Memory stays bounded by one trial.
 */

export interface ConvertPipelineOptions {
  /** Overrides `conversion.exclude_repos_file`; "" disables repo exclusion. */
  excludeReposFile?: string;
  log?: (line: string) => void;
  /** Minimum time between progress lines (default 2 s). */
  progressEveryMs?: number;
}

export interface ConvertStats {
  schema_version: 1;
  data_name: string;
  converter_version: string;
  input: string;
  options: {
    scaffold: string;
    instance_status: string;
    reasoning_check: string;
    reasoning_ratio_threshold: number;
    exclude_repos_file: string;
    excluded_repos: number;
    max_instances: number | null;
  };
  rows: number;
  instances: number;
  trials: { seen: number; selected: number; converted: number };
  /** Trials not selected by outcome (instance_status), by why. */
  not_selected: Record<string, number>;
  /** Selected trials that produced no rows, by reason: selected = converted + Σ dropped. */
  dropped: Record<string, number>;
  by_scaffold: Record<string, { trials: number; rows: number; main: number; subagent: number }>;
  /** Record-level counts summed over converted and dropped trials (failed calls, prefixes, side calls, …). */
  records: Record<string, number>;
  memo: { hits: number; misses: number };
  /** The first drops, to look at. */
  examples: { job: string; trial: string; reason: string; message: string }[];
  /** Every dropped trial with its reason (the report's trial pages say why each one has no row). */
  drops: { job: string; trial: string; reason: string; message: string }[];
}

export interface ConvertResult {
  stats: ConvertStats;
  outputFile: string;
  statsFile: string;
  summary: string;
  /** Milliseconds per phase (not in the stats file: it must not change when nothing else does). */
  timings: Record<string, number>;
}

class PhaseTimer {
  readonly laps: Record<string, number> = {};
  private last = performance.now();
  lap(name: string): void {
    const now = performance.now();
    this.laps[name] = Math.round((now - this.last) * 10) / 10;
    this.last = now;
  }
}

/** Where the previous output put each trial's rows, and each trial's outcome: lets a rerun skip reading memo entries. */
interface IndexEntry {
  outcome: MemoOutcome;
  /** [offset, length] in the output; absent for dropped trials. */
  range?: [number, number];
  subagents?: number;
}

interface OutputIndex {
  size: number;
  mtimeMs: number;
  entries: Record<string, IndexEntry>;
}

/**
 * On disk, one short array per memo key (it is read and written on every
 * run, for every trial): [offset, length, subagents, status, instance id,
 * scaffold, non-zero counts, reason, message]; job and trial are known from
 * the trial list.
 */
type PackedEntry = [number, number, number, 'c' | 'd', string, string | null, Record<string, number>, string?, string?];
interface IndexFile {
  schema_version: 3;
  size: number;
  mtimeMs: number;
  entries: Record<string, PackedEntry>;
}

function pack(e: IndexEntry): PackedEntry {
  const o = e.outcome;
  const counts: Record<string, number> = {};
  for (const k in o.counts) if (o.counts[k]) counts[k] = o.counts[k];
  const packed: PackedEntry = [e.range?.[0] ?? -1, e.range?.[1] ?? 0, e.subagents ?? 0, o.status === 'converted' ? 'c' : 'd', o.instance_id, o.scaffold ?? null, counts];
  if (o.status !== 'converted') packed.push(o.reason ?? '', o.message ?? '');
  return packed;
}

function unpack(p: PackedEntry, job: string, trial: string): IndexEntry {
  const outcome: MemoOutcome = { job, trial, instance_id: p[4], status: p[3] === 'c' ? 'converted' : 'dropped', counts: p[6] };
  if (p[5]) outcome.scaffold = p[5] as MemoOutcome['scaffold'];
  if (p[3] === 'd') {
    outcome.reason = p[7];
    outcome.message = p[8];
  }
  return { outcome, range: p[0] >= 0 ? [p[0], p[1]] : undefined, subagents: p[2] };
}

const MAX_EXAMPLES = 20;
/** A drop's message in the stats file is clipped: the file holds one per dropped trial. */
const MAX_DROP_MESSAGE = 400;

function bump(map: Record<string, number>, key: string, n = 1): void {
  map[key] = (map[key] ?? 0) + n;
}

function readIndex(file: string): IndexFile | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as IndexFile;
    return v.schema_version === 3 && v.entries ? v : undefined;
  } catch {
    return undefined;
  }
}

/** No fsync: the index is only an optimisation for the next run (a lost or torn one is ignored). */
function writeIndex(file: string, index: OutputIndex): void {
  const entries: Record<string, PackedEntry> = {};
  for (const [k, e] of Object.entries(index.entries)) entries[k] = pack(e);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify({ schema_version: 3, size: index.size, mtimeMs: index.mtimeMs, entries } satisfies IndexFile));
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

/** Own outputs only: `<name>.jsonl` (not `*.scored.jsonl`, the score stage's) and `<name>.stats.json`. */
function isOwnOutput(name: string): boolean {
  return (name.endsWith('.jsonl') && !name.endsWith('.scored.jsonl')) || name.endsWith('.stats.json');
}

/**
 * Writes the output file for one run. While the trials come in the same
 * order as last time, their rows are a prefix of the previous file and are
 * not copied; everything after that prefix goes to a temp file. At the end:
 *  - nothing after the prefix and the prefix is the whole file: unchanged;
 *  - the whole previous file is the prefix (new jobs landed at the end, the
 *    common case): the temp file is appended to it in place — only the new
 *    rows are written. A crash mid-append leaves a file whose size no longer
 *    matches the index, so the next run rebuilds it from the memo (and Nx
 *    never runs the next stage after a failed one);
 *  - otherwise prefix (copied by the kernel) + temp file replace it
 *    atomically (temp, rename).
 * Not fsynced: the file is derived from the memo; a damaged one fails the
 * size/mtime check and is rebuilt.
 */
const NEWLINE = Buffer.from('\n');

class OutputWriter {
  private fd?: number;
  /** Bytes written to the temp file (the new output after the prefix). */
  private tail = 0;
  private old?: { fd: number; size: number; mtimeMs: number; entries: Record<string, PackedEntry> };
  /** Bytes of the previous file reused as the start of the new one. */
  private prefix = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  readonly entries: Record<string, IndexEntry> = {};
  readonly tmp: string;
  /** Whether anything differs from the previous run (output or index). */
  changed = false;

  constructor(
    readonly file: string,
    oldIndex: IndexFile | undefined,
  ) {
    this.tmp = join(file, '..', `.${file.split('/').pop()}.${process.pid}.tmp`);
    if (oldIndex && existsSync(file)) {
      const s = statSync(file);
      // Only the very file this stage wrote last time (not one restored or edited since).
      if (s.size === oldIndex.size && s.mtimeMs === oldIndex.mtimeMs) this.old = { fd: openSync(file, 'r'), size: s.size, mtimeMs: s.mtimeMs, entries: oldIndex.entries };
    }
    if (!this.old) this.changed = true;
  }

  /** What the previous run recorded for this memo key, if its output is still in place. */
  previous(key: string, job: string, trial: string): IndexEntry | undefined {
    const p = this.old?.entries[key];
    return p ? unpack(p, job, trial) : undefined;
  }

  note(key: string, entry: IndexEntry): void {
    this.entries[key] = entry;
  }

  private get offset(): number {
    return this.prefix + this.tail;
  }

  /** Buffered: one write per MiB, not one per trial. */
  private write(data: string | Buffer): void {
    if (this.fd === undefined) {
      this.fd = openSync(this.tmp, 'w');
      this.changed = true;
    }
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    this.tail += buf.length;
    if (this.pendingBytes >= 1 << 20) this.flush();
  }

  private flush(): void {
    if (!this.pendingBytes || this.fd === undefined) return;
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    let done = 0;
    while (done < all.length) done += writeSync(this.fd, all, done, all.length - done);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** A trial's rows from the previous output; undefined when they are not there. */
  copyFromPrevious(key: string): [number, number] | undefined {
    const p = this.old?.entries[key];
    if (!this.old || !p || p[0] < 0) return undefined;
    if (this.fd === undefined && p[0] === this.prefix) {
      this.prefix += p[1];
      return [p[0], p[1]];
    }
    const buf = Buffer.allocUnsafe(p[1]);
    const n = readSync(this.old.fd, buf, 0, p[1], p[0]);
    // A range must hold whole IM rows: starts a row, ends a line.
    if (n !== p[1] || (n > 0 && (buf[n - 1] !== 10 || buf.toString('utf8', 0, 11) !== '{"version":'))) return undefined;
    const at: [number, number] = [this.offset, n];
    this.write(buf);
    return at;
  }

  rows(rows: string[] | Buffer[]): [number, number] {
    const start = this.offset;
    for (const r of rows) {
      this.write(r);
      this.write(NEWLINE);
    }
    if (!rows.length) this.write('');
    return [start, this.offset - start];
  }

  /** Copy the temp file's bytes to `fd` at `position` onwards. */
  private appendTail(fd: number, position: number): void {
    if (this.tail === 0) return;
    const src = openSync(this.tmp, 'r');
    try {
      const buf = Buffer.allocUnsafe(Math.min(this.tail, 4 << 20) || 1);
      for (let at = 0; at < this.tail; ) {
        const n = readSync(src, buf, 0, Math.min(buf.length, this.tail - at), at);
        if (n === 0) break;
        let done = 0;
        while (done < n) done += writeSync(fd, buf, done, n - done, position + at + done);
        at += n;
      }
    } finally {
      closeSync(src);
    }
  }

  commit(): OutputIndex {
    try {
      this.flush();
    } catch (e) {
      this.abort();
      throw e;
    }
    if (this.fd !== undefined) closeSync(this.fd);
    const old = this.old;
    if (old) closeSync(old.fd);
    if (old && this.prefix === old.size && this.tail === 0) {
      // Same rows, same order: the file stays as it is.
      rmSync(this.tmp, { force: true });
      return { size: old.size, mtimeMs: old.mtimeMs, entries: this.entries };
    }
    if (old && this.prefix === old.size) {
      const fd = openSync(this.file, 'r+');
      try {
        this.appendTail(fd, old.size);
      } catch (e) {
        // Half an append (a full disk): back to exactly the previous output, which the previous stats describe.
        ftruncateSync(fd, old.size);
        rmSync(this.tmp, { force: true });
        throw e;
      } finally {
        closeSync(fd);
      }
      rmSync(this.tmp, { force: true });
    } else if (old && this.prefix > 0) {
      const staged = `${this.tmp}.full`;
      try {
        copyFileSync(this.file, staged);
        const fd = openSync(staged, 'r+');
        try {
          ftruncateSync(fd, this.prefix);
          this.appendTail(fd, this.prefix);
        } finally {
          closeSync(fd);
        }
      } catch (e) {
        rmSync(staged, { force: true });
        rmSync(this.tmp, { force: true });
        throw e;
      }
      renameSync(staged, this.file);
      rmSync(this.tmp, { force: true });
    } else {
      if (this.fd === undefined) closeSync(openSync(this.tmp, 'w'));
      renameSync(this.tmp, this.file);
    }
    const s = statSync(this.file);
    return { size: s.size, mtimeMs: s.mtimeMs, entries: this.entries };
  }

  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.old) closeSync(this.old.fd);
    rmSync(this.tmp, { force: true });
  }
}

/** A write error as the user should read it: out of disk names the file and what to do; anything else as it is. */
function diskFull(e: unknown, writing: string, output: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return e;
  return new TrajgenError(`convert: out of disk space while writing ${writing} (${code})`, {
    hint: `Free space on the filesystem holding ${output} (df -h), or move artifacts/ to a larger disk, then rerun. The previous ${output} and its stats are unchanged and no temp file was left.`,
  });
}

/** The stats of a run before any trial is read. */
function emptyStats(dataName: string, version: string, input: string, config: ConversionConfig, excludeFile: string, exclusion: RepoExclusion | undefined): ConvertStats {
  return {
    schema_version: 1,
    data_name: dataName,
    converter_version: version,
    input,
    options: {
      scaffold: config.scaffold,
      instance_status: config.instance_status,
      reasoning_check: config.reasoning_check,
      reasoning_ratio_threshold: config.reasoning_ratio_threshold,
      exclude_repos_file: excludeFile,
      excluded_repos: exclusion?.repos.length ?? 0,
      max_instances: config.max_instances,
    },
    rows: 0,
    instances: 0,
    trials: { seen: 0, selected: 0, converted: 0 },
    not_selected: {},
    dropped: {},
    by_scaffold: {},
    records: {},
    memo: { hits: 0, misses: 0 },
    examples: [],
    drops: [],
  };
}

/** The repo exclusion of `conversion.exclude_repos_file` ("" disables it) and its path as the stats show it. */
function loadExclusion(paths: PipelinePaths, setting: string, rel: (p: string) => string): { exclusion: RepoExclusion | undefined; excludeFile: string } {
  if (setting === '') return { exclusion: undefined, excludeFile: '' };
  const file = resolveConfigPath(paths, setting);
  return { exclusion: loadRepoExclusion(file), excludeFile: rel(file) };
}

/** Record a dropped trial with its reason (counted, listed, and among the first examples). */
function dropInto(stats: ConvertStats): ConvertRun['drop'] {
  return (o, reason, message) => {
    bump(stats.dropped, reason);
    const entry = { job: o.job, trial: o.trial, reason, message: message.length > MAX_DROP_MESSAGE ? `${message.slice(0, MAX_DROP_MESSAGE)}…` : message };
    if (stats.examples.length < MAX_EXAMPLES) stats.examples.push(entry);
    stats.drops.push(entry);
  };
}

/** What converting one trial needs from the run. */
interface ConvertRun {
  paths: PipelinePaths;
  config: ConversionConfig;
  cacheDir: string;
  rel: (p: string) => string;
  log: (line: string) => void;
  version: string;
  exclusion: RepoExclusion | undefined;
  stats: ConvertStats;
  instances: Set<string>;
  digests: FileDigests;
  memoWriter: MemoWriter;
  writer: OutputWriter;
  memoOptions: { scaffold: string; reasoning_check: string; reasoning_ratio_threshold: number };
  trialOptions: Parameters<typeof convertTrial>[1];
  drop: (o: Pick<TrialOutcome, 'job' | 'trial'>, reason: string, message: string) => void;
}

/**
 * Select, convert (or reuse from the previous output / the memo) and write one
 * trial, counting it in the stats. True when it was converted (rows written).
 */
async function convertOne(run: ConvertRun, t: TrialRef): Promise<boolean> {
  const { paths, config, cacheDir, rel, log, stats, writer, memoWriter, drop } = run;
  stats.trials.seen++;
  if (t.resultProblem) {
    // Its reward is unknown, so it cannot be selected or rejected by outcome: a counted drop, said out loud.
    stats.trials.selected++;
    const abs = join(paths.jobs, t.job, t.trial, 'result.json');
    const file = rel(abs);
    const problem = t.resultProblem.split(abs).join('result.json');
    log(`convert: warning: ${file} is unreadable (${problem}); trial ${t.job}/${t.trial} dropped as damaged_result`);
    drop(t, 'damaged_result', `${file}: ${problem}`);
    return false;
  }
  const sel = selectByOutcome(t, config.instance_status);
  if (!sel.selected) {
    bump(stats.not_selected, sel.why);
    return false;
  }
  stats.trials.selected++;
  const repo = run.exclusion?.match(t.instanceId);
  if (repo) {
    drop(t, 'excluded_repo', `${t.instanceId} belongs to benchmark repo ${repo}`);
    return false;
  }
  const key = memoKey({ converterVersion: run.version, options: run.memoOptions, trial: t, jobsDir: paths.jobs, digests: run.digests });
  let encoded: Buffer[] | undefined;
  const convertNow = async (): Promise<TrialOutcome> => {
    const fresh = convertTrial(t, run.trialOptions);
    encoded = fresh.rows.map((r) => Buffer.from(r));
    await memoWriter.write(key, fresh, encoded);
    return fresh;
  };
  let outcome: MemoOutcome;
  let rows: string[] | undefined;
  const known = writer.previous(key, t.job, t.trial);
  if (known) {
    stats.memo.hits++;
    outcome = known.outcome;
  } else {
    writer.changed = true;
    const memo = readMemo(cacheDir, key);
    if (memo) {
      stats.memo.hits++;
      outcome = memo.outcome;
      rows = memo.rows;
    } else {
      stats.memo.misses++;
      const { rows: freshRows, ...fresh } = await convertNow();
      outcome = fresh;
      rows = freshRows;
    }
  }
  for (const [k, n] of Object.entries(outcome.counts)) if (k !== 'rows' && n) bump(stats.records, k, n);
  if (outcome.status !== 'converted') {
    writer.note(key, { outcome });
    drop(outcome, outcome.reason ?? 'unknown', outcome.message ?? '');
    return false;
  }
  if (config.max_instances !== null && stats.trials.converted >= config.max_instances) {
    drop(outcome, 'max_instances', `conversion.max_instances (${config.max_instances}) reached`);
    return false;
  }
  let range = rows ? undefined : writer.copyFromPrevious(key);
  let subagents = known?.subagents ?? 0;
  if (!range) {
    rows ??= readMemo(cacheDir, key)?.rows ?? (await convertNow()).rows;
    range = writer.rows(encoded ?? rows);
    subagents = rows.filter((r) => r.includes('"_agent_type":"subagent"')).length;
  }
  writer.note(key, { outcome, range, subagents });
  countConverted(run, outcome, subagents);
  return true;
}

/** Count a converted trial: rows, instances, and its scaffold's rows (main / sub-agent). */
function countConverted(run: ConvertRun, outcome: MemoOutcome, subagents: number): void {
  const { stats } = run;
  stats.trials.converted++;
  run.instances.add(outcome.instance_id);
  const n = outcome.counts.rows ?? 0;
  stats.rows += n;
  const s = (stats.by_scaffold[outcome.scaffold ?? 'unknown'] ??= { trials: 0, rows: 0, main: 0, subagent: 0 });
  s.trials++;
  s.rows += n;
  s.subagent += subagents;
  s.main += n - subagents;
}

/**
 * Stats first, to a temp file beside their place; then the rows; then the stats are renamed in.
 * A full disk at any point leaves the previous rows and stats as they were (and no temp file).
 * Then only this stage's other outputs are removed: the score stage's *.scored.jsonl stay.
 */
function writeConvertOutputs(imData: string, dataName: string, stats: ConvertStats, writer: OutputWriter, outputFile: string, rel: (p: string) => string): { statsFile: string; index: OutputIndex } {
  const statsFile = join(imData, `${dataName}.stats.json`);
  const statsTmp = join(imData, `.${dataName}.stats.json.${process.pid}.tmp`);
  let index: OutputIndex;
  const statsText = convertStats.text(stats, rel(statsFile)); // validated by its contract (libs/contracts) before anything is written
  try {
    writeFileDurablySync(statsTmp, statsText);
  } catch (e) {
    writer.abort();
    throw diskFull(e, rel(statsTmp), rel(statsFile));
  }
  try {
    index = writer.commit();
  } catch (e) {
    rmSync(statsTmp, { force: true });
    throw diskFull(e, rel(outputFile), rel(outputFile));
  }
  renameSync(statsTmp, statsFile);
  for (const name of readdirSync(imData)) {
    if (isOwnOutput(name) && name !== `${dataName}.jsonl` && name !== `${dataName}.stats.json`) rmSync(join(imData, name), { force: true });
  }
  return { statsFile, index };
}

/** The one-line summary of a run. */
function convertSummary(stats: ConvertStats, outputFile: string, rel: (p: string) => string): string {
  const droppedTotal = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
  const droppedText = droppedTotal
    ? `; dropped ${droppedTotal} (${Object.entries(stats.dropped)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`
    : '';
  return `${stats.rows} rows from ${stats.trials.converted}/${stats.trials.selected} selected trials (${stats.instances} instances) → ${rel(outputFile)}${droppedText}; memo ${stats.memo.hits} hits, ${stats.memo.misses} misses`;
}

export async function convertPipeline(paths: PipelinePaths, config: ConversionConfig, options: ConvertPipelineOptions = {}): Promise<ConvertResult> {
  const log = options.log ?? (() => undefined);
  const dataName = config.data_name ?? 'data';
  const cacheDir = join(paths.cache, 'convert');
  const rel = (p: string) => relative(paths.workspaceRoot, p) || '.';
  mkdirSync(cacheDir, { recursive: true });
  mkdirSync(paths.imData, { recursive: true });
  const lock = acquireLock(join(cacheDir, 'convert.lock'), { purpose: `convert ${dataName}` });
  try {
    const { exclusion, excludeFile } = loadExclusion(paths, options.excludeReposFile ?? config.exclude_repos_file, rel);
    const timer = new PhaseTimer();
    const version = converterVersion();
    timer.lap('version');
    const fromJobs = (config.from_jobs ?? []).map((p) => resolveConfigPath(paths, p));
    const list = listTrials(paths.workspaceRoot, paths.rolloutOut, paths.jobs, fromJobs);
    timer.lap('list');
    if (!list.trials.length) log(`convert: no trials found in ${list.source}`);

    const stats = emptyStats(dataName, version, list.source, config, excludeFile, exclusion);
    const outputFile = join(paths.imData, `${dataName}.jsonl`);
    const indexFile = join(cacheDir, `${dataName}.index.json`);
    const digests = new FileDigests(cacheDir);
    const memoWriter = new MemoWriter(cacheDir);
    const previousIndex = readIndex(indexFile);
    timer.lap('read_index');
    const previousEntries = previousIndex ? Object.keys(previousIndex.entries).length : -1;
    const writer = new OutputWriter(outputFile, previousIndex);
    const run: ConvertRun = {
      paths,
      config,
      cacheDir,
      rel,
      log,
      version,
      exclusion,
      stats,
      instances: new Set<string>(),
      digests,
      memoWriter,
      writer,
      memoOptions: { scaffold: config.scaffold, reasoning_check: config.reasoning_check, reasoning_ratio_threshold: config.reasoning_ratio_threshold },
      trialOptions: {
        scaffold: config.scaffold,
        reasoningCheck: config.reasoning_check,
        reasoningRatio: config.reasoning_ratio_threshold,
        workspaceRoot: paths.workspaceRoot,
        tasksStaging: paths.tasksStaging,
      },
      drop: dropInto(stats),
    };
    const every = options.progressEveryMs ?? 2000;
    let lastProgress = Date.now();
    try {
      for (const t of list.trials) {
        if (!(await convertOne(run, t))) continue;
        if (Date.now() - lastProgress >= every) {
          lastProgress = Date.now();
          log(`convert: ${stats.trials.seen}/${list.trials.length} trials seen, ${stats.trials.converted} converted, ${Object.values(stats.dropped).reduce((a, b) => a + b, 0)} dropped, memo ${stats.memo.hits} hits / ${stats.memo.misses} misses`);
        }
      }
      await memoWriter.drain();
    } catch (e) {
      writer.abort();
      await memoWriter.drain().catch(() => undefined);
      throw diskFull(e, rel(writer.tmp), rel(outputFile));
    }
    stats.instances = run.instances.size;
    timer.lap('trials');
    const { statsFile, index } = writeConvertOutputs(paths.imData, dataName, stats, writer, outputFile, rel);
    timer.lap('write_output');
    if (writer.changed || Object.keys(index.entries).length !== previousEntries) writeIndex(indexFile, index);
    digests.save();
    timer.lap('write_stats_index');
    return { stats, outputFile, statsFile, summary: convertSummary(stats, outputFile, rel), timings: timer.laps };
  } finally {
    lock.release();
  }
}
