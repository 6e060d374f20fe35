import { appendFileSync, cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { writeJsonAtomic } from '@trajgen/core';
import { generateTrialName, readVerifierRewards, RewardError, type ExceptionInfo, type JobWriter, type TimingInfo, type TrialConfig, type TrialResult } from '@trajgen/harbor';
import { TRAJECTORY_FILE, type JobTrialRouter, type Prices } from '@trajgen/proxy';
import type { LocalAgent } from './agents';
import { shouldRetry, type EngineEvents } from './engine';
import { cleanEnv, resolveTaskEnv } from './env';
import { runInProcessGroup, type GroupRunResult } from './process';
import { effectiveTimeouts, type TaskToRun } from './tasks';
import { assembleTrialResult, exceptionInfo, timing } from './trial-result';
import { usageOfFile } from './usage';

/**
 * The local engine: trials run on THIS machine, no containers. For trusted
 * tasks only — nothing isolates the agent from the host beyond a clean
 * environment and a scratch working directory.
 *
 * Per trial (the convention of pipelines/demo/tasks/README.md):
 *  1. environment_setup: a fresh copy of the task's environment/ (minus the
 *     Docker files) in a temp dir OUTSIDE the workspace — the agent's cwd,
 *     standing in for the container's WORKDIR;
 *  2. agent_setup: HOME/TMPDIR in that temp area, the agent's config files;
 *  3. agent_execution: the real CLI in its own process group with an
 *     allowlisted environment, killed (whole group) at the timeout;
 *  4. verifier: `bash tests/test.sh` with TRAJGEN_APP_DIR=<workdir> and
 *     TRAJGEN_LOGS_DIR=<trial dir> (reward → <trial>/verifier/reward.txt). As
 *     in Harbor, it runs after an agent timeout or a non-zero exit too;
 *  5. result.json (TrialResult) written once at the end.
 * An infrastructure failure is retried while the ledger's budget allows; the
 * failed attempt's dir is MOVED to `<job>/.attempts/<trial>/` (Harbor deletes
 * it; here no trajectory is ever lost) and the retry gets a new trial name.
 */

const DOCKER_FILES = new Set(['Dockerfile', '.dockerignore', 'docker-compose.yaml', 'docker-compose.yml', 'compose.yaml', 'compose.yml']);

export interface LocalEngineOptions {
  workspaceRoot: string;
  writer: JobWriter;
  tasks: TaskToRun[];
  agent: LocalAgent;
  agentVersion: string;
  executable: string;
  model: string;
  proxy: { url: string; key: string; trialHeader: string; router: JobTrialRouter };
  nConcurrent: number;
  /** 1 + the retries the ledger still allows this task. */
  attemptsAllowed(taskId: string): number;
  timeouts: { agent_sec: number; verifier_sec: number; multiplier: number };
  agentEnv: Record<string, string>;
  passEnv: string[];
  maxTurns?: number;
  prices: Prices;
  dataset: string;
  /** Scratch root for working copies and HOMEs (outside the workspace). */
  tmpRoot: string;
  /** The host environment (only allowlisted / pass_env names are read). */
  hostEnv?: NodeJS.ProcessEnv;
  signal: AbortSignal;
  events: EngineEvents;
  /** SIGTERM → SIGKILL grace for agent and verifier groups (ms). */
  killGraceMs?: number;
}

export interface LocalEngineResult {
  /** Tasks whose final trial was reported. */
  finished: number;
  /** Tasks never started (cancelled before their turn). */
  notStarted: string[];
  retries: number;
}

function trialLog(trialDir: string, line: string): void {
  try {
    appendFileSync(join(trialDir, 'trial.log'), `${new Date().toISOString()} ${line}\n`);
  } catch {
    /* the dir was moved or removed */
  }
}

function tail(file: string, lines = 20): string {
  try {
    const all = readFileSync(file, 'utf8').split('\n');
    return all.slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '';
  }
}

function traceback(what: string, details: string[], type: string, message: string): string {
  return [`trajgen local engine (${what}; no Python traceback)`, ...details.map((d) => `  ${d}`), `${type}: ${message}`].join('\n') + '\n';
}

/** Run `fn` over `items` with at most `n` at once; stops starting new items once `signal` aborts. */
async function pool<T>(items: T[], n: number, signal: AbortSignal, fn: (item: T) => Promise<void>): Promise<T[]> {
  const queue = [...items];
  const workers = Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
    for (;;) {
      if (signal.aborted) return;
      const item = queue.shift();
      if (item === undefined) return;
      await fn(item);
    }
  });
  await Promise.all(workers);
  return queue;
}

