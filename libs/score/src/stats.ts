import { barChartSvg, histogramSvg } from '@trajgen/charts';

/** Running min/mean/max without keeping the values. */
export class Summary {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  add(v: number): void {
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  toJSON(): { count: number; min: number | null; mean: number | null; max: number | null } {
    if (!this.count) return { count: 0, min: null, mean: null, max: null };
    return { count: this.count, min: r6(this.min), mean: r6(this.sum / this.count), max: r6(this.max) };
  }
}

export const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

export interface PlotInput {
  dataName: string;
  scores: number[];
  turns: number[];
  tokens: number[];
  exclusions: Record<string, number>;
}

/** The stage's plots: file suffix → SVG text. */
export function plots(input: PlotInput): Record<string, string> {
  const range = (v: number[]) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of v) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    return v.length ? { min: lo, max: hi } : {};
  };
  return {
    scores: histogramSvg(input.scores, { title: `${input.dataName}: TQS V2 composite (main rows)`, xLabel: 'score', yLabel: 'rows', min: 0, max: 1, bins: 20 }),
    turns: histogramSvg(input.turns, { title: `${input.dataName}: assistant turns (LF rows)`, xLabel: 'assistant turns', yLabel: 'rows', bins: 20, ...range(input.turns) }),
    tokens: histogramSvg(input.tokens, {
      title: `${input.dataName}: estimated tokens (LF rows)`,
      xLabel: 'tokens (chars / 4)',
      yLabel: 'rows',
      bins: 20,
      ...range(input.tokens),
    }),
    exclusions: barChartSvg(
      Object.entries(input.exclusions).map(([label, value]) => ({ label, value })),
      { title: `${input.dataName}: rows excluded from LF, by reason` },
    ),
  };
}
