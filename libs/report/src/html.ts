import { barChartSvg, escapeXml, histogramSvg, lineChartSvg, type Bar } from '@trajgen/charts';
import { BASE_STYLE } from './style';
import { RUNS_BODY, RUNS_SCRIPT, RUNS_STYLE } from './runs';
import { TRIALS_PAGE, TRIAL_PAGE } from './viewer';
import type { NumberSummary, Part, PipelineSummary, ReportSeries, RunDetail, RunIndexEntry } from './model';

/** File the run history is loaded from, beside index.html (written by the recorder, never cached). */
export const HISTORY_FILE = 'history.js';

/** Per-task bars are drawn up to this many tasks; above it, a histogram of per-task rates. */
const MAX_TASK_BARS = 40;
/** Rows of the per-task table shown in full; the rest is summarised. */
const MAX_TASK_ROWS = 500;

export interface RenderedReport {
  /** The whole self-contained page. */
  html: string;
  /** The same charts as standalone SVG files (name → SVG), for linking from elsewhere. */
  charts: Record<string, string>;
}

const esc = (value: unknown): string => escapeXml(String(value ?? ''));

/** The one meaning of each colour in the report. */
export const OUTCOME_COLOURS = { resolved: '#2e8540', unresolved: '#c23b22', error: '#d69e2e' } as const;

const trialsLink = (filter: Record<string, string>) =>
  `${TRIALS_PAGE}#${Object.entries(filter)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&')}`;

function num(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function pct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(1)} %`;
}

function usd(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `$${v.toFixed(v >= 100 ? 2 : 4)}`;
}

function summaryCell(s: NumberSummary | null | undefined, digits = 3): string {
  if (!s || !s.count) return '–';
  return `${num(s.mean, digits)} (min ${num(s.min, digits)}, max ${num(s.max, digits)}, n ${num(s.count)})`;
}

function notAvailable(part: Part<object>): string {
  return part.available ? '' : `<p class="na">Not available: ${esc(part.reason)}</p>`;
}

function table(headers: string[], rows: string[][], cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function keyValues(pairs: [string, string][]): string {
  return `<table class="kv"><tbody>${pairs.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</tbody></table>`;
}

function countItems(record: Record<string, number> | undefined): { label: string; value: number }[] {
  return Object.entries(record ?? {})
    .filter(([, v]) => typeof v === 'number' && Number.isFinite(v))
    .map(([label, value]) => ({ label, value }));
}

function figure(name: string, svg: string, charts: Record<string, string>): string {
  charts[name] = svg;
  return `<figure class="chart" data-chart="${esc(name)}">${svg}</figure>`;
}

function card(label: string, value: string, sub = ''): string {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value">${value}</div>${sub ? `<div class="sub">${sub}</div>` : ''}</div>`;
}

function overview(s: PipelineSummary, series: ReportSeries): string {
  const cards: string[] = [];
  if (s.tasks.available && s.tasks.ledger) {
    const c = s.tasks.ledger.counts;
    cards.push(card('tasks rolled out', num((c.done ?? 0) + (c.failed ?? 0)), `${num(c.done ?? 0)} done (the agent ran and was verified) · ${num(c.failed ?? 0)} failed to run · ${num(c.pending ?? 0)} waiting`));
  } else cards.push(card('tasks', '–', 'no consumption ledger yet'));
  if (s.trials.available)
    cards.push(card('resolved', pct(s.trials.pass_rate), `<span class="badge resolved">${num(s.trials.resolved)} resolved</span> <span class="badge unresolved">${num(s.trials.unresolved)} unresolved</span> <span class="badge error">${num(s.trials.errors)} error</span>`));
  else cards.push(card('resolved', '–', 'no rollout output yet'));
  if (s.usage.available) cards.push(card('tokens', num(s.usage.input_tokens + s.usage.output_tokens), `${usd(s.usage.cost_usd)} total cost${series.costNote ? ` <span class="illustrative">${esc(series.costNote)}</span>` : ''}`));
  else cards.push(card('tokens', '–', 'no token counts yet'));
  if (s.score.available) cards.push(card('training rows', num(s.score.rows.lf ?? null), `mean <a href="#score-definition">quality score</a> ${num(s.score.scores.all?.mean ?? null, 3)}`));
  else cards.push(card('training rows', '–', 'not scored yet'));
  if (s.training.available) cards.push(card('final loss', num(s.training.final_loss, 4), `${num(s.training.steps)} steps`));
  else cards.push(card('final loss', '–', 'not trained yet'));
  const look = series.trials?.pages ? `<p class="look"><a class="button" href="${TRIALS_PAGE}">Look at every trial →</a> what the agent did, why it failed, why a row was dropped</p>` : series.trials?.note ? `<p class="na">${esc(series.trials.note)}</p>` : '';
  return `<div class="cards">${cards.join('')}</div>${look}`;
}

