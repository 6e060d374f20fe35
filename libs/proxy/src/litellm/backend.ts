import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TrajgenError, writeJsonAtomic } from '@trajgen/core';
import { newJobKey, type CommonProxyOptions } from '../builtin';
import { DEFAULT_TRIAL_HEADER } from '../router';
import { MASTER_KEY_ENV, UPSTREAM_KEY_ENV, writeLitellmFiles } from './config';
import { freePort, startManagedProcess, type ManagedProcess } from './process';

export interface LitellmBackendOptions {
  /** Where config.yaml, the callback module, routes.json and litellm.log go: artifacts/<p>/litellm/<job>/. */
  dir: string;
  /** Job name (for the config header). */
  job: string;
  /** The model aliases agents ask for (one model_list entry each). */
  models: string[];
  /** LiteLLM CLI (config proxy.litellm.executable). Default "litellm". */
  executable?: string;
  /** Default 120 000 (config proxy.litellm.startup_timeout_sec). */
  startupTimeoutMs?: number;
  /** Default 1 (config proxy.litellm.num_workers). */
  numWorkers?: number;
  /** Base environment of the LiteLLM process (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Before stopping, wait until no trajectory file grew for this long (ms). Default 1000 (2 × 500 ms). */
  settleMs?: number;
  /** …but at most this long (ms). Default 15 000. */
  settleTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace (ms). Default 10 000. */
  stopGraceMs?: number;
}

export interface LitellmProxyOptions extends CommonProxyOptions {
  litellm: LitellmBackendOptions;
}

export interface LineCounts {
  lines: number;
  failed: number;
}

export interface RunningLitellmProxy {
  backend: 'litellm';
  url: string;
  port: number;
  key: string;
  trialHeader: string;
  pid: number;
  /** config.yaml etc. */
  dir: string;
  /**
   * Resolves when the LiteLLM process exits — after stop(), or on its own (a
   * crash mid-job: the engine should then fail the running trials as
   * infrastructure errors rather than wait for timeouts).
   */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Lines per known trial, read from the files (LiteLLM's own counts are not available here). */
  lineCounts(): Record<string, LineCounts>;
  /** Wait for the files to settle, then stop the process group. Idempotent. */
  stop(): Promise<void>;
}

export function countLines(path: string): LineCounts {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { lines: 0, failed: 0 };
  }
  let lines = 0;
  let failed = 0;
  for (const l of text.split('\n')) {
    if (!l) continue;
    lines += 1;
    if (l.includes('"success":false') || l.includes('"success": false')) failed += 1;
  }
  return { lines, failed };
}

function sizes(paths: string[]): string {
  return paths
    .map((p) => {
      try {
        return `${statSync(p).size}`;
      } catch {
        return '-';
      }
    })
    .join(',');
}

/**
 * LiteLLM's environment: the per-job key, production mode, the bundled price
 * map, and the NAME of the variable holding the upstream key (which must be
 * set; without a configured one, a placeholder of ours).
 */
function litellmEnv(baseEnv: NodeJS.ProcessEnv, key: string, upstream: LitellmProxyOptions['upstream']): { env: NodeJS.ProcessEnv; apiKeyEnv: string } {
  // LITELLM_LOCAL_MODEL_COST_MAP: use the price map shipped in the package instead of fetching it from
  // GitHub at every start (three retries, ~8 s, when the network is closed); our prices come from config.
  const env: NodeJS.ProcessEnv = { ...baseEnv, [MASTER_KEY_ENV]: key, LITELLM_MODE: 'PRODUCTION', LITELLM_LOCAL_MODEL_COST_MAP: 'True' };
  const apiKeyEnv = upstream.apiKeyEnv;
  if (apiKeyEnv && !baseEnv[apiKeyEnv]) {
    throw new TrajgenError(`The upstream key variable ${apiKeyEnv} is not set`, { hint: `Export ${apiKeyEnv} (rollout.llm_api.api_key_env names it).` });
  }
  if (apiKeyEnv) return { env, apiKeyEnv };
  // No key configured (e.g. the oracle): LiteLLM's providers still want a non-empty one.
  env[UPSTREAM_KEY_ENV] = upstream.apiKey ?? 'trajgen-no-upstream-key';
  return { env, apiKeyEnv: UPSTREAM_KEY_ENV };
}

