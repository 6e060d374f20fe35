import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { TrajgenError, isProcessAlive, killAllProcessGroups, atomicWriteFileSync, resetDir, writeJsonAtomic, formatDuration, sha256 } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';
import { writeRunFile, writeTrialsFile } from '@trajgen/contracts';
import { HARBOR_PYTHON_DIR, JobWriter, harborJobConfig, harborProcessEnv, primaryReward, type HarborScaffold } from '@trajgen/harbor';
import { TERMINAL_STATUSES, formatReconcileReport, isPostgres, ledgerStateDigest, openPipelineLedger, type AnyLedger, type LedgerStatus } from '@trajgen/ledger';
import { startOracle, type OracleFault, type RunningOracle } from '@trajgen/oracle';
import { JobTrialRouter, TRAJECTORY_FILE, ensureLitellmEnv, startProxy, type ProxyOptions, type RunningProxy, type Protocol } from '@trajgen/proxy';
import { agentExecutable, agentVersion, localAgent, type LocalAgent } from './agents';
import { trajectoryFileOf, type EngineEvents, type FinishedTrial } from './engine';
import { findResumableHarborJob, runHarborEngine, type ResumableHarborJob } from './harbor-engine';
import { harborVersion, resolveHarbor, type HarborInstall } from './harbor-env';
import { jobName } from './job-name';
import { runLocalEngine } from './local-engine';
import { completeVerifiedTrials } from './complete';
import { buildTrialsIndex, type RunRecord, type TrialsIndex } from './outputs';
import { Progress, type ProgressSink } from './progress';
import { refreshStaging } from '@trajgen/tasks';
import { loadTask, readBatch, type BatchFileLike, type TaskToRun } from './tasks';
import { usageOfFile } from './usage';

export interface RolloutIO {
  log(line: string): void;
  warn(line: string): void;
  /** Where the live progress goes (default process.stdout; a TTY gets an in-place status line). */
  out?: ProgressSink;
}

export interface RolloutOptions {
  /** Cancel from outside (tests); SIGINT/SIGTERM do the same when handleSignals is on. */
  signal?: AbortSignal;
  /** Install SIGINT/SIGTERM handlers for the run (default true). */
  handleSignals?: boolean;
  /** Host environment (default process.env): only allowlisted / pass_env names reach trials. */
  hostEnv?: NodeJS.ProcessEnv;
  /** Force progress TTY mode on/off. */
  tty?: boolean;
  /** Harbor engine: poll interval for result.json files (ms). */
  harborPollMs?: number;
  /** SIGTERM → SIGKILL grace for agent/verifier groups (ms). */
  killGraceMs?: number;
}

export interface RolloutResult {
  job: string | null;
  run: RunRecord;
  trials: TrialsIndex;
  /** One line for runStage. */
  summary: string;
}

const rel = (root: string, p: string) => relative(root, p) || '.';

