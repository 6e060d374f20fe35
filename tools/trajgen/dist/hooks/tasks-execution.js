// Generated from tools/trajgen/src/hooks/tasks-execution.ts by scripts/build-plugin.cjs (npm run build:plugin). Do not edit.
"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.postTasksExecution = exports.preTasksExecution = void 0;
exports.useArchiveLib = useArchiveLib;
exports.handOnToNx = handOnToNx;
exports.stageOutcomes = stageOutcomes;
const node_fs_1 = require("node:fs");
const node_path_1 = require("node:path");
const node_util_1 = require("node:util");
const stage_graph_json_1 = __importDefault(require("../../stage-graph.json"));
const run_marker_1 = require("../executors/shared/run-marker");
const remote_push_1 = require("./remote-push");
const fingerprint_env_1 = require("../plugin/fingerprint-env");
// By relative path and in CommonJS: this file is built into the plugin's dist, loaded without a transpiler.
const cached_checkpoint_cjs_1 = require("../../../../libs/trainer/src/cached-checkpoint.cjs");
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
const STAGES = stage_graph_json_1.default.stages;
/** Statuses of a task that executed (as opposed to a cache hit or a skip). */
const EXECUTED = new Set(['success', 'failure', 'stopped']);
function warn(what, error) {
    console.warn(`trajgen: warning: ${what}: ${error instanceof Error ? error.message : String(error)} (the Nx run itself is unaffected)`);
}
let archive;
/**
 * A workspace lib (TypeScript sources). The plugin itself runs as built
 * JavaScript (dist/), so nothing has registered a TypeScript loader when a
 * hook first needs a lib: register swc then — only when there is something
 * to record, never on a fully cached run.
 */
function requireLib(name) {
    // By package name: this file runs from src/ in tests and from dist/ in Nx.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@trajgen/plugin/src/register-typescript.cjs');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name);
}
function archiveLib() {
    // Loaded lazily: createNodes runs in this module on every nx command and must stay cheap.
    return (archive ??= requireLib('@trajgen/archive'));
}
/** Use an already-loaded archive lib (tests run the hooks where a bare require of TypeScript is not transpiled). */
function useArchiveLib(lib) {
    archive = lib;
}
/** Any `artifacts/<p>/.runs/<invocation>/` left behind? One readdir per pipeline dir. */
function anyRunMarkers(workspaceRoot) {
    const artifacts = (0, node_path_1.join)(workspaceRoot, 'artifacts');
    if (!(0, node_fs_1.existsSync)(artifacts))
        return false;
    for (const e of (0, node_fs_1.readdirSync)(artifacts, { withFileTypes: true })) {
        if (!e.isDirectory())
            continue;
        try {
            if ((0, node_fs_1.readdirSync)((0, node_path_1.join)(artifacts, e.name, '.runs')).some((n) => !n.startsWith('.')))
                return true;
        }
        catch {
            /* no markers */
        }
    }
    return false;
}
function printRecorded(runs) {
    for (const r of runs)
        console.log(`trajgen: recorded ${r.pipeline} ${r.id} (${r.status}${r.notes ? `: ${r.notes}` : ''}) → ${r.archive}`);
}
/**
 * Before any task: hand Nx every stage fingerprint (env vars the stages
 * declare as inputs: Nx hashes after this hook and carries what it sets into
 * its own environment, from plugin workers and the daemon too), tell the
 * stage processes which invocation they belong to (an env var Nx passes on
 * to every task), and record runs of earlier invocations whose nx process
 * died without recording them.
 */
const preTasksExecution = async (_options, context) => {
    handOnToNx({ ...(await (0, fingerprint_env_1.fingerprintEnv)(context.workspaceRoot, warnFingerprint)), [run_marker_1.INVOCATION_ENV]: context.id });
    try {
        if (!anyRunMarkers(context.workspaceRoot))
            return;
        printRecorded(archiveLib().recoverInterruptedRuns(context.workspaceRoot, { exceptInvocation: context.id, stages: STAGES }));
    }
    catch (error) {
        warn('could not record an earlier interrupted run', error);
    }
};
exports.preTasksExecution = preTasksExecution;
/**
 * Set env vars for Nx to hash and to pass to the tasks. In Nx's own process
 * they stay set: that process hashes. In the Nx daemon (and a plugin worker)
 * Nx records each set through a Proxy over process.env and applies it in the
 * client; left in the daemon's env as well, they would differ from the next
 * client's env (which has no fingerprints yet, and a new invocation id) and
 * make the daemon recompute the project graph on every command (~35 ms of a
 * warm no-op). So there they are taken out again once Nx has recorded them.
 */
