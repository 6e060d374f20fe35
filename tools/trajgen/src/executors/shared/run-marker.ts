import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import stageGraph from '../../../stage-graph.json';
// By relative path and in CommonJS: this file is built into the plugin's dist, loaded without a transpiler.
import { processStartTime } from '../../../../../libs/core/src/processes.cjs';

/**
 * A stage's run marker: `artifacts/<p>/.runs/<nx invocation>/<stage>.json`,
 * written when the stage starts and updated when it ends (also on
 * SIGINT/SIGTERM). The run recorder (libs/archive, markers.ts documents the
 * format) turns markers that outlive their nx process into `interrupted`
 * runs: Nx does not run its postTasksExecution hook when it is killed.
 *
 * Free of TypeScript deps (core's processes.cjs only) and synchronous on purpose: it runs in every stage process,
 * including from a signal handler.
 */
export interface StageMarker {
  finish(status: 'success' | 'failure' | 'interrupted', signal?: string): void;
}

/** The nx invocation this task belongs to: set by the plugin's preTasksExecution hook. */
export const INVOCATION_ENV = 'TRAJGEN_NX_INVOCATION';

/** A pid's start time, recorded so that the run recorder tells a live process from a reused pid (core's processes.cjs). */
function startTime(pid: number): string | null {
  return processStartTime(pid) ?? null;
}

function writeAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, file);
}

/**
 * Start a marker, or return undefined outside an Nx task (unit tests,
 * runExecutor) and for targets that are not pipeline stages (ledger, clean,
 * …): only Nx-run stages form runs. Never throws: a marker that cannot be
 * written must not fail the stage.
 */
export function startStageMarker(workspaceRoot: string, pipeline: string, stage: string, env: NodeJS.ProcessEnv = process.env): StageMarker | undefined {
  if (!(stageGraph.stages as string[]).includes(stage)) return undefined;
  const invocation = env[INVOCATION_ENV] || (env.NX_TASK_TARGET_PROJECT ? `ppid-${process.ppid}` : undefined);
  if (!invocation || !/^[A-Za-z0-9._-]+$/.test(invocation)) return undefined;
  const dir = join(workspaceRoot, 'artifacts', pipeline, '.runs', invocation);
  const file = join(dir, `${stage}.json`);
  // In an Nx task the parent is the nx process (verified with Nx 24: forked by the task orchestrator).
  const marker: Record<string, unknown> = {
    schema_version: 1,
    invocation,
    pipeline,
    stage,
    hash: env.NX_TASK_HASH ?? null,
    nx_pid: process.ppid,
    nx_pid_start: startTime(process.ppid),
    pid: process.pid,
    pid_start: startTime(process.pid),
    host: hostname(),
    started_at: new Date().toISOString(),
    ended_at: null,
    status: 'running',
  };
  try {
    mkdirSync(dir, { recursive: true });
    writeAtomic(file, marker);
  } catch {
    return undefined;
  }
  let done = false;
  return {
    finish(status, signal) {
      if (done) return;
      done = true;
      try {
        writeAtomic(file, { ...marker, status, ended_at: new Date().toISOString(), ...(signal ? { signal } : {}) });
      } catch {
        /* the marker stays "running": the recorder then reports the run as interrupted */
      }
    },
  };
}
