import { existsSync } from 'node:fs';
import { relative, join, resolve } from 'node:path';
import { atomicWriteFileSync, writeJsonAtomic } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';
import { HARBOR_PYTHON_DIR, JobWriter, harborJobConfig, harborProcessEnv, type HarborJobConfig, type HarborScaffold } from '@trajgen/harbor';
import { isPostgres, type AnyLedger } from '@trajgen/ledger';
import type { JobTrialRouter, RunningProxy } from '@trajgen/proxy';
import { refreshStaging } from '@trajgen/tasks';
import { agentExecutable, agentVersion, localAgent, type LocalAgent } from './agents';
import { nextSharedChunk, retriesLeft, type BatchClaim } from './claim';
import type { EngineEvents } from './engine';
import { runHarborEngine, type ResumableHarborJob } from './harbor-engine';
import { harborVersion, resolveHarbor, type HarborInstall } from './harbor-env';
import type { JobPlace } from './job-name';
import { runLocalEngine } from './local-engine';
import type { BatchFileLike, TaskToRun } from './tasks';

/**
 * The engine as the stage drives it (rollout.engine): checked before anything
 * is claimed (is the agent CLI or Harbor there, which version names the job),
 * then run on the claimed tasks once the upstream is up.
 */
export interface StageEngine {
  /** The agent version the job is named after. */
  readonly version: string;
  /** Run the claimed tasks (a shared ledger: and the chunks claimed after them); returns the claimed tasks that did not finish. */
  run(x: EngineRun): Promise<string[]>;
}

/** What an engine gets once the batch is claimed and the proxy is up. */
export interface EngineRun {
  pipeline: LoadedPipeline;
  batch: BatchFileLike;
  place: JobPlace;
  host: NodeJS.ProcessEnv;
  ledger: AnyLedger;
  claim: BatchClaim;
  proxy: RunningProxy;
  router: JobTrialRouter;
  /** A Harbor job a killed run left, finished with `harbor job resume`. */
  resumed?: ResumableHarborJob;
  events: EngineEvents;
  signal: AbortSignal;
  killGraceMs?: number;
  harborPollMs?: number;
  /** Resolves once the trials finished so far are recorded in the ledger. */
  recorded(): Promise<void>;
  /** A fresh scratch dir for working copies, outside the workspace; removed with the run. */
  newScratch(): string;
}

/** The set-up checks of the configured engine: what runs, checked before anything is claimed. */
export function checkEngine(pipeline: LoadedPipeline, io: { log(line: string): void; warn(line: string): void }, host: NodeJS.ProcessEnv): Promise<StageEngine> {
  return pipeline.config.rollout.engine === 'local' ? localStageEngine(pipeline, io) : harborStageEngine(pipeline, io, host);
}

async function localStageEngine(pipeline: LoadedPipeline, io: { warn(line: string): void }): Promise<StageEngine> {
  const r = pipeline.config.rollout;
  const agent = localAgent(r.scaffold);
  const executable = agentExecutable(agent, pipeline.paths.workspaceRoot);
  const version = await agentVersion(executable);
  if (r.agent.version && r.agent.version !== version) io.warn(`rollout.agent.version is ${r.agent.version} but the installed ${r.scaffold} CLI is ${version}; the local engine runs the installed one`);
  if (r.agent.temperature !== undefined) io.warn(`rollout.agent.temperature is not applied by the local engine (${r.scaffold} has no temperature setting); the harbor engine passes it to agents that take one`);
  return { version, run: (x) => runLocalJob(x, agent, executable, version) };
}

async function harborStageEngine(pipeline: LoadedPipeline, io: { log(line: string): void; warn(line: string): void }, host: NodeJS.ProcessEnv): Promise<StageEngine> {
  const r = pipeline.config.rollout;
  const ws = pipeline.paths.workspaceRoot;
  const harbor = await resolveHarbor(ws, r.harbor, io, host);
  const shown = relative(ws, harbor.executable).startsWith('..') ? harbor.executable : relative(ws, harbor.executable);
  io.log(`harbor ${harborVersion(harbor.executable) ?? '(version unknown)'} (${harbor.source === 'managed' ? `managed env ${shown}` : harbor.executable})`);
  let version: string;
  if (r.harbor.environment === 'host' && (r.scaffold === 'claude-code' || r.scaffold === 'opencode')) {
    // The host environment runs the project's own CLI (no install at trial time): name the job after its version.
    version = await agentVersion(agentExecutable(localAgent(r.scaffold), ws));
    if (r.agent.version && r.agent.version !== version) io.warn(`rollout.agent.version is ${r.agent.version} but the installed ${r.scaffold} CLI is ${version}; the host environment runs the installed one`);
  } else version = r.agent.version ?? 'latest';
  return { version, run: (x) => runHarborJob(x, harbor) };
}

