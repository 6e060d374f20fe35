import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrajgenError, subdirNames, writeJsonAtomic } from '@trajgen/core';
import { DEFAULT_RETRY_EXCLUDE_EXCEPTIONS, instanceIdOf, readTrialDir, type HarborJobConfig, type TrialResult } from '@trajgen/harbor';
import { TRAJECTORY_FILE } from '@trajgen/proxy';
import { isUsableTrial, type EngineEvents, type FinishedTrial } from './engine';
import { harborInstallHint } from './harbor-env';
import { runInProcessGroup, type GroupRunResult } from './process';

/**
 * The harbor engine: one `harbor run -c <config> -y` per job (Harbor's CLI), in
 * its own process group, its output streamed to the console and a log
 * file. Trials are recorded AS their `result.json` appears (Harbor writes it
 * once, at trial end), not when Harbor exits — Harbor exits 0 even
 * when trials fail, so results are always read from the files.
 *
 * Retries are Harbor's (the job config's `retry`): a result whose exception Harbor will
 * retry is provisional; it is copied to the attempts dir at once (Harbor
 * deletes the failed trial dir before the retry, and nothing may be lost)
 * and superseded by the next result of the same trial name. If Harbor stops
 * before every claimed task has a final result (a crash, a kill), the job is
 * resumed with `harbor job resume -p <job>` — trial dirs Harbor would
 * delete on resume (no result.json, or CancelledError) are copied first.
 *
 * A rollout killed mid-job (even SIGKILL: the watchdog takes Harbor down, the
 * host environment's commands die with Harbor) is finished by the next run
 * with `harbor job resume` on the same job when the ledger hands out exactly
 * the job's unfinished tasks (`findResumableHarborJob`, `resume`).
 *
 * Runs the real Harbor in test/e2e/harbor.test.ts (host environment); the
 * retry and crash paths Harbor only takes in containers are also tested
 * against `fake-harbor`, a test double of the CLI (src/__fixtures__/fake-harbor.cjs).
 */

export interface HarborEngineOptions {
  jobDir: string;
  configFile: string;
  config: HarborJobConfig;
  executable: string;
  /** Harbor's process environment (host env + the proxy variables + PYTHONPATH for the wrappers). */
  env: Record<string, string>;
  /** Claimed task ids (dir names). */
  tasks: string[];
  /** Where copies of retried / resumed-away attempts go (outside the job dir: Harbor's resume deletes unknown dirs in it). */
  attemptsDir: string;
  /** Harbor's stdout+stderr. */
  logFile: string;
  cwd: string;
  signal: AbortSignal;
  events: EngineEvents;
  pollMs?: number;
  /** `harbor job resume` attempts after an unexpected stop. Default 2. */
  maxResumes?: number;
  /** SIGTERM → SIGKILL grace when cancelling (Harbor cancels its trials on SIGTERM). Default 30 000. */
  stopGraceMs?: number;
  /** The job dir exists from a killed rollout: start with `harbor job resume -p` instead of `harbor run`. */
  resume?: boolean;
}

export interface HarborEngineResult {
  finished: number;
  /** Claimed tasks without a final trial (they stay running in the ledger; reconcile returns them to pending). */
  unfinished: string[];
  runs: { command: string; code: number | null; signal: string | null }[];
  retries: number;
}

const EXCLUDED = new Set<string>(DEFAULT_RETRY_EXCLUDE_EXCEPTIONS);

interface Observed {
  taskId: string;
  trial: string;
  dir: string;
  result: TrialResult;
  /** The copy kept in the attempts dir (provisional results). */
  kept?: string;
}

/** What the engine has seen of the job, scan after scan, and of Harbor's runs. */
interface JobWatch {
  o: HarborEngineOptions;
  claimed: Set<string>;
  nAttempts: number;
  maxRetries: number;
  excluded: Set<string>;
  /** result ids already read (Harbor writes each result.json once). */
  seenResults: Set<string>;
  /** Trial dirs reported as started. */
  started: Set<string>;
  attemptsByTrial: Map<string, number>;
  attemptsByTask: Map<string, number>;
  /** By trial name: results Harbor may still retry (or resume may run again). */
  provisional: Map<string, Observed>;
  /** By task: final results (n_attempts of them make the task finished). */
  finals: Map<string, Observed[]>;
  /** Tasks whose final trial was reported. */
  reported: Set<string>;
  runs: HarborEngineResult['runs'];
  retries: number;
  finished: number;
}