/** Resolves once the files' sizes stayed the same for quietMs (or timeoutMs passed). */
async function filesSettled(paths: string[], quietMs: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = sizes(paths);
  let stableSince = Date.now();
  while (Date.now() < until && Date.now() - stableSince < quietMs) {
    await new Promise((r) => setTimeout(r, Math.min(250, quietMs)));
    const now = sizes(paths);
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    }
  }
}

/**
 * The `litellm` backend: generates the job's LiteLLM config and logger, starts
 * `litellm --config … --host … --port … --num_workers …` in its own process
 * group (never on port 4000, LITELLM_MODE=PRODUCTION, cwd = the job's litellm
 * dir so no stray .env is read), waits for liveliness then readiness, and
 * mirrors the router into routes.json for the callback.
 */
export async function startLitellmProxy(options: LitellmProxyOptions): Promise<RunningLitellmProxy> {
  const o = options.litellm;
  const host = options.host ?? '127.0.0.1';
  const port = options.port || (await freePort(host));
  if (port === 4000) {
    throw new TrajgenError('The LiteLLM backend never uses port 4000 (LiteLLM silently moves to a random port when it is busy)', {
      hint: 'Set proxy.port to 0 (a free port) or another port.',
    });
  }
  const key = options.key ?? newJobKey();
  const trialHeader = (options.trialHeader ?? DEFAULT_TRIAL_HEADER).toLowerCase();
  const baseEnv = o.env ?? process.env;
  const { env, apiKeyEnv } = litellmEnv(baseEnv, key, options.upstream);
  const requestTimeoutSec = Math.ceil((options.requestTimeoutMs ?? 600_000) / 1000);
  const files = writeLitellmFiles(
    o.dir,
    o.job,
    { models: o.models, upstream: { baseUrl: options.upstream.baseUrl, protocol: options.upstream.protocol, model: options.upstream.model, apiKeyEnv }, requestTimeoutSec },
    {
      job_dir: options.routes.jobDir ?? '',
      trial_header: trialHeader,
      accept_existing_trial_dirs: !!options.routes.acceptExistingTrialDirs,
      secret_env: [MASTER_KEY_ENV, apiKeyEnv],
      prices: options.prices ?? null,
    },
  );
  const mirror = () => writeJsonAtomic(files.routes, options.routes.snapshot());
  mirror();
  const unsubscribe = options.routes.onChange(mirror);
  env.PYTHONPATH = [o.dir, baseEnv.PYTHONPATH].filter(Boolean).join(':');

  let proc: ManagedProcess;
  try {
    proc = await startManagedProcess({
      executable: o.executable ?? 'litellm',
      args: ['--config', files.config, '--host', host, '--port', String(port), '--num_workers', String(o.numWorkers ?? 1)],
      cwd: o.dir,
      env,
      logFile: join(o.dir, 'litellm.log'),
      baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      startupTimeoutMs: o.startupTimeoutMs ?? 120_000,
    });
  } catch (error) {
    unsubscribe();
    throw error;
  }

  let stopping: Promise<void> | undefined;
  return {
    backend: 'litellm',
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    key,
    trialHeader,
    pid: proc.pid,
    dir: o.dir,
    exited: proc.exited,
    lineCounts: () => Object.fromEntries(Object.entries(options.routes.snapshot()).map(([t, p]) => [t, countLines(p)])),
    stop() {
      stopping ??= (async () => {
        // LiteLLM logs after the response (an async queue): let the files settle first.
        await filesSettled(Object.values(options.routes.snapshot()), o.settleMs ?? 1000, o.settleTimeoutMs ?? 15_000);
        unsubscribe();
        await proc.stop(o.stopGraceMs ?? 10_000);
      })();
      return stopping;
    },
  };
}
