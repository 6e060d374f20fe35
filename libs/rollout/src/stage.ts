import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TrajgenError, killAllProcessGroups, resetDir, formatDuration, type StageIO } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';
import { TERMINAL_STATUSES, formatReconcileReport, isPostgres, ledgerStateDigest, openPipelineLedger, type AnyLedger } from '@trajgen/ledger';
import type { RunningOracle } from '@trajgen/oracle';
import { JobTrialRouter, TRAJECTORY_FILE, type LineEvent, type RunningProxy } from '@trajgen/proxy';
import { capBatch, claimBatch, heldElsewhere, loadUnrefused, refusedTasks, resumableHarborJob, type BatchClaim, type Refusal } from './claim';
import { completeVerifiedTrials } from './complete';
import type { EngineEvents } from './engine';
import type { ResumableHarborJob } from './harbor-engine';
import { jobName, jobPlace, type JobPlace } from './job-name';
import { buildTrialsIndex, readPreviousIndex, writeRunRecord, writeTrials, type RunRecord, type TrialsIndex } from './outputs';
import { Progress, type ProgressSink } from './progress';
import { newScratch } from './scratch';
import { checkEngine, type StageEngine } from './stage-engine';
import { emptyTally, recordFinishedTrial, type Tally } from './tally';
import { readBatch, type BatchFileLike } from './tasks';
import { checkUpstreamConfig, startDemoOracle, startRecordingProxy, upstreamStats } from './upstream';

// Part of the public API (index.ts exports them from here).
export { firstNonLoopbackIp, scaffoldProtocol } from './upstream';