export async function runHarborEngine(o: HarborEngineOptions): Promise<HarborEngineResult> {
  const w: JobWatch = {
    o,
    claimed: new Set(o.tasks),
    nAttempts: Math.max(1, o.config.n_attempts),
    maxRetries: o.config.retry.max_retries,
    excluded: new Set(o.config.retry.exclude_exceptions ?? [...EXCLUDED]),
    seenResults: new Set(),
    started: new Set(),
    attemptsByTrial: new Map(),
    attemptsByTask: new Map(),
    provisional: new Map(),
    finals: new Map(),
    reported: new Set(),
    runs: [],
    retries: 0,
    finished: 0,
  };
  mkdirSync(o.attemptsDir, { recursive: true });
  if (o.resume) keepUnfinished(w);
  let r = await runHarbor(w, o.resume ? ['job', 'resume', '-p', o.jobDir] : ['run', '-c', o.configFile, '-y']);
  for (let resumes = 0; ; resumes++) {
    const missing = missingTasks(w);
    if (o.signal.aborted || missing.length === 0 || resumes >= (o.maxResumes ?? 2) || !existsSync(join(o.jobDir, 'config.json'))) {
      if (!o.signal.aborted && missing.length > 0 && !existsSync(join(o.jobDir, 'config.json'))) {
        o.events.warn(`harbor exited (code ${r.code}) without creating ${o.jobDir}; see ${o.logFile}`);
      }
      break;
    }
    o.events.warn(`harbor stopped (code ${r.code}${r.signal ? `, ${r.signal}` : ''}) with ${missing.length} task${missing.length === 1 ? '' : 's'} unfinished: resuming the job (harbor job resume)`);
    keepUnfinished(w);
    r = await runHarbor(w, ['job', 'resume', '-p', o.jobDir]);
  }
  const { runs } = w;
  if (!o.signal.aborted && !o.resume && runs.length && runs[0].code !== 0 && !existsSync(join(o.jobDir, 'config.json'))) throw harborRefused(o, runs[0].code);
  if (o.signal.aborted) keepUnfinished(w);
  settleProvisional(w);
  const unfinished = o.tasks.filter((id) => !w.reported.has(id));
  // A summary of what Harbor ran, next to its log (never inside the job dir).
  const { retries, finished } = w;
  writeJsonAtomic(`${o.logFile}.runs.json`, { runs, retries, finished, unfinished });
  return { finished, unfinished, runs, retries };
}

/** One `harbor …` in its own process group, its output streamed to the log; the job dir is scanned while it runs and once after. */
async function runHarbor(w: JobWatch, args: string[]): Promise<GroupRunResult> {
  const { o } = w;
  const poll = setInterval(() => scan(w), o.pollMs ?? 500);
  try {
    const r = await runInProcessGroup(o.executable, args, {
      cwd: o.cwd,
      env: o.env,
      timeoutMs: Infinity,
      outputFile: o.logFile,
      signal: o.signal,
      killGraceMs: o.stopGraceMs ?? 30_000,
      onOutput: lines('harbor │ ', o.events.log),
    });
    if (r.spawnError) {
      throw new TrajgenError(`Cannot start the Harbor CLI ${JSON.stringify(o.executable)}: ${r.spawnError.message}`, {
        hint: `${harborInstallHint()}; or use rollout.engine: local for trusted tasks.`,
      });
    }
    w.runs.push({ command: `${o.executable} ${args.join(' ')}`, code: r.code, signal: r.signal });
    return r;
  } finally {
    clearInterval(poll);
    scan(w);
  }
}

