import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { PipelinePaths } from '@trajgen/config';
import { taskIdProblem } from './task-id';
import type { TrialOutcome } from './types';

/**
 * The job data is the ground truth of what was consumed: every finished trial
 * under `artifacts/<p>/jobs/` counts, whatever the ledger says (a lost ledger,
 * a fresh clone pointed at the team's shared jobs storage, a stale copy).
 *
 * A trial is finished when Harbor's `result.json` is there (written once, at
 * trial end), or when its verifier finished — a reward file in `verifier/`
 * and a raw trajectory — but the process was killed before result.json was
 * written: that trial is complete in substance and is never rolled out again
 * (rollout writes its result.json from what it left, see
 * @trajgen/harbor completeVerifiedTrials).
 *
 * Only the few fields of Harbor's TrialResult the status rule needs are read,
 * so the ledger does not depend on @trajgen/harbor. Finished trials are
 * immutable, so what was read of them is cached in `.ledger/jobs-scan.json`
 * (keyed by job/trial, used only while the trial dir still exists): opening a
 * ledger beside 100k trials reads each result.json once, not at every open.
 */

/** Raw trajectory files of a trial, in order of preference (the proxy log first, then ATIF). */
export const TRAJECTORY_FILES = ['agent/litellm-trajectory.jsonl', 'agent/trajectory.json'] as const;

export const JOBS_SCAN_CACHE = join('.ledger', 'jobs-scan.json');
const CACHE_VERSION = 1;

export interface TrialResultLike {
  trial_name?: string;
  task_name?: string;
  config?: { task?: { path?: string } };
  task_id?: { path?: string };
  verifier_result?: { rewards?: Record<string, number> | null } | null;
  exception_info?: { exception_type?: string } | null;
  started_at?: string | null;
  finished_at?: string | null;
}

/** A finished trial found on disk, with the task it belongs to. */
export interface ScannedTrial {
  task_id: string;
  outcome: TrialOutcome;
  /** 'result': result.json; 'verifier': killed after its verifier finished (reward file, no result.json). */
  from: 'result' | 'verifier';
}

/** Harbor's primary reward: `rewards.reward`, else the only value; null otherwise. */
export function primaryRewardOf(rewards: Record<string, unknown> | null | undefined): number | null {
  if (!rewards || typeof rewards !== 'object') return null;
  if (typeof rewards.reward === 'number') return rewards.reward;
  const values = Object.values(rewards);
  return values.length === 1 && typeof values[0] === 'number' ? values[0] : null;
}

export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function sha256File(path: string): string {
  return 'sha256:' + createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The task a trial dir belongs to: basename of task.path (result.json, else config.json). */
export function taskOfTrial(dir: string, result: TrialResultLike | undefined): string | undefined {
  const path = result?.config?.task?.path ?? result?.task_id?.path ?? readJson<{ task?: { path?: string } }>(join(dir, 'config.json'))?.task?.path;
  return typeof path === 'string' && path ? basename(path) : undefined;
}

/** The trial's raw trajectory (workspace-relative) and its digest, when it has a non-empty one. */
export function trajectoryOf(workspaceRoot: string, dir: string): { path: string; digest: string } | undefined {
  for (const f of TRAJECTORY_FILES) {
    const p = join(dir, f);
    try {
      if (statSync(p).size > 0) return { path: relative(workspaceRoot, p), digest: sha256File(p) };
    } catch {
      /* not there */
    }
  }
  return undefined;
}

/**
 * The verifier's rewards as Harbor reads them (`reward.json` wins over
 * `reward.txt`), or undefined when there is no usable reward file — the
 * verifier did not finish.
 */
export function verifierRewards(dir: string): { rewards: Record<string, number>; file: string } | undefined {
  const json = join(dir, 'verifier', 'reward.json');
  const txt = join(dir, 'verifier', 'reward.txt');
  if (existsSync(json)) {
    const v = readJson<Record<string, unknown>>(json);
    if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'number' && Number.isFinite(x))) return undefined;
    return Object.keys(v).length ? { rewards: v as Record<string, number>, file: json } : undefined;
  }
  try {
    const text = readFileSync(txt, 'utf8').trim();
    const n = Number(text);
    return text !== '' && Number.isFinite(n) ? { rewards: { reward: n }, file: txt } : undefined;
  } catch {
    return undefined;
  }
}

