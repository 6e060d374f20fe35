import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { types } from 'node:util';
import type { PostTasksExecution, PostTasksExecutionContext, PreTasksExecution } from '@nx/devkit';
import stageGraph from '../../stage-graph.json';
import { INVOCATION_ENV } from '../executors/shared/run-marker';
import { pushLocalHitsToRemote } from './remote-push';
import { fingerprintEnv } from '../plugin/fingerprint-env';
// By relative path and in CommonJS: this file is built into the plugin's dist, loaded without a transpiler.
import { cachedCheckpointMissing } from '../../../../libs/trainer/src/cached-checkpoint.cjs';

/**
 * The run recorder's Nx hooks. A pipeline run is recorded here and not in the
 * archive stage, because with early cut-off an upstream stage can execute
 * while archive is a cache hit, and a failed stage stops the chain before
 * archive. Nx 24 calls postTasksExecution after success, after failure and
 * after SIGINT/SIGTERM (running tasks `stopped`); not when nx itself is
 * killed or crashes — run markers (executors/shared/run-marker.ts) cover that
 * and preTasksExecution of the next invocation records them.
 *
 * Both hooks never throw into Nx (a warning instead) and load the archive lib
 * only when there is something to record: a fully cached run costs a few stat
 * calls.
 */

const STAGES: readonly string[] = stageGraph.stages;
/** Statuses of a task that executed (as opposed to a cache hit or a skip). */
const EXECUTED = new Set(['success', 'failure', 'stopped']);

function warn(what: string, error: unknown): void {
  console.warn(`trajgen: warning: ${what}: ${error instanceof Error ? error.message : String(error)} (the Nx run itself is unaffected)`);
}

type ArchiveLib = Pick<typeof import('@trajgen/archive'), 'recordInvocation' | 'recoverInterruptedRuns' | 'restoredOrigins' | 'formatRestored' | 'keepStageLogs'>;
let archive: ArchiveLib | undefined;

/**
 * A workspace lib (TypeScript sources). The plugin itself runs as built
 * JavaScript (dist/), so nothing has registered a TypeScript loader when a
 * hook first needs a lib: register swc then — only when there is something
 * to record, never on a fully cached run.
 */
function requireLib<T>(name: string): T {
  // By package name: this file runs from src/ in tests and from dist/ in Nx.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@trajgen/plugin/src/register-typescript.cjs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(name) as T;
}

function archiveLib(): ArchiveLib {
  // Loaded lazily: createNodes runs in this module on every nx command and must stay cheap.
  return (archive ??= requireLib<ArchiveLib>('@trajgen/archive'));
}

/** Use an already-loaded archive lib (tests run the hooks where a bare require of TypeScript is not transpiled). */
export function useArchiveLib(lib: ArchiveLib): void {
  archive = lib;
}

