/**
 * @trajgen/proxy — the per-job recording proxy (rollout).
 *
 * One proxy per job sits between every agent of the job and the upstream
 * model. Each generation call (`POST /v1/messages`, `POST /v1/chat/completions`)
 * becomes ONE JSON line in `<jobDir>/<trial>/agent/litellm-trajectory.jsonl`
 * (format: `TrajectoryLine`, the LegoX/harbor LiteLLM logger's lines), failures
 * included (`success: false` + `failure`). `count_tokens` and `/v1/models`
 * are forwarded, not logged.
 *
 * Engine usage:
 * ```ts
 * const routes = new JobTrialRouter(jobDir);              // <jobDir>/<trial>/agent/litellm-trajectory.jsonl
 * const proxy = await startProxy({
 *   backend: config.proxy.backend,                        // 'builtin' | 'litellm'
 *   upstream: { baseUrl, protocol: 'anthropic' | 'openai', apiKeyEnv: llm_api.api_key_env, model: llm_api.model },
 *   routes,
 *   host: config.proxy.host, port: config.proxy.port,
 *   trialHeader: config.proxy.trial_header,
 *   requestTimeoutMs: config.proxy.request_timeout_sec * 1000,
 *   prices: llm_api.prices,
 *   // backend 'litellm' only:
 *   litellm: { dir: paths.litellm/<job>, job, models: [rollout.model], executable, startupTimeoutMs, numWorkers },
 * });
 * routes.register(trialName);                             // before starting the trial's agent
 * const env = claudeCodeEnv({ proxyUrl: proxy.url, key: proxy.key, model: rollout.model, trial: trialName });
 * …run the agent…; proxy.lineCounts()[trialName]          // lines written for that trial
 * await proxy.stop();                                     // in a finally: every exit path
 * ```
 * With the oracle as upstream: `upstream.baseUrl = oracle.url` (the proxy adds
 * `/v1/...` itself; an OpenAI base may also end in `/v1`), protocol = the
 * agent's protocol (claude-code → anthropic, opencode/openhands/terminus →
 * openai).
 *
 * Contract of both backends:
 * - Auth: every request needs the per-job key (`proxy.key`, random, `sk-trajgen-…`)
 *   as `x-api-key` or `Authorization: Bearer`; else 401. `HEAD /`/`GET /` (Claude
 *   Code's connectivity probe) answer 200 without a key and reveal nothing.
 * - Routing: a generation call must carry `<trialHeader>: <trial>` (default
 *   `x-trajgen-trial`); missing → 400, a trial the router does not know → 400.
 *   Never logged into another trial; names are one safe path segment.
 * - The upstream key (from `apiKey`, else the env var `apiKeyEnv`) is injected
 *   toward the upstream; client auth headers are never forwarded. No key
 *   (per-job or upstream) appears in any line or file (values are redacted).
 * - Nothing trajgen adds reaches the upstream: the routing header and every
 *   `x-trajgen-*` header are stripped (only `upstream.trialHeader`, set for the
 *   embedded oracle, sends the trial name on).
 *
 * builtin (default): Node HTTP server, no translation (the upstream must speak
 * the client's protocol; a mismatch is a 400). Bodies pass byte-for-byte; the
 * request body is forwarded while it arrives (its last chunk waits until the
 * body is checked to be a JSON object; a model rewrite buffers it) and goes
 * into the log as the client's bytes, not parsed and serialised again; streams
 * pass chunk by chunk (each complete SSE event as it arrives) and are
 * reassembled into the protocol's non-streaming shape for the log after the
 * bytes are on their way. The line is appended BEFORE the client sees the end
 * of the response: one descriptor per trial file, group commit (lines queued
 * while a sync is in flight share the next write + fdatasync), and streaming
 * responses hold back the terminal event (`message_stop` / `data: [DONE]`)
 * until the line is on disk. Upstream HTTP errors, timeouts
 * (`requestTimeoutMs` for the whole exchange → 504 or a cut stream),
 * unreachable upstreams (502), upstream disconnects (the client connection is
 * cut too, so the agent sees what it would have seen) and client disconnects
 * are logged with `success: false`. `counters()` has per-trial request/line
 * counts, tokens and cost; `onLine` reports each line as it is written.
 *
 * litellm: writes `config.yaml` (model_list with `os.environ/NAME` key refs,
 * master key via env `TRAJGEN_LITELLM_MASTER_KEY`, retries off, our callback),
 * `trajgen_trajectory_logger.py` (CustomLogger: same line format, raw
 * `proxy_server_request.body`, fsync'd appends, dedupe by litellm_call_id,
 * a pre-call hook that refuses unknown trials), `trajgen_logger_settings.json`
 * and `routes.json` (mirrors the router) into `litellm.dir`; starts
 * `litellm --config … --host … --port … --num_workers …` in its own process
 * group, waits for /health/liveliness then /health/readiness, fails with the
 * log tail if it dies or times out, and kills the group on stop(), on errors,
 * on SIGINT/SIGTERM and at exit. LiteLLM logs after the response (async
 * callbacks), so `stop()` first waits for the trajectory files to settle.
 */
export { startProxy, type ProxyOptions, type RunningProxy } from './proxy';
export {
  startBuiltinProxy,
  newJobKey,
  upstreamUrl,
  type BuiltinProxyOptions,
  type CommonProxyOptions,
  type RunningBuiltinProxy,
  type UpstreamOptions,
  type Protocol,
  type ProxyCounters,
  type TrialCounters,
  type LineEvent,
} from './builtin';
export { startLitellmProxy, countLines, type LitellmBackendOptions, type LitellmProxyOptions, type RunningLitellmProxy, type LineCounts } from './litellm/backend';
export { litellmConfig, litellmConfigYaml, writeLitellmFiles, MASTER_KEY_ENV, UPSTREAM_KEY_ENV, CALLBACK_MODULE, CALLBACK_INSTANCE, type LitellmConfigInput, type LoggerSettings } from './litellm/config';
export { startManagedProcess, freePort, type ManagedProcess, type StartProcessOptions } from './litellm/process';
export { JobTrialRouter, isSafeTrialName, TRAJECTORY_FILE, DEFAULT_TRIAL_HEADER, type TrialRouter, type JobTrialRouterOptions } from './router';
export { claudeCodeEnv, claudeCodeArgs, openCodeConfig, openCodeEnv, openCodeArgs, OPENCODE_PROVIDER, type AgentConnection } from './clients';
export { normaliseUsage, costOf, type NormalisedUsage, type Prices } from './usage';
export { AnthropicAssembler, OpenAIAssembler, assemblerFor, type StreamAssembler, type AssembledResponse } from '@trajgen/wire';
export { SseSplitter, parseEvent, type RawSseEvent } from './sse';
export { DurableAppender, redactSecrets, mayContainSecret, REDACTED } from './writer';
export type { TrajectoryLine, LineFailure, FailureType } from './line';
export { ensureLitellmEnv, managedLitellmDir, managedLitellmExecutable, LITELLM_VERSION, LITELLM_REQUIREMENTS } from './litellm/env';