function taskLink(task: string, pages: boolean): string {
  return pages ? `<a href="${esc(trialsLink({ task }))}">${esc(task)}</a>` : esc(task);
}

function outcomeCells(r: { resolved: number; unresolved: number; errors: number }): string[] {
  const cell = (n: number, cls: string) => (n ? `<span class="count ${cls}">${num(n)}</span>` : '<span class="zero">0</span>');
  return [cell(r.resolved, 'resolved'), cell(r.unresolved, 'unresolved'), cell(r.errors, 'error')];
}

function rolloutSection(s: PipelineSummary, series: ReportSeries, charts: Record<string, string>): string {
  const parts: string[] = [];
  const pages = !!series.trials?.pages;
  if (s.tasks.available) {
    const rows: string[][] = [];
    if (s.tasks.ledger) for (const [status, n] of Object.entries(s.tasks.ledger.counts)) rows.push(['ledger', esc(status), num(n)]);
    if (s.tasks.batch) {
      rows.push(['current batch', 'size', num(s.tasks.batch.size)]);
      for (const [k, n] of Object.entries(s.tasks.batch.counts)) rows.push(['current batch', esc(k), num(n)]);
    }
    parts.push(
      `<details><summary>Task bookkeeping (consumption ledger and current batch)</summary><p class="note">"done" means the task was rolled out and verified — whether or not the agent solved it; "resolved" below means the tests passed (reward 1.0).</p>${table(['source', 'status', 'tasks'], rows)}</details>`,
    );
  } else parts.push(`<h3>Tasks</h3>${notAvailable(s.tasks)}`);

  const t = s.trials;
  if (!t.available) {
    parts.push(`<h3>Trials</h3>${notAvailable(t)}`);
    return parts.join('');
  }
  const outcomes: Bar[] = [
    { label: 'resolved', value: t.resolved, color: OUTCOME_COLOURS.resolved, href: pages ? trialsLink({ outcome: 'resolved' }) : undefined },
    { label: 'unresolved', value: t.unresolved, color: OUTCOME_COLOURS.unresolved, href: pages ? trialsLink({ outcome: 'unresolved' }) : undefined },
    { label: 'error (no reward)', value: t.errors, color: OUTCOME_COLOURS.error, href: pages ? trialsLink({ outcome: 'error' }) : undefined },
  ];
  const tasks = t.per_task;
  const charted = tasks.filter((r) => r.pass_rate !== null);
  const passColour = (rate: number) => (rate >= 1 ? OUTCOME_COLOURS.resolved : rate <= 0 ? OUTCOME_COLOURS.unresolved : '#7f9bc4');
  const passChart =
    charted.length && charted.length <= MAX_TASK_BARS
      ? barChartSvg(
          charted.map((r) => ({ label: r.task_id, value: Math.round((r.pass_rate ?? 0) * 1000) / 10, color: passColour(r.pass_rate ?? 0), href: pages ? trialsLink({ task: r.task_id }) : undefined })),
          { title: 'resolved per task (%)', width: 520 },
        )
      : histogramSvg(
          charted.map((r) => r.pass_rate!),
          { title: `resolved share per task (${charted.length} tasks)`, xLabel: 'share of trials resolved', yLabel: 'tasks', min: 0, max: 1, bins: 10 },
        );
  parts.push(
    `<div class="charts">${figure('pass-rate', passChart, charts)}${figure('outcomes', barChartSvg(outcomes, { title: `trials by outcome (${num(t.total)} trials, ${num(t.jobs)} jobs)`, width: 440 }), charts)}<div class="side">${keyValues([
      ['mean reward', summaryCell(t.rewards)],
      ['exceptions', esc(Object.entries(t.by_exception).map(([k, v]) => `${k} ${v}`).join(', ') || 'none')],
      ['agents', esc(Object.entries(t.by_agent).map(([k, v]) => `${k} ${v}`).join(', ') || '–')],
    ])}</div></div>`,
  );
  const failed = series.trials?.failed ?? {};
  const shown = tasks.slice(0, MAX_TASK_ROWS);
  const failedLinks = (task: string) =>
    (failed[task] ?? []).map((f) => `<a class="trial ${esc(f.outcome)}" href="${TRIAL_PAGE}#${esc(f.id)}" title="${esc(f.outcome)}">${esc(f.trial)}</a>`).join(' ') || '';
  parts.push(
    table(
      ['task', 'trials that did not resolve', 'trials', 'resolved', 'unresolved', 'error', 'resolved share', 'mean reward', 'input tokens', 'output tokens', 'cost'],
      shown.map((r) => [taskLink(r.task_id, pages), failedLinks(r.task_id), num(r.trials), ...outcomeCells(r), pct(r.pass_rate), num(r.mean_reward, 3), num(r.input_tokens), num(r.output_tokens), usd(r.cost_usd)]),
      'tasks',
    ),
  );
  if (tasks.length > shown.length) parts.push(`<p class="note">${num(tasks.length - shown.length)} more tasks not shown here: ${pages ? `<a href="${TRIALS_PAGE}">the trials list</a> has every one` : 'see archive/summary.json'}.</p>`);
  return parts.join('');
}

