import { basename, join } from 'node:path';
import { subdirNames } from '@trajgen/core';
import type { PipelinePaths } from '@trajgen/config';
import { ContractError, readTrialsFile, type TrialsIndex } from '@trajgen/contracts';
import { applyTrialOutcome, type RuleContext } from './status-rule';
import { scanJobs, scanTrialDir, taskOfTrial, TRAJECTORY_FILES } from './jobs-scan';
import { taskIdProblem } from './task-id';
import { TERMINAL_STATUSES, emptyEntry, type LedgerEntry, type LedgerStatus, type ReconcileItem, type ReconcileReport, type TrialOutcome } from './types';

/** What reconcile reads of the ledger. */
export interface EntryLookup {
  statuses(): Iterable<[string, LedgerStatus]>;
  get(id: string): LedgerEntry | undefined;
}

/**
 * Reconcile: bring `running` entries in line with what is on disk, and adopt
 * finished trials the ledger does not know (rollout/trials.json).
 *
 * Only the few fields of Harbor's TrialResult (`<trial>/result.json`) that
 * the status rule needs are read here, so the ledger does not depend on
 * @trajgen/harbor.
 */

/** Harbor's trial-name prefix for a task: its name cut to 32 chars, trailing `_`/`-` stripped. */
export function trialPrefix(taskId: string): string {
  return taskId.slice(0, 32).replace(/[-_]+$/, '');
}

interface TrialOnDisk {
  trial: string;
  /** Present only when the trial finished (result.json, or a verifier that finished before a kill). */
  outcome?: TrialOutcome;
}

/** The trial dirs of one job that belong to `taskId`. */
function trialsOfTask(paths: PipelinePaths, job: string, names: string[], taskId: string): TrialOnDisk[] {
  const jobDir = join(paths.jobs, job);
  const prefix = trialPrefix(taskId) + '__';
  const out: TrialOnDisk[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) && name !== taskId) continue;
    const dir = join(jobDir, name);
    const scanned = scanTrialDir(paths.workspaceRoot, job, name, dir);
    // Two tasks can share a 32-char prefix: trust the task path when there is one.
    const owner = scanned?.task_id ?? taskOfTrial(dir, undefined);
    if (owner !== undefined && owner !== taskId) continue;
    out.push({ trial: name, outcome: scanned?.outcome });
  }
  return out;
}

export interface ReconcileContext {
  paths: PipelinePaths;
  /** The status rule's settings (max_retries, resampling). */
  rule: Omit<RuleContext, 'at' | 'by'>;
  at: string;
}

/** The plan being built: new entries by task id, and what the report says about each. */
interface ReconcilePlan {
  changes: Map<string, LedgerEntry>;
  report: ReconcileReport;
}

/**
 * Compute the changes reconcile makes. Pure with respect to the ledger (reads
 * the disk, returns new entries); the caller commits them in one journal record.
 */
export function planReconcile(entries: EntryLookup, ctx: ReconcileContext): { changes: Map<string, LedgerEntry>; report: ReconcileReport } {
  const plan: ReconcilePlan = { changes: new Map(), report: { finalized: [], returned: [], adopted: [] } };
  // 1. running entries vs trial dirs of their job.
  for (const [job, ids] of runningByJob(entries)) settleRunning(job, ids, entries, ctx, plan);
  // 2. finished trials the ledger lacks.
  adoptFinishedTrials(entries, ctx, plan);
  return plan;
}

/** The running entries grouped by their job ('' for none or an unusable one). */
function runningByJob(entries: EntryLookup): Map<string, string[]> {
  const byJob = new Map<string, string[]>();
  for (const [id, status] of entries.statuses()) {
    if (status !== 'running') continue;
    const e = entries.get(id)!;
    const job = e.job && !taskIdProblem(e.job) ? e.job : '';
    const list = byJob.get(job) ?? [];
    list.push(id);
    byJob.set(job, list);
  }
  return byJob;
}

const reconcileItem = (id: string, from: LedgerEntry, to: LedgerEntry, why: string): ReconcileItem => ({ id, job: to.job, trial: to.trial, from: from.status, to: to.status, why });