export interface RolloutIO extends Pick<StageIO, 'log' | 'warn'> {
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

/** One run's state: the steps below fill it in, the teardown releases what it holds, run.json reports it. */
interface RolloutRun {
  readonly pipeline: LoadedPipeline;
  readonly io: RolloutIO;
  readonly options: RolloutOptions;
  readonly host: NodeJS.ProcessEnv;
  readonly batch: BatchFileLike;
  readonly engine: StageEngine;
  /** Changes once at most: a harbor rollout may resume the job a killed run left (decided once the ledger is open). */
  readonly place: JobPlace;
  readonly startedAt: number;
  /** io.log / io.warn, also appended to the job's rollout.log once its logs dir exists. */
  log(line: string): void;
  warn(line: string): void;
  readonly abort: AbortController;
  /** The SIGINT/SIGTERM that cancelled the run. */
  receivedSignal?: string;
  ledger?: AnyLedger;
  oracle?: RunningOracle;
  proxy?: RunningProxy;
  progress?: Progress;
  /** Working copies outside the workspace, removed at the end. */
  scratch?: string;
  resumed?: ResumableHarborJob;
  /** Claimed ids (with a shared ledger the claim's own list, which grows chunk by chunk). */
  claimed: string[];
  refused: Refusal[];
  cappedBy: number;
  reconcile: RunRecord['reconcile'];
  /** The ledger writes of finished trials, in flight. */
  recording: Promise<void>[];
  tally: Tally;
  setupMs: number;
  trialsMs: number;
  status: RunRecord['status'];
  upstream: { oracle: RunRecord['oracle']; proxy: RunRecord['proxy'] };
  /** A shared ledger's digest, read at the end. */
  digestAfter: string | null;
  failure?: unknown;
}

/**
 * The rollout stage (docs/rollout.md): batch → ledger claim → job → oracle +
 * proxy → engine → each trial recorded in the ledger as it finishes →
 * rollout/trials.json + rollout/run.json.
 */
export async function rolloutPipeline(pipeline: LoadedPipeline, io: RolloutIO, options: RolloutOptions = {}): Promise<RolloutResult> {
  const run = await checkedRun(pipeline, io, options);
  const stopListening = listenForCancel(run);
  try {
    await rollOut(run);
  } catch (error) {
    run.failure = error;
  } finally {
    run.progress?.stop();
    stopListening();
    await tearDown(run);
  }
  if (!run.ledger) throw run.failure; // the ledger could not be opened: nothing happened
  return finishRun(run, run.ledger);
}

/** The set-up checks (what runs, checked before anything is claimed) and the job's name and place. */
async function checkedRun(pipeline: LoadedPipeline, io: RolloutIO, options: RolloutOptions): Promise<RolloutRun> {
  const startedAt = Date.now();
  const r = pipeline.config.rollout;
  const host = options.hostEnv ?? process.env;
  const batch = readBatch(pipeline.paths.batchFile, pipeline.paths.workspaceRoot);
  const engine = await checkEngine(pipeline, io, host);
  if (r.scaffold === 'opencode' && r.agent.max_turns !== undefined) io.warn('rollout.agent.max_turns has no effect on opencode (it has no turn limit)');
  checkUpstreamConfig(pipeline);
  const place = jobPlace(pipeline.paths, jobName({ dataset: batch.dataset, agent: r.scaffold, version: engine.version, model: r.model }, pipeline.paths.jobs));
  return {
    pipeline,
    io,
    options,
    host,
    batch,
    engine,
    place,
    startedAt,
    ...runLogger(io, place),
    abort: new AbortController(),
    claimed: [],
    refused: [],
    cappedBy: 0,
    reconcile: { finalized: 0, returned: 0, adopted: 0 },
    recording: [],
    tally: emptyTally(),
    setupMs: 0,
    trialsMs: 0,
    status: 'completed',
    upstream: { oracle: null, proxy: null },
    digestAfter: null,
  };
}

function runLogger(io: RolloutIO, place: JobPlace): Pick<RolloutRun, 'log' | 'warn'> {
  const append = (text: string) => {
    try {
      appendFileSync(place.runLog, text);
    } catch {
      /* logs dir not created yet */
    }
  };
  return {
    log: (line) => {
      io.log(line);
      append(`${line}\n`);
    },
    warn: (line) => {
      io.warn(line);
      append(`warning: ${line}\n`);
    },
  };
}

/**
 * Cancellation: the first SIGINT/SIGTERM (or options.signal) cancels the running trials (recorded as
 * CancelledError → pending); a second signal kills at once. Returns what removes the listeners.
 */
function listenForCancel(run: RolloutRun): () => void {
  const { abort, options } = run;
  const onExternalAbort = () => abort.abort(options.signal?.reason ?? 'cancelled');
  if (options.signal) {
    if (options.signal.aborted) onExternalAbort();
    else options.signal.addEventListener('abort', onExternalAbort, { once: true });
  }
  const onSignal = (sig: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      killAllProcessGroups();
      process.exit(130);
    }
    run.receivedSignal = sig;
    run.warn(`received ${sig}: cancelling the running trials (they are recorded as CancelledError and go back to pending); ${sig} again stops at once`);
    abort.abort(sig);
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return () => {
    if (handleSignals) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
    options.signal?.removeEventListener('abort', onExternalAbort);
  };
}

/** Open the ledger, claim the batch, and run what was claimed. */
async function rollOut(run: RolloutRun): Promise<void> {
  const r = run.pipeline.config.rollout;
  const ledger = await openRolloutLedger(run);
  // Shared ledger (local engine): a task another machine is running stays in view; it may come back here.
  const waitsForOthers = isPostgres(ledger) && r.engine === 'local';
  const { wanted, cappedBy } = capBatch(run.batch.tasks, r.n_tasks);
  run.cappedBy = cappedBy;
  run.refused = refusedTasks(wanted, ledger, waitsForOthers);
  const loaded = loadUnrefused(run.pipeline.paths.workspaceRoot, wanted, run.refused);
  if (r.engine === 'harbor') resumeKilledHarborJob(run, ledger, loaded);
  const claim = await claimBatch(ledger, loaded, run.place.job, { waitsForOthers, nConcurrent: r.n_concurrent, refused: run.refused });
  run.claimed = claim.claimed;
  const { refused } = run;
  if (refused.length) run.io.log(`skipped ${refused.length} batch task${refused.length === 1 ? '' : 's'} the ledger refuses: ${refused.map((x) => `${x.id} (${x.status})`).join(', ')}`);
  if (cappedBy) run.io.log(`rollout.n_tasks = ${r.n_tasks}: ${cappedBy} batch task${cappedBy === 1 ? '' : 's'} left for a later run`);
  if (claim.claimed.length === 0 && heldElsewhere(claim, ledger).length === 0) {
    run.status = 'nothing_to_roll_out';
    const n = run.batch.tasks.length;
    run.io.log(`nothing to roll out: the batch (${n} task${n === 1 ? '' : 's'}) has no task the ledger can hand out`);
    return;
  }
  await runClaimed(run, ledger, claim);
}

/** The ledger, held for the whole run (opening reconciles it); what opening found is reported. */
async function openRolloutLedger(run: RolloutRun): Promise<AnyLedger> {
  const { io, warn } = run;
  const ledger = (run.ledger = await openPipelineLedger(run.pipeline, { purpose: `rollout ${run.place.job}` }));
  const open = ledger.openReport;
  if (open.staleLock) warn(`recovered a stale ledger lock of pid ${open.staleLock.pid} on ${open.staleLock.host} (${open.staleLock.purpose}, since ${open.staleLock.acquired_at}): that process is gone`);
  if (open.tornJournalLine) warn(`ignored a torn last ledger journal line (line ${open.tornJournalLine.line}): a write cut off by a crash`);
  for (const line of formatReconcileReport(open.reconcile)) io.log(line);
  for (const c of completeVerifiedTrials(run.pipeline.paths.jobs, ledger, run.pipeline.config.rollout.llm_api.prices)) {
    warn(`completed trial ${c.job}/${c.trial} of ${c.task_id} from what it left (verifier reward ${c.reward}, trajectory): it was killed after its verifier finished; wrote its result.json`);
  }
  run.reconcile = { finalized: open.reconcile.finalized.length, returned: open.reconcile.returned.length, adopted: open.reconcile.adopted.length };
  return ledger;
}

/** Harbor: take over the job a killed rollout left when Harbor can finish it (`harbor job resume`). */
function resumeKilledHarborJob(run: RolloutRun, ledger: AnyLedger, loaded: BatchClaim['loaded']): void {
  const { paths } = run.pipeline;
  const resumed = resumableHarborJob(paths.jobs, paths.logs, loaded, ledger, (line) => run.io.log(line));
  if (!resumed) return;
  run.resumed = resumed;
  Object.assign(run.place, jobPlace(paths, resumed.job));
  run.log(`resuming Harbor job ${resumed.job} (killed mid-job): harbor job resume runs its ${loaded.size} unfinished task${loaded.size === 1 ? '' : 's'}`);
}

/** The upstream and the proxy up, then the engine over the claim, every finished trial recorded as it arrives. */
async function runClaimed(run: RolloutRun, ledger: AnyLedger, claim: BatchClaim): Promise<void> {
  const { pipeline, place } = run;
  const r = pipeline.config.rollout;
  mkdirSync(place.logsDir, { recursive: true });
  const n = claim.claimed.length;
  run.log(`job ${place.job}: ${n} task${n === 1 ? '' : 's'}, engine ${r.engine}, ${r.scaffold} ${run.engine.version}, model ${r.model}, provider ${r.llm_api.provider}, proxy ${pipeline.config.proxy.backend}, n_concurrent ${r.n_concurrent}`);
  const tSetup = Date.now();
  const { proxy, router } = await startUpstream(run, claim, isPostgres(ledger));
  run.setupMs = Date.now() - tSetup;

  const progress = (run.progress = new Progress({ total: claim.waitsForOthers ? claim.loaded.size : claim.claimed.length, out: run.io.out, tty: run.options.tty }));
  const events = trialEvents(run, ledger, progress);
  const tTrials = Date.now();
  const notStarted = await run.engine.run({
    pipeline,
    batch: run.batch,
    place,
    host: run.host,
    ledger,
    claim,
    proxy,
    router,
    resumed: run.resumed,
    events,
    signal: run.abort.signal,
    killGraceMs: run.options.killGraceMs,
    harborPollMs: run.options.harborPollMs,
    recorded: async () => {
      await Promise.all(run.recording.splice(0));
    },
    newScratch: () => (run.scratch = newScratch(pipeline.name, place.job, run.warn)),
  });
  await Promise.all(run.recording.splice(0));
  run.trialsMs = Date.now() - tTrials;
  run.tally.counts.not_started = notStarted.length;
  if (notStarted.length) run.warn(`${notStarted.length} claimed task${notStarted.length === 1 ? '' : 's'} did not finish (${notStarted.join(', ')}); the ledger returns them to pending at the next open`);
  run.upstream = upstreamStats(run.oracle, proxy);
  if (run.abort.signal.aborted) run.status = 'interrupted';
}

/** Upstream: the embedded oracle for the demo/tests, else the configured endpoint; the job's recording proxy in front of it. */
async function startUpstream(run: RolloutRun, claim: BatchClaim, shared: boolean): Promise<{ proxy: RunningProxy; router: JobTrialRouter }> {
  const { pipeline, place } = run;
  const r = pipeline.config.rollout;
  let upstreamBase = r.llm_api.base_url ?? '';
  if (r.llm_api.provider === 'oracle') {
    // With a shared ledger the oracle must know every task this run may get (claims come in chunks).
    const tasks = shared ? [...claim.loaded.values()] : claim.claimed.map((id) => claim.loaded.get(id)!);
    run.oracle = await startDemoOracle(pipeline, tasks, run.log);
    upstreamBase = run.oracle.url;
  }
  const router = new JobTrialRouter(place.jobDir, { acceptExistingTrialDirs: r.engine === 'harbor' });
  const onLine = (e: LineEvent) => run.progress?.callLogged(e.trial, e.usage);
  const proxy = (run.proxy = await startRecordingProxy(pipeline, { job: place.job, upstreamBase, router, resumed: run.resumed, log: run.log, onLine }));
  run.log(`proxy (${proxy.backend}) at ${proxy.url}, trial header ${proxy.trialHeader}; trajectories → ${rel(pipeline.paths.workspaceRoot, place.jobDir)}/<trial>/agent/${TRAJECTORY_FILE}`);
  return { proxy, router };
}

/** What the engines report, counted into the tally and shown as progress; finished trials go to the ledger as they arrive. */
function trialEvents(run: RolloutRun, ledger: AnyLedger, progress: Progress): EngineEvents {
  const r = run.pipeline.config.rollout;
  const to = { ledger, job: run.place.job, workspaceRoot: run.pipeline.paths.workspaceRoot, prices: r.llm_api.prices, tally: run.tally, progress };
  return {
    log: run.log,
    warn: run.warn,
    onTrialStarted: (task, trial) => progress.trialStarted(task, trial),
    onRetry: (task, trial, type, attempt) => {
      run.tally.counts.retried_attempts += 1;
      progress.retried(task, trial, type, attempt);
    },
    onTrialFinished: (t) => {
      run.recording.push(recordFinishedTrial(t, to));
    },
  };
}

/** Stop what the run started (whatever happened), let the in-flight ledger writes land, close the ledger. */
async function tearDown(run: RolloutRun): Promise<void> {
  const { warn, ledger } = run;
  if (run.proxy) await run.proxy.stop().catch((e) => warn(`stopping the proxy: ${(e as Error).message}`));
  if (run.oracle) await run.oracle.stop().catch((e) => warn(`stopping the oracle: ${(e as Error).message}`));
  if (run.scratch) rmSync(run.scratch, { recursive: true, force: true });
  await Promise.allSettled(run.recording);
  if (ledger && isPostgres(ledger)) {
    try {
      await ledger.refresh();
      run.digestAfter = await ledger.digest();
    } catch (error) {
      warn(`reading the shared ledger's state at the end: ${(error as Error).message}`);
    }
  }
  await ledger?.close();
}

/** The outputs (replacing our own dir), the closing lines, and the result; a failed or interrupted run throws once its outputs are written. */
function finishRun(run: RolloutRun, ledger: AnyLedger): RolloutResult {
  const { io, batch, place } = run;
  const { paths } = run.pipeline;
  const ws = paths.workspaceRoot;
  // trials.json indexes every finished trial of every job.
  const trials = buildTrialsIndex(paths.jobs, readPreviousIndex(paths.rolloutOut));
  // The batch is settled when none of its tasks can be handed out again (done, failed, skipped). Only then
  // does run.json carry the ledger digest that lets the next prepare treat this run's changes as expected
  // (docs/architecture.md); otherwise the next `nx run` re-runs prepare and rolls out what is left.
  const settled = batch.tasks.every((t) => TERMINAL_STATUSES.has(ledger.get(t.id)?.status ?? 'pending'));
  const completed = !run.failure && run.status !== 'interrupted' && settled;
  if (run.failure) run.status = 'failed';
  const record = runRecordOf(run, ledger, settled, completed);
  resetDir(paths.rolloutOut);
  writeTrials(paths.rolloutOut, trials);
  writeRunRecord(paths.rolloutOut, record);

  if (run.progress && run.progress.results.length) {
    io.log('');
    io.log(run.progress.summary());
  }
  if (run.failure) throw run.failure;
  const { counts } = run.tally;
  const claimed = run.claimed.length;
  if (run.status === 'interrupted') {
    throw new TrajgenError(`The rollout was interrupted${run.receivedSignal ? ` by ${run.receivedSignal}` : ''}: ${counts.trials} of ${claimed} trials finished and were recorded`, {
      hint: 'Run it again: cancelled and unstarted tasks are back to pending and go into the next batch; finished trials are kept.',
    });
  }
  const summary =
    claimed === 0
      ? 'nothing to roll out'
      : `job ${place.job}: ${counts.trials} trial${counts.trials === 1 ? '' : 's'}, reward 1.0 ×${counts.reward_1}, 0.0 ×${counts.reward_0}, no reward ×${counts.no_reward}; ledger ${Object.entries(counts.by_status)
          .map(([s, n]) => `${s} ${n}`)
          .join(', ')}; ${formatDuration(record.timings.total_ms)}`;
  if (!settled && run.status === 'completed') {
    const left = batch.tasks.filter((t) => !TERMINAL_STATUSES.has(ledger.get(t.id)?.status ?? 'pending')).map((t) => t.id);
    io.log(`${left.length} task${left.length === 1 ? '' : 's'} of the batch can still be rolled out (${left.slice(0, 10).join(', ')}${left.length > 10 ? ', …' : ''}): the next run picks ${left.length === 1 ? 'it' : 'them'} up`);
  }
  if (claimed) io.log(`trials of ${rel(ws, place.jobDir)} indexed in ${rel(ws, join(paths.rolloutOut, 'trials.json'))} (${trials.trials.length} finished trials in all jobs)`);
  return { job: claimed ? place.job : null, run: record, trials, summary };
}

/** rollout/run.json of this run. */
function runRecordOf(run: RolloutRun, ledger: AnyLedger, settled: boolean, completed: boolean): RunRecord {
  const { pipeline, batch, place, tally } = run;
  const { config, paths } = pipeline;
  const r = config.rollout;
  const claimed = run.claimed.length;
  const record: RunRecord = {
    schema_version: 1,
    pipeline: pipeline.name,
    job: claimed ? place.job : null,
    job_dir: claimed ? rel(paths.workspaceRoot, place.jobDir) : null,
    status: run.status,
    engine: r.engine,
    scaffold: r.scaffold,
    agent_version: run.engine.version,
    model: r.model,
    proxy_backend: config.proxy.backend,
    batch_digest: batch.batch_digest,
    ledger_digest_after: completed ? (isPostgres(ledger) ? run.digestAfter : ledgerStateDigest(paths.artifacts)) : null,
    batch_settled: settled,
    batch: { tasks: batch.tasks.length, claimed, capped_by_n_tasks: run.cappedBy, refused: run.refused },
    reconcile: run.reconcile,
    counts: tally.counts,
    tokens: tally.tokens,
    cost_usd: Math.round(tally.cost * 1e9) / 1e9,
    trials: tally.trials.sort((a, b) => (a.task_id < b.task_id ? -1 : a.task_id > b.task_id ? 1 : 0)),
    oracle: run.upstream.oracle,
    proxy: run.upstream.proxy,
    timings: { total_ms: Date.now() - run.startedAt, setup_ms: run.setupMs, trials_ms: run.trialsMs },
  };
  if (run.failure) record.error = run.failure instanceof Error ? run.failure.message : String(run.failure);
  return record;
}