/** Any `artifacts/<p>/.runs/<invocation>/` left behind? One readdir per pipeline dir. */
function anyRunMarkers(workspaceRoot: string): boolean {
  const artifacts = join(workspaceRoot, 'artifacts');
  if (!existsSync(artifacts)) return false;
  for (const e of readdirSync(artifacts, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    try {
      if (readdirSync(join(artifacts, e.name, '.runs')).some((n) => !n.startsWith('.'))) return true;
    } catch {
      /* no markers */
    }
  }
  return false;
}

function printRecorded(runs: { id: string; pipeline: string; status: string; archive: string; notes: string }[]): void {
  for (const r of runs) console.log(`trajgen: recorded ${r.pipeline} ${r.id} (${r.status}${r.notes ? `: ${r.notes}` : ''}) → ${r.archive}`);
}

/**
 * Before any task: hand Nx every stage fingerprint (env vars the stages
 * declare as inputs: Nx hashes after this hook and carries what it sets into
 * its own environment, from plugin workers and the daemon too), tell the
 * stage processes which invocation they belong to (an env var Nx passes on
 * to every task), and record runs of earlier invocations whose nx process
 * died without recording them.
 */
export const preTasksExecution: PreTasksExecution = async (_options, context) => {
  handOnToNx({ ...(await fingerprintEnv(context.workspaceRoot, warnFingerprint)), [INVOCATION_ENV]: context.id });
  try {
    if (!anyRunMarkers(context.workspaceRoot)) return;
    printRecorded(archiveLib().recoverInterruptedRuns(context.workspaceRoot, { exceptInvocation: context.id, stages: STAGES }));
  } catch (error) {
    warn('could not record an earlier interrupted run', error);
  }
};

/**
 * Set env vars for Nx to hash and to pass to the tasks. In Nx's own process
 * they stay set: that process hashes. In the Nx daemon (and a plugin worker)
 * Nx records each set through a Proxy over process.env and applies it in the
 * client; left in the daemon's env as well, they would differ from the next
 * client's env (which has no fingerprints yet, and a new invocation id) and
 * make the daemon recompute the project graph on every command (~35 ms of a
 * warm no-op). So there they are taken out again once Nx has recorded them.
 */
export function handOnToNx(vars: Record<string, string>): void {
  Object.assign(process.env, vars);
  if (!types.isProxy(process.env)) return;
  for (const key of Object.keys(vars)) delete process.env[key];
}

function warnFingerprint(what: string, error: unknown): void {
  console.warn(`trajgen: warning: ${what}: ${error instanceof Error ? error.message : String(error)}`);
}

export function stageOutcomes(context: Pick<PostTasksExecutionContext, 'taskResults'>) {
  return Object.values(context.taskResults)
    .filter((r) => STAGES.includes(r.task.target.target))
    .map((r) => ({
      project: r.task.target.project,
      target: r.task.target.target,
      status: r.status,
      hash: r.task.hash ?? null,
      startTime: r.task.startTime,
      endTime: r.task.endTime,
      code: r.code,
      terminalOutput: r.terminalOutput ?? '',
    }));
}

const CACHE_HIT = new Set(['local-cache', 'local-cache-kept-existing', 'remote-cache']);

/**
 * A train task restored from a cache (e.g. in a fresh clone) brings back
 * `train/` but not the run dir `model/<run>/`: the trainer lib puts the
 * checkpoint back (restoreCachedCheckpoint). Its CommonJS gate keeps this to
 * one small JSON read per restored train task when nothing is missing.
 */
function materializeRestoredTraining(workspaceRoot: string, tasks: ReturnType<typeof stageOutcomes>): void {
  for (const t of tasks) {
    if (t.target !== 'train' || !CACHE_HIT.has(t.status)) continue;
    try {
      if (!cachedCheckpointMissing(workspaceRoot, t.project)) continue;
      const trainer = requireLib<Pick<typeof import('@trajgen/trainer'), 'restoreCachedCheckpoint'>>('@trajgen/trainer');
      for (const p of trainer.restoreCachedCheckpoint(workspaceRoot, t.project)) console.log(`trajgen: ${t.project}: restored ${p} from the cached train outputs`);
    } catch (error) {
      warn(`could not put ${t.project}'s cached checkpoint back into its run dir`, error);
    }
  }
}

/**
 * A replay this hook rewrote (see keepReplayNotes) already says where it came
 * from. One it did not (a remote cache hit, an entry older than this code)
 * replays the stage's whole log as if it ran ("Successfully installed …",
 * "done in 6m15s"): say after it that it was restored, and from which run.
 */
function printRestored(workspaceRoot: string, tasks: ReturnType<typeof stageOutcomes>): void {
  const byPipeline = new Map<string, { stage: string; hash: string | null }[]>();
  // A remote hit's note names a run of the clone that made it: say what this clone knows.
  const saysWhere = (t: (typeof tasks)[number]) => t.status !== 'remote-cache' && t.terminalOutput.trimStart().startsWith(REPLAY_MARK);
  for (const t of tasks) if (CACHE_HIT.has(t.status) && !saysWhere(t)) byPipeline.set(t.project, [...(byPipeline.get(t.project) ?? []), { stage: t.target, hash: t.hash }]);
  for (const [pipeline, restored] of byPipeline) {
    try {
      for (const o of archiveLib().restoredOrigins(workspaceRoot, pipeline, restored)) console.log(archiveLib().formatRestored(o));
    } catch (error) {
      warn(`could not tell where ${pipeline}'s restored stages came from`, error);
    }
  }
}

/** Written into the archive lib too (replay.ts); repeated so a fully cached run never loads that lib. */
const REPLAY_MARK = '↺ ';

/** Nx's own `<cacheDir>/terminalOutputs`, where it keeps what it replays for a hash (per user or per workspace in Nx 24). */
function terminalOutputsDir(): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return join((require('nx/src/utils/cache-directory') as { cacheDir: string }).cacheDir, 'terminalOutputs');
  } catch {
    return undefined;
  }
}

/**
 * Each stage that executed: its output goes to its run's archive
 * (logs/<stage>.log) and what Nx will replay for a later cache hit becomes a
 * short note saying it was restored, from which run (archive lib, replay.ts).
 */
function keepReplayNotes(workspaceRoot: string, tasks: ReturnType<typeof stageOutcomes>, runs: ReturnType<ArchiveLib['recordInvocation']>): void {
  const dir = terminalOutputsDir();
  for (const run of runs) {
    try {
      const outputs = tasks.filter((t) => t.project === run.pipeline && EXECUTED.has(t.status)).map((t) => ({ stage: t.target, hash: t.hash, status: t.status, terminalOutput: t.terminalOutput }));
      archiveLib().keepStageLogs({ workspaceRoot, run, outputs, terminalOutputsDir: dir });
    } catch (error) {
      warn(`could not keep ${run.pipeline}'s stage logs in ${run.id}`, error);
    }
  }
}

/**
 * After the tasks: record every pipeline that executed at least one stage
 * (index.yaml, archives/run_NNN, report/history.js). A fully cached rerun
 * records nothing; it only adds history.js beside a report restored from a
 * cache that has none.
 */
export const postTasksExecution: PostTasksExecution = async (_options, context) => {
  try {
    const tasks = stageOutcomes(context);
    if (!tasks.length) return;
    materializeRestoredTraining(context.workspaceRoot, tasks);
    printRestored(context.workspaceRoot, tasks);
    try {
      const pushed = await pushLocalHitsToRemote(tasks);
      if (pushed.length) console.log(`trajgen: uploaded ${pushed.length} local cache hit${pushed.length === 1 ? '' : 's'} to the remote cache (${pushed.join(', ')}): Nx uploads only what it executes`);
    } catch (error) {
      warn('could not upload local cache hits to the remote cache', error);
    }
    const executed = tasks.some((t) => EXECUTED.has(t.status));
    const reportWithoutHistory = tasks.some((t) => {
      const report = join(context.workspaceRoot, 'artifacts', t.project, 'report');
      return existsSync(report) && !existsSync(join(report, 'history.js'));
    });
    if (!executed && !reportWithoutHistory) return;
    const runs = archiveLib().recordInvocation({
        workspaceRoot: context.workspaceRoot,
        invocation: context.id,
        argv: context.argv,
        startTime: context.startTime,
        endTime: context.endTime,
        tasks,
        stages: STAGES,
        note: process.env.TRAJGEN_RUN_NOTE,
      });
    printRecorded(runs);
    keepReplayNotes(context.workspaceRoot, tasks, runs);
  } catch (error) {
    warn('could not record this run in artifacts/<pipeline>/index.yaml', error);
  }
};
