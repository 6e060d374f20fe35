import { findExecutable, registerProcessGroup, signalGroup, unregisterProcessGroup } from '@trajgen/core';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Child processes of the rollout run in their OWN process group (spawned
 * detached), so a timeout or a cancel can kill the agent and everything it
 * started (shells, test runners, language servers) with one `kill -PGID`.
 */

export interface GroupRunOptions {
  cwd: string;
  env: Record<string, string>;
  /** Kill the group after this long (ms); Infinity = never. */
  timeoutMs: number;
  /** stdout and stderr, interleaved as they arrive, go to this file (Harbor merges them too). */
  outputFile: string;
  /** Cancel: kill the group. */
  signal?: AbortSignal;
  /** SIGTERM → SIGKILL grace (ms). Default 2000. */
  killGraceMs?: number;
  /** Data written to stdin (then closed); default: stdin is /dev/null. */
  stdin?: string;
  /** Also hand every chunk of output here (e.g. streaming a log to the console). */
  onOutput?: (chunk: Buffer) => void;
  /**
   * Kill the group when THIS process dies, even by SIGKILL (default true): a
   * small bash watchdog in the group polls our pid once a second. Without it
   * a killed rollout would leave agents running (their group is detached).
   */
  dieWithParent?: boolean;
}

export interface GroupRunResult {
  /** Exit code of the main process, or null when it died of a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  cancelled: boolean;
  /** The process could not be started (ENOENT, EACCES…). */
  spawnError?: Error;
  durationMs: number;
  pid?: number;
}

/**
 * Runs "$@" in the background of a bash that leads the new process group, plus
 * a watchdog subshell in the same group that kills the whole group (`kill 0`)
 * once the parent pid ($1) is gone; exits with the command's status (128+n
 * when a signal ended it). The leader survives SIGTERM, so a command keeps
 * its grace period (Harbor writes CancelledError results on SIGTERM).
 */
const WATCHDOG =
  'parent=$1; shift; "$@" & child=$!; ' +
  '( while kill -0 "$parent" 2>/dev/null; do sleep 1; done; kill -KILL 0 ) & dog=$!; ' +
  // SIGTERM/SIGINT reach the whole group; the leader waits for the command (its grace) instead of dying first.
  'trap \'kill -TERM "$child" 2>/dev/null\' TERM INT; ' +
  'while :; do wait "$child"; code=$?; kill -0 "$child" 2>/dev/null || break; done; ' +
  'kill "$dog" 2>/dev/null; exit "$code"';

/** `cmd` as spawn would find it (absolute, relative to `cwd`, or on `pathVar`), or undefined. */
export function resolveExecutable(cmd: string, pathVar: string | undefined, cwd: string): string | undefined {
  return findExecutable(cmd, { pathVar: pathVar ?? '', cwd });
}

/**
 * Run `cmd args` in a new process group with output to a file. Resolves once
 * the main process has exited, the rest of its group is killed (as a
 * container teardown would) and the output file is flushed. Never rejects:
 * a spawn failure comes back as `spawnError`.
 */
export function runInProcessGroup(cmd: string, args: string[], options: GroupRunOptions): Promise<GroupRunResult> {
  const started = Date.now();
  mkdirSync(dirname(options.outputFile), { recursive: true });
  const out = createWriteStream(options.outputFile, { flags: 'a' });
  return new Promise((resolve) => {
    const child = spawnInGroup(cmd, args, options);
    if (child instanceof Error) {
      out.end(() => resolve({ code: null, signal: null, timedOut: false, cancelled: false, spawnError: child, durationMs: Date.now() - started }));
      return;
    }
    const pid = child.pid;
    // In core's registry of live groups: SIGKILLed at exit, whatever the exit path (signals are the stage's).
    if (pid !== undefined) registerProcessGroup(pid);
    if (options.stdin !== undefined && child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(options.stdin);
    }
    const onData = (chunk: Buffer) => {
      out.write(chunk);
      options.onOutput?.(chunk);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const kill = armKill(pid, options);

    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      kill.disarm();
      // Leftovers of the group (background jobs the agent started) go with it.
      if (pid !== undefined) {
        signalGroup(pid, 'SIGKILL');
        unregisterProcessGroup(pid);
      }
      afterOutputCloses(child, onData, () => out.end(() => resolve({ code, signal, timedOut: kill.timedOut, cancelled: kill.cancelled, spawnError, durationMs: Date.now() - started, pid })));
    };
    child.once('error', (error) => finish(null, null, error));
    child.once('exit', (code, signal) => finish(code, signal));
  });
}

/** The child leading a new process group (behind the watchdog unless dieWithParent is off), or why it could not start. */
function spawnInGroup(cmd: string, args: string[], options: GroupRunOptions): ChildProcess | Error {
  const watchdog = options.dieWithParent ?? true;
  const resolved = resolveExecutable(cmd, options.env.PATH ?? process.env.PATH, options.cwd);
  if (!resolved) return Object.assign(new Error(`spawn ${cmd} ENOENT: not found or not executable`), { code: 'ENOENT' });
  const bash = watchdog ? (resolveExecutable('bash', process.env.PATH, options.cwd) ?? '/bin/bash') : '';
  const [file, argv] = watchdog ? [bash, ['-c', WATCHDOG, 'trajgen-watchdog', String(process.pid), resolved, ...args]] : [resolved, args];
  try {
    return spawn(file, argv, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    return error as Error;
  }
}

/** The timeout and the cancel: SIGTERM to the group, SIGKILL after the grace; `disarm` once the process exited. */
function armKill(pid: number | undefined, options: GroupRunOptions): { timedOut: boolean; cancelled: boolean; disarm(): void } {
  const grace = options.killGraceMs ?? 2000;
  let killTimer: NodeJS.Timeout | undefined;
  const terminate = () => {
    if (pid === undefined) return;
    signalGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), grace);
    killTimer.unref();
  };
  const onAbort = () => {
    state.cancelled = true;
    terminate();
  };
  const state = {
    timedOut: false,
    cancelled: false,
    disarm: () => {
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
    },
  };
  const timer = Number.isFinite(options.timeoutMs)
    ? setTimeout(() => {
        state.timedOut = true;
        terminate();
      }, Math.max(0, options.timeoutMs))
    : undefined;
  if (options.signal) {
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
  }
  return state;
}

/** Output pipes close once the group is gone; don't wait forever for a stray holder (2 s). */
function afterOutputCloses(child: ChildProcess, onData: (chunk: Buffer) => void, then: () => void): void {
  const closeWait = setTimeout(done, 2000);
  let closed = 0;
  let resolved = false;
  const streams = [child.stdout, child.stderr].filter(Boolean);
  function done() {
    if (resolved) return;
    resolved = true;
    clearTimeout(closeWait);
    child.stdout?.removeListener('data', onData);
    child.stderr?.removeListener('data', onData);
    then();
  }
  if (streams.length === 0) return done();
  for (const s of streams) {
    if (s!.readableEnded || s!.destroyed) {
      if (++closed === streams.length) done();
    } else
      s!.once('close', () => {
        if (++closed === streams.length) done();
      });
  }
}