/** A job's running entries: finalized from their finished trial, or back to pending when there is none. */
function settleRunning(job: string, ids: string[], entries: EntryLookup, ctx: ReconcileContext, plan: ReconcilePlan): void {
  const backToPending = (id: string, e: LedgerEntry, why: string) => {
    const next: LedgerEntry = {
      ...e,
      status: 'pending',
      trial: null,
      note: why,
      history: [...e.history, { at: ctx.at, change: 'running → pending', note: why, by: 'reconcile' }],
    };
    plan.changes.set(id, next);
    plan.report.returned.push(reconcileItem(id, e, next, why));
  };
  const names = job ? subdirNames(join(ctx.paths.jobs, job)) : [];
  for (const id of ids) {
    const e = entries.get(id)!;
    if (!job) {
      backToPending(id, e, 'was running with no job recorded; back to pending');
      continue;
    }
    const finished = trialsOfTask(ctx.paths, job, names, id).filter((t) => t.outcome !== undefined);
    if (finished.length === 0) {
      backToPending(id, e, `interrupted: no complete trial result for it in jobs/${job}; back to pending (not counted as an attempt)`);
      continue;
    }
    const outcomes = finished.map((t) => t.outcome!);
    // A trial with a trajectory and a verifier result wins; otherwise the latest to finish.
    outcomes.sort((a, b) => String(a.finished_at ?? '').localeCompare(String(b.finished_at ?? '')));
    const good = outcomes.filter((o) => o.reward !== null && o.trajectory_path !== null);
    const chosen = good.length > 0 ? good[good.length - 1] : outcomes[outcomes.length - 1];
    const next = applyTrialOutcome(e, chosen, { ...ctx.rule, at: ctx.at, by: 'reconcile' });
    plan.changes.set(id, next);
    plan.report.finalized.push(reconcileItem(id, e, next, `trial ${chosen.trial} finished (${chosen.reward === null ? 'no verifier result' : `reward ${chosen.reward}`}${chosen.exception_type ? `, ${chosen.exception_type}` : ''})`));
  }
}

/**
 * Adopt finished trials the ledger lacks: those rollout/trials.json lists (a
 * clone whose rollout outputs came from the Nx cache) and every finished trial
 * under jobs/ (the ground truth).
 */
function adoptFinishedTrials(entries: EntryLookup, ctx: ReconcileContext, plan: ReconcilePlan): void {
  const found = new Map<string, Map<string, Candidate>>();
  const add = (id: string, o: TrialOutcome, source: Candidate['source']) => {
    let m = found.get(id);
    if (!m) found.set(id, (m = new Map()));
    const key = `${o.job}/${o.trial}`;
    // The trial dir itself beats the index's copy of it.
    if (!m.has(key) || source !== 'rollout/trials.json') m.set(key, { outcome: o, source });
  };
  for (const [id, o] of trialsIndexOutcomes(ctx.paths)) add(id, o, 'rollout/trials.json');
  for (const [id, list] of scanJobs(ctx.paths)) for (const s of list) add(id, s.outcome, s.from === 'verifier' ? 'verifier' : 'jobs');
  for (const [id, candidates] of found) {
    const e = plan.changes.get(id) ?? entries.get(id);
    if (e && (TERMINAL_STATUSES.has(e.status) || e.status === 'running')) continue;
    const planned = planAdoption(e, [...candidates.values()], ctx);
    if (!planned) continue;
    const note = `adopted: ${planned.why}`;
    const next = { ...planned.entry, history: [...planned.entry.history, { at: ctx.at, change: `${e ? e.status : '(none)'} → ${planned.entry.status}`, note, by: 'adopt' }] };
    plan.changes.set(id, next);
    plan.report.adopted.push({ id, job: next.job, trial: next.trial, from: e ? e.status : null, to: next.status, why: planned.why });
  }
}

interface Candidate {
  outcome: TrialOutcome;
  source: 'rollout/trials.json' | 'jobs' | 'verifier';
}

/** Actors that are code, not people (HistoryItem.by). */
const CODE_ACTORS = new Set(['rollout', 'reconcile', 'adopt', 'excluded_tasks.txt', 'resample']);

/** `job/trial` of trials an entry gave up on purpose (a person's reset of a done task, a resample): never adopted again. */
export function retiredTrials(e: LedgerEntry): Set<string> {
  const out = new Set<string>();
  for (const h of e.history) for (const m of h.note.matchAll(/retired trial ([^\s/;,()]+\/[^\s;,()]+)/g)) out.add(m[1]);
  return out;
}

/** A person returned this task to pending: the trials it had before are not adopted back (only new results count). */
function resetByPerson(e: LedgerEntry): boolean {
  return e.history.some((h) => h.change.endsWith('→ pending') && !CODE_ACTORS.has(h.by));
}

const hasResult = (o: TrialOutcome) => o.reward !== null && o.trajectory_path !== null;

/**
 * What adopting a task's finished trials makes of its entry. Trials with a
 * verifier result are always adopted (a finished trial is never paid for
 * again, whatever the ledger lost) unless already counted or retired; trials
 * without one only into an entry nobody touched yet (their attempts were
 * never counted). Trials fold in the order they finished, through the status
 * rule, until the entry is terminal.
 */