function usageSection(s: PipelineSummary, series: ReportSeries, charts: Record<string, string>): string {
  const u = s.usage;
  if (!u.available) return notAvailable(u);
  const rows: [string, string][] = [
    ['input tokens', num(u.input_tokens)],
    ['output tokens', num(u.output_tokens)],
    ['cached input tokens', num(u.cache_tokens)],
    ['cost', `${usd(u.cost_usd)}${series.costNote ? ` <span class="illustrative">${esc(series.costNote)}</span>` : ''}`],
    ['trials with usage', `${num(u.trials_with_usage)} of ${num(u.trials_total)}`],
  ];
  if (u.last_run) {
    rows.push(['latest rollout job', esc(u.last_run.job ?? '–')]);
    rows.push(['latest rollout tokens', `${num(u.last_run.input_tokens)} in · ${num(u.last_run.output_tokens)} out · ${usd(u.last_run.cost_usd)}`]);
  }
  const chart = figure(
    'tokens',
    barChartSvg(
      [
        { label: 'input', value: u.input_tokens },
        { label: 'output', value: u.output_tokens },
        { label: 'cached input', value: u.cache_tokens },
      ],
      { title: 'tokens by kind (all trials)', width: 440 },
    ),
    charts,
  );
  const note = u.trials_with_usage < u.trials_total ? `<p class="note">Token counts come from the trials' result.json under jobs/, which the Nx cache never holds; ${num(u.trials_total - u.trials_with_usage)} trials had none here.</p>` : '';
  return `${keyValues(rows)}${note}<div class="charts">${chart}</div>`;
}