/** The local engine over the claim; a shared ledger: chunk after chunk until none is left for this machine. */
async function runLocalJob(x: EngineRun, agent: LocalAgent, executable: string, version: string): Promise<string[]> {
  const { pipeline, claim, ledger, place } = x;
  const r = pipeline.config.rollout;
  const shared = isPostgres(ledger);
  const tasks = claim.claimed.map((id) => claim.loaded.get(id)!);
  const writer = new JobWriter(pipeline.paths.jobs, place.job, localJobConfig(pipeline, place.job, agent, x.batch, shared ? [...claim.loaded.values()] : tasks), shared ? claim.loaded.size : claim.claimed.length);
  // The pipeline config that produced the job, beside it so a job says how it was made (config.yaml never holds secrets: literal ones are rejected at load).
  atomicWriteFileSync(join(place.jobDir, 'trajgen-config.yaml'), pipeline.text);
  const tmpRoot = x.newScratch();
  const notStarted: string[] = [];
  let chunkTasks = tasks;
  for (;;) {
    const res = await runLocalEngine({
      workspaceRoot: pipeline.paths.workspaceRoot,
      writer,
      tasks: chunkTasks,
      agent,
      agentVersion: version,
      executable,
      model: r.model,
      proxy: { url: x.proxy.url, key: x.proxy.key, trialHeader: x.proxy.trialHeader, router: x.router },
      nConcurrent: r.n_concurrent,
      attemptsAllowed: (id) => 1 + retriesLeft(claim, r.max_retries, id),
      timeouts: r.timeouts,
      agentEnv: r.agent.env,
      passEnv: r.agent.pass_env,
      maxTurns: r.agent.max_turns,
      prices: r.llm_api.prices,
      dataset: x.batch.dataset,
      tmpRoot,
      hostEnv: x.host,
      signal: x.signal,
      events: x.events,
      killGraceMs: x.killGraceMs,
    });
    notStarted.push(...res.notStarted);
    await x.recorded();
    if (!shared || x.signal.aborted) break;
    const next = await nextSharedChunk(claim, ledger, { job: place.job, nConcurrent: r.n_concurrent, leaseSec: pipeline.config.ledger.postgres.lease_sec, signal: x.signal, log: x.events.log });
    if (next.length === 0) break;
    chunkTasks = next.map((id) => claim.loaded.get(id)!);
  }
  writer.finish();
  return notStarted;
}

/** The job's `config.json` for the local engine: JobConfig-shaped (sparse), so both engines' jobs read alike. */
function localJobConfig(pipeline: LoadedPipeline, job: string, agent: LocalAgent, batch: BatchFileLike, tasks: TaskToRun[]): Record<string, unknown> {
  const r = pipeline.config.rollout;
  return {
    job_name: job,
    jobs_dir: pipeline.paths.jobs,
    n_attempts: 1,
    timeout_multiplier: r.timeouts.multiplier,
    n_concurrent_trials: r.n_concurrent,
    retry: { max_retries: r.max_retries },
    environment: { type: 'local' },
    verifier: { max_timeout_sec: r.timeouts.verifier_sec },
    agents: [{ name: agent.scaffold, model_name: agent.modelName(r.model), max_timeout_sec: r.timeouts.agent_sec, kwargs: r.agent.max_turns !== undefined && agent.scaffold === 'claude-code' ? { max_turns: r.agent.max_turns } : {} }],
    datasets: [{ path: join(pipeline.paths.tasksStaging, batch.dataset), task_names: tasks.map((t) => t.id) }],
  };
}

