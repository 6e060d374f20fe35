import { TERMINAL_STATUSES, type AnyLedger, type LedgerStatus } from '@trajgen/ledger';
import { findResumableHarborJob, type ResumableHarborJob } from './harbor-engine';
import type { RunRecord } from './outputs';
import { loadTask, type BatchFileLike, type TaskToRun } from './tasks';

/**
 * Claiming the batch (docs/rollout.md): the batch capped at rollout.n_tasks,
 * minus what the ledger refuses, loaded, then claimed in the ledger — the
 * exactly-once gate. A shared (PostgreSQL) ledger with the local engine hands
 * tasks out a few at a time, so machines rolling out one pipeline split the
 * work; the claim then grows chunk by chunk (`nextSharedChunk`).
 */

export type Refusal = RunRecord['batch']['refused'][number];

export interface BatchClaim {
  /** The batch's tasks this run may run (capped, minus refused), loaded before the claim so a broken task claims nothing. */
  loaded: Map<string, TaskToRun>;
  /** Claimed ids in claim order (a shared ledger appends each chunk). */
  claimed: string[];
  claimedSet: Set<string>;
  /** The attempts the ledger held for each claimed task when it was claimed. */
  attemptsUsed: Map<string, number>;
  /** Shared ledger with the local engine: a task another machine is running stays in view; it may come back here. */
  waitsForOthers: boolean;
}

/** rollout.n_tasks applied to the batch: the tasks wanted now, and how many are left for a later run. */
export function capBatch(tasks: BatchFileLike['tasks'], nTasks: number | null): { wanted: BatchFileLike['tasks']; cappedBy: number } {
  if (nTasks !== null && tasks.length > nTasks) return { wanted: tasks.slice(0, nTasks), cappedBy: tasks.length - nTasks };
  return { wanted: tasks, cappedBy: 0 };
}

/** The wanted tasks the ledger refuses: any not pending; when waiting for others, only finished ones. */
export function refusedTasks(wanted: BatchFileLike['tasks'], ledger: AnyLedger, waitsForOthers: boolean): Refusal[] {
  const refusable = (st: string) => (waitsForOthers ? TERMINAL_STATUSES.has(st as LedgerStatus) : st !== 'pending');
  return wanted.filter((t) => ledger.has(t.id) && refusable(ledger.get(t.id)!.status)).map((t) => ({ id: t.id, status: ledger.get(t.id)!.status }));
}

/** The tasks to claim, loaded BEFORE the claim so a broken task claims nothing. */
export function loadUnrefused(workspaceRoot: string, wanted: BatchFileLike['tasks'], refused: Refusal[]): Map<string, TaskToRun> {
  const refusedIds = new Set(refused.map((x) => x.id));
  const loaded = new Map<string, TaskToRun>();
  for (const t of wanted) if (!refusedIds.has(t.id)) loaded.set(t.id, loadTask(workspaceRoot, t));
  return loaded;
}

/**
 * A killed rollout's Harbor job whose unfinished tasks are exactly what the ledger hands out now: Harbor
 * finishes it. The candidates are the pending tasks' last jobs: reconcile (in prepare, or at open) returned
 * them from a killed job and kept its name.
 */
export function resumableHarborJob(jobsDir: string, logsRoot: string, loaded: Map<string, TaskToRun>, ledger: AnyLedger, log: (line: string) => void): ResumableHarborJob | undefined {
  const candidate = findResumableHarborJob(jobsDir, logsRoot, [...loaded.keys()].map((id) => ledger.get(id)?.job ?? null));
  const now = [...loaded.keys()].sort();
  if (candidate && candidate.remaining.length && JSON.stringify([...candidate.remaining].sort()) === JSON.stringify(now)) return candidate;
  if (candidate) log(`not resuming Harbor job ${candidate.job}: its unfinished tasks (${candidate.remaining.join(', ') || 'none'}) are not what the ledger hands out now (${now.join(', ')}); a new job runs them`);
  return undefined;
}

/**
 * Claim the loaded tasks for `job` (with a shared ledger only the first chunk). What the ledger refuses at
 * the claim joins `refused` (the whole-batch claim only: a chunked claim leaves the rest for later chunks).
 */
export async function claimBatch(ledger: AnyLedger, loaded: Map<string, TaskToRun>, job: string, o: { waitsForOthers: boolean; nConcurrent: number; refused: Refusal[] }): Promise<BatchClaim> {
  const chunk = o.waitsForOthers ? o.nConcurrent : undefined;
  const claimed = await ledger.claim([...loaded.keys()], { job, limit: chunk });
  const claimedSet = new Set(claimed);
  if (chunk === undefined) for (const id of loaded.keys()) if (!claimedSet.has(id)) o.refused.push({ id, status: ledger.get(id)?.status ?? 'unknown' });
  const attemptsUsed = new Map(claimed.map((id) => [id, ledger.get(id)?.attempts ?? 0]));
  return { loaded, claimed, claimedSet, attemptsUsed, waitsForOthers: o.waitsForOthers };
}

/** The retries the ledger still allows a claimed task (rollout.max_retries less the attempts it held when claimed). */
export function retriesLeft(claim: BatchClaim, maxRetries: number, id: string): number {
  return Math.max(0, maxRetries - (claim.attemptsUsed.get(id) ?? 0));
}

/** Shared ledger: tasks of the batch another machine holds now; they may come back here when its lease expires. */
export function heldElsewhere(claim: BatchClaim, ledger: AnyLedger): string[] {
  return claim.waitsForOthers ? [...claim.loaded.keys()].filter((id) => ledger.status(id) === 'running' && !claim.claimedSet.has(id)) : [];
}

/**
 * Shared ledger: the next few tasks of the batch this machine can claim. When none is pending but
 * another machine still holds some, wait: they finish there, or their lease expires, reconcile here
 * returns them to pending (or finalizes them from their trial on shared storage) and we take them.
 */
export async function nextSharedChunk(claim: BatchClaim, ledger: AnyLedger, o: { job: string; nConcurrent: number; leaseSec: number; signal: AbortSignal; log: (line: string) => void }): Promise<string[]> {
  const pollMs = Math.max(100, Math.min(5000, (o.leaseSec * 1000) / 4));
  for (;;) {
    if (o.signal.aborted) return [];
    const report = await ledger.reconcile();
    const back = report.returned.length + report.finalized.length;
    if (back) o.log(`shared ledger: ${back} task${back === 1 ? '' : 's'} of an expired lease reconciled (${[...report.returned, ...report.finalized].map((i) => `${i.id} → ${i.to}`).join(', ')})`);
    const ids = await ledger.claim([...claim.loaded.keys()], { job: o.job, limit: o.nConcurrent });
    for (const id of ids) {
      claim.claimed.push(id);
      claim.claimedSet.add(id);
      claim.attemptsUsed.set(id, ledger.get(id)?.attempts ?? 0);
    }
    if (ids.length) return ids;
    const waiting = heldElsewhere(claim, ledger);
    if (waiting.length === 0) return [];
    o.log(`shared ledger: waiting for ${waiting.length} task${waiting.length === 1 ? '' : 's'} another machine holds (${waiting.slice(0, 5).join(', ')}${waiting.length > 5 ? ', …' : ''}): they finish there or come back here when the lease expires`);
    await new Promise((res) => setTimeout(res, pollMs));
  }
}
