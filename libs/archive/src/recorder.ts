import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, relative } from 'node:path';
import { stringify } from 'yaml';
import { acquireLock, atomicWriteFileSync } from '@trajgen/core';
import { pipelinePaths, type PipelinePaths } from '@trajgen/config';
import { readSummaryFile } from '@trajgen/contracts';
import { HISTORY_FILE, type PipelineSummary, type RunIndexEntry } from '@trajgen/report';
import { gitInfo } from './git';
import { isDeadSet, readMarkerSets, removeMarkerSet, runsDir, type MarkerSet, type RunMarker } from './markers';
import { readContract } from './read';
import { redactConfigText, scrubText } from './redact';
import { allocateRunDir, readRunIndex, setAsideUnreadableIndex, writeHistoryScript, writeRunIndex } from './run-index';
import { collectSummary, pipelineFacts } from './summary';
import { writeRunSeries } from './run-details';

export const METADATA_SCHEMA_VERSION = 1;
export const DEFAULT_STAGES = ['prepare', 'rollout', 'convert', 'score', 'register', 'train', 'archive'] as const;

/** Nx's task statuses (TaskResult.status in Nx 24). */
export type NxTaskStatus = 'success' | 'failure' | 'skipped' | 'stopped' | 'local-cache' | 'local-cache-kept-existing' | 'remote-cache';

/** One task of an Nx invocation, as the postTasksExecution hook sees it. */
export interface TaskOutcome {
  project: string;
  target: string;
  status: NxTaskStatus | string;
  hash?: string | null;
  /** ms since the epoch. */
  startTime?: number;
  endTime?: number;
  code?: number;
}

export type StageRunStatus = 'ran' | 'cached' | 'failed' | 'interrupted' | 'skipped' | 'not-run';

export interface StageRecord {
  status: StageRunStatus;
  /** local | remote for cache hits. */
  cache: 'local' | 'remote' | null;
  hash: string | null;
  started_at: string | null;
  completed_at: string | null;
  duration_sec: number | null;
  exit_code: number | null;
}

export interface InvocationInput {
  workspaceRoot: string;
  /** Nx's invocation id (the hook context's `id`). */
  invocation: string;
  argv: string[];
  startTime: number;
  endTime: number;
  tasks: TaskOutcome[];
  /** Stage targets in pipeline order (stage-graph.json). */
  stages?: readonly string[];
  /** A person's note for this run (TRAJGEN_RUN_NOTE). */
  note?: string;
  now?: () => Date;
}

export interface RecordedRun {
  pipeline: string;
  id: string;
  status: RunIndexEntry['status'];
  archive: string;
  stagesRan: string[];
  notes: string;
  /** Set when index.yaml was unreadable and rebuilt (path of the kept copy). */
  indexSetAside?: string;
}

const iso = (ms: number | undefined | null) => (ms && Number.isFinite(ms) ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : null);
const seconds = (a?: number | null, b?: number | null) => (a && b && b >= a ? Math.round((b - a) / 100) / 10 : null);

function stageStatus(t: TaskOutcome, marker?: RunMarker): StageRunStatus {
  if (marker?.status === 'interrupted') return 'interrupted';
  switch (t.status) {
    case 'success':
      return 'ran';
    case 'failure':
      return 'failed';
    case 'stopped':
      return t.startTime || marker ? 'interrupted' : 'skipped';
    case 'local-cache':
    case 'local-cache-kept-existing':
    case 'remote-cache':
      return 'cached';
    default:
      return 'skipped';
  }
}

const EXECUTED = new Set<StageRunStatus>(['ran', 'failed', 'interrupted']);

function runStatus(stages: Record<string, StageRecord>): RunIndexEntry['status'] {
  const all = Object.values(stages);
  if (all.some((s) => s.status === 'interrupted')) return 'interrupted';
  if (all.some((s) => s.status === 'failed')) return 'failed';
  return 'completed';
}