function conversionSection(s: PipelineSummary, series: ReportSeries, charts: Record<string, string>): string {
  const c = s.conversion;
  if (!c.available) return notAvailable(c);
  const pages = !!series.trials?.pages;
  const dropped = countItems(c.dropped);
  const rows: [string, string][] = [
    ['data name', esc(c.data_name)],
    ['IM rows (conversations)', num(c.rows)],
    ['instances', num(c.instances)],
    ...Object.entries(c.trials).map(([k, v]) => [`trials ${k}`, num(v)] as [string, string]),
    ['converted by scaffold', esc(Object.entries(c.by_scaffold).map(([k, v]) => `${k} ${v}`).join(', ') || '–')],
  ];
  const flow = countItems(c.trials);
  const href = (reason: string) => (pages ? trialsLink({ reason }) : undefined);
  const notConverted: Bar[] = [
    ...countItems(c.not_selected).map((d) => ({ label: `not selected: ${d.label}`, value: d.value, color: '#8a94a6', href: href(d.label) })),
    ...dropped.map((d) => ({ label: `dropped: ${d.label}`, value: d.value, color: OUTCOME_COLOURS.unresolved, href: href(d.label) })),
  ];
  const dropsChart = notConverted.length
    ? figure('drops', barChartSvg(notConverted, { title: 'trials not converted, by reason (click a bar for the trials)', width: 520 }), charts)
    : '<p class="note">Every trial was converted: nothing was left out or dropped.</p>';
  return `${keyValues(rows)}<p class="note">Conversion takes the trials that <code>conversion.instance_status</code> selects ("not selected" is that rule, not a problem) and drops, with a reason, any trajectory it cannot convert exactly.</p><div class="charts">${figure(
    'conversion',
    barChartSvg(flow, { title: 'trials: seen → selected → converted', width: 440 }),
    charts,
  )}${dropsChart}</div>`;
}

function scoreSection(s: PipelineSummary, series: ReportSeries, charts: Record<string, string>): string {
  const sc = s.score;
  if (!sc.available) return notAvailable(sc);
  const pages = !!series.trials?.pages;
  const rows: [string, string][] = [
    ['data name', esc(sc.data_name)],
    ['training data format', esc(sc.lf_format ?? '–')],
    ...Object.entries(sc.rows).map(([k, v]) => [`rows ${k}`, num(v)] as [string, string]),
    ['quality score (all main rows)', summaryCell(sc.scores.all)],
    ['quality score (training rows)', summaryCell(sc.scores.lf)],
    ['estimated tokens (training rows)', summaryCell(sc.tokens, 0)],
    ['assistant turns (training rows)', summaryCell(sc.turns, 1)],
    ['tool calls that errored', sc.tool_error_rate === null ? '–' : pct(sc.tool_error_rate)],
    ['reward-hack flags', sc.hack_flags ? `${num(sc.hack_flags.confirmed)} confirmed · ${num(sc.hack_flags.suspected)} suspected` : '–'],
  ];
  const scoreChart = series.scores?.length
    ? histogramSvg(series.scores, { title: 'quality score of every main row', xLabel: 'quality score', yLabel: 'rows', min: 0, max: 1, bins: 20 })
    : histogramSvg([], { title: 'quality score of every main row' });
  const note = series.scores?.length ? '' : `<p class="note">Score distribution: ${esc(series.scoresNote ?? 'no scored rows')}</p>`;
  const exclusions = countItems(sc.exclusions).map((d) => ({ ...d, color: '#8a94a6', href: pages ? trialsLink({ status: 'filtered', reason: d.label }) : undefined }));
  const exclusionsChart = exclusions.length
    ? figure('exclusions', barChartSvg(exclusions, { title: 'rows left out of the training data, by reason', width: 440 }), charts)
    : '<p class="note">No row was left out of the training data by the filters.</p>';
  const definition = `<p id="score-definition" class="definition"><b>Quality score</b> (0–1, higher is better): a rule-based score of how a trajectory was worked out, computed by the score stage for every main-agent row — did the agent finish cleanly, test its change and see the tests pass, take a reasonable number of turns, avoid scattered edits, loops and repeated errors. It is the weighted mean of those components (TQS V2; definitions in <code>libs/score/README.md</code>); rows below <code>scoring.filters</code> thresholds are left out of the training data.</p>`;
  return `${definition}${keyValues(rows)}${note}<div class="charts">${figure('scores', scoreChart, charts)}${exclusionsChart}</div>`;
}