function handOnToNx(vars) {
    Object.assign(process.env, vars);
    if (!node_util_1.types.isProxy(process.env))
        return;
    for (const key of Object.keys(vars))
        delete process.env[key];
}
function warnFingerprint(what, error) {
    console.warn(`trajgen: warning: ${what}: ${error instanceof Error ? error.message : String(error)}`);
}
function stageOutcomes(context) {
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
function materializeRestoredTraining(workspaceRoot, tasks) {
    for (const t of tasks) {
        if (t.target !== 'train' || !CACHE_HIT.has(t.status))
            continue;
        try {
            if (!(0, cached_checkpoint_cjs_1.cachedCheckpointMissing)(workspaceRoot, t.project))
                continue;
            const trainer = requireLib('@trajgen/trainer');
            for (const p of trainer.restoreCachedCheckpoint(workspaceRoot, t.project))
                console.log(`trajgen: ${t.project}: restored ${p} from the cached train outputs`);
        }
        catch (error) {
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
function printRestored(workspaceRoot, tasks) {
    const byPipeline = new Map();
    // A remote hit's note names a run of the clone that made it: say what this clone knows.
    const saysWhere = (t) => t.status !== 'remote-cache' && t.terminalOutput.trimStart().startsWith(REPLAY_MARK);
    for (const t of tasks)
        if (CACHE_HIT.has(t.status) && !saysWhere(t))
            byPipeline.set(t.project, [...(byPipeline.get(t.project) ?? []), { stage: t.target, hash: t.hash }]);
    for (const [pipeline, restored] of byPipeline) {
        try {
            for (const o of archiveLib().restoredOrigins(workspaceRoot, pipeline, restored))
                console.log(archiveLib().formatRestored(o));
        }
        catch (error) {
            warn(`could not tell where ${pipeline}'s restored stages came from`, error);
        }
    }
}
/** Written into the archive lib too (replay.ts); repeated so a fully cached run never loads that lib. */
const REPLAY_MARK = '↺ ';
/** Nx's own `<cacheDir>/terminalOutputs`, where it keeps what it replays for a hash (per user or per workspace in Nx 24). */
function terminalOutputsDir() {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return (0, node_path_1.join)(require('nx/src/utils/cache-directory').cacheDir, 'terminalOutputs');
    }
    catch {
        return undefined;
    }
}
/**
 * Each stage that executed: its output goes to its run's archive
 * (logs/<stage>.log) and what Nx will replay for a later cache hit becomes a
 * short note saying it was restored, from which run (archive lib, replay.ts).
 */
function keepReplayNotes(workspaceRoot, tasks, runs) {
    const dir = terminalOutputsDir();
    for (const run of runs) {
        try {
            const outputs = tasks.filter((t) => t.project === run.pipeline && EXECUTED.has(t.status)).map((t) => ({ stage: t.target, hash: t.hash, status: t.status, terminalOutput: t.terminalOutput }));
            archiveLib().keepStageLogs({ workspaceRoot, run, outputs, terminalOutputsDir: dir });
        }
        catch (error) {
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
const postTasksExecution = async (_options, context) => {
    try {
        const tasks = stageOutcomes(context);
        if (!tasks.length)
            return;
        materializeRestoredTraining(context.workspaceRoot, tasks);
        printRestored(context.workspaceRoot, tasks);
        try {
            const pushed = await (0, remote_push_1.pushLocalHitsToRemote)(tasks);
            if (pushed.length)
                console.log(`trajgen: uploaded ${pushed.length} local cache hit${pushed.length === 1 ? '' : 's'} to the remote cache (${pushed.join(', ')}): Nx uploads only what it executes`);
        }
        catch (error) {
            warn('could not upload local cache hits to the remote cache', error);
        }
        const executed = tasks.some((t) => EXECUTED.has(t.status));
        const reportWithoutHistory = tasks.some((t) => {
            const report = (0, node_path_1.join)(context.workspaceRoot, 'artifacts', t.project, 'report');
            return (0, node_fs_1.existsSync)(report) && !(0, node_fs_1.existsSync)((0, node_path_1.join)(report, 'history.js'));
        });
        if (!executed && !reportWithoutHistory)
            return;
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
    }
    catch (error) {
        warn('could not record this run in artifacts/<pipeline>/index.yaml', error);
    }
};
exports.postTasksExecution = postTasksExecution;
