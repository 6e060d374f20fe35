/**
 * What the runs table compares (history.js `TRAJGEN_RUNS`): for each recorded
 * run, its archived config flattened to dotted keys, its metrics from the
 * archived summary, and the series saved beside them (`series.json`: loss by
 * step, quality-score histogram), all read from archives/run_NNN.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { pipelinePaths, type PipelinePaths } from '@trajgen/config';
import { atomicWriteFileSync } from '@trajgen/core';
import type { RunDetail, RunIndexEntry } from '@trajgen/report';
import { finite, isRecord, readJson } from './read';
import { readLossCurve, trainingPart } from './summary';

export const SERIES_FILE = 'series.json';
/** Written by the archive stage (declared output archive/): the score histogram of the rows it reported on. */
export const SCORE_BINS_FILE = 'score-bins.json';
const SCORE_BINS = 20;

export function scoreBins(values: readonly number[]): number[] {
  const bins = new Array<number>(SCORE_BINS).fill(0);
  for (const v of values) bins[Math.min(SCORE_BINS - 1, Math.max(0, Math.floor(v * SCORE_BINS)))]++;
  return bins;
}

/** `archives/run_NNN/series.json`: the loss curve and score histogram as they were when the run was recorded. */
export function writeRunSeries(paths: PipelinePaths, runDir: string): void {
  const loss = readLossCurve(paths, trainingPart(paths)).loss ?? [];
  const bins = readJson<{ bins?: number[] }>(join(paths.artifacts, 'archive', SCORE_BINS_FILE)).value?.bins;
  atomicWriteFileSync(join(runDir, SERIES_FILE), JSON.stringify({ schema_version: 1, loss, score_bins: Array.isArray(bins) ? bins : null }) + '\n');
}

function flatten(value: unknown, prefix: string, out: Record<string, string>): void {
  if (isRecord(value)) for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  else if (Array.isArray(value) && value.some((v) => isRecord(v) || Array.isArray(v))) value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  else if (prefix) out[prefix] = Array.isArray(value) ? value.join(', ') : String(value ?? '');
}

function readYamlFile(file: string): unknown {
  try {
    return existsSync(file) ? parse(readFileSync(file, 'utf8')) : undefined;
  } catch {
    return undefined;
  }
}

export function runDetails(paths: PipelinePaths, runs: RunIndexEntry[]): RunDetail[] {
  return runs.map((r) => {
    const dir = join(paths.archives, r.id);
    const meta = readYamlFile(join(dir, 'metadata.yaml'));
    const summary: Record<string, any> = isRecord(meta) && isRecord(meta.summary) ? meta.summary : {};
    const config: Record<string, string> = {};
    flatten(readYamlFile(join(dir, 'config.yaml')), '', config);
    const series = readJson<{ loss?: [number, number][]; score_bins?: number[] | null }>(join(dir, SERIES_FILE)).value;
    const part = (name: string): Record<string, any> => (isRecord(summary[name]) && summary[name].available ? summary[name] : {});
    return {
      id: r.id,
      status: r.status,
      started_at: r.started_at,
      config,
      metrics: {
        trials: finite(part('trials').total),
        pass_rate: finite(part('trials').pass_rate),
        rows: finite(part('score').rows?.lf),
        mean_score: finite(part('score').scores?.all?.mean),
        final_loss: finite(part('training').final_loss),
        cost_usd: finite(part('usage').cost_usd),
      },
      loss: Array.isArray(series?.loss) ? series!.loss : [],
      score_bins: Array.isArray(series?.score_bins) ? series!.score_bins : null,
    };
  });
}

/** Where a cache-restored stage's output (and the log Nx replays) came from: the newest recorded run in which it ran with this hash. */
export interface RestoredOrigin {
  pipeline: string;
  stage: string;
  run: string | null;
  ranAt: string | null;
}

/** How many recorded runs back to look for the run that produced a restored output. */
const ORIGIN_LOOKBACK = 30;

export function restoredOrigins(workspaceRoot: string, pipeline: string, restored: { stage: string; hash: string | null }[]): RestoredOrigin[] {
  const paths = pipelinePaths(workspaceRoot, pipeline);
  const pending = new Map(restored.map((r) => [r.stage, r.hash]));
  const found = new Map<string, RestoredOrigin>();
  const runs = readdirSafe(paths.archives)
    .filter((d) => /^run_\d{3,}$/.test(d))
    .sort((a, b) => Number(b.slice(4)) - Number(a.slice(4)))
    .slice(0, ORIGIN_LOOKBACK);
  for (const id of runs) {
    if (found.size === pending.size) break;
    // Parse only a record that mentions one of the hashes: metadata.yaml carries the whole summary, and this runs on every cached invocation.
    const file = join(paths.archives, id, 'metadata.yaml');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    if (![...pending.values()].some((h) => h && text.includes(h))) continue;
    const meta = readYamlFile(file);
    const stages = isRecord(meta) && isRecord(meta.stages) ? meta.stages : {};
    for (const [stage, hash] of pending) {
      const s = stages[stage];
      if (found.has(stage) || !hash || !isRecord(s) || s.status !== 'ran' || String(s.hash) !== hash) continue;
      found.set(stage, { pipeline, stage, run: id, ranAt: typeof s.completed_at === 'string' ? s.completed_at : null });
    }
  }
  return restored.map((r) => found.get(r.stage) ?? { pipeline, stage: r.stage, run: null, ranAt: null });
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function formatRestored(o: RestoredOrigin): string {
  const from = o.run ? `from ${o.run}${o.ranAt ? ` (ran ${o.ranAt})` : ''}` : 'from a run not recorded in this clone (another clone, or the remote cache)';
  return `trajgen: ${o.pipeline}:${o.stage} was restored from the Nx cache, not run: its outputs and the log above are ${from}.`;
}
