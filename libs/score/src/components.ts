import type { ScoringConfig } from '@trajgen/config';
import { TEST_OUTCOME_SCORE, isReproduceCommand, testOutcome, type TestOutcome } from './patterns';
import { parseTerminusReply, type Action, type Trace } from './trace';

/**
 * The TQS V2 components (LegoFlow-Trace-Crafter's rule_score.py: SUB, STP, TVR, FEC, DPI). Each takes a Trace and
 * returns its value in [0, 1] (FEC: null when nothing was edited) plus the
 * facts it was computed from, so a score can be explained and tested.
 */

const clip01 = (x: number) => Math.min(1, Math.max(0, x));

/** Ends cleanly: the scaffold's way of saying "done" (SUB's base). */
export function submissionBase(trace: Trace): { base: number; how: string } {
  const last = trace.lastAssistant;
  const lastHasCalls = !!last?.tool_calls?.length;
  switch (trace.scaffold) {
    case 'claudecode':
    case 'opencode':
      if (trace.lastRole === 'assistant' && !lastHasCalls) return { base: 1, how: 'final assistant reply without tool calls' };
      return { base: 0, how: trace.lastRole === 'tool' ? 'ends on a tool result' : 'ends without a final reply' };
    case 'openhands':
    case 'openhands_sdk': {
      const finalTurn = trace.assistantTurns - 1;
      if (trace.actions.some((a) => a.turn === finalTurn && a.kind === 'finish')) return { base: 1, how: 'finish call' };
      if (trace.lastRole === 'assistant' && !lastHasCalls) return { base: 0.5, how: 'final text-only reply' };
      return { base: 0, how: 'no finish call' };
    }
    case 'terminus2': {
      const lastTurn = trace.assistantTurns - 1;
      const complete = lastHasCalls
        ? trace.actions.some((a) => a.turn === lastTurn && a.kind === 'finish')
        : last !== undefined && parseTerminusReply(typeof last.content === 'string' ? last.content : '').taskComplete;
      return complete ? { base: 1, how: 'task_complete: true' } : { base: 0, how: 'no task_complete' };
    }
  }
}

export interface SubResult {
  value: number;
  base: number;
  how: string;
  /** Error-free share of the last 30% of observations (1 when there are none). */
  error_free_tail: number;
  /** A test ran in the last 20% of assistant turns. */
  late_test: boolean;
}

/** SUB = min(1, base × (0.7 + 0.3 × error-free share of the last 30% of observations) + 0.15 × late test). */
export function submissionCompleteness(trace: Trace): SubResult {
  const { base, how } = submissionBase(trace);
  const n = trace.observations.length;
  let errorFree = 1;
  if (n > 0) {
    const k = Math.max(1, Math.ceil(0.3 * n));
    const tail = trace.observations.slice(n - k);
    errorFree = tail.filter((o) => !o.verdict.error).length / k;
  }
  const T = trace.assistantTurns;
  const lastTurns = Math.max(1, Math.ceil(0.2 * T));
  const lateTest = T > 0 && trace.actions.some((a) => a.isTest && a.turn >= T - lastTurns);
  return { value: Math.min(1, base * (0.7 + 0.3 * errorFree) + (lateTest ? 0.15 : 0)), base, how, error_free_tail: errorFree, late_test: lateTest };
}

/**
 * STP from the assistant-turn count: turns/optimum_min below the optimum, 1.0
 * within [optimum_min, optimum_max], 0 at or above zero_at, and between them a
 * concave decay ((zero_at − turns)/(zero_at − optimum_max))^1.5 — the shape of
 * LegoFlow-Trace-Crafter's earlier code ("linear term decayed to the power 1.5").
 */
export function stepScore(turns: number, curve: ScoringConfig['step_curve']): number {
  if (turns <= 0) return 0;
  if (turns < curve.optimum_min) return turns / curve.optimum_min;
  if (turns <= curve.optimum_max) return 1;
  if (turns >= curve.zero_at) return 0;
  return ((curve.zero_at - turns) / (curve.zero_at - curve.optimum_max)) ** 1.5;
}

export interface TvrResult {
  value: number;
  wrote_test: boolean;
  ran_test: boolean;
  last_test_outcome: TestOutcome | 'none';
}

/** TVR = 0.3·wrote a test file + 0.3·ran a test + 0.4·last test outcome (1.0 pass, 0.6 inconclusive, 0.3 fail, 0 none). */
export function testVerification(trace: Trace, isTestFile: (p: string) => boolean): TvrResult {
  const wrote = trace.actions.some((a) => a.edits.some((e) => e.path !== '' && isTestFile(e.path)));
  const tests = trace.actions.filter((a) => a.isTest);
  const last = tests[tests.length - 1];
  const outcome: TestOutcome | 'none' = last ? testOutcome(last.observation !== undefined ? trace.observations[last.observation].text : undefined) : 'none';
  return {
    value: 0.3 * (wrote ? 1 : 0) + 0.3 * (tests.length ? 1 : 0) + 0.4 * TEST_OUTCOME_SCORE[outcome],
    wrote_test: wrote,
    ran_test: tests.length > 0,
    last_test_outcome: outcome,
  };
}

export interface FecResult {
  value: number | null;
  edits: number;
  files: number;
}

/**
 * FEC = 1 − clip((edits per edited file − 1) / 4, 0, 1); null when nothing was
 * edited. Edits = edit-tool calls (create, str_replace, insert, write, patch)
 * and shell writes, one per file touched; writes with an unknown target
 * (`patch < x.diff`) count as edits of one unnamed file.
 */