function planAdoption(e: LedgerEntry | undefined, candidates: Candidate[], ctx: ReconcileContext): { entry: LedgerEntry; why: string } | undefined {
  const retired = e ? retiredTrials(e) : new Set<string>();
  const fresh = candidates
    .filter((c) => !(e && e.job === c.outcome.job && e.trial === c.outcome.trial) && !retired.has(`${c.outcome.job}/${c.outcome.trial}`))
    .sort((a, b) => String(a.outcome.finished_at ?? '').localeCompare(String(b.outcome.finished_at ?? '')) || `${a.outcome.job}/${a.outcome.trial}`.localeCompare(`${b.outcome.job}/${b.outcome.trial}`));
  const untouched = !e || (e.status === 'pending' && e.attempts === 0 && e.job === null && !resetByPerson(e));
  const usable = untouched ? fresh : fresh.filter((c) => hasResult(c.outcome));
  if (usable.length === 0) return undefined;
  let acc = e ?? emptyEntry();
  const used: Candidate[] = [];
  for (const c of usable) {
    acc = applyTrialOutcome({ ...acc, status: 'running' }, c.outcome, { ...ctx.rule, at: ctx.at, by: 'adopt' });
    used.push(c);
    if (TERMINAL_STATUSES.has(acc.status)) break;
  }
  const last = used[used.length - 1];
  const sources = [...new Set(used.map((c) => (c.source === 'verifier' ? 'a trial killed after its verifier finished (reward file, no result.json)' : c.source === 'jobs' ? `jobs/${c.outcome.job}` : 'rollout/trials.json')))];
  const why =
    used.length === 1
      ? `finished trial ${last.outcome.job}/${last.outcome.trial} (${last.outcome.reward === null ? 'no verifier result' : `reward ${last.outcome.reward}`}) from ${sources.join(', ')}`
      : `${used.length} finished trials (last ${last.outcome.job}/${last.outcome.trial}) from ${sources.join(', ')}`;
  return { entry: acc, why };
}

/** rollout/trials.json as (task id, outcome) pairs. */
function trialsIndexOutcomes(paths: PipelinePaths): [string, TrialOutcome][] {
  const file = join(paths.rolloutOut, 'trials.json');
  let index: TrialsIndex;
  try {
    index = readTrialsFile(file);
  } catch (error) {
    // No index, or one rollout did not write: jobs/ stays the ground truth, and opening the ledger (which rollout needs to rewrite it) never fails on it.
    if (error instanceof ContractError) return [];
    throw error;
  }
  const pipeline = basename(paths.artifacts);
  const out: [string, TrialOutcome][] = [];
  for (const t of index.trials) {
    if (taskIdProblem(t.task_id) || taskIdProblem(t.job) || taskIdProblem(t.trial)) continue;
    const files = t.files;
    const trajectory = TRAJECTORY_FILES.find((f) => typeof files[f] === 'string');
    out.push([
      t.task_id,
      {
        job: t.job,
        trial: t.trial,
        reward: t.reward,
        trajectory_path: trajectory ? join('artifacts', pipeline, 'jobs', t.job, t.trial, trajectory) : null,
        trajectory_digest: trajectory ? files[trajectory] : null,
        exception_type: t.exception_type,
        // trials.json records no finish time (it is deterministic); the trial's result.json has it when jobs/ is there.
        finished_at: null,
      },
    ]);
  }
  return out;
}

export function reconcileIsEmpty(r: ReconcileReport): boolean {
  return r.finalized.length === 0 && r.returned.length === 0 && r.adopted.length === 0;
}

/** Lines for people: what reconcile did, one line per task (capped). */
export function formatReconcileReport(r: ReconcileReport, limit = 20): string[] {
  if (reconcileIsEmpty(r)) return ['reconcile: ledger consistent, nothing to reconcile'];
  const lines = [`reconcile: ${r.finalized.length} finalized from trial results, ${r.returned.length} returned to pending, ${r.adopted.length} adopted from rollout/trials.json`];
  const all = [...r.finalized.map((i) => ['finalized', i] as const), ...r.returned.map((i) => ['returned', i] as const), ...r.adopted.map((i) => ['adopted', i] as const)];
  for (const [kind, i] of all.slice(0, limit)) lines.push(`  ${kind}: ${i.id} ${i.from ?? '(none)'} → ${i.to}${i.job ? ` [${i.job}${i.trial ? `/${i.trial}` : ''}]` : ''} — ${i.why}`);
  if (all.length > limit) lines.push(`  … and ${all.length - limit} more`);
  return lines;
}