/** Output chunks → whole lines, each logged with `prefix`. */
function lines(prefix: string, log: (line: string) => void): (chunk: Buffer) => void {
  let buf = '';
  return (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      log(`${prefix}${buf.slice(0, i).replace(/\r/g, '')}`);
      buf = buf.slice(i + 1);
    }
  };
}

/** Claimed tasks still short of n_attempts results. Resume keeps trials with a result (except CancelledError ones, which it runs again). */
function missingTasks(w: JobWatch): string[] {
  const kept = (id: string) => [...w.provisional.values()].filter((p) => p.taskId === id && p.result.exception_info?.exception_type !== 'CancelledError').length;
  return w.o.tasks.filter((id) => !w.reported.has(id) && (w.finals.get(id)?.length ?? 0) + kept(id) < w.nAttempts);
}

/** Harbor refused to start the job (bad config, missing environment extra, …): nothing ran. */
function harborRefused(o: HarborEngineOptions, code: number | null): TrajgenError {
  let tail = '';
  try {
    tail = readFileSync(o.logFile, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
  } catch {
    tail = '';
  }
  return new TrajgenError(`harbor run exited with code ${code} before creating the job`, {
    details: tail ? tail.split('\n') : [],
    hint: `See ${o.logFile} and the generated config ${o.configFile}. The claimed tasks go back to pending at the next run.`,
  });
}

/** Copy a trial dir Harbor is about to delete to the attempts dir (best effort: Harbor may have removed it already). */
function keep(w: JobWatch, obs: { trial: string; dir: string }, why: string): string | undefined {
  const n = w.attemptsByTrial.get(obs.trial) ?? 0;
  const dest = join(w.o.attemptsDir, `${obs.trial}.${why}${n ? `.${n}` : ''}`);
  try {
    if (!existsSync(dest)) cpSync(obs.dir, dest, { recursive: true });
    return dest;
  } catch {
    return undefined; // Harbor removed it under us; the jsonl copy below is best effort
  }
}

/** Report a task once it has n_attempts final results: the last usable one, else the last. */
function report(w: JobWatch, taskId: string): void {
  const list = w.finals.get(taskId) ?? [];
  if (w.reported.has(taskId) || list.length < w.nAttempts) return;
  w.reported.add(taskId);
  const usable = list.filter((t) => isUsableTrial(t.dir, t.result));
  const chosen = usable.length ? usable[usable.length - 1] : list[list.length - 1];
  w.finished += 1;
  const trial: FinishedTrial = { taskId, trialName: chosen.trial, trialDir: chosen.dir, result: chosen.result, attempts: w.attemptsByTask.get(taskId) ?? list.length };
  w.o.events.onTrialFinished(trial);
}

function finalize(w: JobWatch, obs: Observed): void {
  w.provisional.delete(obs.trial);
  const list = w.finals.get(obs.taskId) ?? [];
  list.push(obs);
  w.finals.set(obs.taskId, list);
  report(w, obs.taskId);
}

/** Read the job dir: new trials are reported started, new results provisional (Harbor will retry or resume them) or final. */
function scan(w: JobWatch): void {
  for (const name of subdirNames(w.o.jobDir)) observe(w, name);
}

function observe(w: JobWatch, name: string): void {
  const { o } = w;
  const dir = join(o.jobDir, name);
  const t = readTrialDir(dir, name);
  const taskId = instanceIdOf(t);
  if (!t.result) {
    if (!w.started.has(name) && w.claimed.has(taskId)) {
      w.started.add(name);
      o.events.onTrialStarted?.(taskId, name);
    }
    return;
  }
  if (w.seenResults.has(t.result.id)) return;
  w.seenResults.add(t.result.id);
  if (!w.claimed.has(taskId)) {
    o.events.warn(`harbor ran ${name} (task ${taskId}), which this rollout did not claim; not recorded`);
    return;
  }
  w.started.add(name);
  const n = (w.attemptsByTrial.get(name) ?? 0) + 1;
  w.attemptsByTrial.set(name, n);
  w.attemptsByTask.set(taskId, (w.attemptsByTask.get(taskId) ?? 0) + 1);
  if (w.provisional.get(name)) w.retries += 1;
  const obs: Observed = { taskId, trial: name, dir, result: t.result };
  const type = t.result.exception_info?.exception_type;
  const harborRetries = type !== undefined && !w.excluded.has(type) && type !== 'CancelledError' && n - 1 < w.maxRetries;
  if (harborRetries || type === 'CancelledError') {
    // Harbor will delete this dir (retry, or resume's CancelledError filter): keep a copy now.
    const kept = keep(w, obs, type === 'CancelledError' ? 'cancelled' : 'retried');
    w.provisional.set(name, { ...obs, kept });
    if (harborRetries && kept) o.events.onRetry?.(taskId, name, type!, n, kept);
    return;
  }
  finalize(w, obs);
}

/** The job ended: what Harbor did not retry after all is final. Prefer the dir if it still holds that result. */
function settleProvisional(w: JobWatch): void {
  for (const obs of [...w.provisional.values()]) {
    const current = readTrialDir(obs.dir, obs.trial);
    finalize(w, { ...obs, dir: current.result?.id === obs.result.id || !obs.kept ? obs.dir : obs.kept });
  }
}

/** `harbor job resume` deletes trial dirs without result.json: copy those holding a trajectory first. */
function keepUnfinished(w: JobWatch): void {
  for (const name of subdirNames(w.o.jobDir)) {
    const dir = join(w.o.jobDir, name);
    if (existsSync(join(dir, 'result.json'))) continue;
    if (existsSync(join(dir, 'agent', TRAJECTORY_FILE)) || existsSync(join(dir, 'agent', 'trajectory.json'))) keep(w, { trial: name, dir }, 'interrupted');
  }
}

/** Read a Harbor job config file (JSON) back, e.g. to show what ran. */
export function readHarborConfig(path: string): HarborJobConfig {
  return JSON.parse(readFileSync(path, 'utf8')) as HarborJobConfig;
}

/** Inverse of escapeGlob: `a[*]b` → `a*b`. */
function unescapeGlob(name: string): string {
  return name.replace(/\[([[*?])\]/g, '$1');
}

export interface ResumableHarborJob {
  job: string;
  /** The job's tasks without a trial result: what `harbor job resume` runs. */
  remaining: string[];
  /** The proxy URL the job config was written with (kwargs may hold it literally). */
  proxyUrl?: string;
}

/**
 * The Harbor job a killed rollout left behind, if Harbor can finish it: the
 * newest of `returnedFrom` (the last job of each pending task: reconcile keeps
 * it when it returns a task from a killed job) whose Harbor job dir
 * (config.json) and our generated config (logs/<job>/harbor-job.json) exist.
 * `remaining` = its tasks with no trial result.json yet.
 */
export function findResumableHarborJob(jobsDir: string, logsRoot: string, returnedFrom: (string | null)[]): ResumableHarborJob | undefined {
  const jobs = [...new Set(returnedFrom.filter((j): j is string => !!j))].sort().reverse();
  for (const job of jobs) {
    const jobDir = join(jobsDir, job);
    const ours = join(logsRoot, job, 'harbor-job.json');
    if (!existsSync(join(jobDir, 'config.json')) || !existsSync(ours)) continue;
    let config: HarborJobConfig;
    try {
      config = readHarborConfig(ours);
    } catch {
      continue;
    }
    const tasks = (config.datasets[0]?.task_names ?? []).map(unescapeGlob);
    const done = new Set<string>();
    for (const name of subdirNames(jobDir)) {
      const t = readTrialDir(join(jobDir, name), name);
      if (t.result && t.result.exception_info?.exception_type !== 'CancelledError') done.add(instanceIdOf(t));
    }
    let proxyUrl: string | undefined;
    try {
      proxyUrl = (JSON.parse(readFileSync(join(logsRoot, job, 'harbor-proxy.json'), 'utf8')) as { url?: string }).url;
    } catch {
      proxyUrl = undefined;
    }
    return { job, remaining: tasks.filter((t) => !done.has(t)), proxyUrl };
  }
  return undefined;
}
