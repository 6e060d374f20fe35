export interface ChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
}

function minMax(values: number[]): [number, number] {
  // A loop, not Math.min(...values): spreading a large array overflows the stack.
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

const PALETTE = ['#4C78A8', '#F58518', '#54A24B', '#E45756', '#72B7B2', '#B279A2'];
const M = { top: 36, right: 16, bottom: 44, left: 56 };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Round tick values: 1, 2 or 5 × 10^k steps. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (min === max) {
    const d = Math.abs(min) || 1;
    min -= d / 2;
    max += d / 2;
  }
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(1);
  return Number(v.toPrecision(4)).toString();
}

function frame(o: ChartOptions, body: string, xTicks: [number, string][], yTicks: [number, string][]): string {
  const w = o.width ?? 480;
  const h = o.height ?? 280;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" font-family="system-ui, sans-serif" font-size="11" role="img" aria-label="${escapeXml(o.title)}">`,
    `<rect width="${w}" height="${h}" fill="#fff"/>`,
    `<text x="${w / 2}" y="20" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(o.title)}</text>`,
    ...yTicks.map(([y, label]) => `<line x1="${M.left}" x2="${w - M.right}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${M.left - 6}" y="${y + 4}" text-anchor="end" fill="#555">${escapeXml(label)}</text>`),
    ...xTicks.map(([x, label]) => `<text x="${x}" y="${h - M.bottom + 16}" text-anchor="middle" fill="#555">${escapeXml(label)}</text>`),
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${h - M.bottom}" stroke="#888"/>`,
    `<line x1="${M.left}" x2="${w - M.right}" y1="${h - M.bottom}" y2="${h - M.bottom}" stroke="#888"/>`,
    body,
  ];
  if (o.xLabel) parts.push(`<text x="${(M.left + w - M.right) / 2}" y="${h - 8}" text-anchor="middle" fill="#333">${escapeXml(o.xLabel)}</text>`);
  if (o.yLabel) parts.push(`<text transform="translate(14 ${(M.top + h - M.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(o.yLabel)}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

function emptyChart(o: ChartOptions): string {
  const w = o.width ?? 480;
  const h = o.height ?? 280;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" font-family="system-ui, sans-serif" role="img" aria-label="${escapeXml(o.title)}"><rect width="${w}" height="${h}" fill="#fff"/><text x="${w / 2}" y="20" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(o.title)}</text><text x="${w / 2}" y="${h / 2}" text-anchor="middle" fill="#888">no data</text></svg>`;
}

/** Histogram of numeric values in `bins` equal-width bins over [min, max] (or the data range). */
export function histogramSvg(values: number[], o: ChartOptions & { bins?: number; min?: number; max?: number }): string {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return emptyChart(o);
  const [dataLo, dataHi] = minMax(finite);
  const lo = o.min ?? dataLo;
  let hi = o.max ?? dataHi;
  if (hi === lo) hi = lo + 1;
  const bins = o.bins ?? 20;
  const counts = new Array<number>(bins).fill(0);
  for (const v of finite) counts[Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)))]++;
  const w = o.width ?? 480;
  const h = o.height ?? 280;
  const pw = w - M.left - M.right;
  const ph = h - M.top - M.bottom;
  const maxC = minMax(counts)[1];
  const yt = niceTicks(0, maxC, 4).filter((t) => Number.isInteger(t));
  const top = Math.max(maxC, yt[yt.length - 1] ?? maxC);
  const bw = pw / bins;
  const bars = counts
    .map((c, i) => {
      const bh = (c / top) * ph;
      const x0 = lo + ((hi - lo) * i) / bins;
      return `<rect x="${(M.left + i * bw + 1).toFixed(1)}" y="${(M.top + ph - bh).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${PALETTE[0]}"><title>${fmt(x0)}–${fmt(x0 + (hi - lo) / bins)}: ${c}</title></rect>`;
    })
    .join('\n');
  const xt = niceTicks(lo, hi, 5).filter((t) => t >= lo && t <= hi);
  return frame(
    o,
    bars,
    xt.map((t) => [M.left + ((t - lo) / (hi - lo)) * pw, fmt(t)]),
    yt.map((t) => [M.top + ph - (t / top) * ph, fmt(t)]),
  );
}