/** A trial dir with a parseable result.json as the outcome the status rule takes. */
export function outcomeFromResult(workspaceRoot: string, job: string, trial: string, dir: string, r: TrialResultLike): TrialOutcome {
  const t = trajectoryOf(workspaceRoot, dir);
  return {
    job,
    trial,
    reward: primaryRewardOf(r.verifier_result?.rewards),
    trajectory_path: t?.path ?? null,
    trajectory_digest: t?.digest ?? null,
    exception_type: r.exception_info?.exception_type ?? null,
    started_at: r.started_at ?? null,
    finished_at: r.finished_at ?? null,
  };
}

/**
 * A trial killed after its verifier finished: reward file and trajectory, no
 * result.json. Undefined when it is not that far.
 */
export function outcomeFromVerifier(workspaceRoot: string, job: string, trial: string, dir: string): TrialOutcome | undefined {
  const v = verifierRewards(dir);
  const t = v ? trajectoryOf(workspaceRoot, dir) : undefined;
  if (!v || !t) return undefined;
  const reward = primaryRewardOf(v.rewards);
  if (reward === null) return undefined;
  return {
    job,
    trial,
    reward,
    trajectory_path: t.path,
    trajectory_digest: t.digest,
    exception_type: null,
    started_at: null,
    finished_at: new Date(statSync(v.file).mtimeMs).toISOString(),
  };
}

/** One trial dir: finished (result.json or a finished verifier) → its task and outcome; else undefined. */
export function scanTrialDir(workspaceRoot: string, job: string, trial: string, dir: string): ScannedTrial | undefined {
  const raw = readJson<TrialResultLike>(join(dir, 'result.json'));
  const result = raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : undefined;
  const task = taskOfTrial(dir, result);
  if (!task || taskIdProblem(task)) return undefined;
  if (result) return { task_id: task, outcome: outcomeFromResult(workspaceRoot, job, trial, dir, result), from: 'result' };
  const o = outcomeFromVerifier(workspaceRoot, job, trial, dir);
  return o ? { task_id: task, outcome: o, from: 'verifier' } : undefined;
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => (d.isDirectory() || d.isSymbolicLink()) && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

interface ScanCache {
  v: number;
  trials: Record<string, ScannedTrial>;
}

/**
 * Every finished trial of every job under `paths.jobs`, grouped by task id
 * (trials in job then trial order). Updates the scan cache when it learned
 * something new.
 */
export function scanJobs(paths: PipelinePaths): Map<string, ScannedTrial[]> {
  const byTask = new Map<string, ScannedTrial[]>();
  const jobs = subdirs(paths.jobs).filter((j) => !taskIdProblem(j));
  if (jobs.length === 0) return byTask;
  const cachePath = join(paths.artifacts, JOBS_SCAN_CACHE);
  const old = readJson<ScanCache>(cachePath);
  const cached = old && old.v === CACHE_VERSION && old.trials && typeof old.trials === 'object' ? old.trials : {};
  const next: Record<string, ScannedTrial> = {};
  let learned = false;
  for (const job of jobs) {
    const jobDir = join(paths.jobs, job);
    for (const trial of subdirs(jobDir)) {
      if (taskIdProblem(trial)) continue;
      const key = `${job}/${trial}`;
      let s: ScannedTrial | undefined = cached[key];
      if (!s) {
        s = scanTrialDir(paths.workspaceRoot, job, trial, join(jobDir, trial));
        if (s?.from === 'result') learned = true;
      }
      if (!s) continue;
      if (s.from === 'result') next[key] = s;
      const list = byTask.get(s.task_id) ?? [];
      list.push(s);
      byTask.set(s.task_id, list);
    }
  }
  if (learned || Object.keys(cached).length !== Object.keys(next).length) {
    try {
      mkdirSync(dirname(cachePath), { recursive: true });
      const tmp = `${cachePath}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ v: CACHE_VERSION, trials: next }));
      renameSync(tmp, cachePath);
    } catch {
      /* a cache, not state: the next open reads the trials again */
    }
  }
  return byTask;
}
