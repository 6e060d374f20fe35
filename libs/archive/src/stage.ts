import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { atomicWriteFileSync, resetDir, writeJsonAtomic, type StageIO } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';
import { writeSummaryFile } from '@trajgen/contracts';
import { renderReport, renderTrialPage, renderTrialsPage, TRIALS_DIR, TRIALS_PAGE, TRIAL_PAGE, type PipelineSummary, type ReportSeries, type TrialListRow } from '@trajgen/report';
import { writeTrialViewerData } from './trials';
import { SCORE_BINS_FILE, scoreBins } from './run-details';
import { ensureHistoryScript } from './recorder';
import { collectSummary, readLossCurve, readScoreValues } from './summary';

export interface ArchiveResult {
  summary: PipelineSummary;
  summaryFile: string;
  report?: { file: string; charts: string[] };
  /** Parts of the summary that are not available, with why. */
  missing: { part: string; reason: string }[];
}

const PARTS = ['tasks', 'trials', 'usage', 'conversion', 'score', 'register', 'training'] as const;

/**
 * Remove the report files this stage declares as outputs (`report/index.html`,
 * `report/*.svg`) and nothing else: `report/history.js` belongs to the run
 * recorder and must survive both this stage and a cache restore.
 */
function clearReportOutputs(reportDir: string): void {
  if (!existsSync(reportDir)) return;
  for (const f of readdirSync(reportDir)) {
    if (f.endsWith('.html') || f.endsWith('.svg')) rmSync(join(reportDir, f), { force: true });
  }
  rmSync(join(reportDir, TRIALS_DIR), { recursive: true, force: true });
}

/** Per task, the first trials that did not resolve: the task table links straight to them. */
function failedTrialLinks(rows: TrialListRow[], perTask = 3): NonNullable<ReportSeries['trials']>['failed'] {
  const out: NonNullable<ReportSeries['trials']>['failed'] = {};
  for (const r of rows) {
    if (r.outcome === 'resolved') continue;
    const list = (out[r.task] ??= []);
    if (list.length < perTask) list.push({ id: `${r.shard}/${r.id}`, trial: r.trial, outcome: r.outcome });
  }
  return out;
}

/** Costs the demo's oracle reports are computed from the config's prices, not billed by a provider. */
export function costNoteOf(config: LoadedPipeline['config']): string | undefined {
  return config.rollout.llm_api.provider === 'oracle' ? 'illustrative: demo oracle, priced from rollout.llm_api.prices' : undefined;
}

/**
 * The archive stage: `archive/summary.json` (the summary of every upstream
 * output on disk) and, unless `archive.report: false`, the self-contained
 * report `report/index.html` with its charts also as `report/<name>.svg`.
 * Run records (index.yaml, archives/run_NNN) are written by the recorder in
 * the plugin's postTasksExecution hook, because a run must be recorded even
 * when this stage is a cache hit or never reached.
 */
export async function archivePipeline(pipeline: LoadedPipeline, io: Pick<StageIO, 'log' | 'warn'>): Promise<ArchiveResult> {
  const { paths, config } = pipeline;
  const rel = (p: string) => relative(paths.workspaceRoot, p);
  const dataName = config.conversion.data_name ?? pipeline.name;
  const summary = collectSummary(paths.workspaceRoot, { name: pipeline.name, description: config.meta_info.description ?? '', dataName });
  const outDir = join(paths.artifacts, 'archive');
  resetDir(outDir);
  const summaryFile = join(outDir, 'summary.json');
  writeSummaryFile(summaryFile, summary);

  const missing = PARTS.filter((p) => !summary[p].available).map((p) => ({ part: p, reason: (summary[p] as { reason: string }).reason }));
  for (const m of missing) io.log(`  ${m.part}: not available (${m.reason})`);

  clearReportOutputs(paths.report);
  let report: ArchiveResult['report'];
  if (config.archive.report) {
    const scores = await readScoreValues(paths, dataName);
    writeJsonAtomic(join(outDir, SCORE_BINS_FILE), { schema_version: 1, bins: scores.values?.length ? scoreBins(scores.values) : null });
    const costNote = costNoteOf(config);
    const viewer = writeTrialViewerData(paths, join(paths.report, TRIALS_DIR), { dataName, instanceStatus: config.conversion.instance_status, costNote, log: io.log });
    atomicWriteFileSync(join(paths.report, TRIALS_PAGE), renderTrialsPage(pipeline.name));
    atomicWriteFileSync(join(paths.report, TRIAL_PAGE), renderTrialPage(pipeline.name));
    io.log(`trial pages: ${viewer.trials} trials → ${rel(join(paths.report, TRIALS_DIR))}/ (${(viewer.bytes / 1e6).toFixed(1)} MB, list ${(viewer.indexBytes / 1e3).toFixed(0)} kB)`);
    const series: ReportSeries = {
      scores: scores.values,
      scoresNote: scores.note,
      ...readLossCurve(paths, summary.training),
      costNote,
      trials: viewer.trials
        ? { pages: true, failed: failedTrialLinks(viewer.rows) }
        : { pages: false, failed: {}, note: summary.trials.available ? 'No trial to show: rollout/trials.json lists none.' : 'No trial pages: nothing has been rolled out yet.' },
    };
    const rendered = renderReport(summary, series, { generatedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') });
    const file = join(paths.report, 'index.html');
    atomicWriteFileSync(file, rendered.html);
    const charts = Object.keys(rendered.charts).sort();
    for (const name of charts) atomicWriteFileSync(join(paths.report, `${name}.svg`), rendered.charts[name]);
    ensureHistoryScript(paths, pipeline.name);
    report = { file: rel(file), charts };
    io.log(`report: ${rel(file)} (${charts.length} charts; open it from disk)`);
  } else {
    io.log('report: disabled (archive.report: false)');
  }
  return { summary, summaryFile: rel(summaryFile), report, missing };
}

/** One line for the stage summary. */
export function formatArchiveSummary(result: ArchiveResult): string {
  const s = result.summary;
  const bits: string[] = [];
  if (s.trials.available) bits.push(`${s.trials.total} trials, pass rate ${s.trials.pass_rate === null ? '–' : `${Math.round(s.trials.pass_rate * 1000) / 10}%`}`);
  if (s.score.available) bits.push(`${s.score.rows.lf ?? 0} LF rows`);
  if (s.training.available) bits.push(`final loss ${s.training.final_loss === null ? '–' : Number(s.training.final_loss.toFixed(4))}`);
  if (result.missing.length) bits.push(`not available: ${result.missing.map((m) => m.part).join(', ')}`);
  return `${result.report ? result.report.file : result.summaryFile}${bits.length ? ` — ${bits.join('; ')}` : ''}`;
}
