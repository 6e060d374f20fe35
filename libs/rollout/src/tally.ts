import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { sha256 } from '@trajgen/core';
import { primaryReward } from '@trajgen/harbor';
import type { AnyLedger } from '@trajgen/ledger';
import { TRAJECTORY_FILE, type Prices } from '@trajgen/proxy';
import { trajectoryFileOf, type FinishedTrial } from './engine';
import type { RunRecord } from './outputs';
import type { Progress } from './progress';
import { usageOfFile, type TrialUsage } from './usage';

/** What run.json counts of the trials, filled in as they finish. */
export interface Tally {
  counts: RunRecord['counts'];
  tokens: RunRecord['tokens'];
  cost: number;
  trials: RunRecord['trials'];
}

export function emptyTally(): Tally {
  return {
    counts: { trials: 0, retried_attempts: 0, reward_1: 0, reward_0: 0, no_reward: 0, by_exception: {}, by_status: {}, not_started: 0 },
    tokens: { input: 0, cache: 0, output: 0 },
    cost: 0,
    trials: [],
  };
}

export interface TrialRecording {
  ledger: AnyLedger;
  job: string;
  workspaceRoot: string;
  prices: Prices;
  tally: Tally;
  progress: Progress;
}

/** Recorded AS IT ARRIVES: one durable journal append (or one database transaction) per trial, then counted and shown. */
export async function recordFinishedTrial(t: FinishedTrial, to: TrialRecording): Promise<void> {
  const trajectory = trajectoryFileOf(t.trialDir);
  const reward = primaryReward(t.result);
  const exceptionType = t.result.exception_info?.exception_type ?? null;
  const rec = await to.ledger.recordTrialOutcome(t.taskId, {
    job: to.job,
    trial: t.trialName,
    reward,
    trajectory_path: trajectory ? relative(to.workspaceRoot, trajectory) || '.' : null,
    trajectory_digest: trajectory ? `sha256:${sha256(readFileSync(trajectory))}` : null,
    exception_type: exceptionType,
    started_at: t.result.started_at,
    finished_at: t.result.finished_at,
    attempts: t.attempts,
  });
  const usage = usageOfFile(join(t.trialDir, 'agent', TRAJECTORY_FILE), to.prices);
  countTrial(to.tally, t, { reward, exceptionType, status: rec.status, usage });
  const ar = t.result.agent_result;
  const started = Date.parse(t.result.started_at ?? '') || Date.now();
  const ended = Date.parse(t.result.finished_at ?? '') || Date.now();
  to.progress.trialFinished({
    task: t.taskId,
    trial: t.trialName,
    reward,
    exception: exceptionType,
    requests: usage.requests,
    failed: usage.failed,
    input_tokens: ar?.n_input_tokens ?? usage.input_tokens,
    output_tokens: ar?.n_output_tokens ?? usage.output_tokens,
    cost_usd: ar?.cost_usd ?? usage.cost_usd,
    duration_ms: ended - started,
    attempts: t.attempts,
    status: rec.status,
  });
}

function countTrial(tally: Tally, t: FinishedTrial, o: { reward: number | null; exceptionType: string | null; status: string; usage: TrialUsage }): void {
  const { counts, tokens } = tally;
  const ar = t.result.agent_result;
  tokens.input += ar?.n_input_tokens ?? 0;
  tokens.cache += ar?.n_cache_tokens ?? 0;
  tokens.output += ar?.n_output_tokens ?? 0;
  tally.cost += ar?.cost_usd ?? 0;
  counts.trials += 1;
  if (o.reward === null) counts.no_reward += 1;
  else if (o.reward >= 1) counts.reward_1 += 1;
  else if (o.reward === 0) counts.reward_0 += 1;
  if (o.exceptionType) counts.by_exception[o.exceptionType] = (counts.by_exception[o.exceptionType] ?? 0) + 1;
  counts.by_status[o.status] = (counts.by_status[o.status] ?? 0) + 1;
  tally.trials.push({ task_id: t.taskId, trial: t.trialName, reward: o.reward, exception_type: o.exceptionType, status: o.status, attempts: t.attempts, requests: o.usage.requests, failed_requests: o.usage.failed });
}
