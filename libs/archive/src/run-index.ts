import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { atomicWriteFileSync } from '@trajgen/core';
import type { PipelinePaths } from '@trajgen/config';
import { HISTORY_FILE, renderHistoryScript, type RunIndexEntry } from '@trajgen/report';
import { isRecord, readYaml, str } from './read';
import { runDetails } from './run-details';

export const INDEX_SCHEMA_VERSION = 1;
export const RUN_ID = /^run_(\d{3,})$/;
const STATUSES = new Set(['completed', 'failed', 'interrupted']);

export function formatRunId(n: number): string {
  return `run_${String(n).padStart(3, '0')}`;
}

export interface RunIndex {
  runs: RunIndexEntry[];
  /** Set when index.yaml existed but could not be read; the entries were rebuilt from archives/. */
  problem?: string;
}

function entryFrom(raw: unknown): RunIndexEntry | undefined {
  if (!isRecord(raw) || typeof raw.id !== 'string' || !RUN_ID.test(raw.id)) return undefined;
  return {
    id: raw.id,
    started_at: str(raw.started_at) ?? '',
    completed_at: str(raw.completed_at) ?? '',
    status: (STATUSES.has(String(raw.status)) ? raw.status : 'failed') as RunIndexEntry['status'],
    archive: str(raw.archive) ?? '',
    stages_ran: Array.isArray(raw.stages_ran) ? raw.stages_ran.map(String) : [],
    notes: str(raw.notes) ?? '',
    ...(typeof raw.nx_invocation === 'string' ? { nx_invocation: raw.nx_invocation } : {}),
  };
}

/** Entries rebuilt from `archives/run_NNN/metadata.yaml` (each carries its own index entry). */
function entriesFromArchives(paths: PipelinePaths): RunIndexEntry[] {
  const out: RunIndexEntry[] = [];
  for (const id of archiveRunIds(paths)) {
    const meta = readYaml<Record<string, unknown>>(join(paths.archives, id, 'metadata.yaml'));
    const entry = entryFrom(isRecord(meta.value) ? meta.value.index_entry : undefined);
    if (entry) out.push(entry);
  }
  return out;
}

export function archiveRunIds(paths: PipelinePaths): string[] {
  if (!existsSync(paths.archives)) return [];
  return readdirSync(paths.archives, { withFileTypes: true })
    .filter((e) => e.isDirectory() && RUN_ID.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => Number(RUN_ID.exec(a)![1]) - Number(RUN_ID.exec(b)![1]));
}

/**
 * `artifacts/<p>/index.yaml`: `runs: [{id, started_at, completed_at, status,
 * archive, stages_ran, notes}]`. An unreadable index is never overwritten
 * blindly: it is kept as `index.yaml.unreadable-<time>` and the entries are
 * rebuilt from the archives.
 */
export function readRunIndex(paths: PipelinePaths): RunIndex {
  if (!existsSync(paths.index)) return { runs: [] };
  const doc = readYaml<Record<string, unknown>>(paths.index, 'index.yaml');
  if (doc.problem === undefined && (doc.value === null || doc.value === undefined || (isRecord(doc.value) && (doc.value.runs === undefined || doc.value.runs === null)))) {
    return { runs: [] };
  }
  if (doc.problem === undefined && isRecord(doc.value) && Array.isArray(doc.value.runs)) {
    return { runs: doc.value.runs.map(entryFrom).filter((e): e is RunIndexEntry => !!e) };
  }
  return { runs: entriesFromArchives(paths), problem: doc.problem ?? 'index.yaml has no runs list' };
}

/** Keep an unreadable index aside before the first rewrite replaces it. */
export function setAsideUnreadableIndex(paths: PipelinePaths, now: Date): string {
  const aside = `${paths.index}.unreadable-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(paths.index, aside);
  return aside;
}

export function writeRunIndex(paths: PipelinePaths, pipeline: string, runs: RunIndexEntry[]): void {
  const header = [
    `# Run history of pipeline "${pipeline}", written by trajgen: one entry per pipeline run that executed`,
    '# at least one stage (a fully cached rerun adds none). archives/<id>/ holds metadata.yaml and the',
    '# config with secrets blanked. Times are UTC. Do not edit while a run is in progress.',
    '',
  ].join('\n');
  atomicWriteFileSync(paths.index, header + stringify({ schema_version: INDEX_SCHEMA_VERSION, pipeline, runs }, { lineWidth: 0 }));
}

/**
 * The next run id: max of the `archives/run_NNN` dirs and the ids in the
 * index, + 1, zero-padded to 3 digits (more when it grows). The archive dir is
 * created exclusively, so two writers can never share an id even if the
 * caller's lock were bypassed.
 */
export function allocateRunDir(paths: PipelinePaths, index: RunIndex): { id: string; dir: string } {
  let n = 0;
  for (const id of [...archiveRunIds(paths), ...index.runs.map((r) => r.id)]) n = Math.max(n, Number(RUN_ID.exec(id)?.[1] ?? 0));
  mkdirSync(paths.archives, { recursive: true });
  for (;;) {
    n++;
    const id = formatRunId(n);
    const dir = join(paths.archives, id);
    try {
      mkdirSync(dir);
      return { id, dir };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** `report/history.js`, loaded by the report from disk; not an Nx output, so a cache restore never rolls it back. */
export function writeHistoryScript(paths: PipelinePaths, runs: RunIndexEntry[]): string {
  const file = join(paths.report, HISTORY_FILE);
  atomicWriteFileSync(file, renderHistoryScript(runs, runDetails(paths, runs)));
  return file;
}