function describe(stages: Record<string, StageRecord>, status: RunIndexEntry['status'], markers: RunMarker[]): string {
  const names = (st: StageRunStatus) => Object.entries(stages).filter(([, s]) => s.status === st).map(([n]) => n);
  const ran = names('ran');
  const cached = names('cached');
  const parts: string[] = [];
  if (status === 'failed') {
    const failed = names('failed');
    parts.push(`failed at ${failed.join(', ')}${failed.length === 1 && stages[failed[0]].exit_code !== null ? ` (exit ${stages[failed[0]].exit_code})` : ''}`);
  }
  if (status === 'interrupted') {
    const stopped = names('interrupted');
    const signal = markers.find((m) => m.signal)?.signal;
    parts.push(`interrupted during ${stopped.join(', ') || 'the run'}${signal ? ` (${signal})` : ''}`);
  }
  if (ran.length) parts.push(`ran ${ran.join(', ')}`);
  if (cached.length) parts.push(`cached ${cached.join(', ')}`);
  return parts.join('; ');
}

/** The nx command line, without the node binary and script path, scrubbed of anything secret-looking. */
function nxCommand(argv: string[]): string {
  const args = argv.length > 2 && /node$|nx(\.js)?$/.test(basename(argv[0] ?? '')) ? argv.slice(2) : argv;
  return scrubText(['nx', ...args].join(' ')).text;
}

interface RunRecordInput {
  paths: PipelinePaths;
  pipeline: string;
  status: RunIndexEntry['status'];
  startedAt: string;
  completedAt: string;
  stages: Record<string, StageRecord>;
  notes: string;
  invocation: string;
  command: string | null;
  recordedBy: string;
  summary: PipelineSummary;
  now: Date;
}

/** Allocate run_NNN and write its archive, the index entry and history.js, under the pipeline's archive lock. */
function writeRunRecord(input: RunRecordInput): RecordedRun {
  const { paths, pipeline, now } = input;
  const lock = acquireLock(join(paths.archives, '.lock'), { purpose: `record a run of ${pipeline}`, waitMs: 60_000 });
  try {
    const index = readRunIndex(paths);
    let setAside: string | undefined;
    if (index.problem && existsSync(paths.index)) setAside = setAsideUnreadableIndex(paths, now);
    const { id, dir } = allocateRunDir(paths, index);
    const rel = (p: string) => relative(paths.workspaceRoot, p);
    const archive = rel(dir);
    const entry: RunIndexEntry = {
      id,
      started_at: input.startedAt,
      completed_at: input.completedAt,
      status: input.status,
      archive,
      stages_ran: Object.entries(input.stages)
        .filter(([, s]) => EXECUTED.has(s.status))
        .map(([n]) => n),
      notes: input.notes,
      nx_invocation: input.invocation,
    };
    let configInfo: Record<string, unknown>;
    if (existsSync(paths.configFile)) {
      const redacted = redactConfigText(readFileSync(paths.configFile, 'utf8'));
      atomicWriteFileSync(join(dir, 'config.yaml'), `# ${rel(paths.configFile)} as of ${id}; values of secret-bearing keys blanked.\n${redacted.text}`);
      configInfo = { file: rel(join(dir, 'config.yaml')), source: rel(paths.configFile), blanked: redacted.blanked };
    } else {
      configInfo = { file: null, source: rel(paths.configFile), note: 'the pipeline config no longer exists' };
    }
    const started = Date.parse(input.startedAt);
    const completed = Date.parse(input.completedAt);
    const metadata = {
      schema_version: METADATA_SCHEMA_VERSION,
      id,
      pipeline,
      status: input.status,
      started_at: input.startedAt,
      completed_at: input.completedAt,
      duration_sec: seconds(started, completed),
      notes: input.notes,
      recorded_by: input.recordedBy,
      recorded_at: iso(now.getTime()),
      git: gitInfo(paths.workspaceRoot),
      nx: { invocation: input.invocation, command: input.command },
      host: hostname(),
      // A stage outside this invocation has nothing else to say.
      stages: Object.fromEntries(Object.entries(input.stages).map(([k, v]) => [k, v.status === 'not-run' ? { status: 'not-run' } : v])),
      config: configInfo,
      summary: input.summary,
      index_entry: entry,
    };
    atomicWriteFileSync(
      join(dir, 'metadata.yaml'),
      `# Run ${id} of pipeline "${pipeline}" (trajgen). Times are UTC; paths are relative to the workspace root.\n${stringify(metadata, { lineWidth: 0, aliasDuplicateObjects: false })}`,
    );
    writeRunSeries(paths, dir);
    const runs = [...index.runs, entry];
    writeRunIndex(paths, pipeline, runs);
    writeHistoryScript(paths, runs);
    return { pipeline, id, status: input.status, archive, stagesRan: entry.stages_ran, notes: input.notes, ...(setAside ? { indexSetAside: rel(setAside) } : {}) };
  } finally {
    lock.release();
  }
}

