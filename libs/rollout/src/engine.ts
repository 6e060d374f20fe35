import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RETRY_EXCLUDE_EXCEPTIONS, primaryReward, type TrialResult } from '@trajgen/harbor';
import { TRAJECTORY_FILES } from '@trajgen/ledger';

/** What both engines report for each FINAL trial of a task (retried attempts are not reported). */
export interface FinishedTrial {
  taskId: string;
  trialName: string;
  /** Absolute `<job>/<trial>`. */
  trialDir: string;
  result: TrialResult;
  /** Engine attempts this trial stands for (retries within the run included). */
  attempts: number;
}

export interface EngineEvents {
  onTrialStarted?(taskId: string, trialName: string): void;
  /** Called once per final trial, as it finishes; records it in the ledger (synchronously). */
  onTrialFinished(trial: FinishedTrial): void;
  /** A failed attempt that will be retried (kept under `.attempts/`). */
  onRetry?(taskId: string, trialName: string, exceptionType: string, attempt: number, keptAt: string): void;
  log(line: string): void;
  warn(line: string): void;
}

/** The raw trajectory of a trial dir: the proxy log first, else ATIF (the ledger's order). */
export function trajectoryFileOf(trialDir: string): string | undefined {
  for (const f of TRAJECTORY_FILES) {
    const p = join(trialDir, f);
    try {
      if (statSync(p).size > 0) return p;
    } catch {
      /* absent */
    }
  }
  return undefined;
}

/** The ledger's "done": a trajectory AND a verifier result (reward 1.0 and 0.0 alike). */
export function isUsableTrial(trialDir: string, result: Pick<TrialResult, 'verifier_result'>): boolean {
  const reward = primaryReward(result);
  return reward !== null && Number.isFinite(reward) && trajectoryFileOf(trialDir) !== undefined;
}

const NOT_RETRIED = new Set<string>([...DEFAULT_RETRY_EXCLUDE_EXCEPTIONS, 'CancelledError']);

/**
 * Retry within the run (Harbor's RetryConfig rule, src/harbor/trial/queue.py, with its full
 * default exclusions): an attempt with an exception that is not excluded is
 * retried — unless it already is a usable trial (trajectory + verifier result,
 * which the ledger counts as done), and only while attempts remain.
 */
export function shouldRetry(trialDir: string, result: TrialResult, attemptsMade: number, attemptsAllowed: number): boolean {
  if (attemptsMade >= attemptsAllowed) return false;
  const type = result.exception_info?.exception_type;
  // Like Harbor, only attempts with an exception are retried.
  if (!type) return false;
  if (NOT_RETRIED.has(type)) return false;
  return !isUsableTrial(trialDir, result);
}