export async function runLocalEngine(o: LocalEngineOptions): Promise<LocalEngineResult> {
  const host = o.hostEnv ?? process.env;
  let finished = 0;
  let retries = 0;
  mkdirSync(o.tmpRoot, { recursive: true });
  const sharedCache = join(o.tmpRoot, '.cache');
  mkdirSync(sharedCache, { recursive: true });

  const notStarted = await pool(o.tasks, o.nConcurrent, o.signal, async (task) => {
    const allowed = Math.max(1, o.attemptsAllowed(task.id));
    for (let attempt = 1; ; attempt++) {
      const { result, trialDir, trialName } = await runTrial(o, task, host, sharedCache);
      if (shouldRetry(trialDir, result, attempt, allowed) && !o.signal.aborted) {
        // Keep the failed attempt whole (result.json included) under .attempts/, then retry under a new name.
        writeJsonAtomic(join(trialDir, 'result.json'), result);
        const keptAt = join(o.writer.dir, '.attempts', trialName);
        mkdirSync(join(o.writer.dir, '.attempts'), { recursive: true });
        renameSync(trialDir, keptAt);
        o.writer.noteRetry();
        o.writer.log(`trial ${trialName} of ${task.id}: ${result.exception_info?.exception_type} on attempt ${attempt} of ${allowed}; kept in .attempts/${trialName}, retrying`);
        retries += 1;
        o.events.onRetry?.(task.id, trialName, result.exception_info?.exception_type ?? 'unknown', attempt, keptAt);
        continue;
      }
      o.writer.finishTrial(result);
      o.writer.log(`trial ${trialName} of ${task.id} finished: reward ${JSON.stringify(result.verifier_result?.rewards ?? null)}${result.exception_info ? `, ${result.exception_info.exception_type}` : ''}`);
      finished += 1;
      o.events.onTrialFinished({ taskId: task.id, trialName, trialDir, result, attempts: attempt });
      return;
    }
  });
  rmSync(sharedCache, { recursive: true, force: true });
  return { finished, notStarted: notStarted.map((t) => t.id), retries };
}

/** One trial while it runs: where it lives and what its phases found so far. */
interface TrialRun {
  o: LocalEngineOptions;
  task: TaskToRun;
  host: NodeJS.ProcessEnv;
  trialName: string;
  trialDir: string;
  /** The working copy (the agent's cwd, standing in for the container's WORKDIR), HOME and TMPDIR: under `<tmpRoot>/<trial>`. */
  app: string;
  home: string;
  tmp: string;
  agentSec: number;
  verifierSec: number;
  exception: ExceptionInfo | null;
  rewards: Record<string, number> | null;
  timings: { environment_setup: TimingInfo | null; agent_setup: TimingInfo | null; agent_execution: TimingInfo | null; verifier: TimingInfo | null };
  agentRan: boolean;
  cancelled: boolean;
}

async function runTrial(o: LocalEngineOptions, task: TaskToRun, host: NodeJS.ProcessEnv, sharedCache: string): Promise<{ result: TrialResult; trialDir: string; trialName: string }> {
  const startedAt = new Date();
  // Harbor names a trial after the task dir's name (the task id).
  const trialName = generateTrialName(task.id);
  const { agentSec, verifierSec } = effectiveTimeouts(task, o.timeouts);
  const config = trialConfigOf(o, task, trialName);
  const trialDir = o.writer.startTrial(config);
  o.proxy.router.register(trialName);
  o.events.onTrialStarted?.(task.id, trialName);
  trialLog(trialDir, `trial ${trialName} of task ${task.id} (${task.relPath}); agent timeout ${agentSec}s, verifier timeout ${verifierSec}s`);

  const scratch = join(o.tmpRoot, trialName);
  const t: TrialRun = {
    o,
    task,
    host,
    trialName,
    trialDir,
    app: join(scratch, 'app'),
    home: join(scratch, 'home'),
    tmp: join(scratch, 'tmp'),
    agentSec,
    verifierSec,
    exception: null,
    rewards: null,
    timings: { environment_setup: null, agent_setup: null, agent_execution: null, verifier: null },
    agentRan: false,
    cancelled: false,
  };
  try {
    await runPhases(t, sharedCache);
  } catch (error) {
    // Anything unexpected (a copy failing, a file we could not write) is an infrastructure error of this trial.
    const message = error instanceof Error ? error.message : String(error);
    t.exception = exceptionInfo('TrajgenEngineError', message, error instanceof Error ? (error.stack ?? message) : message);
  } finally {
    o.proxy.router.unregister(trialName);
    rmSync(scratch, { recursive: true, force: true });
  }

  if (t.exception) writeFileSync(join(trialDir, 'exception.txt'), t.exception.exception_traceback);
  return { result: trialResultOf(t, config, startedAt), trialDir, trialName };
}