/** The first non-internal IPv4 address of this host (containers cannot reach 127.0.0.1 of the host, so the proxy binds this). */
export function firstNonLoopbackIp(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/** The wire protocol a scaffold speaks toward the proxy. */
export function scaffoldProtocol(scaffold: string): Protocol {
  return scaffold === 'claude-code' ? 'anthropic' : 'openai';
}

function sha256Of(path: string): string {
  return `sha256:${sha256(readFileSync(path))}`;
}

/**
 * The rollout stage (docs/rollout.md): batch → ledger claim → job → oracle +
 * proxy → engine → each trial recorded in the ledger as it finishes →
 * rollout/trials.json + rollout/run.json.
 */
export async function rolloutPipeline(pipeline: LoadedPipeline, io: RolloutIO, options: RolloutOptions = {}): Promise<RolloutResult> {
  const t0 = Date.now();
  const { paths, config } = pipeline;
  const r = config.rollout;
  const ws = paths.workspaceRoot;
  const host = options.hostEnv ?? process.env;
  const batch = readBatch(paths.batchFile, ws);

  // What runs, checked before anything is claimed.
  let agent: LocalAgent | undefined;
  let executable: string | undefined;
  let harbor: HarborInstall | undefined;
  let version: string;
  if (r.engine === 'local') {
    agent = localAgent(r.scaffold);
    executable = agentExecutable(agent, ws);
    version = await agentVersion(executable);
    if (r.agent.version && r.agent.version !== version) io.warn(`rollout.agent.version is ${r.agent.version} but the installed ${r.scaffold} CLI is ${version}; the local engine runs the installed one`);
    if (r.agent.temperature !== undefined) io.warn(`rollout.agent.temperature is not applied by the local engine (${r.scaffold} has no temperature setting); the harbor engine passes it to agents that take one`);
  } else {
    harbor = await resolveHarbor(ws, r.harbor, io, host);
    const shown = relative(ws, harbor.executable).startsWith('..') ? harbor.executable : relative(ws, harbor.executable);
    io.log(`harbor ${harborVersion(harbor.executable) ?? '(version unknown)'} (${harbor.source === 'managed' ? `managed env ${shown}` : harbor.executable})`);
    if (r.harbor.environment === 'host' && (r.scaffold === 'claude-code' || r.scaffold === 'opencode')) {
      // The host environment runs the project's own CLI (no install at trial time): name the job after its version.
      version = await agentVersion(agentExecutable(localAgent(r.scaffold), ws));
      if (r.agent.version && r.agent.version !== version) io.warn(`rollout.agent.version is ${r.agent.version} but the installed ${r.scaffold} CLI is ${version}; the host environment runs the installed one`);
    } else version = r.agent.version ?? 'latest';
  }
  if (r.scaffold === 'opencode' && r.agent.max_turns !== undefined) io.warn('rollout.agent.max_turns has no effect on opencode (it has no turn limit)');
  const protocol = scaffoldProtocol(r.scaffold);
  const provider = r.llm_api.provider;
  if (provider !== 'oracle') {
    if (!r.llm_api.base_url) throw new TrajgenError('rollout.llm_api.base_url is required unless provider is oracle', { hint: 'Set it to the upstream endpoint (e.g. https://api.anthropic.com).' });
    if (config.proxy.backend === 'builtin' && provider !== protocol) {
      throw new TrajgenError(`rollout.llm_api.provider is ${provider}, but ${r.scaffold} speaks the ${protocol} protocol and the builtin proxy does not translate`, {
        hint: `Use an ${protocol}-compatible upstream, or proxy.backend: litellm (it translates between protocols).`,
      });
    }
  }

  const jobsDir = paths.jobs;
  // `let`: a harbor rollout may instead resume the job a killed run left (decided once the ledger is open).
  let job = jobName({ dataset: batch.dataset, agent: r.scaffold, version, model: r.model }, jobsDir);
  let jobDir = join(jobsDir, job);
  let logsDir = join(paths.logs, job);
  let runLog = join(logsDir, 'rollout.log');
  let resumed: ResumableHarborJob | undefined;
  const log = (line: string) => {
    io.log(line);
    try {
      appendFileSync(runLog, `${line}\n`);
    } catch {
      /* logs dir not created yet */
    }
  };
  const warn = (line: string) => {
    io.warn(line);
    try {
      appendFileSync(runLog, `warning: ${line}\n`);
    } catch {
      /* logs dir not created yet */
    }
  };

  // Cancellation: first SIGINT/SIGTERM cancels running trials (recorded as CancelledError → pending); a second kills at once.
  const abort = new AbortController();
  const onExternalAbort = () => abort.abort(options.signal?.reason ?? 'cancelled');
  if (options.signal) {
    if (options.signal.aborted) onExternalAbort();
    else options.signal.addEventListener('abort', onExternalAbort, { once: true });
  }
  let receivedSignal: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      killAllProcessGroups();
      process.exit(130);
    }
    receivedSignal = sig;
    warn(`received ${sig}: cancelling the running trials (they are recorded as CancelledError and go back to pending); ${sig} again stops at once`);
    abort.abort(sig);
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  let ledger: AnyLedger | undefined;
  let digestAfter: string | null = null;
  let proxy: RunningProxy | undefined;
  let oracle: RunningOracle | undefined;
  let progress: Progress | undefined;
  let scratch: string | undefined;
  let failure: unknown;
  const recorded: RunRecord['trials'] = [];
  const recording: Promise<void>[] = [];
  const counts: RunRecord['counts'] = { trials: 0, retried_attempts: 0, reward_1: 0, reward_0: 0, no_reward: 0, by_exception: {}, by_status: {}, not_started: 0 };
  const tokens = { input: 0, cache: 0, output: 0 };
  let cost = 0;
  let claimed: string[] = [];
  let refused: RunRecord['batch']['refused'] = [];
  let cappedBy = 0;
  let reconcileCounts = { finalized: 0, returned: 0, adopted: 0 };
  let setupMs = 0;
  let trialsMs = 0;
  let status: RunRecord['status'] = 'completed';
  let oracleStats: RunRecord['oracle'] = null;
  let proxyStats: RunRecord['proxy'] = null;

  try {
    ledger = await openPipelineLedger(pipeline, { purpose: `rollout ${job}` });
    const shared = isPostgres(ledger);
    const open = ledger.openReport;
    if (open.staleLock) warn(`recovered a stale ledger lock of pid ${open.staleLock.pid} on ${open.staleLock.host} (${open.staleLock.purpose}, since ${open.staleLock.acquired_at}): that process is gone`);
    if (open.tornJournalLine) warn(`ignored a torn last ledger journal line (line ${open.tornJournalLine.line}): a write cut off by a crash`);
    for (const line of formatReconcileReport(open.reconcile)) io.log(line);
    for (const c of completeVerifiedTrials(jobsDir, ledger, r.llm_api.prices)) {
      warn(`completed trial ${c.job}/${c.trial} of ${c.task_id} from what it left (verifier reward ${c.reward}, trajectory): it was killed after its verifier finished; wrote its result.json`);
    }
    reconcileCounts = { finalized: open.reconcile.finalized.length, returned: open.reconcile.returned.length, adopted: open.reconcile.adopted.length };

    // The batch, capped, minus what the ledger refuses; tasks are loaded BEFORE the claim so a broken task claims nothing.
    let wanted = batch.tasks;
    if (r.n_tasks !== null && wanted.length > r.n_tasks) {
      cappedBy = wanted.length - r.n_tasks;
      wanted = wanted.slice(0, r.n_tasks);
    }
    // Shared ledger (local engine): a task another machine is running stays in view; it may come back here.
    const waitsForOthers = shared && r.engine === 'local';
    const refusable = (st: string) => (waitsForOthers ? TERMINAL_STATUSES.has(st as LedgerStatus) : st !== 'pending');
    refused = wanted.filter((t) => ledger!.has(t.id) && refusable(ledger!.get(t.id)!.status)).map((t) => ({ id: t.id, status: ledger!.get(t.id)!.status }));
    const refusedIds = new Set(refused.map((x) => x.id));
    const loaded = new Map<string, TaskToRun>();
    for (const t of wanted) if (!refusedIds.has(t.id)) loaded.set(t.id, loadTask(ws, t));
    if (r.engine === 'harbor') {
      // A killed rollout's Harbor job whose unfinished tasks are exactly what the ledger hands out now: Harbor finishes it.
      // The pending tasks' last job: reconcile (in prepare, or above) returned them from a killed job and kept its name.
      const candidate = findResumableHarborJob(jobsDir, paths.logs, [...loaded.keys()].map((id) => ledger!.get(id)?.job ?? null));
      const now = [...loaded.keys()].sort();
      if (candidate && candidate.remaining.length && JSON.stringify([...candidate.remaining].sort()) === JSON.stringify(now)) {
        resumed = candidate;
        job = candidate.job;
        jobDir = join(jobsDir, job);
        logsDir = join(paths.logs, job);
        runLog = join(logsDir, 'rollout.log');
        log(`resuming Harbor job ${job} (killed mid-job): harbor job resume runs its ${now.length} unfinished task${now.length === 1 ? '' : 's'}`);
      } else if (candidate) {
        io.log(`not resuming Harbor job ${candidate.job}: its unfinished tasks (${candidate.remaining.join(', ') || 'none'}) are not what the ledger hands out now (${now.join(', ')}); a new job runs them`);
      }
    }
    // A shared (PostgreSQL) ledger hands tasks out a few at a time, so that machines rolling out one pipeline split the work.
    const chunk = waitsForOthers ? r.n_concurrent : undefined;
    claimed = await ledger.claim([...loaded.keys()], { job, limit: chunk });
    const claimedSet = new Set(claimed);
    if (chunk === undefined) for (const id of loaded.keys()) if (!claimedSet.has(id)) refused.push({ id, status: ledger.get(id)?.status ?? 'unknown' });
    if (refused.length) io.log(`skipped ${refused.length} batch task${refused.length === 1 ? '' : 's'} the ledger refuses: ${refused.map((x) => `${x.id} (${x.status})`).join(', ')}`);
    if (cappedBy) io.log(`rollout.n_tasks = ${r.n_tasks}: ${cappedBy} batch task${cappedBy === 1 ? '' : 's'} left for a later run`);

    // Shared ledger: tasks another machine holds may come back to us when its lease expires.
    const heldElsewhere = () => (waitsForOthers ? [...loaded.keys()].filter((id) => ledger!.status(id) === 'running' && !claimedSet.has(id)) : []);
    if (claimed.length === 0 && heldElsewhere().length === 0) {
      status = 'nothing_to_roll_out';
      io.log(`nothing to roll out: the batch (${batch.tasks.length} task${batch.tasks.length === 1 ? '' : 's'}) has no task the ledger can hand out`);
    } else {
      mkdirSync(logsDir, { recursive: true });
      log(`job ${job}: ${claimed.length} task${claimed.length === 1 ? '' : 's'}, engine ${r.engine}, ${r.scaffold} ${version}, model ${r.model}, provider ${provider}, proxy ${config.proxy.backend}, n_concurrent ${r.n_concurrent}`);
      const tasks = claimed.map((id) => loaded.get(id)!);
      const batchById = new Map(batch.tasks.map((t) => [t.id, t]));
      // With a shared ledger the oracle must know every task this run may get (claims come in chunks).
      const oracleTasks = shared ? [...loaded.values()] : tasks;
      const attemptsUsed = new Map(claimed.map((id) => [id, ledger!.get(id)?.attempts ?? 0]));
      const attemptsAllowed = (id: string) => 1 + Math.max(0, r.max_retries - (attemptsUsed.get(id) ?? 0));

      // Upstream: the embedded oracle for the demo/tests, else the configured endpoint.
      const tSetup = Date.now();
      let upstreamBase = r.llm_api.base_url ?? '';
      if (provider === 'oracle') {
        oracle = await startOracle({
          tasks: Object.fromEntries(oracleTasks.map((t) => [t.id, t.dir])),
          latencyMs: r.llm_api.oracle.latency_ms,
          faults: r.llm_api.oracle.faults as Record<string, OracleFault | OracleFault[]>,
          trialHeader: config.proxy.trial_header,
        });
        upstreamBase = oracle.url;
        log(`oracle (scripted demo/test model, not a real LLM) at ${oracle.url}`);
      }
      // The proxy: harbor containers must reach it (they cannot reach the host's 127.0.0.1), the local engine's agents run here.
      let bindHost = config.proxy.host;
      if (r.engine === 'harbor' && r.harbor.environment !== 'host') {
        const reachable = r.harbor.proxy_host ?? (['127.0.0.1', 'localhost', '::1'].includes(bindHost) ? firstNonLoopbackIp() : bindHost);
        if (!reachable) throw new TrajgenError('No address for the proxy that containers can reach', { hint: 'Set rollout.harbor.proxy_host to an address of this host that the Harbor environments reach.' });
        bindHost = reachable;
      }
      const router = new JobTrialRouter(jobDir, { acceptExistingTrialDirs: r.engine === 'harbor' });
      const common = {
        // Only the embedded oracle gets trial names (it routes by them); a real upstream never sees them.
        upstream: { baseUrl: upstreamBase, protocol, apiKeyEnv: provider === 'oracle' ? undefined : r.llm_api.api_key_env, model: r.llm_api.model, trialHeader: provider === 'oracle' ? config.proxy.trial_header : undefined },
        routes: router,
        host: bindHost,
        // A resumed job's config may hold the proxy URL literally (OpenCode, Terminus-2 kwargs): listen where it says.
        port: resumed?.proxyUrl && r.scaffold !== 'claude-code' ? Number(new URL(resumed.proxyUrl).port) : config.proxy.port,
        trialHeader: config.proxy.trial_header,
        requestTimeoutMs: config.proxy.request_timeout_sec * 1000,
        prices: r.llm_api.prices,
      };
      const proxyOptions: ProxyOptions =
        config.proxy.backend === 'litellm'
          ? {
              backend: 'litellm',
              ...common,
              litellm: {
                dir: join(paths.litellm, job),
                job,
                models: [r.model],
                executable: config.proxy.litellm.managed_env ? await ensureLitellmEnv(ws, { log }) : config.proxy.litellm.executable,
                startupTimeoutMs: config.proxy.litellm.startup_timeout_sec * 1000,
                numWorkers: config.proxy.litellm.num_workers,
              },
            }
          : { backend: 'builtin', ...common, onLine: (e) => progress?.callLogged(e.trial, e.usage) };
      proxy = await startProxy(proxyOptions);
      log(`proxy (${proxy.backend}) at ${proxy.url}, trial header ${proxy.trialHeader}; trajectories → ${rel(ws, jobDir)}/<trial>/agent/${TRAJECTORY_FILE}`);
      setupMs = Date.now() - tSetup;

      progress = new Progress({ total: waitsForOthers ? loaded.size : claimed.length, out: io.out, tty: options.tty });
      const events: EngineEvents = {
        log,
        warn,
        onTrialStarted: (task, trial) => progress!.trialStarted(task, trial),
        onRetry: (task, trial, type, attempt) => {
          counts.retried_attempts += 1;
          progress!.retried(task, trial, type, attempt);
        },
        onTrialFinished: (t: FinishedTrial) => {
          recording.push(recordFinished(t));
        },
      };
      // Recorded AS IT ARRIVES: one durable journal append (or one database transaction) per trial.
      const recordFinished = async (t: FinishedTrial) => {
          const trajectory = trajectoryFileOf(t.trialDir);
          const reward = primaryReward(t.result);
          const exceptionType = t.result.exception_info?.exception_type ?? null;
          const rec = await ledger!.recordTrialOutcome(t.taskId, {
            job,
            trial: t.trialName,
            reward,
            trajectory_path: trajectory ? rel(ws, trajectory) : null,
            trajectory_digest: trajectory ? sha256Of(trajectory) : null,
            exception_type: exceptionType,
            started_at: t.result.started_at,
            finished_at: t.result.finished_at,
            attempts: t.attempts,
          });
          const usage = usageOfFile(join(t.trialDir, 'agent', TRAJECTORY_FILE), r.llm_api.prices);
          const ar = t.result.agent_result;
          tokens.input += ar?.n_input_tokens ?? 0;
          tokens.cache += ar?.n_cache_tokens ?? 0;
          tokens.output += ar?.n_output_tokens ?? 0;
          cost += ar?.cost_usd ?? 0;
          counts.trials += 1;
          if (reward === null) counts.no_reward += 1;
          else if (reward >= 1) counts.reward_1 += 1;
          else if (reward === 0) counts.reward_0 += 1;
          if (exceptionType) counts.by_exception[exceptionType] = (counts.by_exception[exceptionType] ?? 0) + 1;
          counts.by_status[rec.status] = (counts.by_status[rec.status] ?? 0) + 1;
          recorded.push({ task_id: t.taskId, trial: t.trialName, reward, exception_type: exceptionType, status: rec.status, attempts: t.attempts, requests: usage.requests, failed_requests: usage.failed });
          const started = Date.parse(t.result.started_at ?? '') || Date.now();
          const ended = Date.parse(t.result.finished_at ?? '') || Date.now();
          progress!.trialFinished({
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
      };

      const tTrials = Date.now();
      let notStarted: string[] = [];
      /**
       * Shared ledger: the next few tasks of the batch this machine can claim. When none is pending but
       * another machine still holds some, wait: they finish there, or their lease expires, reconcile here
       * returns them to pending (or finalizes them from their trial on shared storage) and we take them.
       */
      const nextSharedChunk = async (): Promise<string[]> => {
        const pollMs = Math.max(100, Math.min(5000, (config.ledger.postgres.lease_sec * 1000) / 4));
        for (;;) {
          if (abort.signal.aborted) return [];
          const report = await ledger!.reconcile();
          const back = report.returned.length + report.finalized.length;
          if (back) log(`shared ledger: ${back} task${back === 1 ? '' : 's'} of an expired lease reconciled (${[...report.returned, ...report.finalized].map((i) => `${i.id} → ${i.to}`).join(', ')})`);
          const ids = await ledger!.claim([...loaded.keys()], { job, limit: r.n_concurrent });
          for (const id of ids) {
            claimed.push(id);
            claimedSet.add(id);
            attemptsUsed.set(id, ledger!.get(id)?.attempts ?? 0);
          }
          if (ids.length) return ids;
          const waiting = heldElsewhere();
          if (waiting.length === 0) return [];
          log(`shared ledger: waiting for ${waiting.length} task${waiting.length === 1 ? '' : 's'} another machine holds (${waiting.slice(0, 5).join(', ')}${waiting.length > 5 ? ', …' : ''}): they finish there or come back here when the lease expires`);
          await new Promise((res) => setTimeout(res, pollMs));
        }
      };
      if (r.engine === 'local') {
        const writer = new JobWriter(jobsDir, job, localJobConfig(pipeline, job, agent!, batch, shared ? oracleTasks : tasks), shared ? loaded.size : claimed.length);
        // The pipeline config that produced the job, beside it so a job says how it was made (config.yaml never holds secrets: literal ones are rejected at load).
        atomicWriteFileSync(join(jobDir, 'trajgen-config.yaml'), pipeline.text);
        removeStaleScratch(pipeline.name, warn);
        scratch = mkdtempSync(join(tmpdir(), `trajgen-${pipeline.name}-`));
        writeFileSync(join(scratch, SCRATCH_OWNER), JSON.stringify({ pid: process.pid, host: hostname(), job }));
        let chunkTasks = tasks;
        for (;;) {
        const res = await runLocalEngine({
          workspaceRoot: ws,
          writer,
          tasks: chunkTasks,
          agent: agent!,
          agentVersion: version,
          executable: executable!,
          model: r.model,
          proxy: { url: proxy.url, key: proxy.key, trialHeader: proxy.trialHeader, router },
          nConcurrent: r.n_concurrent,
          attemptsAllowed,
          timeouts: r.timeouts,
          agentEnv: r.agent.env,
          passEnv: r.agent.pass_env,
          maxTurns: r.agent.max_turns,
          prices: r.llm_api.prices,
          dataset: batch.dataset,
          tmpRoot: scratch,
          hostEnv: host,
          signal: abort.signal,
          events,
          killGraceMs: options.killGraceMs,
        });
        notStarted.push(...res.notStarted);
        await Promise.all(recording.splice(0));
        if (!shared || abort.signal.aborted) break;
        const next = await nextSharedChunk();
        if (next.length === 0) break;
        chunkTasks = next.map((id) => loaded.get(id)!);
        }
        writer.finish();
      } else {
        const stagedDataset = join(paths.tasksStaging, batch.dataset);
        if (!existsSync(stagedDataset)) {
          // prepare restored from the Nx cache stages nothing (its staging dir is not an output): stage the claimed tasks now.
          refreshStaging({
            dir: stagedDataset,
            mode: config.task_source.staging,
            tasks: tasks.map((t) => ({ id: t.id, source: resolve(ws, batchById.get(t.id)!.source_path), checksum: t.checksum })),
            keep: () => false,
          });
          log(`staged the ${tasks.length} claimed task${tasks.length === 1 ? '' : 's'} into ${rel(ws, stagedDataset)} for Harbor (prepare came from the cache)`);
        }
        const minRemaining = Math.min(...claimed.map((id) => Math.max(0, r.max_retries - (attemptsUsed.get(id) ?? 0))));
        const harborConfig = harborJobConfig({
          jobName: job,
          jobsDir,
          datasetPath: stagedDataset,
          taskNames: claimed,
          excludeTaskNames: ledger.exclusions(),
          scaffold: r.scaffold as HarborScaffold,
          model: r.model,
          proxyUrl: proxy.url,
          trialHeader: proxy.trialHeader,
          nConcurrent: r.n_concurrent,
          nAttempts: r.harbor.n_attempts,
          // Harbor has one retry budget per job: the smallest the ledger still allows, so no task goes over its own.
          maxRetries: minRemaining,
          timeouts: { agentSec: r.timeouts.agent_sec, verifierSec: r.timeouts.verifier_sec, multiplier: r.timeouts.multiplier },
          environment: r.harbor.environment,
          hostBinDirs: [join(ws, 'node_modules', '.bin')],
          agent: { version: r.agent.version, maxTurns: r.agent.max_turns, temperature: r.agent.temperature, env: r.agent.env, passEnv: r.agent.pass_env, kwargs: r.harbor.agent_kwargs },
        });
        const configFile = join(logsDir, 'harbor-job.json');
        // A resumed job keeps the config it was started with (Harbor resumes from its own copy in the job dir).
        if (!resumed) writeJsonAtomic(configFile, harborConfig);
        writeJsonAtomic(join(logsDir, 'harbor-proxy.json'), { url: proxy.url });
        // The same for the harbor engine: the pipeline config beside the Harbor config (Harbor owns the job dir; an existing dir would make `harbor run` resume).
        atomicWriteFileSync(join(logsDir, 'trajgen-config.yaml'), pipeline.text);
        log(`harbor job config ${rel(ws, configFile)} (environment ${r.harbor.environment}, retry max ${minRemaining}); running ${harbor!.executable} run -c … -y`);
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries(host)) if (v !== undefined) env[k] = v;
        Object.assign(env, harborProcessEnv(r.scaffold as HarborScaffold, { url: proxy.url, key: proxy.key }), {
          PYTHONPATH: [HARBOR_PYTHON_DIR, host.PYTHONPATH].filter(Boolean).join(':'),
          HARBOR_TELEMETRY: host.HARBOR_TELEMETRY ?? '0',
          // Harbor's LiteLLM would fetch its model cost map from the network at every start (seconds of retries offline).
          LITELLM_LOCAL_MODEL_COST_MAP: host.LITELLM_LOCAL_MODEL_COST_MAP ?? 'True',
        });
        if (r.harbor.environment === 'host') {
          // The host environment's working copies, outside the workspace; removed with the run (and by the next run after a kill).
          removeStaleScratch(pipeline.name, warn);
          scratch = mkdtempSync(join(tmpdir(), `trajgen-${pipeline.name}-`));
          writeFileSync(join(scratch, SCRATCH_OWNER), JSON.stringify({ pid: process.pid, host: hostname(), job }));
          env.TRAJGEN_HOST_SCRATCH = scratch;
        }
        const res = await runHarborEngine({
          jobDir,
          configFile,
          config: harborConfig,
          executable: harbor!.executable,
          env,
          tasks: claimed,
          attemptsDir: join(jobsDir, '.attempts', job),
          logFile: join(logsDir, 'harbor.log'),
          cwd: ws,
          signal: abort.signal,
          events,
          pollMs: options.harborPollMs,
          resume: !!resumed,
        });
        notStarted = res.unfinished;
      }
      await Promise.all(recording.splice(0));
      trialsMs = Date.now() - tTrials;
      counts.not_started = notStarted.length;
      if (notStarted.length) warn(`${notStarted.length} claimed task${notStarted.length === 1 ? '' : 's'} did not finish (${notStarted.join(', ')}); the ledger returns them to pending at the next open`);

      if (oracle) {
        const s = oracle.stats();
        oracleStats = { generation_by_trial: s.generation.by_trial, faults_fired: s.faults.length };
      }
      if (proxy.backend === 'builtin') {
        const c = proxy.counters();
        proxyStats = { lines: c.lines, failed_lines: c.failed_lines, requests_by_trial: Object.fromEntries(Object.entries(c.by_trial).map(([t, v]) => [t, v.requests])) };
      } else {
        const lc = proxy.lineCounts();
        proxyStats = {
          lines: Object.values(lc).reduce((s, v) => s + v.lines, 0),
          failed_lines: Object.values(lc).reduce((s, v) => s + v.failed, 0),
          requests_by_trial: Object.fromEntries(Object.entries(lc).map(([t, v]) => [t, v.lines])),
        };
      }
      if (abort.signal.aborted) status = 'interrupted';
    }
  } catch (error) {
    failure = error;
  } finally {
    progress?.stop();
    if (handleSignals) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
    options.signal?.removeEventListener('abort', onExternalAbort);
    const stops: Promise<unknown>[] = [];
    if (proxy) stops.push(proxy.stop().catch((e) => warn(`stopping the proxy: ${(e as Error).message}`)));
    await Promise.all(stops);
    if (oracle) await oracle.stop().catch((e) => warn(`stopping the oracle: ${(e as Error).message}`));
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    await Promise.allSettled(recording);
    if (ledger && isPostgres(ledger)) {
      try {
        await ledger.refresh();
        digestAfter = await ledger.digest();
      } catch (error) {
        warn(`reading the shared ledger's state at the end: ${(error as Error).message}`);
      }
    }
    await ledger?.close();
  }
  if (!ledger) throw failure; // the ledger could not be opened: nothing happened

  // Outputs: replace our own dir; trials.json indexes every finished trial of every job.
  const previousIndex = readPreviousIndex(paths.rolloutOut);
  const trials = buildTrialsIndex(jobsDir, previousIndex);
  // The batch is settled when none of its tasks can be handed out again (done, failed, skipped). Only then
  // does run.json carry the ledger digest that lets the next prepare treat this run's changes as expected
  // (docs/architecture.md); otherwise the next `nx run` re-runs prepare and rolls out what is left.
  const settled = batch.tasks.every((t) => TERMINAL_STATUSES.has(ledger!.get(t.id)?.status ?? 'pending'));
  const completed = !failure && status !== 'interrupted' && settled;
  if (failure) status = 'failed';
  const run: RunRecord = {
    schema_version: 1,
    pipeline: pipeline.name,
    job: claimed.length ? job : null,
    job_dir: claimed.length ? rel(ws, jobDir) : null,
    status,
    engine: r.engine,
    scaffold: r.scaffold,
    agent_version: version,
    model: r.model,
    proxy_backend: config.proxy.backend,
    batch_digest: batch.batch_digest,
    ledger_digest_after: completed ? (isPostgres(ledger) ? digestAfter : ledgerStateDigest(paths.artifacts)) : null,
    batch_settled: settled,
    batch: { tasks: batch.tasks.length, claimed: claimed.length, capped_by_n_tasks: cappedBy, refused },
    reconcile: reconcileCounts,
    counts,
    tokens,
    cost_usd: Math.round(cost * 1e9) / 1e9,
    trials: recorded.sort((a, b) => (a.task_id < b.task_id ? -1 : a.task_id > b.task_id ? 1 : 0)),
    oracle: oracleStats,
    proxy: proxyStats,
    timings: { total_ms: Date.now() - t0, setup_ms: setupMs, trials_ms: trialsMs },
  };
  if (failure) run.error = failure instanceof Error ? failure.message : String(failure);
  resetDir(paths.rolloutOut);
  writeTrialsFile(join(paths.rolloutOut, 'trials.json'), trials);
  writeRunFile(join(paths.rolloutOut, 'run.json'), run);

  if (progress && progress.results.length) {
    io.log('');
    io.log(progress.summary());
  }
  if (failure) throw failure;
  if (status === 'interrupted') {
    throw new TrajgenError(`The rollout was interrupted${receivedSignal ? ` by ${receivedSignal}` : ''}: ${counts.trials} of ${claimed.length} trials finished and were recorded`, {
      hint: 'Run it again: cancelled and unstarted tasks are back to pending and go into the next batch; finished trials are kept.',
    });
  }
  const summary =
    claimed.length === 0
      ? 'nothing to roll out'
      : `job ${job}: ${counts.trials} trial${counts.trials === 1 ? '' : 's'}, reward 1.0 ×${counts.reward_1}, 0.0 ×${counts.reward_0}, no reward ×${counts.no_reward}; ledger ${Object.entries(counts.by_status)
          .map(([s, n]) => `${s} ${n}`)
          .join(', ')}; ${formatDuration(run.timings.total_ms)}`;
  if (!settled && status === 'completed') {
    const left = batch.tasks.filter((t) => !TERMINAL_STATUSES.has(ledger!.get(t.id)?.status ?? 'pending')).map((t) => t.id);
    io.log(`${left.length} task${left.length === 1 ? '' : 's'} of the batch can still be rolled out (${left.slice(0, 10).join(', ')}${left.length > 10 ? ', …' : ''}): the next run picks ${left.length === 1 ? 'it' : 'them'} up`);
  }
  if (claimed.length) io.log(`trials of ${rel(ws, jobDir)} indexed in ${rel(ws, join(paths.rolloutOut, 'trials.json'))} (${trials.trials.length} finished trials in all jobs)`);
  return { job: claimed.length ? job : null, run, trials, summary };
}

const SCRATCH_OWNER = '.trajgen-owner.json';

/**
 * Working copies of a rollout that was killed (-9) stay in $TMPDIR: remove
 * those of this pipeline whose owner process on this host is gone.
 */
function removeStaleScratch(pipeline: string, warn: (line: string) => void): void {
  const prefix = `trajgen-${pipeline}-`;
  let names: string[] = [];
  try {
    names = readdirSync(tmpdir()).filter((n) => n.startsWith(prefix));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(tmpdir(), name);
    let owner: { pid?: number; host?: string } | undefined;
    try {
      owner = JSON.parse(readFileSync(join(dir, SCRATCH_OWNER), 'utf8'));
    } catch {
      continue; // not ours, or still being created
    }
    if (!owner?.pid || owner.host !== hostname()) continue;
    if (isProcessAlive(owner.pid)) continue;
    rmSync(dir, { recursive: true, force: true });
    warn(`removed ${dir}: working copies left by a rollout that was killed (pid ${owner.pid})`);
  }
}

function readPreviousIndex(dir: string): TrialsIndex | undefined {
  try {
    const v = JSON.parse(readFileSync(join(dir, 'trials.json'), 'utf8')) as TrialsIndex;
    return v && Array.isArray(v.trials) ? v : undefined;
  } catch {
    return undefined;
  }
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
