// Generated from tools/trajgen/src/executors/shared/run-marker.ts by scripts/build-plugin.cjs (npm run build:plugin). Do not edit.
"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.INVOCATION_ENV = void 0;
exports.startStageMarker = startStageMarker;
const node_fs_1 = require("node:fs");
const node_os_1 = require("node:os");
const node_path_1 = require("node:path");
const stage_graph_json_1 = __importDefault(require("../../../stage-graph.json"));
// By relative path and in CommonJS: this file is built into the plugin's dist, loaded without a transpiler.
const processes_cjs_1 = require("../../../../../libs/core/src/processes.cjs");
/** The nx invocation this task belongs to: set by the plugin's preTasksExecution hook. */
exports.INVOCATION_ENV = 'TRAJGEN_NX_INVOCATION';
/** A pid's start time, recorded so that the run recorder tells a live process from a reused pid (core's processes.cjs). */
function startTime(pid) {
    return (0, processes_cjs_1.processStartTime)(pid) ?? null;
}
function writeAtomic(file, value) {
    const tmp = `${file}.${process.pid}.tmp`;
    (0, node_fs_1.writeFileSync)(tmp, JSON.stringify(value, null, 2) + '\n');
    (0, node_fs_1.renameSync)(tmp, file);
}
/**
 * Start a marker, or return undefined outside an Nx task (unit tests,
 * runExecutor) and for targets that are not pipeline stages (ledger, clean,
 * …): only Nx-run stages form runs. Never throws: a marker that cannot be
 * written must not fail the stage.
 */
function startStageMarker(workspaceRoot, pipeline, stage, env = process.env) {
    if (!stage_graph_json_1.default.stages.includes(stage))
        return undefined;
    const invocation = env[exports.INVOCATION_ENV] || (env.NX_TASK_TARGET_PROJECT ? `ppid-${process.ppid}` : undefined);
    if (!invocation || !/^[A-Za-z0-9._-]+$/.test(invocation))
        return undefined;
    const dir = (0, node_path_1.join)(workspaceRoot, 'artifacts', pipeline, '.runs', invocation);
    const file = (0, node_path_1.join)(dir, `${stage}.json`);
    // In an Nx task the parent is the nx process (verified with Nx 24: forked by the task orchestrator).
    const marker = {
        schema_version: 1,
        invocation,
        pipeline,
        stage,
        hash: env.NX_TASK_HASH ?? null,
        nx_pid: process.ppid,
        nx_pid_start: startTime(process.ppid),
        pid: process.pid,
        pid_start: startTime(process.pid),
        host: (0, node_os_1.hostname)(),
        started_at: new Date().toISOString(),
        ended_at: null,
        status: 'running',
    };
    try {
        (0, node_fs_1.mkdirSync)(dir, { recursive: true });
        writeAtomic(file, marker);
    }
    catch {
        return undefined;
    }
    let done = false;
    return {
        finish(status, signal) {
            if (done)
                return;
            done = true;
            try {
                writeAtomic(file, { ...marker, status, ended_at: new Date().toISOString(), ...(signal ? { signal } : {}) });
            }
            catch {
                /* the marker stays "running": the recorder then reports the run as interrupted */
            }
        },
    };
}