function trainingSection(s: PipelineSummary, series: ReportSeries, charts: Record<string, string>): string {
  const t = s.training;
  const parts: string[] = [];
  if (!t.available) parts.push(notAvailable(t));
  else {
    parts.push(
      keyValues([
        ['run', esc(t.run ?? '–')],
        ['backend', esc(t.backend ?? '–')],
        ['final loss', num(t.final_loss, 4)],
        ['mean training loss', num(t.train_loss, 4)],
        ['steps', `${num(t.steps)}${t.total_steps ? ` of ${num(t.total_steps)}` : ''}`],
        ['epoch', num(t.epoch, 2)],
        ['runtime', t.runtime_sec === null ? '–' : `${num(t.runtime_sec, 1)} s`],
        ['checkpoint', `<code>${esc(t.checkpoint_path ?? '–')}</code>`],
        ['checkpoint in the cache', `<code>${esc(t.cached_checkpoint ?? 'none')}</code>`],
      ]),
    );
  }
  const curves = [{ name: 'loss', points: series.loss ?? [] }];
  if (series.evalLoss?.length) curves.push({ name: 'eval_loss', points: series.evalLoss });
  if (series.loss?.length) parts.push(`<div class="charts">${figure('loss', lineChartSvg(curves, { title: 'training loss', xLabel: 'step', yLabel: 'loss', width: 640, height: 300 }), charts)}</div>`);
  else if (t.available) parts.push(`<p class="note">Loss curve: ${esc(series.lossNote ?? 'no loss logged')}</p>`);
  return parts.join('');
}


/**
 * Fills the run-history table from `window.TRAJGEN_HISTORY` (history.js):
 * DOM nodes and textContent only, so nothing in a note can become markup.
 */
const HISTORY_SCRIPT = `
(function () {
  var runs = window.TRAJGEN_HISTORY;
  var note = document.getElementById('history-note');
  var table = document.getElementById('history-table');
  if (!Array.isArray(runs) || runs.length === 0) {
    note.textContent = 'No run history in this clone: history.js is written when a pipeline run executes a stage here (outputs restored from a cache add none).';
    return;
  }
  var body = table.tBodies[0];
  function cell(row, text, cls) { var td = document.createElement('td'); td.textContent = text == null ? '' : String(text); if (cls) td.className = cls; row.appendChild(td); return td; }
  function duration(a, b) {
    var ms = Date.parse(b) - Date.parse(a);
    if (!isFinite(ms) || ms < 0) return '';
    var s = Math.round(ms / 1000);
    return s < 60 ? s + 's' : Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0') + 's';
  }
  runs.slice().reverse().forEach(function (r) {
    var tr = document.createElement('tr');
    cell(tr, r.id);
    var st = cell(tr, '');
    var badge = document.createElement('span');
    badge.className = 'status ' + (/^(completed|failed|interrupted)$/.test(r.status) ? r.status : '');
    badge.textContent = r.status;
    st.appendChild(badge);
    cell(tr, r.started_at);
    cell(tr, duration(r.started_at, r.completed_at), 'num');
    cell(tr, Array.isArray(r.stages_ran) ? r.stages_ran.join(', ') : '');
    cell(tr, r.notes);
    var a = document.createElement('a');
    a.href = '../' + String(r.archive || '').split('/').slice(-2).join('/') + '/metadata.yaml';
    a.textContent = 'metadata';
    var td = cell(tr, '');
    td.appendChild(a);
    body.appendChild(tr);
  });
  table.hidden = false;
  note.textContent = runs.length + ' run' + (runs.length === 1 ? '' : 's') + ', newest first (artifacts/' + (document.body.dataset.pipeline || '') + '/index.yaml).';
})();
`;