export interface Series {
  name: string;
  points: [number, number][];
}

/** Line chart of one or more series. */
export function lineChartSvg(series: Series[], o: ChartOptions): string {
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (!all.length) return emptyChart(o);
  const w = o.width ?? 480;
  const h = o.height ?? 280;
  const pw = w - M.left - M.right;
  const ph = h - M.top - M.bottom;
  const [xMin, xMax] = minMax(all.map((p) => p[0]));
  const [yMin, yMax] = minMax(all.map((p) => p[1]));
  const xt = niceTicks(xMin, xMax, 5);
  const yt = niceTicks(yMin, yMax, 4);
  const [x0, x1] = [Math.min(xt[0], xMin), Math.max(xt[xt.length - 1], xMax)];
  const [y0, y1] = [Math.min(yt[0], yMin), Math.max(yt[yt.length - 1], yMax)];
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0 || 1)) * pw;
  const sy = (y: number) => M.top + ph - ((y - y0) / (y1 - y0 || 1)) * ph;
  const lines = series
    .map((s, i) => {
      const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
      const color = PALETTE[i % PALETTE.length];
      const path = pts.map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
      const dots = pts.length <= 60 ? pts.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2" fill="${color}"><title>${escapeXml(s.name)} ${fmt(x)}: ${fmt(y)}</title></circle>`).join('') : '';
      const legend = series.length > 1 ? `<text x="${w - M.right - 4}" y="${M.top + 12 + i * 14}" text-anchor="end" fill="${color}">${escapeXml(s.name)}</text>` : '';
      return `<path d="${path}" fill="none" stroke="${color}" stroke-width="1.8"/>${dots}${legend}`;
    })
    .join('\n');
  return frame(
    o,
    lines,
    xt.map((t) => [sx(t), fmt(t)]),
    yt.map((t) => [sy(t), fmt(t)]),
  );
}

/** A bar: its colour carries a meaning (e.g. resolved/unresolved), never just its position; `href` makes it a link. */
export interface Bar {
  label: string;
  value: number;
  color?: string;
  href?: string;
}

/** Horizontal bars for labelled counts (e.g. drops by reason), one colour unless a bar says otherwise. */
export function barChartSvg(items: Bar[], o: ChartOptions): string {
  if (!items.length) return emptyChart(o);
  const w = o.width ?? 480;
  const rowH = 20;
  const h = o.height ?? M.top + 16 + items.length * rowH;
  const labelW = Math.min(200, Math.max(...items.map((i) => i.label.length)) * 6.5 + 8);
  const max = Math.max(...items.map((i) => i.value), 1);
  const pw = w - labelW - M.right - 40;
  const rows = items
    .map((it, i) => {
      const y = M.top + i * rowH;
      const bw = (it.value / max) * pw;
      const bar = `<text x="${labelW - 6}" y="${y + 13}" text-anchor="end" fill="${it.href ? '#2f5da8' : '#333'}">${escapeXml(it.label)}</text><rect x="${labelW}" y="${y + 3}" width="${bw.toFixed(1)}" height="${rowH - 6}" fill="${escapeXml(it.color ?? PALETTE[0])}"/><text x="${(labelW + bw + 4).toFixed(1)}" y="${y + 13}" fill="#333">${fmt(it.value)}</text>`;
      return it.href ? `<a href="${escapeXml(it.href)}">${bar}</a>` : bar;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" font-family="system-ui, sans-serif" font-size="11" role="img" aria-label="${escapeXml(o.title)}"><rect width="${w}" height="${h}" fill="#fff"/><text x="${w / 2}" y="20" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(o.title)}</text>${rows}</svg>`;
}
