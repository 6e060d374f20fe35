import type { ScoringConfig } from '@trajgen/config';
import type { ImRow, ImScore } from '@trajgen/im';
import { deadPathIndex, diagnostics, editConcentration, stepScore, submissionCompleteness, testVerification } from './components';
import { hackFlags, pathologyFlags, type HackFlags, type Pathology } from './flags';
import { isTestFile } from './patterns';
import { buildTrace, type Trace } from './trace';

/**
 * TQS V2 (LegoFlow-Trace-Crafter's rule-based trajectory quality score, docs/rule_score_details.md): composite = Σ wᵢ·fᵢ(xᵢ) / Σ wᵢ over
 * the non-null components, with f = identity except FEC^a and DPI^b
 * (`scoring.exponents`, default 5 and 3). Scoring never filters; sub-agent
 * rows get `_score: null`.
 */

export const SCORING_VERSION = 'tqs-v2';
export const COMPONENTS = ['SUB', 'STP', 'TVR', 'FEC', 'DPI'] as const;
export type Component = (typeof COMPONENTS)[number];

/** The part of `scoring:` the score itself depends on. */
export type ScoreSettings = Pick<ScoringConfig, 'weights' | 'exponents' | 'step_curve'>;

export const DEFAULT_SCORE_SETTINGS: ScoreSettings = {
  weights: { submission: 0.33, steps: 0.27, tests: 0.23, edit_concentration: 0.1, dead_paths: 0.07 },
  exponents: { edit_concentration: 5, dead_paths: 3 },
  step_curve: { optimum_min: 5, optimum_max: 80, zero_at: 200 },
};

export interface ToolErrorStats {
  /** Observations (tool results; Terminus-2: terminal outputs after a reply). */
  observations: number;
  errored: number;
  /** Denominator of the rate: observations (Terminus-2: keystroke commands, as LegoFlow-Trace-Crafter does). */
  denominator: number;
  rate: number;
  by_severity: { explicit: number; hard: number; soft: number };
}

/** `_score` of a main-agent row. `components` are the raw values; `transformed` what enters the composite. */
export interface TqsScore extends ImScore {
  composite: number;
  components: Record<Component, number | null>;
  transformed: Record<Component, number | null>;
  weights: Record<Component, number>;
  version: typeof SCORING_VERSION;
  scaffold: Trace['scaffold'];
  scaffold_source: Trace['scaffoldSource'];
  assistant_turns: number;
  tool_calls: number;
  tool_error_rate: number;
  tool_errors: ToolErrorStats;
  details: {
    SUB: ReturnType<typeof submissionCompleteness>;
    TVR: ReturnType<typeof testVerification>;
    FEC: ReturnType<typeof editConcentration>;
    DPI: ReturnType<typeof deadPathIndex>;
  };
  diagnostics: ReturnType<typeof diagnostics>;
  hack_flags: HackFlags;
  pathology: Pathology[];
}

export interface RowAnalysis {
  trace: Trace;
  /** null for sub-agent rows. */
  score: TqsScore | null;
  hack: HackFlags;
  pathology: Pathology[];
  toolErrors: ToolErrorStats;
}

const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 1e6) / 1e6);
const roundDeep = <T>(o: T): T => {
  if (typeof o === 'number') return round(o) as T;
  if (Array.isArray(o)) return o.map(roundDeep) as T;
  if (o && typeof o === 'object') return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, roundDeep(v)])) as T;
  return o;
};

export function toolErrorStats(trace: Trace): ToolErrorStats {
  const by = { explicit: 0, hard: 0, soft: 0 };
  let errored = 0;
  for (const o of trace.observations) {
    if (!o.verdict.error) continue;
    errored++;
    by[o.verdict.severity!]++;
  }
  const denominator = trace.scaffold === 'terminus2' && trace.commands > 0 ? trace.commands : trace.observations.length;
  return { observations: trace.observations.length, errored, denominator, rate: denominator ? Math.min(1, errored / denominator) : 0, by_severity: by };
}

/** Σ wᵢ·tᵢ / Σ wᵢ over non-null components (0 when every weighted component is null). */
export function composite(transformed: Record<Component, number | null>, weights: Record<Component, number>): number {
  let num = 0;
  let den = 0;
  for (const c of COMPONENTS) {
    const v = transformed[c];
    if (v === null || !(weights[c] > 0)) continue;
    num += weights[c] * v;
    den += weights[c];
  }
  return den > 0 ? num / den : 0;
}

export function scoreTrace(trace: Trace, settings: ScoreSettings = DEFAULT_SCORE_SETTINGS): TqsScore {
  const sub = submissionCompleteness(trace);
  const stp = stepScore(trace.assistantTurns, settings.step_curve);
  const tvr = testVerification(trace, isTestFile);
  const fec = editConcentration(trace);
  const dpi = deadPathIndex(trace, sub.base);
  const components: Record<Component, number | null> = { SUB: sub.value, STP: stp, TVR: tvr.value, FEC: fec.value, DPI: dpi.value };
  const transformed: Record<Component, number | null> = {
    SUB: sub.value,
    STP: stp,
    TVR: tvr.value,
    FEC: fec.value === null ? null : fec.value ** settings.exponents.edit_concentration,
    DPI: dpi.value ** settings.exponents.dead_paths,
  };
  const w = settings.weights;
  const weights: Record<Component, number> = { SUB: w.submission, STP: w.steps, TVR: w.tests, FEC: w.edit_concentration, DPI: w.dead_paths };
  const errors = toolErrorStats(trace);
  const hack = hackFlags(trace);
  return roundDeep({
    composite: composite(transformed, weights),
    components,
    transformed,
    weights,
    version: SCORING_VERSION,
    scaffold: trace.scaffold,
    scaffold_source: trace.scaffoldSource,
    assistant_turns: trace.assistantTurns,
    tool_calls: trace.actions.length,
    tool_error_rate: errors.rate,
    tool_errors: errors,
    details: { SUB: sub, TVR: tvr, FEC: fec, DPI: dpi },
    diagnostics: diagnostics(trace),
    hack_flags: hack,
    pathology: pathologyFlags(trace),
  });
}

/** Analyse one IM row: trace, flags, tool errors, and the score (main rows only). */
export function analyseRow(row: ImRow, settings: ScoreSettings = DEFAULT_SCORE_SETTINGS): RowAnalysis {
  const trace = buildTrace(row);
  const isMain = row.meta_info?.unique_info?._agent_type !== 'subagent';
  const score = isMain ? scoreTrace(trace, settings) : null;
  return {
    trace,
    score,
    hack: score ? score.hack_flags : hackFlags(trace),
    pathology: score ? score.pathology : pathologyFlags(trace),
    toolErrors: score ? score.tool_errors : roundDeep(toolErrorStats(trace)),
  };
}