/**
 * The report page: one file, inline CSS and SVG, no external URL and no
 * fetch, so it opens from disk. The run history comes from `history.js`
 * beside it (a classic script: works from file://), which the recorder
 * rewrites on every recorded run; the stage's cached output never holds it.
 */
export function renderReport(summary: PipelineSummary, series: ReportSeries = {}, options: { generatedAt?: string } = {}): RenderedReport {
  const charts: Record<string, string> = {};
  const sections: [string, string, string][] = [
    ['rollout', 'Rollout: which tasks the agent resolved', rolloutSection(summary, series, charts)],
    ['usage', 'Tokens and cost', usageSection(summary, series, charts)],
    ['conversion', 'Conversion: trajectories to training rows', conversionSection(summary, series, charts)],
    ['score', 'Quality score and filters', scoreSection(summary, series, charts)],
    ['training', 'Training', trainingSection(summary, series, charts)],
  ];
  if (summary.register.available) {
    const r = summary.register;
    sections.push([
      'register',
      'Dataset registration',
      keyValues([
        ['dataset', esc(r.dataset ?? '–')],
        ['action', esc(r.action ?? '–')],
        ['file', `<code>${esc(r.file_name ?? '–')}</code>`],
        ['dataset_dir', `<code>${esc(r.dataset_dir ?? '–')}</code>`],
      ]),
    ]);
  }
  const history = `<p id="history-note" class="note">Loading the run history…</p><table id="history-table" class="history" hidden><thead><tr>${[
    'run',
    'status',
    'started (UTC)',
    'duration',
    'stages that ran',
    'notes',
    'archive',
  ]
    .map((h) => `<th>${esc(h)}</th>`)
    .join('')}</tr></thead><tbody></tbody></table>`;
  sections.push(['runs', 'Runs side by side', RUNS_BODY]);
  sections.push(['history', 'Run history', history]);

  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(summary.pipeline)} — trajgen report</title>
<style>${BASE_STYLE}${RUNS_STYLE}</style>
</head>
<body data-pipeline="${esc(summary.pipeline)}">
<header>
<h1>${esc(summary.pipeline)}</h1>
${summary.description ? `<p>${esc(summary.description)}</p>` : ''}
<p>trajgen report${options.generatedAt ? ` · generated ${esc(options.generatedAt)}` : ''} · everything below is read from artifacts/${esc(summary.pipeline)}/</p>
</header>
<nav>${sections.map(([id, title]) => `<a href="#${id}">${esc(title.split(':')[0])}</a>`).join('')}${series.trials?.pages ? `<a href="${TRIALS_PAGE}"><b>All trials →</b></a>` : ''}</nav>
<main>
${overview(summary, series)}
${sections.map(([id, title, body]) => `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`).join('\n')}
</main>
<script src="${HISTORY_FILE}"></script>
<script>${HISTORY_SCRIPT}</script>
<script>${RUNS_SCRIPT}</script>
</body>
</html>
`;
  return { html, charts };
}

/** `history.js`: the run index as a script the report loads from disk. */
export function renderHistoryScript(runs: RunIndexEntry[], details: RunDetail[] = []): string {
  // JSON is valid JavaScript; U+2028/2029 are escaped for older engines, "<" so no "</script>" ends it.
  const literal = (v: unknown) => JSON.stringify(v, null, 1).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `// Written by trajgen on every recorded run (artifacts/<p>/index.yaml, archives/run_NNN); not an Nx output.\nwindow.TRAJGEN_HISTORY = ${literal(runs)};\nwindow.TRAJGEN_RUNS = ${literal(details)};\n`;
}
