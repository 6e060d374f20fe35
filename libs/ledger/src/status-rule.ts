import type { HistoryItem, LedgerEntry, TrialOutcome } from './types';

export const AGENT_TIMEOUT_ERROR = 'AgentTimeoutError';
export const CANCELLED_ERROR = 'CancelledError';

export interface RuleContext {
  /** rollout.max_retries: attempts allowed after the first infrastructure failure, across runs. */
  maxRetries: number;
  /** ISO time stamped on history items. */
  at: string;
  /** Who records it: "rollout", "reconcile", "adopt". */
  by: string;
  /**
   * ledger.resample_unresolved: a verified but unresolved trial (reward < 1)
   * sends the task back to pending while it has had fewer than
   * `resampleMaxAttempts` attempts (ledger.max_attempts). Off when unset.
   */
  resampleMaxAttempts?: number;
}

/** Resolved = the verifier's primary reward is 1.0 (convert's `instance_status: resolved`). */
export const isResolved = (reward: number) => reward >= 1;

/**
 * THE status rule: the entry a task has after one finished trial.
 *
 * Let `n` = outcome.attempts (default 1: engine attempts this trial stands for).
 *
 * 1. Trajectory AND verifier result (a finite reward; 1.0 and 0.0 alike),
 *    whatever the exception (an agent timeout or non-zero exit still verified):
 *    → done, attempts += n.
 * 2. CancelledError without (1): the run was cancelled, not the task's fault
 *    → pending, attempts unchanged (not an attempt).
 * 3. AgentTimeoutError without (1) → failed, attempts += n. Agent timeouts are
 *    never retried: the task is too slow for the budget.
 * 4. Anything else (another exception, or no verifier result, or no
 *    trajectory) is an infrastructure failure: attempts += n; then
 *    attempts > max_retries → failed, otherwise → pending (handed out again
 *    by a later claim). So a task gets at most 1 + max_retries attempts,
 *    counted across runs and within them.
 *
 * With ledger.resample_unresolved (ctx.resampleMaxAttempts = N), (1) with a
 * reward < 1 and fewer than N attempts so far → pending, attempts += n, the
 * trial retired (its data is kept; the task is sampled again).
 *
 * Pure: returns a new entry, never mutates `prev`.
 */
export function applyTrialOutcome(prev: LedgerEntry, outcome: TrialOutcome, ctx: RuleContext): LedgerEntry {
  const n = Math.max(1, Math.trunc(outcome.attempts ?? 1));
  const reward = typeof outcome.reward === 'number' && Number.isFinite(outcome.reward) ? outcome.reward : null;
  const trajectory = outcome.trajectory_path ? outcome.trajectory_path : null;
  const exception = outcome.exception_type ?? null;
  const base: LedgerEntry = {
    ...prev,
    job: outcome.job,
    trial: outcome.trial,
    reward,
    trajectory_path: trajectory,
    trajectory_digest: trajectory ? (outcome.trajectory_digest ?? null) : null,
    started_at: outcome.started_at ?? prev.started_at ?? null,
    finished_at: outcome.finished_at ?? null,
    exception_type: exception,
  };
  const withHistory = (entry: LedgerEntry, note: string): LedgerEntry => {
    const item: HistoryItem = { at: ctx.at, change: `${prev.status} → ${entry.status}`, note, by: ctx.by };
    return { ...entry, note, history: [...prev.history, item] };
  };

  if (reward !== null && trajectory !== null) {
    const max = ctx.resampleMaxAttempts ?? 0;
    if (!isResolved(reward) && prev.attempts + n < max) {
      // The trial stays on disk and in the data; it is retired so that reconcile never adopts it back.
      return withHistory(
        { ...base, status: 'pending', attempts: prev.attempts + n },
        `unresolved (reward ${reward}): sampled again, attempt ${prev.attempts + n} of ${max} (ledger.resample_unresolved); retired trial ${outcome.job}/${outcome.trial}`,
      );
    }
    return { ...base, status: 'done', attempts: prev.attempts + n, note: exception ? `${exception}; the verifier still ran` : null };
  }
  if (exception === CANCELLED_ERROR) {
    return withHistory({ ...base, status: 'pending', attempts: prev.attempts }, `cancelled in ${outcome.job} before a result; not counted as an attempt`);
  }
  const attempts = prev.attempts + n;
  const missing = reward === null ? 'no verifier result' : 'no trajectory';
  if (exception === AGENT_TIMEOUT_ERROR) {
    return withHistory({ ...base, status: 'failed', attempts }, `${AGENT_TIMEOUT_ERROR} with ${missing}; agent timeouts are never retried`);
  }
  const reason = exception ? `${exception} (${missing})` : missing;
  if (attempts > ctx.maxRetries) {
    return withHistory({ ...base, status: 'failed', attempts }, `${reason}; ${attempts} attempt${attempts === 1 ? '' : 's'} used, max_retries ${ctx.maxRetries}`);
  }
  return withHistory(
    { ...base, status: 'pending', attempts },
    `${reason}; attempt ${attempts} of ${ctx.maxRetries + 1}, handed out again by the next claim`,
  );
}
