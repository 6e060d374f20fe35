import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isProcessAlive } from '@trajgen/core';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isRecord } from './read';

/**
 * Run markers: `artifacts/<p>/.runs/<nx invocation id>/<stage>.json`, written
 * by every stage executor (tools/trajgen/src/executors/shared/run-marker.ts)
 * when it starts and updated when it ends:
 *
 *   { schema_version: 1, invocation, pipeline, stage, hash,            // NX_TASK_HASH
 *     nx_pid, nx_pid_start, pid, pid_start, host,                      // *_start: /proc start time, against pid reuse
 *     started_at, ended_at, status: running|success|failure|interrupted, signal? }
 *
 * The postTasksExecution hook records its own invocation and removes its
 * markers. A marker set that outlives its nx process (SIGKILL, a crash, a
 * closed terminal: Nx never ran the hook) is turned into an `interrupted`
 * run by the next invocation.
 */
export const RUNS_DIR = '.runs';

export type MarkerStatus = 'running' | 'success' | 'failure' | 'interrupted';

export interface RunMarker {
  invocation: string;
  pipeline: string;
  stage: string;
  hash: string | null;
  nx_pid: number | null;
  nx_pid_start: string | null;
  pid: number | null;
  pid_start: string | null;
  host: string;
  started_at: string;
  ended_at: string | null;
  status: MarkerStatus;
  signal?: string;
}

export interface MarkerSet {
  pipeline: string;
  invocation: string;
  dir: string;
  markers: RunMarker[];
}

export function runsDir(artifactsDir: string): string {
  return join(artifactsDir, RUNS_DIR);
}

function parseMarker(file: string): RunMarker | undefined {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8'));
    if (!isRecord(m) || typeof m.stage !== 'string' || typeof m.started_at !== 'string') return undefined;
    return {
      invocation: String(m.invocation ?? ''),
      pipeline: String(m.pipeline ?? ''),
      stage: m.stage,
      hash: typeof m.hash === 'string' ? m.hash : null,
      nx_pid: typeof m.nx_pid === 'number' ? m.nx_pid : null,
      nx_pid_start: typeof m.nx_pid_start === 'string' ? m.nx_pid_start : null,
      pid: typeof m.pid === 'number' ? m.pid : null,
      pid_start: typeof m.pid_start === 'string' ? m.pid_start : null,
      host: String(m.host ?? ''),
      started_at: m.started_at,
      ended_at: typeof m.ended_at === 'string' ? m.ended_at : null,
      status: (['running', 'success', 'failure', 'interrupted'].includes(String(m.status)) ? m.status : 'running') as MarkerStatus,
      ...(typeof m.signal === 'string' ? { signal: m.signal } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Marker sets of one pipeline (`artifacts/<p>/.runs/*`), each with its readable markers. */
export function readMarkerSets(artifactsDir: string, pipeline: string): MarkerSet[] {
  const root = runsDir(artifactsDir);
  if (!existsSync(root)) return [];
  const sets: MarkerSet[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const dir = join(root, e.name);
    const markers = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => parseMarker(join(dir, f)))
      .filter((m): m is RunMarker => !!m);
    sets.push({ pipeline, invocation: e.name, dir, markers });
  }
  return sets;
}

/** Markers with no live process left (neither nx nor the executor) on this host. Another host's markers are never judged. */
export function isDeadSet(set: MarkerSet, host = hostname()): boolean {
  if (!set.markers.length) {
    // An empty dir: created by a stage that died before its first write, or already recorded; stale after an hour.
    try {
      return Date.now() - statSync(set.dir).mtimeMs > 3600_000;
    } catch {
      return false;
    }
  }
  if (set.markers.some((m) => m.host !== host)) return false;
  return set.markers.every((m) => !isProcessAlive(m.nx_pid, m.nx_pid_start) && !isProcessAlive(m.pid, m.pid_start));
}

export function removeMarkerSet(set: Pick<MarkerSet, 'dir'>): void {
  rmSync(set.dir, { recursive: true, force: true });
}