/**
 * The archive stage's summary when the stage ran in this invocation (it is as
 * fresh as the run), else one collected from disk now: a cached archive output
 * can predate a change it does not hash (e.g. token counts of jobs restored
 * from storage).
 */
function summaryFor(paths: PipelinePaths, pipeline: string, archiveStage?: StageRecord): PipelineSummary {
  if (archiveStage?.status === 'ran') {
    const s = readContract(readSummaryFile, join(paths.artifacts, 'archive', 'summary.json'), paths.workspaceRoot);
    if (s.value?.pipeline === pipeline) return s.value;
  }
  return collectSummary(paths.workspaceRoot, pipelineFacts(paths.workspaceRoot, pipeline));
}

function isPipeline(workspaceRoot: string, project: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(project) && existsSync(join(workspaceRoot, 'pipelines', project, 'config.yaml'));
}

/**
 * Record every pipeline run of one Nx invocation: a pipeline whose stage
 * tasks include at least one that executed (success, failure, or stopped by a
 * signal) gets `archives/run_NNN/` and an index entry; cache hits alone
 * record nothing. Also makes sure `report/history.js` exists wherever a
 * report does (a report restored from a cache has none).
 */
export function recordInvocation(input: InvocationInput): RecordedRun[] {
  const stages = input.stages ?? DEFAULT_STAGES;
  const now = input.now?.() ?? new Date();
  const byPipeline = new Map<string, TaskOutcome[]>();
  for (const t of input.tasks) {
    if (!stages.includes(t.target) || !isPipeline(input.workspaceRoot, t.project)) continue;
    byPipeline.set(t.project, [...(byPipeline.get(t.project) ?? []), t]);
  }
  const recorded: RecordedRun[] = [];
  for (const [pipeline, tasks] of [...byPipeline.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const paths = pipelinePaths(input.workspaceRoot, pipeline);
    const set = readMarkerSets(paths.artifacts, pipeline).find((s) => s.invocation === input.invocation);
    const markers = set?.markers ?? [];
    const records: Record<string, StageRecord> = {};
    for (const stage of stages) {
      const t = tasks.find((x) => x.target === stage);
      const marker = markers.find((m) => m.stage === stage);
      if (!t) {
        records[stage] = { status: 'not-run', cache: null, hash: null, started_at: null, completed_at: null, duration_sec: null, exit_code: null };
        continue;
      }
      const status = stageStatus(t, marker);
      records[stage] = {
        status,
        cache: t.status === 'remote-cache' ? 'remote' : status === 'cached' ? 'local' : null,
        hash: t.hash ?? marker?.hash ?? null,
        started_at: iso(t.startTime),
        completed_at: iso(t.endTime),
        duration_sec: seconds(t.startTime, t.endTime),
        exit_code: typeof t.code === 'number' && status !== 'cached' && status !== 'skipped' ? t.code : null,
      };
    }
    const executed = Object.values(records).some((r) => EXECUTED.has(r.status));
    if (!executed) {
      ensureHistoryScript(paths, pipeline);
      if (set) removeMarkerSet(set);
      continue;
    }
    const status = runStatus(records);
    const auto = describe(records, status, markers);
    const notes = [input.note?.trim(), auto].filter(Boolean).join(' — ');
    recorded.push(
      writeRunRecord({
        paths,
        pipeline,
        status,
        startedAt: iso(input.startTime)!,
        completedAt: iso(input.endTime)!,
        stages: records,
        notes,
        invocation: input.invocation,
        command: nxCommand(input.argv),
        recordedBy: 'nx postTasksExecution hook',
        summary: summaryFor(paths, pipeline, records.archive),
        now,
      }),
    );
    if (set) removeMarkerSet(set);
  }
  return recorded;
}

/** history.js for a report that lacks one (e.g. restored from a remote cache into a fresh clone). */
export function ensureHistoryScript(paths: PipelinePaths, pipeline: string): void {
  if (!existsSync(paths.report) || existsSync(join(paths.report, HISTORY_FILE))) return;
  const lock = acquireLock(join(paths.archives, '.lock'), { purpose: `write the run history of ${pipeline}`, waitMs: 60_000 });
  try {
    if (!existsSync(join(paths.report, HISTORY_FILE))) writeHistoryScript(paths, readRunIndex(paths).runs);
  } finally {
    lock.release();
  }
}

/** Pipelines that have marker sets (`artifacts/<p>/.runs/<invocation>/`). Cheap: one readdir per pipeline dir. */
export function pipelinesWithMarkers(workspaceRoot: string): string[] {
  const artifacts = join(workspaceRoot, 'artifacts');
  if (!existsSync(artifacts)) return [];
  const out: string[] = [];
  for (const e of readdirSync(artifacts, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const dir = runsDir(join(artifacts, e.name));
    try {
      if (readdirSync(dir).some((n) => !n.startsWith('.'))) out.push(e.name);
    } catch {
      /* no .runs */
    }
  }
  return out.sort();
}

function markerStage(m: RunMarker): StageRecord {
  const status: StageRunStatus = m.status === 'success' ? 'ran' : m.status === 'failure' ? 'failed' : 'interrupted';
  const start = Date.parse(m.started_at);
  const end = m.ended_at ? Date.parse(m.ended_at) : NaN;
  return {
    status,
    cache: null,
    hash: m.hash,
    started_at: iso(start),
    completed_at: Number.isFinite(end) ? iso(end) : null,
    duration_sec: Number.isFinite(end) ? seconds(start, end) : null,
    exit_code: null,
  };
}

/**
 * Turn marker sets whose processes are all gone, and that no hook recorded,
 * into `interrupted` runs: Nx runs postTasksExecution after a failure and
 * after SIGINT/SIGTERM (tasks `stopped`), but not when it is killed outright
 * or crashes. Sets of live processes, of other hosts, and `exceptInvocation`
 * (the caller's own) are left alone.
 */
export function recoverInterruptedRuns(
  workspaceRoot: string,
  options: { exceptInvocation?: string; stages?: readonly string[]; now?: () => Date } = {},
): RecordedRun[] {
  const stages = options.stages ?? DEFAULT_STAGES;
  const recorded: RecordedRun[] = [];
  for (const pipeline of pipelinesWithMarkers(workspaceRoot)) {
    const paths = pipelinePaths(workspaceRoot, pipeline);
    for (const set of readMarkerSets(paths.artifacts, pipeline)) {
      if (set.invocation === options.exceptInvocation || !isDeadSet(set)) continue;
      const known = readRunIndex(paths).runs.some((r) => r.nx_invocation === set.invocation);
      set.markers = set.markers.filter((m) => stages.includes(m.stage));
      if (known || !set.markers.length) {
        removeMarkerSet(set);
        continue;
      }
      recorded.push(recordMarkerSet(paths, pipeline, set, stages, options.now?.() ?? new Date()));
      removeMarkerSet(set);
    }
  }
  return recorded;
}

function recordMarkerSet(paths: PipelinePaths, pipeline: string, set: MarkerSet, stages: readonly string[], now: Date): RecordedRun {
  const records: Record<string, StageRecord> = {};
  for (const stage of stages) {
    const m = set.markers.find((x) => x.stage === stage);
    records[stage] = m ? markerStage(m) : { status: 'not-run', cache: null, hash: null, started_at: null, completed_at: null, duration_sec: null, exit_code: null };
  }
  const starts = set.markers.map((m) => Date.parse(m.started_at)).filter(Number.isFinite);
  const ends = set.markers.map((m) => Date.parse(m.ended_at ?? '')).filter(Number.isFinite);
  const started = starts.length ? Math.min(...starts) : now.getTime();
  const completed = Math.max(started, ...ends);
  const nxPid = set.markers.find((m) => m.nx_pid)?.nx_pid;
  const running = set.markers.filter((m) => m.status === 'running' || m.status === 'interrupted').map((m) => m.stage);
  const signal = set.markers.find((m) => m.signal)?.signal;
  const notes = [
    `interrupted${running.length ? ` during ${running.join(', ')}` : ''}${signal ? ` (${signal})` : ''}`,
    `nx${nxPid ? ` (pid ${nxPid})` : ''} ended without recording the run (killed or crashed); recovered from its run markers by a later nx invocation`,
  ].join('; ');
  return writeRunRecord({
    paths,
    pipeline,
    status: 'interrupted',
    startedAt: iso(started)!,
    completedAt: iso(completed)!,
    stages: records,
    notes,
    invocation: set.invocation,
    command: null,
    recordedBy: 'run markers, recovered by a later nx invocation',
    summary: collectSummary(paths.workspaceRoot, pipelineFacts(paths.workspaceRoot, pipeline)),
    now,
  });
}
