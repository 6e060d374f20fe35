import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { TrajgenError } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';
import { startOracle, type OracleFault, type RunningOracle } from '@trajgen/oracle';
import { ensureLitellmEnv, startProxy, type JobTrialRouter, type LineEvent, type ProxyOptions, type Protocol, type RunningProxy } from '@trajgen/proxy';
import type { ResumableHarborJob } from './harbor-engine';
import type { RunRecord } from './outputs';
import type { TaskToRun } from './tasks';

/**
 * The upstream of a rollout: the model endpoint (the embedded oracle for the
 * demo/tests, else the configured one) behind the job's recording proxy.
 */

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

/** The upstream settings that can be checked before anything is claimed. */
export function checkUpstreamConfig(pipeline: LoadedPipeline): void {
  const r = pipeline.config.rollout;
  const protocol = scaffoldProtocol(r.scaffold);
  const provider = r.llm_api.provider;
  if (provider === 'oracle') return;
  if (!r.llm_api.base_url) throw new TrajgenError('rollout.llm_api.base_url is required unless provider is oracle', { hint: 'Set it to the upstream endpoint (e.g. https://api.anthropic.com).' });
  if (pipeline.config.proxy.backend === 'builtin' && provider !== protocol) {
    throw new TrajgenError(`rollout.llm_api.provider is ${provider}, but ${r.scaffold} speaks the ${protocol} protocol and the builtin proxy does not translate`, {
      hint: `Use an ${protocol}-compatible upstream, or proxy.backend: litellm (it translates between protocols).`,
    });
  }
}

/** provider oracle: the scripted demo/test model, knowing the given tasks. */
export async function startDemoOracle(pipeline: LoadedPipeline, tasks: TaskToRun[], log: (line: string) => void): Promise<RunningOracle> {
  const oracleConfig = pipeline.config.rollout.llm_api.oracle;
  const oracle = await startOracle({
    tasks: Object.fromEntries(tasks.map((t) => [t.id, t.dir])),
    latencyMs: oracleConfig.latency_ms,
    faults: oracleConfig.faults as Record<string, OracleFault | OracleFault[]>,
    trialHeader: pipeline.config.proxy.trial_header,
  });
  log(`oracle (scripted demo/test model, not a real LLM) at ${oracle.url}`);
  return oracle;
}

/** Where the proxy listens: harbor containers must reach it (they cannot reach the host's 127.0.0.1); the local engine's agents run here. */
function proxyBindHost(pipeline: LoadedPipeline): string {
  const r = pipeline.config.rollout;
  const bindHost = pipeline.config.proxy.host;
  if (r.engine !== 'harbor' || r.harbor.environment === 'host') return bindHost;
  const reachable = r.harbor.proxy_host ?? (['127.0.0.1', 'localhost', '::1'].includes(bindHost) ? firstNonLoopbackIp() : bindHost);
  if (!reachable) throw new TrajgenError('No address for the proxy that containers can reach', { hint: 'Set rollout.harbor.proxy_host to an address of this host that the Harbor environments reach.' });
  return reachable;
}

export interface ProxyStart {
  job: string;
  /** The upstream's base URL (the oracle's when provider is oracle). */
  upstreamBase: string;
  router: JobTrialRouter;
  /** A resumed Harbor job: its config may hold the proxy URL literally. */
  resumed?: ResumableHarborJob;
  log(line: string): void;
  /** builtin backend: each logged model call as it is written (live progress). */
  onLine(event: LineEvent): void;
}

/** The job's recording proxy in front of the upstream (builtin, or the real LiteLLM). */
export async function startRecordingProxy(pipeline: LoadedPipeline, s: ProxyStart): Promise<RunningProxy> {
  const { config, paths } = pipeline;
  const r = config.rollout;
  const provider = r.llm_api.provider;
  const common = {
    // Only the embedded oracle gets trial names (it routes by them); a real upstream never sees them.
    upstream: { baseUrl: s.upstreamBase, protocol: scaffoldProtocol(r.scaffold), apiKeyEnv: provider === 'oracle' ? undefined : r.llm_api.api_key_env, model: r.llm_api.model, trialHeader: provider === 'oracle' ? config.proxy.trial_header : undefined },
    routes: s.router,
    host: proxyBindHost(pipeline),
    // A resumed job's config may hold the proxy URL literally (OpenCode, Terminus-2 kwargs): listen where it says.
    port: s.resumed?.proxyUrl && r.scaffold !== 'claude-code' ? Number(new URL(s.resumed.proxyUrl).port) : config.proxy.port,
    trialHeader: config.proxy.trial_header,
    requestTimeoutMs: config.proxy.request_timeout_sec * 1000,
    prices: r.llm_api.prices,
  };
  const litellm = config.proxy.litellm;
  const proxyOptions: ProxyOptions =
    config.proxy.backend === 'litellm'
      ? {
          backend: 'litellm',
          ...common,
          litellm: {
            dir: join(paths.litellm, s.job),
            job: s.job,
            models: [r.model],
            executable: litellm.managed_env ? await ensureLitellmEnv(paths.workspaceRoot, { log: s.log }) : litellm.executable,
            startupTimeoutMs: litellm.startup_timeout_sec * 1000,
            numWorkers: litellm.num_workers,
          },
        }
      : { backend: 'builtin', ...common, onLine: s.onLine };
  return startProxy(proxyOptions);
}

/** What the oracle and the proxy counted, for run.json (compare the oracle's requests with the logged lines). */
export function upstreamStats(oracle: RunningOracle | undefined, proxy: RunningProxy): { oracle: RunRecord['oracle']; proxy: RunRecord['proxy'] } {
  let oracleStats: RunRecord['oracle'] = null;
  if (oracle) {
    const s = oracle.stats();
    oracleStats = { generation_by_trial: s.generation.by_trial, faults_fired: s.faults.length };
  }
  if (proxy.backend === 'builtin') {
    const c = proxy.counters();
    return { oracle: oracleStats, proxy: { lines: c.lines, failed_lines: c.failed_lines, requests_by_trial: Object.fromEntries(Object.entries(c.by_trial).map(([t, v]) => [t, v.requests])) } };
  }
  const lc = proxy.lineCounts();
  return {
    oracle: oracleStats,
    proxy: {
      lines: Object.values(lc).reduce((s, v) => s + v.lines, 0),
      failed_lines: Object.values(lc).reduce((s, v) => s + v.failed, 0),
      requests_by_trial: Object.fromEntries(Object.entries(lc).map(([t, v]) => [t, v.lines])),
    },
  };
}
