/**
 * Runs side by side, drawn in the page from history.js (`TRAJGEN_RUNS`): the
 * run history is not an output of the archive stage (a cache restore must
 * not roll it back), so the table and its charts are built when the page
 * opens, like `dvc exp show`: one row per run, the config keys that differ
 * between runs, and the metrics.
 */

export const RUNS_BODY = `<p id="runs-note" class="note">Loading runs from history.js…</p>
<div id="runs-wrap" hidden>
<div class="scroll"><table id="runs-table" class="runs"><thead></thead><tbody></tbody></table></div>
<div class="charts"><figure class="runs-chart" id="runs-loss"></figure><figure class="runs-chart" id="runs-scores"></figure></div>
<p class="note">Tick runs in the first column to overlay their loss curves; the score chart compares the two newest ticked runs.</p>
</div>`;

export const RUNS_STYLE = `
.scroll { overflow-x: auto; }
table.runs td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.runs th.cfg, table.runs td.cfg { background: #f7f4ff; }
table.runs th.metric, table.runs td.metric { background: #f2f8f3; }
`;

export const RUNS_SCRIPT = String.raw`
(function () {
  var runs = window.TRAJGEN_RUNS;
  var note = document.getElementById('runs-note');
  if (!Array.isArray(runs) || runs.length === 0) {
    note.textContent = 'No runs to compare in this clone: history.js gets them when a pipeline run executes a stage here.';
    return;
  }
  var NS = 'http://www.w3.org/2000/svg';
  var COLOURS = ['#2f5da8', '#c2185b', '#00897b', '#6d4c41', '#5e35b1', '#ef6c00'];
  var keys = {};
  runs.forEach(function (r) { Object.keys(r.config || {}).forEach(function (k) { keys[k] = 1; }); });
  var differing = Object.keys(keys).filter(function (k) {
    var first = runs[0].config[k];
    return k.indexOf('runtime_info.') !== 0 && runs.some(function (r) { return r.config[k] !== first; });
  }).sort();
  var metrics = [['trials', 'trials', 0], ['pass_rate', 'resolved', 'pct'], ['rows', 'training rows', 0], ['mean_score', 'mean quality score', 3], ['final_loss', 'final loss', 4], ['cost_usd', 'cost', 'usd']];
  var table = document.getElementById('runs-table');
  var head = table.tHead.insertRow();
  function th(text, cls) { var e = document.createElement('th'); e.textContent = text; if (cls) e.className = cls; head.appendChild(e); }
  th('compare'); th('run'); th('status'); th('started (UTC)');
  differing.forEach(function (k) { th(k, 'cfg'); });
  metrics.forEach(function (m) { th(m[1], 'metric'); });
  function fmt(v, how) {
    if (v === null || v === undefined) return '–';
    if (how === 'pct') return (v * 100).toFixed(1) + ' %';
    if (how === 'usd') return '$' + v.toFixed(4);
    return Number(v).toLocaleString('en-US', { maximumFractionDigits: how, minimumFractionDigits: how });
  }
  var ticked = {};
  var newest = runs.slice().reverse();
  newest.filter(function (r) { return r.loss && r.loss.length; }).slice(0, 4).forEach(function (r) { ticked[r.id] = true; });
  newest.forEach(function (r) {
    var tr = table.tBodies[0].insertRow();
    var box = document.createElement('input'); box.type = 'checkbox'; box.checked = !!ticked[r.id];
    box.addEventListener('change', function () { ticked[r.id] = box.checked; draw(); });
    tr.insertCell().appendChild(box);
    tr.insertCell().textContent = r.id;
    tr.insertCell().textContent = r.status;
    tr.insertCell().textContent = r.started_at;
    differing.forEach(function (k) { var c = tr.insertCell(); c.className = 'cfg'; c.textContent = r.config[k] === undefined ? '–' : r.config[k]; });
    metrics.forEach(function (m) { var c = tr.insertCell(); c.className = 'metric num'; c.textContent = fmt(r.metrics ? r.metrics[m[0]] : null, m[2]); });
  });
  document.getElementById('runs-wrap').hidden = false;
  note.textContent = runs.length + ' run' + (runs.length === 1 ? '' : 's') + ', newest first. ' + (differing.length ? differing.length + ' config key' + (differing.length === 1 ? '' : 's') + ' differ between them (violet columns); the green columns are results.' : 'Every run used the same config.');

  function svg(w, h) { var s = document.createElementNS(NS, 'svg'); s.setAttribute('width', w); s.setAttribute('height', h); s.setAttribute('viewBox', '0 0 ' + w + ' ' + h); s.setAttribute('font-family', 'system-ui, sans-serif'); s.setAttribute('font-size', '11'); return s; }
  function node(parent, tag, attrs, text) { var e = document.createElementNS(NS, tag); Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); }); if (text !== undefined) e.textContent = text; parent.appendChild(e); return e; }
  function frame(s, w, h, title, x0, x1, y0, y1, M) {
    node(s, 'rect', { width: w, height: h, fill: '#fff' });
    node(s, 'text', { x: w / 2, y: 18, 'text-anchor': 'middle', 'font-size': 13, 'font-weight': 600 }, title);
    node(s, 'line', { x1: M, x2: w - 16, y1: h - 34, y2: h - 34, stroke: '#999' });
    node(s, 'line', { x1: M, x2: M, y1: 30, y2: h - 34, stroke: '#999' });
    node(s, 'text', { x: M, y: h - 20, 'text-anchor': 'middle', fill: '#555' }, String(+x0.toFixed(3)));
    node(s, 'text', { x: w - 16, y: h - 20, 'text-anchor': 'end', fill: '#555' }, String(+x1.toFixed(3)));
    node(s, 'text', { x: M - 4, y: h - 34, 'text-anchor': 'end', fill: '#555' }, String(+y0.toFixed(3)));
    node(s, 'text', { x: M - 4, y: 36, 'text-anchor': 'end', fill: '#555' }, String(+y1.toFixed(3)));
  }
  function drawLoss() {
    var fig = document.getElementById('runs-loss'); fig.textContent = '';
    var chosen = newest.filter(function (r) { return ticked[r.id] && r.loss && r.loss.length; });
    var w = 560, h = 300, M = 50;
    var s = svg(w, h); fig.appendChild(s);
    if (!chosen.length) { frame(s, w, h, 'training loss by run', 0, 1, 0, 1, M); node(s, 'text', { x: w / 2, y: h / 2, 'text-anchor': 'middle', fill: '#888' }, 'no ticked run has a loss curve (runs without a train stage have none)'); return; }
    var xs = [], ys = [];
    chosen.forEach(function (r) { r.loss.forEach(function (p) { xs.push(p[0]); ys.push(p[1]); }); });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs), y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    frame(s, w, h, 'training loss by run', x0, x1, y0, y1, M);
    var sx = function (x) { return M + (x - x0) / ((x1 - x0) || 1) * (w - M - 16); };
    var sy = function (y) { return h - 34 - (y - y0) / ((y1 - y0) || 1) * (h - 64); };
    chosen.forEach(function (r, i) {
      var c = COLOURS[i % COLOURS.length];
      node(s, 'path', { d: r.loss.map(function (p, j) { return (j ? 'L' : 'M') + sx(p[0]).toFixed(1) + ',' + sy(p[1]).toFixed(1); }).join(' '), fill: 'none', stroke: c, 'stroke-width': 1.8, 'data-run': r.id });
      node(s, 'text', { x: M + 10, y: 44 + i * 14, fill: c }, r.id);
    });
  }
  function drawScores() {
    var fig = document.getElementById('runs-scores'); fig.textContent = '';
    var chosen = newest.filter(function (r) { return ticked[r.id] && r.score_bins; }).slice(0, 2);
    if (chosen.length < 2) chosen = newest.filter(function (r) { return r.score_bins; }).slice(0, 2);
    var w = 560, h = 300, M = 50;
    var s = svg(w, h); fig.appendChild(s);
    var title = chosen.length === 2 ? 'quality score: ' + chosen[1].id + ' vs ' + chosen[0].id : 'quality score by run';
    if (!chosen.length) { frame(s, w, h, title, 0, 1, 0, 1, M); node(s, 'text', { x: w / 2, y: h / 2, 'text-anchor': 'middle', fill: '#888' }, 'no run has scored rows yet'); return; }
    var shares = chosen.map(function (r) { var n = r.score_bins.reduce(function (a, b) { return a + b; }, 0) || 1; return r.score_bins.map(function (c) { return c / n; }); });
    var top = Math.max.apply(null, shares.map(function (a) { return Math.max.apply(null, a); })) || 1;
    frame(s, w, h, title, 0, 1, 0, top, M);
    var bins = shares[0].length, bw = (w - M - 16) / bins;
    shares.forEach(function (a, k) {
      a.forEach(function (v, i) {
        var bh = v / top * (h - 64);
        node(s, 'rect', { x: (M + i * bw + 1 + k * (bw - 2) / shares.length).toFixed(1), y: (h - 34 - bh).toFixed(1), width: Math.max(1, (bw - 2) / shares.length).toFixed(1), height: bh.toFixed(1), fill: COLOURS[k], 'data-run': chosen[k].id });
      });
      node(s, 'text', { x: M + 10, y: 44 + k * 14, fill: COLOURS[k] }, chosen[k].id + ' (share of rows)');
    });
  }
  function draw() { drawLoss(); drawScores(); }
  draw();
})();
`;