function trialConfigOf(o: LocalEngineOptions, task: TaskToRun, trialName: string): TrialConfig {
  return {
    task: { path: task.relPath },
    trial_name: trialName,
    trials_dir: o.writer.dir,
    timeout_multiplier: o.timeouts.multiplier,
    agent: {
      name: o.agent.scaffold,
      model_name: o.agent.modelName(o.model),
      max_timeout_sec: o.timeouts.agent_sec,
      kwargs: o.maxTurns !== undefined && o.agent.scaffold === 'claude-code' ? { max_turns: o.maxTurns } : {},
    },
    environment: { type: 'local' },
    verifier: { max_timeout_sec: o.timeouts.verifier_sec },
    job_id: o.writer.id,
  };
}

/** The phases of a trial, each timed; what they find goes into `t`. */
async function runPhases(t: TrialRun, sharedCache: string): Promise<void> {
  // 1. environment_setup: the working copy.
  let t0 = new Date();
  mkdirSync(t.home, { recursive: true });
  mkdirSync(t.tmp, { recursive: true });
  const envDir = join(t.task.dir, 'environment');
  cpSync(envDir, t.app, { recursive: true, dereference: true, filter: (src) => !(dirname(src) === envDir && DOCKER_FILES.has(basename(src))) });
  mkdirSync(t.app, { recursive: true });
  t.timings.environment_setup = timing(t0, new Date());

  // 2. agent_setup: config files, environment.
  t0 = new Date();
  const { args, env } = setUpAgent(t, sharedCache);
  t.timings.agent_setup = timing(t0, new Date());

  // 3. agent_execution.
  await executeAgent(t, args, env);

  // 4. verifier — also after an agent timeout or non-zero exit (as Harbor does), not after a cancel.
  if (!t.cancelled && !t.o.signal.aborted) await verify(t);
  else if (!t.cancelled) {
    t.cancelled = true;
    t.exception ??= exceptionInfo('CancelledError', 'The trial was cancelled before its verifier ran', traceback('verifier', [], 'CancelledError', 'cancelled'));
  }
}

/** The agent's config files written, its command line and its clean environment. */
function setUpAgent(t: TrialRun, sharedCache: string): { args: string[]; env: Record<string, string> } {
  const { o, task } = t;
  const launch = o.agent.launch({
    instruction: task.instruction,
    model: o.model,
    proxyUrl: o.proxy.url,
    key: o.proxy.key,
    trial: t.trialName,
    trialHeader: o.proxy.trialHeader,
    trialDir: t.trialDir,
    sharedCacheDir: sharedCache,
    maxTurns: o.maxTurns,
  });
  for (const [path, content] of Object.entries(launch.files)) {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content);
  }
  const taskEnv = resolveTaskEnv(task.environmentEnv, t.host, o.passEnv, `${task.relPath}/task.toml [environment].env`);
  return { args: launch.args, env: cleanEnv({ dirs: { home: t.home, tmp: t.tmp }, host: t.host, passEnv: o.passEnv, layers: [taskEnv, o.agentEnv, launch.env] }) };
}

async function executeAgent(t: TrialRun, args: string[], env: Record<string, string>): Promise<void> {
  const { o, trialDir } = t;
  const t0 = new Date();
  const logFile = join(trialDir, 'agent', o.agent.logFile);
  trialLog(trialDir, `agent: ${o.executable} (${o.agent.scaffold} ${o.agentVersion}), cwd ${t.app}`);
  const run = await runInProcessGroup(o.executable, args, { cwd: t.app, env, timeoutMs: t.agentSec * 1000, outputFile: logFile, signal: o.signal, killGraceMs: o.killGraceMs });
  t.agentRan = !run.spawnError;
  t.timings.agent_execution = timing(t0, new Date());
  trialLog(trialDir, `agent exited: code ${run.code}${run.signal ? `, signal ${run.signal}` : ''}${run.timedOut ? ', timed out' : ''}${run.cancelled ? ', cancelled' : ''} after ${run.durationMs} ms`);
  if (run.cancelled) t.cancelled = true;
  t.exception = agentException(t, run, logFile);
}