export function editConcentration(trace: Trace): FecResult {
  let edits = 0;
  const files = new Set<string>();
  for (const a of trace.actions) {
    for (const e of a.edits) {
      edits++;
      files.add(e.path);
    }
  }
  if (edits === 0) return { value: null, edits: 0, files: 0 };
  return { value: 1 - clip01((edits / files.size - 1) / 4), edits, files: files.size };
}

export interface DpiResult {
  value: number;
  no_successful_write: boolean;
  not_clean_end: boolean;
  loop_fraction: number;
  repeated_error_rate: number;
}

/** Fraction of actions inside runs of ≥ 5 consecutive actions with the same tool and the same non-empty target file. */
export function loopFraction(actions: readonly Action[]): number {
  if (!actions.length) return 0;
  let inLoops = 0;
  let runStart = 0;
  for (let i = 1; i <= actions.length; i++) {
    const same = i < actions.length && actions[i].target !== '' && actions[i].canon === actions[runStart].canon && actions[i].target === actions[runStart].target;
    if (!same) {
      if (i - runStart >= 5 && actions[runStart].target !== '') inLoops += i - runStart;
      runStart = i;
    }
  }
  return inLoops / actions.length;
}

/** Error observations whose previous observation is also an error with the same first 80 characters, over all observations. */
export function repeatedErrorRate(trace: Trace): number {
  const obs = trace.observations;
  if (!obs.length) return 0;
  let repeated = 0;
  for (let i = 1; i < obs.length; i++) {
    if (obs[i].verdict.error && obs[i - 1].verdict.error && obs[i].text.slice(0, 80) === obs[i - 1].text.slice(0, 80)) repeated++;
  }
  return repeated / obs.length;
}

/**
 * DPI = 1 − (0.40 if no successful write + 0.40 if not cleanly ended +
 * min(0.30, 3 × loop fraction) + min(0.30, 0.6 × repeated-error rate)),
 * clipped to [0, 1]. A write is successful when its result is not an error
 * (a write with no result does not count); "cleanly ended" = SUB's base > 0.
 */
export function deadPathIndex(trace: Trace, subBase: number): DpiResult {
  const successfulWrite = trace.actions.some(
    (a) => a.edits.length > 0 && a.observation !== undefined && !trace.observations[a.observation].verdict.error,
  );
  const loops = loopFraction(trace.actions);
  const repeated = repeatedErrorRate(trace);
  const penalty = (successfulWrite ? 0 : 0.4) + (subBase > 0 ? 0 : 0.4) + Math.min(0.3, 3 * loops) + Math.min(0.3, 0.6 * repeated);
  return { value: clip01(1 - penalty), no_successful_write: !successfulWrite, not_clean_end: subBase <= 0, loop_fraction: loops, repeated_error_rate: repeated };
}

// ------------------------------------------------------------ zero-weight diagnostics
const ACTION_TYPES = ['explore', 'edit', 'test', 'exec', 'think', 'finish', 'other'] as const;
const actionType = (a: Action): (typeof ACTION_TYPES)[number] =>
  a.kind === 'edit' || (a.kind === 'exec' && a.edits.length > 0)
    ? 'edit'
    : a.isTest
      ? 'test'
      : a.kind === 'exec'
        ? 'exec'
        : a.kind === 'view' || a.kind === 'search'
          ? 'explore'
          : a.kind === 'think' || a.kind === 'plan'
            ? 'think'
            : a.kind === 'finish'
              ? 'finish'
              : 'other';

export interface Diagnostics {
  /** SCP: position of the first successful write as a share of turns; 1 inside 20–50 %, falling linearly to 0 at 0 % and 100 %; null without a write. */
  SCP: number | null;
  /** TTE: entropy of transitions between 7 action types, normalised to [0, 1]; null with < 2 actions. */
  TTE: number | null;
  /** A reproduce script ran before the first successful write. */
  reproduce_first: boolean;
}

/** A few of TQS V2's zero-weight diagnostics (SCP, TTE, reproduce_first); they never enter the composite. */
export function diagnostics(trace: Trace): Diagnostics {
  const firstWrite = trace.actions.find((a) => a.edits.length > 0 && a.observation !== undefined && !trace.observations[a.observation].verdict.error);
  let scp: number | null = null;
  if (firstWrite && trace.assistantTurns > 0) {
    const pos = trace.assistantTurns === 1 ? 0 : firstWrite.turn / (trace.assistantTurns - 1);
    scp = pos < 0.2 ? pos / 0.2 : pos <= 0.5 ? 1 : clip01((1 - pos) / 0.5);
  }
  let tte: number | null = null;
  if (trace.actions.length >= 2) {
    const counts = new Map<string, number>();
    for (let i = 1; i < trace.actions.length; i++) {
      const key = `${actionType(trace.actions[i - 1])}>${actionType(trace.actions[i])}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const total = trace.actions.length - 1;
    let h = 0;
    for (const c of counts.values()) h -= (c / total) * Math.log2(c / total);
    tte = h / Math.log2(ACTION_TYPES.length ** 2);
  }
  const writeIndex = firstWrite ? trace.actions.indexOf(firstWrite) : trace.actions.length;
  const reproduceFirst = trace.actions.slice(0, writeIndex).some((a) => a.kind === 'exec' && !!a.command && isReproduceCommand(a.command));
  return { SCP: scp, TTE: tte, reproduce_first: reproduceFirst };
}
