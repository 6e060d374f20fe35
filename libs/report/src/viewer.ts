/**
 * The trial viewer: `trials.html` (every trial, sortable and filterable) and
 * `trial.html#<id>` (one trial), static pages beside index.html. Their data
 * are classic scripts (`trials/index.js`, `trials/<id>.js`) because a page
 * opened from file:// may load scripts but not fetch files. The pages build
 * their DOM with textContent only: nothing in a trajectory becomes markup.
 */
import { escapeXml } from '@trajgen/charts';
import type { TrialDetail, TrialListRow } from './model';
import { BASE_STYLE } from './style';

export const TRIALS_PAGE = 'trials.html';
export const TRIAL_PAGE = 'trial.html';
export const TRIALS_DIR = 'trials';

/** Columns of `trials/index.js` rows, in order (arrays keep a 20,000-trial list small; the job is on the trial page). */
export const TRIAL_COLUMNS = ['id', 'shard', 'task', 'trial', 'scaffold', 'reward', 'outcome', 'exception', 'score', 'flag', 'status', 'reason', 'tokens', 'cost', 'duration', 'subagents'] as const;

/** JSON as a script literal: `</script>` and U+2028/2029 cannot end or break it. */
function jsLiteral(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function renderTrialScript(detail: TrialDetail): string {
  return `TRAJGEN_TRIAL(${jsLiteral(detail)});\n`;
}

export function renderTrialsIndexScript(rows: TrialListRow[], meta: { pipeline?: string; costNote?: string } = {}): string {
  const data = { columns: TRIAL_COLUMNS, meta, rows: rows.map((r) => TRIAL_COLUMNS.map((c) => r[c])) };
  return `// Written by trajgen's archive stage: every trial of the pipeline, one array per trial (columns above).\nwindow.TRAJGEN_TRIALS = ${jsLiteral(data)};\n`;
}

const VIEWER_STYLE = `
.filters { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items: end; margin: 8px 0 12px; font-size: 13px; }
.filters label { display: flex; flex-direction: column; gap: 2px; color: #4a5468; }
.filters input, .filters select { font: inherit; padding: 3px 6px; border: 1px solid #c9cfdb; border-radius: 4px; min-width: 120px; }
.filters input.num { min-width: 0; width: 70px; }
table.list { width: 100%; }
table.list th { cursor: pointer; user-select: none; white-space: nowrap; }
table.list th.sorted::after { content: ' ▾'; }
table.list th.sorted.asc::after { content: ' ▴'; }
table.list td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.list td:not(:first-child) { white-space: nowrap; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 8px 18px; margin: 10px 0; font-size: 13px; }
.facts div b { display: block; font-size: 11px; color: #5b6477; font-weight: 500; text-transform: uppercase; letter-spacing: .04em; }
pre { white-space: pre-wrap; word-break: break-word; font-size: 12px; background: #f6f7f9; border: 1px solid #e3e6ec; border-radius: 4px; padding: 6px 8px; margin: 4px 0; max-width: 100%; }
pre.out { background: #14181f; color: #e6e9ef; border-color: #14181f; }
button.more { font-size: 12px; border: 1px solid #c9cfdb; background: #fff; border-radius: 4px; padding: 1px 8px; cursor: pointer; color: #2f5da8; }
.why { border-left: 4px solid #b7791f; background: #fff8ec; padding: 8px 12px; margin: 10px 0; font-size: 14px; }
.why.unresolved { border-color: #c23b22; background: #fdf0ee; }
.why.resolved { border-color: #2e8540; background: #eef8f0; }
.turn { margin: 10px 0; padding: 8px 12px; border-radius: 6px; border: 1px solid #e3e6ec; background: #fff; }
.turn .who { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: #5b6477; margin-bottom: 4px; }
.turn.u { background: #f3f6fb; }
.turn.m { background: none; border: none; padding: 0 2px; font-size: 12px; color: #5b6477; border-top: 1px dashed #d5d9e2; border-radius: 0; }
.call { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.3fr); gap: 10px; margin: 8px 0 0; padding-top: 6px; border-top: 1px solid #eceef2; }
.call .name { font-weight: 600; font-size: 13px; }
.call .name code { font-weight: 400; color: #5b6477; }
.call.error pre.res { border-color: #c23b22; }
.call .sublink { display: inline-block; margin-top: 4px; font-size: 13px; }
details > summary { cursor: pointer; color: #3a4356; font-size: 13px; }
.convs a.current { font-weight: 700; color: #1d2330; }
.score-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
`;

const LIST_SCRIPT = String.raw`
(function () {
  var data = window.TRAJGEN_TRIALS;
  var note = document.getElementById('list-note');
  if (!data || !Array.isArray(data.rows)) { note.textContent = 'No trial list here: trials/index.js is written by the archive stage (run it, or open the report of a pipeline that has rolled out).'; return; }
  var cols = data.columns, ix = {};
  cols.forEach(function (c, i) { ix[c] = i; });
  var rows = data.rows;
  var MAX = 500;
  var f = {};
  ['task', 'outcome', 'scoreMin', 'scoreMax', 'flag', 'status', 'reason', 'scaffold', 'text'].forEach(function (k) { f[k] = document.getElementById('f-' + k); });
  function fill(sel, key) {
    var seen = {};
    rows.forEach(function (r) { var v = r[ix[key]]; if (v !== null && v !== '') seen[v] = (seen[v] || 0) + 1; });
    Object.keys(seen).sort().forEach(function (v) { var o = document.createElement('option'); o.value = v; o.textContent = v + ' (' + seen[v] + ')'; sel.appendChild(o); });
  }
  fill(f.task, 'task'); fill(f.flag, 'flag'); fill(f.status, 'status'); fill(f.reason, 'reason'); fill(f.scaffold, 'scaffold');
  var sortKey = 'task', asc = true;
  function readHash() {
    var h = decodeURIComponent(location.hash.slice(1));
    h.split('&').forEach(function (kv) { var p = kv.split('='); if (f[p[0]]) f[p[0]].value = p.slice(1).join('='); });
  }
  function writeHash() {
    var parts = [];
    Object.keys(f).forEach(function (k) { if (f[k].value) parts.push(k + '=' + f[k].value); });
    history.replaceState(null, '', '#' + parts.map(encodeURIComponent).join('&').replace(/%3D/g, '='));
  }
  function cell(tr, text, cls) { var td = document.createElement('td'); td.textContent = text === null || text === undefined ? '–' : String(text); if (cls) td.className = cls; tr.appendChild(td); return td; }
  function render() {
    var min = parseFloat(f.scoreMin.value), max = parseFloat(f.scoreMax.value), text = f.text.value.toLowerCase();
    var out = rows.filter(function (r) {
      if (f.task.value && r[ix.task] !== f.task.value) return false;
      if (f.outcome.value && r[ix.outcome] !== f.outcome.value) return false;
      if (f.flag.value && r[ix.flag] !== f.flag.value) return false;
      if (f.status.value && r[ix.status] !== f.status.value) return false;
      if (f.reason.value && r[ix.reason] !== f.reason.value) return false;
      if (f.scaffold.value && r[ix.scaffold] !== f.scaffold.value) return false;
      var s = r[ix.score];
      if (!isNaN(min) && (s === null || s < min)) return false;
      if (!isNaN(max) && (s === null || s > max)) return false;
      if (text && (r[ix.trial] + ' ' + r[ix.task] + ' ' + (r[ix.exception] || '')).toLowerCase().indexOf(text) < 0) return false;
      return true;
    });
    var k = ix[sortKey];
    out.sort(function (a, b) { var x = a[k], y = b[k]; if (x === y) return 0; if (x === null) return 1; if (y === null) return -1; return (x < y ? -1 : 1) * (asc ? 1 : -1); });
    var body = document.getElementById('list-body');
    body.textContent = '';
    out.slice(0, MAX).forEach(function (r) {
      var tr = document.createElement('tr');
      var a = document.createElement('a'); a.href = 'trial.html#' + r[ix.shard] + '/' + r[ix.id]; a.textContent = r[ix.trial];
      var td = document.createElement('td'); td.appendChild(a); tr.appendChild(td);
      cell(tr, r[ix.task]);
      var oc = cell(tr, ''); var b = document.createElement('span'); b.className = 'badge ' + r[ix.outcome]; b.textContent = r[ix.outcome]; oc.appendChild(b);
      cell(tr, r[ix.reward], 'num');
      cell(tr, r[ix.score] === null ? null : r[ix.score].toFixed(3), 'num');
      cell(tr, r[ix.flag]);
      cell(tr, STATUS[r[ix.status]] || r[ix.status]);
      cell(tr, r[ix.reason] || r[ix.exception]);
      cell(tr, r[ix.scaffold]);
      cell(tr, r[ix.tokens] === null ? null : r[ix.tokens].toLocaleString('en-US'), 'num');
      cell(tr, r[ix.cost] === null ? null : '$' + r[ix.cost].toFixed(4), 'num');
      cell(tr, r[ix.duration] === null ? null : r[ix.duration] + ' s', 'num');
      body.appendChild(tr);
    });
    note.textContent = out.length + ' of ' + rows.length + ' trials match' + (out.length > MAX ? ' (the first ' + MAX + ' shown; narrow the filters)' : '') + '.' + (data.meta && data.meta.costNote ? ' Costs are ' + data.meta.costNote + '.' : '');
    writeHash();
  }
  var STATUS = { in_lf: 'in training data', filtered: 'filtered out', converted: 'converted', not_selected: 'not converted', dropped: 'dropped', not_converted: 'not converted yet' };
  document.querySelectorAll('#list-head th').forEach(function (th) {
    th.addEventListener('click', function () {
      var key = th.getAttribute('data-key');
      if (sortKey === key) asc = !asc; else { sortKey = key; asc = true; }
      document.querySelectorAll('#list-head th').forEach(function (o) { o.className = ''; });
      th.className = 'sorted' + (asc ? ' asc' : '');
      render();
    });
  });
  Object.keys(f).forEach(function (k) { f[k].addEventListener('input', render); });
  readHash();
  window.addEventListener('hashchange', function () { readHash(); render(); });
  render();
})();
`;

const TRIAL_SCRIPT = String.raw`
(function () {
  var SHOW_DEFAULT = 1500;
  var root = document.getElementById('trial');
  var current = null;
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined && text !== null) e.textContent = String(text); return e; }
  function add(parent, child) { parent.appendChild(child); return child; }
  function pre(text, cls, limit) {
    var SHOW = limit || SHOW_DEFAULT;
    var box = el('div');
    var p = add(box, el('pre', cls));
    text = text || '';
    if (text.length <= SHOW) { p.textContent = text; return box; }
    p.textContent = text.slice(0, SHOW) + '…';
    var b = add(box, el('button', 'more', 'show all (' + text.length.toLocaleString('en-US') + ' characters)'));
    b.addEventListener('click', function () { var full = p.textContent.length <= SHOW + 1; p.textContent = full ? text : text.slice(0, SHOW) + '…'; b.textContent = full ? 'show less' : 'show all (' + text.length.toLocaleString('en-US') + ' characters)'; });
    return box;
  }
  function collapsed(summary, text) { var d = el('details'); add(d, el('summary', null, summary)); d.appendChild(pre(text)); return d; }
  function fact(grid, label, value) { if (value === null || value === undefined || value === '') value = '–'; var d = add(grid, el('div')); add(d, el('b', null, label)); d.appendChild(typeof value === 'object' ? value : document.createTextNode(String(value))); return d; }
  function num(v) { return v === null || v === undefined ? '–' : Number(v).toLocaleString('en-US'); }
  // The quality score's components in plain words (libs/score/README.md has the definitions).
  var COMPONENTS = { SUB: 'finished cleanly', STP: 'reasonable number of turns', TVR: 'tested, and the tests passed', FEC: 'edits kept together', DPI: 'no dead ends, loops or repeated errors', SCP: 'first change at a sensible point', TTE: 'variety of actions' };
  var STATUS = { in_lf: 'in the training data', filtered: 'filtered out of the training data', converted: 'converted (not scored yet)', not_selected: 'not converted', dropped: 'dropped by conversion', not_converted: 'not converted yet' };

  function renderConversation(t, conv, box) {
    var h = add(box, el('h2', null, conv.title));
    h.id = 'conv-' + conv.key;
    if (conv.agent_type === 'subagent' && conv.parent_call) {
      var back = add(box, el('p', 'note'));
      var a = add(back, el('a', null, '← started by the main agent\'s call ' + conv.parent_call));
      a.href = '#' + t.shard + '/' + t.id;
    }
    if (conv.score) {
      var sc = add(box, el('p'));
      sc.appendChild(document.createTextNode('Quality score: '));
      add(sc, el('b', null, conv.score.composite === null ? '–' : conv.score.composite.toFixed(3)));
      var def = add(sc, el('a', null, ' (what is this?)')); def.href = 'index.html#score-definition';
      var tbl = add(box, el('table', 'score-table'));
      Object.keys(conv.score.components || {}).forEach(function (k) { var tr = add(tbl, el('tr')); add(tr, el('td', null, (COMPONENTS[k] ? COMPONENTS[k] + ' ' : '') + '(' + k + ')')); add(tr, el('td', 'num', conv.score.components[k] === null ? '–' : Number(conv.score.components[k]).toFixed(3))); });
    }
    if (conv.flags) {
      var fl = [];
      if (conv.flags.hack && conv.flags.hack !== 'none') fl.push('reward hack: ' + conv.flags.hack + (conv.flags.hack_hits && conv.flags.hack_hits.length ? ' (' + conv.flags.hack_hits.join(', ') + ')' : ''));
      if (Array.isArray(conv.flags.pathology) && conv.flags.pathology.length) fl.push('pathology: ' + conv.flags.pathology.join(', '));
      add(box, el('p', 'note', fl.length ? 'Flags: ' + fl.join('; ') : 'Flags: none'));
    }
    if (conv.system) box.appendChild(collapsed('system prompt (' + conv.system.length.toLocaleString('en-US') + ' characters)', conv.system));
    if (conv.tools && conv.tools.length) add(box, el('p', 'note', 'Tools offered: ' + conv.tools.join(', ')));
    conv.turns.forEach(function (turn) {
      if (turn[0] === 'm') { add(box, el('div', 'turn m', turn[1])); return; }
      var d = add(box, el('div', 'turn ' + turn[0]));
      add(d, el('div', 'who', turn[0] === 'u' ? 'user' : 'assistant'));
      if (turn[0] === 'u') { d.appendChild(pre(turn[1])); return; }
      if (turn[2]) d.appendChild(collapsed('reasoning (' + turn[2].length.toLocaleString('en-US') + ' characters)', turn[2]));
      if (turn[1]) d.appendChild(pre(turn[1]));
      turn[3].forEach(function (call) {
        var c = add(d, el('div', 'call' + (call.error ? ' error' : '')));
        var left = add(c, el('div'));
        var name = add(left, el('div', 'name', 'tool call: ' + call.name + ' '));
        add(name, el('code', null, call.id));
        left.appendChild(pre(call.args));
        if (call.sub) { var s = add(left, el('a', 'sublink', 'open the sub-agent conversation →')); s.href = '#' + t.shard + '/' + t.id + '/' + call.sub; }
        var right = add(c, el('div'));
        add(right, el('div', 'name', call.result === null ? 'no result recorded' : call.error ? 'result (error)' : 'result'));
        if (call.result !== null) right.appendChild(pre(call.result, 'out res'));
      });
    });
  }

  function render(t, convKey) {
    root.textContent = '';
    document.title = t.trial + ' — trajgen trial';
    var head = add(root, el('section'));
    var h = add(head, el('h2'));
    var badge = add(h, el('span', 'badge ' + t.outcome, t.outcome));
    h.appendChild(document.createTextNode(' ' + t.trial));
    var why = add(head, el('div', 'why ' + t.outcome));
    var lines = [];
    if (t.outcome === 'resolved') lines.push('The verifier passed (reward ' + t.reward + ').');
    else if (t.outcome === 'unresolved') lines.push('The agent finished but the verifier failed (reward ' + t.reward + '): see the verifier output below.');
    else lines.push('No reward: the trial ended with an error' + (t.exception ? ' (' + t.exception.type + ')' : '') + '.');
    lines.push('Training data: ' + (STATUS[t.data.status] || t.data.status) + (t.data.reason ? ' (' + t.data.reason + ')' : '') + ' — ' + (t.data.message || ''));
    lines.forEach(function (l) { add(why, el('div', null, l)); });
    t.notes.forEach(function (n) { add(head, el('p', 'note', n)); });
    var grid = add(head, el('div', 'facts'));
    var task = el('a', null, t.task); task.href = 'trials.html#task=' + encodeURIComponent(t.task);
    fact(grid, 'task', task);
    fact(grid, 'job', t.job);
    fact(grid, 'agent', [t.agent.name, t.agent.version].filter(Boolean).join(' '));
    fact(grid, 'model', t.agent.model);
    fact(grid, 'reward', t.rewards ? Object.keys(t.rewards).map(function (k) { return k + ' ' + t.rewards[k]; }).join(', ') : t.reward);
    fact(grid, 'duration', t.duration_sec === null ? null : t.duration_sec + ' s' + ' (' + Object.keys(t.phases).filter(function (k) { return t.phases[k] !== null; }).map(function (k) { return k + ' ' + t.phases[k] + ' s'; }).join(', ') + ')');
    fact(grid, 'model calls', t.usage.model_calls);
    fact(grid, 'tokens', num(t.usage.input_tokens) + ' in (' + num(t.usage.cache_tokens) + ' cached) · ' + num(t.usage.output_tokens) + ' out');
    fact(grid, 'cost', t.usage.cost_usd === null ? null : '$' + t.usage.cost_usd.toFixed(4) + (t.cost_note ? ' (' + t.cost_note + ')' : ''));
    fact(grid, 'started (UTC)', t.started_at);
    if (t.exception) {
      var ex = add(root, el('section'));
      add(ex, el('h2', null, 'Exception: ' + t.exception.type));
      if (t.exception.message) ex.appendChild(pre(t.exception.message));
      if (t.exception.traceback) ex.appendChild(collapsed('traceback', t.exception.traceback));
    }
    var ver = add(root, el('section'));
    ver.id = 'verifier';
    add(ver, el('h2', null, 'Verifier output'));
    if (!t.verifier.length) add(ver, el('p', 'na', 'No verifier output: ' + (t.outcome === 'error' ? 'the trial stopped before verification.' : 'the trial directory is not in this clone.')));
    t.verifier.forEach(function (v) { add(ver, el('h3', null, v.file + (v.omitted_lines ? ' (last lines; ' + v.omitted_lines + ' earlier lines not shown)' : ''))); ver.appendChild(pre(v.text, 'out', 6000)); });
    var convs = add(root, el('section'));
    convs.id = 'conversation';
    if (!t.conversations.length) { add(convs, el('h2', null, 'What the agent did')); add(convs, el('p', 'na', 'No conversation: no IM row and no raw model calls for this trial.')); return; }
    var conv = t.conversations.filter(function (c) { return c.key === convKey; })[0] || t.conversations[0];
    if (t.conversations.length > 1) {
      var nav = add(convs, el('p', 'convs'));
      nav.appendChild(document.createTextNode('Conversations: '));
      t.conversations.forEach(function (c, i) { if (i) nav.appendChild(document.createTextNode(' · ')); var a = add(nav, el('a', c === conv ? 'current' : null, c.title)); a.href = '#' + t.shard + '/' + t.id + '/' + c.key; });
    }
    renderConversation(t, conv, convs);
    if (convKey) convs.scrollIntoView();
  }

  // A data file holds a few dozen trials (trials/<shard>.js); each calls TRAJGEN_TRIAL once.
  var loaded = {}, shardsLoaded = {};
  window.TRAJGEN_TRIAL = function (t) { loaded[t.id] = t; };
  function show(p) {
    var t = loaded[p[1]];
    if (!t) { root.textContent = ''; add(root, el('p', 'na', 'Trial ' + p[1] + ' is not in trials/' + p[0] + '.js: the report was regenerated; open it again from the trials list.')); return; }
    t.shard = p[0];
    render(t, p[2]);
  }
  function route() {
    var p = location.hash.slice(1).split('/');
    if (!/^s[0-9]{0,6}$/.test(p[0] || '') || !/^t[0-9a-f]{6,40}$/.test(p[1] || '')) { root.textContent = ''; add(root, el('p', 'na', 'No trial chosen: open one from the trials list.')); return; }
    if (shardsLoaded[p[0]]) { show(p); return; }
    var s = document.createElement('script');
    s.src = 'trials/' + p[0] + '.js';
    s.onload = function () { shardsLoaded[p[0]] = true; show(location.hash.slice(1).split('/')); };
    s.onerror = function () { root.textContent = ''; add(root, el('p', 'na', 'trials/' + p[0] + '.js is missing: the report was copied without its trials/ folder.')); };
    document.head.appendChild(s);
  }
  window.addEventListener('hashchange', route);
  route();
})();
`;

function page(title: string, pipeline: string, body: string, script: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>${BASE_STYLE}${VIEWER_STYLE}</style>
${head}
</head>
<body data-pipeline="${escapeXml(pipeline)}">
<header><h1>${escapeXml(pipeline)}</h1><p>trajgen report · <a href="index.html">overview</a> · <a href="${TRIALS_PAGE}">all trials</a></p></header>
<main>
${body}
</main>
<script>${script}</script>
</body>
</html>
`;
}

/** The trials list page (loads trials/index.js). */
export function renderTrialsPage(pipeline: string): string {
  const headers: [string, string][] = [
    ['trial', 'trial'],
    ['task', 'task'],
    ['outcome', 'outcome'],
    ['reward', 'reward'],
    ['quality score', 'score'],
    ['flag', 'flag'],
    ['training data', 'status'],
    ['why', 'reason'],
    ['scaffold', 'scaffold'],
    ['tokens', 'tokens'],
    ['cost', 'cost'],
    ['duration', 'duration'],
  ];
  const select = (id: string, label: string, extra = '') => `<label>${label}<select id="f-${id}"><option value="">all</option>${extra}</select></label>`;
  const body = `<section><h2>Trials</h2>
<div class="filters">
${select('task', 'task')}
${select('outcome', 'outcome', '<option value="resolved">resolved</option><option value="unresolved">unresolved</option><option value="error">error</option>')}
<label>quality score from<input id="f-scoreMin" class="num" type="number" step="0.05" min="0" max="1"></label>
<label>to<input id="f-scoreMax" class="num" type="number" step="0.05" min="0" max="1"></label>
${select('flag', 'flag')}
${select('status', 'training data')}
${select('reason', 'drop or filter reason')}
${select('scaffold', 'scaffold')}
<label>search<input id="f-text" type="search" placeholder="trial, task, exception"></label>
</div>
<p id="list-note" class="note">Loading trials/index.js…</p>
<table class="list"><thead><tr id="list-head">${headers.map(([h, k]) => `<th data-key="${k}"${k === 'task' ? ' class="sorted asc"' : ''}>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody id="list-body"></tbody></table>
</section>`;
  return page(`${pipeline} — trials`, pipeline, body, LIST_SCRIPT, `<script src="${TRIALS_DIR}/index.js"></script>`);
}

/** The single-trial page: `trial.html#<id>` loads `trials/<id>.js`. */
export function renderTrialPage(pipeline: string): string {
  return page(`${pipeline} — trial`, pipeline, '<div id="trial"><p class="note">Loading the trial…</p></div>', TRIAL_SCRIPT);
}
