import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { TrajgenError, isGroupAlive, registerProcessGroup, signalGroup, unregisterProcessGroup } from '@trajgen/core';
import { LITELLM_VERSION } from './env';

/**
 * Running LiteLLM as a child in its own process group, and making sure that
 * group never outlives us: stopped on success and on error by `stop()`, and
 * on Ctrl-C / SIGTERM / process exit by core's registry of live groups.
 */

export interface ManagedProcess {
  pid: number;
  logFile: string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM the group, wait up to graceMs for it to empty, SIGKILL whatever is left. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartProcessOptions {
  executable: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdout and stderr go here (appended). */
  logFile: string;
  /** Base URL to poll (`http://127.0.0.1:PORT`). */
  baseUrl: string;
  startupTimeoutMs: number;
  pollMs?: number;
  /** Used in error messages. */
  what?: string;
}

// ------------------------------------------------------------ ports

/** A free TCP port on `host`, never 4000 (LiteLLM silently moves off a busy 4000). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, host, () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    if (port !== 4000) return port;
  }
  throw new TrajgenError(`No free port on ${host}`);
}

// ------------------------------------------------------------ start / wait / stop

function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return '(no output)';
  const text = readFileSync(file, 'utf8').trimEnd();
  return text.split('\n').slice(-lines).join('\n') || '(no output)';
}

async function probe(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

/**
 * Start `executable args…` in its own process group and wait until
 * `/health/liveliness` and then `/health/readiness` answer 200 (polled every
 * `pollMs`, 250 by default). Fails — after tearing the group down — if the
 * process exits first or the timeout passes, with the tail of its log.
 */
export async function startManagedProcess(options: StartProcessOptions): Promise<ManagedProcess> {
  const what = options.what ?? 'LiteLLM';
  const out = openSync(options.logFile, 'a');
  let child;
  try {
    child = spawn(options.executable, options.args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const early = await Promise.race([spawnError, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
  if (early || child.pid === undefined) {
    const err = early ?? new Error('no pid');
    throw new TrajgenError(`Cannot start ${what}: ${options.executable}: ${err.message}`, {
      hint:
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? `Set proxy.litellm.managed_env: true (rollout installs litellm[proxy]==${LITELLM_VERSION} into artifacts/env/litellm on first use), or pip install 'litellm[proxy]==${LITELLM_VERSION}' and set proxy.litellm.executable to its litellm.`
          : 'Check proxy.litellm.executable.',
    });
  }
  const pid = child.pid;
  registerProcessGroup(pid, { killOnSignal: true });
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => (exitInfo = e));

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 10_000): Promise<void> => {
    stopping ??= (async () => {
      if (isGroupAlive(pid)) {
        signalGroup(pid, 'SIGTERM');
        const deadline = Date.now() + graceMs;
        while (Date.now() < deadline && isGroupAlive(pid)) await new Promise((r) => setTimeout(r, 50));
        if (isGroupAlive(pid)) signalGroup(pid, 'SIGKILL');
        const hard = Date.now() + 5000;
        while (Date.now() < hard && isGroupAlive(pid)) await new Promise((r) => setTimeout(r, 20));
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
      unregisterProcessGroup(pid);
    })();
    return stopping;
  };
  const managed: ManagedProcess = { pid, logFile: options.logFile, exited, stop };

  const deadline = Date.now() + options.startupTimeoutMs;
  const poll = options.pollMs ?? 250;
  try {
    for (const path of ['/health/liveliness', '/health/readiness']) {
      for (;;) {
        if (exitInfo) {
          throw new TrajgenError(
            `${what} exited during start-up (${exitInfo.signal ? `signal ${exitInfo.signal}` : `exit code ${exitInfo.code}`}) before ${path} answered`,
            { details: tail(options.logFile).split('\n'), hint: `Its full output is in ${options.logFile}.` },
          );
        }
        const r = await probe(options.baseUrl + path);
        if (r && r.status === 200 && !/shutting_down|unhealthy/i.test(r.body)) break;
        if (Date.now() >= deadline) {
          throw new TrajgenError(`${what} was not ready within ${Math.round(options.startupTimeoutMs / 1000)} s (waiting for ${path})`, {
            details: tail(options.logFile).split('\n'),
            hint: `Raise proxy.litellm.startup_timeout_sec or look at ${options.logFile}.`,
          });
        }
        await new Promise((r) => setTimeout(r, poll));
      }
    }
  } catch (error) {
    await stop(2000);
    throw error;
  }
  return managed;
}