/** `harbor run` (or `harbor job resume`) on the claimed tasks, behind the job's proxy. */
async function runHarborJob(x: EngineRun, harbor: HarborInstall): Promise<string[]> {
  const { pipeline, place, claim } = x;
  const r = pipeline.config.rollout;
  const ws = pipeline.paths.workspaceRoot;
  const stagedDataset = stageForHarbor(x);
  // Harbor has one retry budget per job: the smallest the ledger still allows, so no task goes over its own.
  const minRemaining = Math.min(...claim.claimed.map((id) => retriesLeft(claim, r.max_retries, id)));
  const config = harborConfigOf(x, stagedDataset, minRemaining);
  const configFile = join(place.logsDir, 'harbor-job.json');
  // A resumed job keeps the config it was started with (Harbor resumes from its own copy in the job dir).
  if (!x.resumed) writeJsonAtomic(configFile, config);
  writeJsonAtomic(join(place.logsDir, 'harbor-proxy.json'), { url: x.proxy.url });
  // The same for the harbor engine: the pipeline config beside the Harbor config (Harbor owns the job dir; an existing dir would make `harbor run` resume).
  atomicWriteFileSync(join(place.logsDir, 'trajgen-config.yaml'), pipeline.text);
  x.events.log(`harbor job config ${relative(ws, configFile) || '.'} (environment ${r.harbor.environment}, retry max ${minRemaining}); running ${harbor.executable} run -c … -y`);
  const env = harborEnv(x);
  // The host environment's working copies, outside the workspace; removed with the run (and by the next run after a kill).
  if (r.harbor.environment === 'host') env.TRAJGEN_HOST_SCRATCH = x.newScratch();
  const res = await runHarborEngine({
    jobDir: place.jobDir,
    configFile,
    config,
    executable: harbor.executable,
    env,
    tasks: claim.claimed,
    attemptsDir: join(pipeline.paths.jobs, '.attempts', place.job),
    logFile: join(place.logsDir, 'harbor.log'),
    cwd: ws,
    signal: x.signal,
    events: x.events,
    pollMs: x.harborPollMs,
    resume: !!x.resumed,
  });
  return res.unfinished;
}

/** The staged dataset Harbor runs; prepare restored from the Nx cache stages nothing (its staging dir is not an output): stage the claimed tasks now. */
function stageForHarbor(x: EngineRun): string {
  const { pipeline, batch, claim } = x;
  const stagedDataset = join(pipeline.paths.tasksStaging, batch.dataset);
  if (existsSync(stagedDataset)) return stagedDataset;
  const ws = pipeline.paths.workspaceRoot;
  const tasks = claim.claimed.map((id) => claim.loaded.get(id)!);
  const batchById = new Map(batch.tasks.map((t) => [t.id, t]));
  refreshStaging({
    dir: stagedDataset,
    mode: pipeline.config.task_source.staging,
    tasks: tasks.map((t) => ({ id: t.id, source: resolve(ws, batchById.get(t.id)!.source_path), checksum: t.checksum })),
    keep: () => false,
  });
  x.events.log(`staged the ${tasks.length} claimed task${tasks.length === 1 ? '' : 's'} into ${relative(ws, stagedDataset) || '.'} for Harbor (prepare came from the cache)`);
  return stagedDataset;
}

function harborConfigOf(x: EngineRun, stagedDataset: string, maxRetries: number): HarborJobConfig {
  const r = x.pipeline.config.rollout;
  return harborJobConfig({
    jobName: x.place.job,
    jobsDir: x.pipeline.paths.jobs,
    datasetPath: stagedDataset,
    taskNames: x.claim.claimed,
    excludeTaskNames: x.ledger.exclusions(),
    scaffold: r.scaffold as HarborScaffold,
    model: r.model,
    proxyUrl: x.proxy.url,
    trialHeader: x.proxy.trialHeader,
    nConcurrent: r.n_concurrent,
    nAttempts: r.harbor.n_attempts,
    maxRetries,
    timeouts: { agentSec: r.timeouts.agent_sec, verifierSec: r.timeouts.verifier_sec, multiplier: r.timeouts.multiplier },
    environment: r.harbor.environment,
    hostBinDirs: [join(x.pipeline.paths.workspaceRoot, 'node_modules', '.bin')],
    agent: { version: r.agent.version, maxTurns: r.agent.max_turns, temperature: r.agent.temperature, env: r.agent.env, passEnv: r.agent.pass_env, kwargs: r.harbor.agent_kwargs },
  });
}

/** Harbor's process environment: the host's, the proxy variables of the scaffold, and PYTHONPATH for our agent wrappers. */
function harborEnv(x: EngineRun): Record<string, string> {
  const host = x.host;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(host)) if (v !== undefined) env[k] = v;
  return Object.assign(env, harborProcessEnv(x.pipeline.config.rollout.scaffold as HarborScaffold, { url: x.proxy.url, key: x.proxy.key }), {
    PYTHONPATH: [HARBOR_PYTHON_DIR, host.PYTHONPATH].filter(Boolean).join(':'),
    HARBOR_TELEMETRY: host.HARBOR_TELEMETRY ?? '0',
    // Harbor's LiteLLM would fetch its model cost map from the network at every start (seconds of retries offline).
    LITELLM_LOCAL_MODEL_COST_MAP: host.LITELLM_LOCAL_MODEL_COST_MAP ?? 'True',
  });
}
