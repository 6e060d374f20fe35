import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readTrialsFile } from '@trajgen/contracts';
import { instanceIdOf, listJobDirs, primaryReward, readJobDir, type JobResult, type TrialConfig, type TrialResult } from '@trajgen/harbor';

/**
 * The trials convert considers: `rollout/trials.json` (the rollout stage's
 * index, docs/architecture.md) when present, else a scan of `jobs/*` in
 * Harbor's layout — so jobs from `harbor run` outside this workspace convert
 * too.
 */

export interface TrialRef {
  job: string;
  trial: string;
  /** Absolute trial dir. */
  dir: string;
  instanceId: string;
  agent?: string;
  /** The trial's reward (1.0 = resolved); null when the verifier gave none. */
  reward: number | null;
  exceptionType?: string | null;
  /** Raw input digests (trial-relative path → sha256) from trials.json. */
  files?: Record<string, string>;
  /** Parsed result.json / config.json when the scan already read them. */
  result?: TrialResult;
  config?: TrialConfig;
  /** A finished trial (has result.json, or is listed in trials.json). */
  finished: boolean;
  /** result.json is there but unreadable (truncated, not JSON): why. Such a trial is dropped, counted, with a warning. */
  resultProblem?: string;
}

export interface TrialList {
  source: string;
  trials: TrialRef[];
}

function byJobTrial(a: TrialRef, b: TrialRef): number {
  if (a.job !== b.job) return a.job < b.job ? -1 : 1;
  return a.trial < b.trial ? -1 : a.trial > b.trial ? 1 : 0;
}

/** rollout/trials.json through its contract (libs/contracts): a malformed index names the key path and says to rerun rollout. */
export function readTrialsJson(file: string, jobsDir: string, workspaceRoot?: string): TrialRef[] {
  return readTrialsFile(file, { root: workspaceRoot }).trials.map((t) => ({
    job: t.job,
    trial: t.trial,
    // Computed when needed: most trials of a rerun are memo hits that never touch their dir.
    get dir() {
      return join(jobsDir, t.job, t.trial);
    },
    instanceId: t.task_id || t.trial.replace(/__[^_]+$/, ''),
    agent: t.agent,
    reward: t.reward,
    exceptionType: t.exception_type,
    files: t.files,
    finished: true,
    ...(t.result_problem !== undefined ? { resultProblem: t.result_problem } : {}),
  }));
}

/** The reward of a trial from the job's `reward_stats` (`{reward: {"1.0": [trial…]}}`), for trials whose result lacks one. */
function rewardFromJob(job: JobResult | undefined, trial: string): number | null {
  for (const ev of Object.values(job?.stats?.evals ?? {})) {
    for (const [value, names] of Object.entries(ev?.reward_stats?.reward ?? {})) if (Array.isArray(names) && names.includes(trial)) return Number(value);
  }
  return null;
}

export function scanJobs(jobsDir: string): TrialRef[] {
  return scanJobDirs(listJobDirs(jobsDir));
}

/** Trials of the given Harbor job dirs (conversion.from_jobs, or a pipeline's own jobs/*). */
export function scanJobDirs(jobDirs: readonly string[]): TrialRef[] {
  const out: TrialRef[] = [];
  for (const jobDir of jobDirs) {
    const job = readJobDir(jobDir);
    for (const t of job.trials) {
      const r = t.result;
      out.push({
        job: job.name,
        trial: t.name,
        dir: t.dir,
        instanceId: instanceIdOf(t),
        agent: r?.agent_info?.name ?? t.config?.agent?.name ?? undefined,
        reward: (r ? primaryReward(r) : null) ?? rewardFromJob(job.result, t.name),
        exceptionType: r?.exception_info?.exception_type ?? null,
        result: r,
        config: t.config,
        finished: Boolean(r) || Boolean(t.problem),
        ...(!r && t.problem ? { resultProblem: t.problem } : {}),
      });
    }
  }
  return out;
}

export function listTrials(workspaceRoot: string, rolloutDir: string, jobsDir: string, fromJobs: readonly string[] = []): TrialList {
  if (fromJobs.length) {
    // Existing jobs as the source: read them on disk every run (no index can go stale; the memo keeps it cheap).
    return { source: `from_jobs: ${fromJobs.map((d) => relative(workspaceRoot, d) || d).join(', ')}`, trials: scanJobDirs(fromJobs).sort(byJobTrial) };
  }
  const trialsJson = join(rolloutDir, 'trials.json');
  if (existsSync(trialsJson)) {
    const trials = readTrialsJson(trialsJson, jobsDir, workspaceRoot);
    // The rollout writes them sorted; sort only if they are not.
    if (trials.some((t, i) => i > 0 && byJobTrial(trials[i - 1], t) > 0)) trials.sort(byJobTrial);
    return { source: relative(workspaceRoot, trialsJson), trials };
  }
  return { source: `${relative(workspaceRoot, jobsDir) || jobsDir}/*`, trials: scanJobs(jobsDir).sort(byJobTrial) };
}

export type InstanceStatus = 'resolved' | 'unresolved' | 'all';

/** Selection by outcome: resolved = reward 1.0; unresolved = any other reward; all = any reward. */
export function selectByOutcome(t: TrialRef, status: InstanceStatus): { selected: true } | { selected: false; why: string } {
  if (!t.finished) return { selected: false, why: 'unfinished' };
  if (t.reward === null) return { selected: false, why: 'no_reward' };
  if (status === 'all') return { selected: true };
  const resolved = t.reward === 1;
  if (status === 'resolved' ? resolved : !resolved) return { selected: true };
  return { selected: false, why: status === 'resolved' ? 'unresolved' : 'resolved' };
}