/** How the agent's run failed, as Harbor names it (null: it did not). */
function agentException(t: TrialRun, run: GroupRunResult, logFile: string): ExceptionInfo | null {
  const { o } = t;
  const details = [`command: ${o.executable} ${o.agent.scaffold === 'claude-code' ? '-p <instruction>' : 'run <instruction>'} …`, `cwd: ${t.app}`, `exit: code ${run.code}, signal ${run.signal}`];
  const outputTail = () => ['last output lines:', ...tail(logFile).split('\n').map((l) => `  ${l.slice(0, 400)}`)];
  if (run.cancelled) return exceptionInfo('CancelledError', 'The trial was cancelled (the rollout was interrupted)', traceback('agent', details, 'CancelledError', 'cancelled'));
  if (run.spawnError) return exceptionInfo('NonZeroAgentExitCodeError', `The agent could not be started: ${run.spawnError.message}`, traceback('agent', details, 'NonZeroAgentExitCodeError', run.spawnError.message));
  if (run.timedOut) {
    const message = `Agent execution timed out after ${t.agentSec} seconds`;
    return exceptionInfo('AgentTimeoutError', message, traceback('agent', [...details, ...outputTail()], 'AgentTimeoutError', message));
  }
  if (run.code !== 0) {
    const message = `Agent command exited with ${run.code === null ? `signal ${run.signal}` : `code ${run.code}`}`;
    return exceptionInfo('NonZeroAgentExitCodeError', message, traceback('agent', [...details, ...outputTail()], 'NonZeroAgentExitCodeError', message));
  }
  const reported = o.agent.outputError(readFileSync(logFile, 'utf8'));
  return reported ? exceptionInfo('NonZeroAgentExitCodeError', reported, traceback('agent', [...details, ...outputTail()], 'NonZeroAgentExitCodeError', reported)) : null;
}

/** `bash tests/test.sh`, then the rewards it wrote (or why there are none). */
async function verify(t: TrialRun): Promise<void> {
  const { trialDir, verifierSec } = t;
  const t0 = new Date();
  const v = await runVerifier(t);
  t.timings.verifier = timing(t0, new Date());
  trialLog(trialDir, `verifier exited: code ${v.code}${v.timedOut ? ', timed out' : ''}${v.cancelled ? ', cancelled' : ''} after ${v.durationMs} ms`);
  if (v.cancelled) {
    t.exception ??= exceptionInfo('CancelledError', 'The verifier was cancelled (the rollout was interrupted)', traceback('verifier', [], 'CancelledError', 'cancelled'));
  } else if (v.timedOut) {
    const message = `Verifier execution timed out after ${verifierSec} seconds`;
    t.exception ??= exceptionInfo('VerifierTimeoutError', message, traceback('verifier', ['command: bash tests/test.sh', ...['last output lines:', ...tail(join(trialDir, 'verifier', 'test-stdout.txt')).split('\n').map((l) => `  ${l}`)]], 'VerifierTimeoutError', message));
  } else {
    try {
      t.rewards = readVerifierRewards(join(trialDir, 'verifier'));
    } catch (error) {
      if (!(error instanceof RewardError)) throw error;
      t.exception ??= exceptionInfo(error.exceptionType, error.message, traceback('verifier', ['command: bash tests/test.sh'], error.exceptionType, error.message));
    }
  }
}

function runVerifier(t: TrialRun): Promise<GroupRunResult> {
  const { o, task, trialDir, host } = t;
  const where = `${task.relPath}/task.toml`;
  const env = cleanEnv({
    dirs: { home: t.home, tmp: t.tmp },
    host,
    layers: [
      resolveTaskEnv(task.environmentEnv, host, o.passEnv, `${where} [environment].env`),
      resolveTaskEnv(task.verifierEnv, host, o.passEnv, `${where} [verifier].env`),
      { TRAJGEN_APP_DIR: t.app, TRAJGEN_LOGS_DIR: trialDir },
    ],
  });
  mkdirSync(join(trialDir, 'verifier'), { recursive: true });
  const script = join(task.dir, 'tests', 'test.sh');
  if (!existsSync(script)) throw new Error(`${task.relPath}/tests/test.sh is missing`);
  return runInProcessGroup('bash', [script], {
    cwd: t.app,
    env,
    timeoutMs: t.verifierSec * 1000,
    outputFile: join(trialDir, 'verifier', 'test-stdout.txt'),
    signal: o.signal,
    killGraceMs: o.killGraceMs,
  });
}

/** The trial's result.json, assembled once at the end. */
function trialResultOf(t: TrialRun, config: TrialConfig, startedAt: Date): TrialResult {
  const { o, task, trialDir } = t;
  const usage = t.agentRan ? usageOfFile(join(trialDir, 'agent', TRAJECTORY_FILE), o.prices) : null;
  return assembleTrialResult({
    id: randomUUID(),
    trialName: t.trialName,
    trialDir,
    taskName: task.name,
    taskPath: task.relPath,
    source: o.dataset,
    checksum: task.checksum,
    config,
    agent: {
      name: o.agent.scaffold,
      version: o.agentVersion,
      modelInfo: { name: o.model, provider: o.agent.protocol },
    },
    usage,
    rewards: t.rewards,
    exception: t.exception,
    startedAt,
    finishedAt: new Date(),
    timings: t.timings,
  });
}
