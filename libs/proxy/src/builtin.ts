import { createServer, request as httpRequest, Agent as HttpAgent, type ClientRequest, type IncomingMessage, type Server, type ServerResponse, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { gunzipSync, brotliDecompressSync, inflateSync } from 'node:zlib';
import { TrajgenError } from '@trajgen/core';
import { assemblerFor } from '@trajgen/wire';
import { failureMessage, type FailureType, type TrajectoryLine } from './line';
import { DEFAULT_TRIAL_HEADER, type TrialRouter } from './router';
import { SseSplitter, parseEvent } from './sse';
import { normaliseUsage, type NormalisedUsage, type Prices } from './usage';
import { DurableAppender, mayContainSecret, redactSecrets } from './writer';

export type Protocol = 'anthropic' | 'openai';

export interface UpstreamOptions {
  /**
   * Root of the upstream. Anthropic: the host root (`https://api.anthropic.com`);
   * OpenAI: with or without `/v1` (`https://api.openai.com/v1`). A client path
   * `/v1/x` goes to `<baseUrl>/v1/x`, or `<baseUrl>/x` when baseUrl ends in `/v1`.
   */
  baseUrl: string;
  /** The protocol the upstream speaks. The proxy never translates: clients must speak it too. */
  protocol: Protocol;
  /** Injected toward the upstream (Anthropic: `x-api-key`; OpenAI: `Authorization: Bearer`). Never logged. */
  apiKey?: string;
  /**
   * NAME of the environment variable holding the upstream key (config
   * `rollout.llm_api.api_key_env`); used when `apiKey` is not given. The
   * LiteLLM backend only ever passes the name on.
   */
  apiKeyEnv?: string;
  /** When set, every generation request's `model` is rewritten to this upstream id (the log keeps the client's body; the body is then buffered, not streamed through). */
  model?: string;
  /**
   * Send the trial name to the upstream in this header. Only for trajgen's
   * own upstream, the embedded oracle (it routes by trial). Unset (the
   * default, and always for a real model) the upstream never learns trial
   * names: the routing header and every `x-trajgen-*` header are stripped.
   */
  trialHeader?: string;
}

/** A summary of each logged line, for progress and cost totals in the engine. */
export interface LineEvent {
  trial: string;
  success: boolean;
  endpoint: string;
  duration_ms: number;
  usage: NormalisedUsage | null;
  failure?: TrajectoryLine['failure'];
}

/** What every proxy backend takes. */
export interface CommonProxyOptions {
  upstream: UpstreamOptions;
  routes: TrialRouter;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) = a free port. */
  port?: number;
  /** The per-job key clients must send (x-api-key or Bearer). Default: a fresh random key. */
  key?: string;
  /** Routing header, default `x-trajgen-trial`. */
  trialHeader?: string;
  /** Whole upstream exchange limit per request (ms). Default 600 000. */
  requestTimeoutMs?: number;
  prices?: Prices;
}

export interface BuiltinProxyOptions extends CommonProxyOptions {
  /** fdatasync every line before the response completes. Default true (the benchmark measures false too). */
  fsync?: boolean;
  /** Largest request body accepted (bytes). Default 64 MiB. */
  maxBodyBytes?: number;
  /** More values never to write anywhere (redacted like the keys). */
  secrets?: string[];
  /** Called after each line is durably written. */
  onLine?: (event: LineEvent) => void;
}

export interface TrialCounters {
  /** Generation requests forwarded for this trial. */
  requests: number;
  lines: number;
  failed: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost: number;
}

export interface ProxyCounters {
  /** Every HTTP request received. */
  requests: number;
  /** Generation requests forwarded upstream (= lines written, unless a write failed). */
  generation: number;
  lines: number;
  failed_lines: number;
  write_errors: number;
  /** Batches written to the trial logs (each one write + one fdatasync): lines / log_batches is what group commit saves. */
  log_batches: number;
  /** count_tokens and models requests forwarded (not logged). */
  passthrough: number;
  rejected: { auth: number; trial: number; other: number };
  by_trial: Record<string, TrialCounters>;
}

export interface RunningBuiltinProxy {
  backend: 'builtin';
  /** Root URL (`http://127.0.0.1:PORT`): Anthropic clients' base URL; OpenAI clients use `${url}/v1`. */
  url: string;
  port: number;
  /** The per-job key. */
  key: string;
  trialHeader: string;
  counters(): ProxyCounters;
  /** Lines per trial so far (same shape for both backends). */
  lineCounts(): Record<string, { lines: number; failed: number }>;
  /** Stop accepting, wait for in-flight requests (at most `graceMs`, default 5000), flush lines, close. */
  stop(graceMs?: number): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);
const CLIENT_AUTH = new Set(['authorization', 'x-api-key', 'api-key']);

type Route = { kind: 'generation'; protocol: Protocol } | { kind: 'passthrough'; protocol: Protocol };

function classify(method: string, path: string): Route | undefined {
  if (method === 'POST' && path === '/v1/messages') return { kind: 'generation', protocol: 'anthropic' };
  if (method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions')) return { kind: 'generation', protocol: 'openai' };
  if (method === 'POST' && path === '/v1/messages/count_tokens') return { kind: 'passthrough', protocol: 'anthropic' };
  if (method === 'GET' && (path === '/v1/models' || path === '/models')) return { kind: 'passthrough', protocol: 'openai' };
  return undefined;
}

function errorBody(protocol: Protocol, status: number, message: string): string {
  if (protocol === 'anthropic') {
    const type =
      status === 401 ? 'authentication_error' : status === 404 ? 'not_found_error' : status === 504 ? 'timeout_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
    return JSON.stringify({ type: 'error', error: { type, message } });
  }
  const type = status === 401 ? 'invalid_api_key' : status >= 500 ? 'proxy_error' : 'invalid_request_error';
  return JSON.stringify({ error: { message, type, param: null, code: type } });
}

function sendError(res: ServerResponse, protocol: Protocol, status: number, message: string) {
  if (res.headersSent || res.destroyed) return void res.destroy();
  const text = errorBody(protocol, status, message);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Join the upstream base and the client's path (dropping a doubled `/v1`). */
export function upstreamUrl(baseUrl: string, pathAndQuery: string): URL {
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  let rest = pathAndQuery;
  if (/\/v1$/.test(basePath) && (rest === '/v1' || rest.startsWith('/v1/') || rest.startsWith('/v1?'))) rest = rest.slice(3);
  else if (!rest.startsWith('/v1') && basePath === '' && /^\/(chat|models)/.test(rest)) rest = `/v1${rest}`;
  return new URL(basePath + rest, base.origin);
}

function keyOf(req: IncomingMessage): string | undefined {
  const x = req.headers['x-api-key'];
  if (typeof x === 'string' && x) return x;
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
  return m?.[1];
}

function sameKey(given: string | undefined, key: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

function decodeBody(buf: Buffer, encoding: string | undefined): Buffer {
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipSync(buf);
    if (encoding === 'br') return brotliDecompressSync(buf);
    if (encoding === 'deflate') return inflateSync(buf);
  } catch {
    return buf;
  }
  return buf;
}

/** How a call's request body goes into its line: as the client's bytes, or as a value to serialise. */
interface LoggedRequest {
  bytes?: Buffer;
  value?: unknown;
  /** The line's `stream` field. */
  stream: boolean;
}

/** A request body received whole. */
interface CompleteBody {
  state: 'complete';
  raw: Buffer;
  /** The parsed object, when the body was parsed to rewrite its model. */
  parsed?: Record<string, unknown>;
  /** What verbatimBytes gave (undefined: not computed yet). */
  verbatim?: Buffer | null;
}

/** Stands in the line object for a body that is written as bytes (serialise() splices them in). */
const LOGGED_AS_BYTES = Symbol('request body written as bytes');

const isJsonSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** First and last non-space bytes are `{` and `}`: a whole object, not a cut one. */
function framedAsObject(raw: Buffer): boolean {
  let i = 0;
  let j = raw.length - 1;
  while (i <= j && isJsonSpace(raw[i])) i++;
  while (j >= i && isJsonSpace(raw[j])) j--;
  return j > i && raw[i] === 0x7b && raw[j] === 0x7d;
}

function tryJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return buf.length ? buf.toString('utf8') : null;
  }
}

/** A fresh per-job key (`sk-` prefix: LiteLLM requires it for master keys). */
export function newJobKey(): string {
  return `sk-trajgen-${randomBytes(24).toString('hex')}`;
}

/** The upstream key: given, or read from the variable named (which must then be set); undefined when neither. */
function upstreamKeyOf(upstream: BuiltinProxyOptions['upstream']): string | undefined {
  let upstreamKey = upstream.apiKey;
  if (upstreamKey === undefined && upstream.apiKeyEnv) {
    upstreamKey = process.env[upstream.apiKeyEnv];
    if (!upstreamKey) {
      throw new TrajgenError(`The upstream key variable ${upstream.apiKeyEnv} is not set`, {
        hint: `Export ${upstream.apiKeyEnv} (rollout.llm_api.api_key_env names it).`,
      });
    }
  }
  return upstreamKey;
}

/** The keep-alive agent for the upstream's scheme (http or https; anything else is refused). */
function upstreamAgent(baseUrl: string): { isHttps: boolean; agent: HttpAgent | HttpsAgent } {
  const upstreamBase = new URL(baseUrl);
  const isHttps = upstreamBase.protocol === 'https:';
  if (!isHttps && upstreamBase.protocol !== 'http:') {
    throw new TrajgenError(`Upstream URL ${baseUrl} is not http(s)`, { hint: 'Set rollout.llm_api.base_url to an http:// or https:// URL.' });
  }
  return { isHttps, agent: isHttps ? new HttpsAgent({ keepAlive: true, maxSockets: 512 }) : new HttpAgent({ keepAlive: true, maxSockets: 512 }) };
}

/**
 * One line as bytes. With `requestBytes` (the client's body, checked to be a
 * JSON object, valid UTF-8 and free of secrets) the body goes in as it came
 * instead of being serialised again; everything around it is stringified
 * and redacted as usual, in the same key order.
 */
function serialise(line: TrajectoryLine, requestBytes: Buffer | undefined, secrets: readonly (string | undefined)[]): Buffer[] | string {
  if (!requestBytes) return redactSecrets(JSON.stringify(line), secrets);
  const { session_id, success, request_time, timestamp, duration_ms, request_body: _logged, ...after } = line;
  const head = redactSecrets(JSON.stringify({ session_id, success, request_time, timestamp, duration_ms }), secrets);
  const tail = redactSecrets(JSON.stringify(after), secrets);
  // Three parts, one writev: the body is never copied into a line buffer.
  return [Buffer.from(`${head.slice(0, -1)},"request_body":`), requestBytes, Buffer.from(`,${tail.slice(1)}\n`)];
}

function responseHeaders(up: IncomingMessage): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

function readBody(req: IncomingMessage, maxBody: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) {
        reject(Object.assign(new Error(`request body over ${maxBody} bytes`), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Listen on host:port (0 = a free port); the port listened on. */
async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new TrajgenError(`The recording proxy cannot listen on ${host}:${port}: ${(e as Error).message}`, { hint: 'Pick another proxy.port (0 = a free port).' })),
    );
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/**
 * The builtin recording proxy: forwards `/v1/messages` and
 * `/v1/chat/completions` (streaming and not) byte-for-byte to one upstream,
 * and appends one line per call to the trial's jsonl — durably, before the
 * client sees the end of the response. See index.ts for the contract.
 *
 * Why this is long: it is the latency-critical hot path. The per-request
 * functions (handle, generation and its onResponse, passthrough, writeLine)
 * are closures over this proxy's state (key, counters, agent, appender,
 * secrets), created once per proxy; moving them out would mean passing that
 * state on every call or allocating a context per request. Setup, teardown
 * and the stateless helpers are outside (upstreamKeyOf, upstreamAgent,
 * serialise, responseHeaders, readBody, listen).
 */
export async function startBuiltinProxy(options: BuiltinProxyOptions): Promise<RunningBuiltinProxy> {
  const key = options.key ?? newJobKey();
  const upstreamKey = upstreamKeyOf(options.upstream);
  const trialHeader = (options.trialHeader ?? DEFAULT_TRIAL_HEADER).toLowerCase();
  const timeoutMs = options.requestTimeoutMs ?? 600_000;
  const maxBody = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const secrets = [key, upstreamKey, ...(options.secrets ?? [])];
  const inflight = new Set<Promise<void>>();
  // The only call in flight: nothing else needs the event loop while its line syncs.
  const appender = new DurableAppender(options.fsync ?? true, () => inflight.size <= 1);
  const { isHttps, agent } = upstreamAgent(options.upstream.baseUrl);
  const counters: ProxyCounters = { requests: 0, generation: 0, lines: 0, failed_lines: 0, write_errors: 0, log_batches: 0, passthrough: 0, rejected: { auth: 0, trial: 0, other: 0 }, by_trial: {} };
  const sockets = new Set<Socket>();
  let closing = false;

  const trialCounters = (trial: string) =>
    (counters.by_trial[trial] ??= { requests: 0, lines: 0, failed: 0, prompt_tokens: 0, completion_tokens: 0, cost: 0 });

  function countLine(line: TrajectoryLine) {
    counters.lines += 1;
    const t = trialCounters(line.session_id);
    t.lines += 1;
    if (!line.success) {
      counters.failed_lines += 1;
      t.failed += 1;
    }
    t.prompt_tokens += line.usage?.prompt_tokens ?? 0;
    t.completion_tokens += line.usage?.completion_tokens ?? 0;
    t.cost += line.usage?.cost ?? 0;
    options.onLine?.({
      trial: line.session_id,
      success: line.success,
      endpoint: line.endpoint,
      duration_ms: line.duration_ms,
      usage: line.usage,
      failure: line.failure,
    });
  }

  async function writeLine(path: string, line: TrajectoryLine, requestBytes?: Buffer): Promise<void> {
    try {
      await appender.append(path, serialise(line, requestBytes, secrets));
    } catch (error) {
      counters.write_errors += 1;
      // The response must not claim a logged call that is not on disk.
      throw error;
    }
    countLine(line);
  }

  function upstreamHeaders(req: IncomingMessage, bodyLength: number | undefined, trial?: string): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers as IncomingHttpHeaders)) {
      // Never upstream: hop-by-hop headers, the client's auth, and what trajgen adds (the routing header, x-trajgen-*).
      if (v === undefined || HOP_BY_HOP.has(k) || CLIENT_AUTH.has(k) || k === 'accept-encoding' || k === trialHeader || k.startsWith('x-trajgen-')) continue;
      out[k] = v;
    }
    out['accept-encoding'] = 'identity';
    if (bodyLength !== undefined) out['content-length'] = bodyLength;
    if (upstreamKey) {
      if (options.upstream.protocol === 'anthropic') out['x-api-key'] = upstreamKey;
      else out.authorization = `Bearer ${upstreamKey}`;
    }
    if (trial && options.upstream.trialHeader) out[options.upstream.trialHeader.toLowerCase()] = trial;
    return out;
  }

  /** Forward a request that is not logged (count_tokens, models). */
  function passthrough(req: IncomingMessage, res: ServerResponse, route: Route, pathAndQuery: string, body: Buffer) {
    counters.passthrough += 1;
    return new Promise<void>((resolve) => {
      const target = upstreamUrl(options.upstream.baseUrl, pathAndQuery);
      const upReq = (isHttps ? httpsRequest : httpRequest)(
        target,
        { method: req.method, headers: upstreamHeaders(req, req.method === 'GET' ? undefined : body.length), agent },
        (up) => {
          res.writeHead(up.statusCode ?? 502, responseHeaders(up));
          up.pipe(res);
          up.on('end', resolve);
          up.on('error', () => {
            res.destroy();
            resolve();
          });
        },
      );
      upReq.setTimeout(timeoutMs, () => upReq.destroy(new Error('upstream timeout')));
      upReq.on('error', (e) => {
        sendError(res, route.protocol, 502, `proxy: upstream request failed: ${redactSecrets(e.message, secrets)}`);
        resolve();
      });
      res.on('close', () => {
        if (!res.writableFinished) upReq.destroy(); // the client left early: stop the upstream call too
      });
      upReq.end(req.method === 'GET' ? undefined : body);
    });
  }

  /**
   * The client's bytes as they can go into a line, or null when they must be
   * parsed and serialised again (redacted): they go in as they are when
   * framed as one object, valid UTF-8 and free of secrets (newline bytes,
   * which JSON only allows as whitespace between tokens, become spaces so the
   * line stays one line). No parse and no re-serialisation of a 200 KB body;
   * computed once the body is complete, while the upstream works on it.
   */
  function verbatimBytes(raw: Buffer): Buffer | null {
    if (!framedAsObject(raw) || !isUtf8(raw) || mayContainSecret(raw, secrets)) return null;
    if (!raw.includes(0x0a) && !raw.includes(0x0d)) return raw;
    const bytes = Buffer.from(raw);
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a || bytes[i] === 0x0d) bytes[i] = 0x20;
    return bytes;
  }

  /**
   * How the request body goes into the line: the client's bytes (see
   * verbatimBytes) when the upstream accepted the call (2xx: it parsed the
   * body as a request object); anything else (an upstream error, odd bytes, a
   * possible secret) is parsed and serialised again, redacted; a body that is
   * not JSON is logged as text.
   */
  function requestForLine(body: CompleteBody, accepted: boolean, sse: boolean): LoggedRequest {
    if (accepted) {
      if (body.verbatim === undefined) body.verbatim = verbatimBytes(body.raw);
      // A 2xx answer is a stream exactly when the request asked for one.
      if (body.verbatim) return { bytes: body.verbatim, stream: sse };
    }
    const value = body.parsed ?? tryJson(body.raw);
    return { value, stream: (value as { stream?: unknown } | null)?.stream === true };
  }

  /**
   * Forward a generation request and log it. The request body is forwarded
   * while it arrives (a model rewrite buffers it instead). Resolves when the
   * response is finished and the line written.
   *
   * Why this is long: one call's state (body, upstream request, partial
   * result, timer, abort reason) is shared by the closures below (fail,
   * refuse, write, the body and response handlers); splitting them would
   * allocate a state object per request on the hot path.
   */
  function generation(req: IncomingMessage, res: ServerResponse, protocol: Protocol, path: string, pathAndQuery: string, trial: string, logPath: string) {
    const started = Date.now();
    const rewriteModel = options.upstream.model;
    const target = upstreamUrl(options.upstream.baseUrl, pathAndQuery);

    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    let finished = false;
    let abortReason: { type: FailureType; message: string } | undefined;
    let partial: () => { body: unknown; usage: unknown } = () => ({ body: null, usage: undefined });
    let upstreamStatus: number | null = null;
    let upReq: ClientRequest | undefined;
    let body: { state: 'pending' } | CompleteBody | { state: 'refused' } = { state: 'pending' };
    let settleBody!: () => void;
    const bodySettled = new Promise<void>((r) => (settleBody = r));

    const line = (request: LoggedRequest, success: boolean, responseBody: unknown, usage: unknown, failure?: { type: FailureType; status: number | null; message: string }): TrajectoryLine => ({
      session_id: trial,
      success,
      request_time: started,
      timestamp: new Date(started).toISOString(),
      duration_ms: Date.now() - started,
      request_body: request.bytes ? LOGGED_AS_BYTES : request.value,
      response_body: responseBody ?? null,
      usage: normaliseUsage(usage, options.prices),
      ...(failure ? { failure: { error_type: failure.type, status_code: failure.status, message: failureMessage(redactSecrets(failure.message, secrets)) } } : {}),
      endpoint: path,
      stream: request.stream,
    });
    /** Write the line for this call (the body must be complete). */
    const write = (accepted: boolean, sse: boolean, success: boolean, responseBody: unknown, usage: unknown, failure?: { type: FailureType; status: number | null; message: string }) => {
      const request = requestForLine(body as CompleteBody, accepted, sse);
      return writeLine(logPath, line(request, success, responseBody, usage, failure), request.bytes);
    };

    const finish = () => {
      finished = true;
      clearTimeout(timer);
    };

    /** A call the upstream never got whole (body too large, client gone while sending): no line, just an answer. */
    const refuse = (status: number | undefined, message: string) => {
      finish();
      abortReason ??= { type: 'proxy_error', message };
      upReq?.destroy();
      counters.rejected.other += 1;
      if (status && !res.headersSent) sendError(res, protocol, status, `proxy: ${message}`);
      else res.destroy();
      req.resume();
      resolve();
    };

    /** Log a failure once, then end the client side (error response, or a cut connection). */
    const fail = async (type: FailureType, status: number | null, message: string, clientStatus?: number) => {
      if (finished) return;
      finish();
      // An upstream failing while the client still sends: the call counts once the body is complete.
      if (body.state === 'pending' && type !== 'timeout' && type !== 'client_disconnect') await bodySettled;
      if (body.state !== 'complete') return refuse(clientStatus, message);
      const p = partial();
      try {
        await write(false, false, false, p.body, p.usage, { type, status, message });
      } catch {
        /* counted in write_errors */
      }
      if (clientStatus && !res.headersSent) sendError(res, protocol, clientStatus, `proxy: ${message}`);
      else res.destroy();
      resolve();
    };

    const timer = setTimeout(() => {
      abortReason = { type: 'timeout', message: `upstream did not finish within ${timeoutMs} ms` };
      upReq?.destroy();
      void fail('timeout', upstreamStatus, abortReason.message, 504);
    }, timeoutMs);

    res.on('close', () => {
      if (finished || res.writableFinished) return;
      abortReason = { type: 'client_disconnect', message: 'client closed the connection before the response completed' };
      upReq?.destroy();
      void fail('client_disconnect', upstreamStatus, abortReason.message);
    });

    const openUpstream = (contentLength: number | undefined) => {
      const r = (isHttps ? httpsRequest : httpRequest)(target, { method: 'POST', headers: upstreamHeaders(req, contentLength, trial), agent });
      r.on('error', (e) => {
        if (abortReason || finished) return;
        if (upstreamStatus === null) void fail('upstream_unreachable', null, `upstream request failed: ${e.message}`, 502);
        else void fail('upstream_disconnect', upstreamStatus, `upstream connection failed mid-response: ${e.message}`);
      });
      r.on('response', (up) => onResponse(up));
      r.on('close', () => req.resume()); // a body paused for this request's backpressure must still arrive
      return r;
    };

    // ---- the request body: forwarded as it arrives, or buffered for a model rewrite
    const declared = Number(req.headers['content-length']);
    if (!rewriteModel) upReq = openUpstream(Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    // Collected whole even after the upstream failed: the failure line carries the complete body.
    req.on('data', (c: Buffer) => {
      if (body.state !== 'pending') return;
      size += c.length;
      if (size > maxBody) {
        body = { state: 'refused' };
        settleBody();
        if (finished) return void req.resume();
        return refuse(413, `request body over ${maxBody} bytes`);
      }
      chunks.push(c);
      if (!finished && !rewriteModel && upReq && !upReq.destroyed && !upReq.write(c)) {
        req.pause();
        upReq.once('drain', () => req.resume());
      }
    });
    req.on('error', () => {
      if (body.state !== 'pending') return;
      body = { state: 'refused' };
      settleBody();
      if (!finished) refuse(undefined, 'client closed the connection while sending the request');
    });
    req.on('end', () => {
      if (body.state !== 'pending') return;
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      counters.generation += 1;
      trialCounters(trial).requests += 1;
      if (!rewriteModel) {
        const complete: CompleteBody = { state: 'complete', raw };
        body = complete;
        settleBody();
        if (finished) return;
        upReq!.end();
        // While the upstream works: the checks the line needs (off the path between the last event and the client).
        complete.verbatim = verbatimBytes(raw);
        return;
      }
      const parsed = tryJson(raw);
      const object = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
      const complete: CompleteBody = { state: 'complete', raw, parsed: object };
      body = complete;
      settleBody();
      if (finished) return;
      const forward = !object || object.model === rewriteModel ? raw : Buffer.from(JSON.stringify({ ...object, model: rewriteModel }));
      upReq = openUpstream(forward.length);
      upReq.end(forward);
      complete.verbatim = verbatimBytes(raw);
    });

    // ---- the response
    // Why this is long: the buffered and the streaming path share this call's state (body,
    // partial, finish, fail, write) with generation; apart, each would need it passed per request.
    function onResponse(up: IncomingMessage) {
      upstreamStatus = up.statusCode ?? 502;
      const status = upstreamStatus;
      const ok = status >= 200 && status < 300;
      const headers = responseHeaders(up);
      const encoding = typeof up.headers['content-encoding'] === 'string' ? up.headers['content-encoding'] : undefined;
      const sse = /text\/event-stream/i.test(String(up.headers['content-type'] ?? '')) && ok;

      up.on('close', () => {
        if (!up.complete && !finished && !abortReason) void fail('upstream_disconnect', status, 'upstream closed the connection mid-response');
      });
      up.on('error', () => undefined); // reported through 'close'

      if (!sse || (encoding && encoding !== 'identity')) {
        // Buffered: log first, then send the exact bytes (a compressed stream is buffered too).
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        partial = () => ({ body: tryJson(decodeBody(Buffer.concat(chunks), encoding)), usage: undefined });
        up.on('end', async () => {
          if (finished) return;
          await bodySettled;
          if (finished) return;
          if (body.state !== 'complete') return refuse(502, 'the upstream answered before the request was complete');
          const bytes = Buffer.concat(chunks);
          const decoded = decodeBody(bytes, encoding);
          let parsed: unknown;
          let usage: unknown;
          if (sse) {
            const splitter = new SseSplitter();
            const asm = assemblerFor(protocol);
            for (const ev of splitter.push(decoded)) asm.push(ev);
            const r = asm.result();
            parsed = r.body;
            usage = r.usage;
          } else {
            parsed = tryJson(decoded);
            usage = (parsed as { usage?: unknown } | null)?.usage;
          }
          finish();
          try {
            if (ok) await write(true, sse, true, parsed, usage);
            else await write(false, false, false, parsed, usage, { type: 'upstream_http_error', status, message: typeof parsed === 'string' ? parsed : JSON.stringify(parsed) });
          } catch {
            res.destroy();
            return resolve();
          }
          if (!res.destroyed) {
            res.writeHead(status, { ...headers, 'content-length': bytes.length });
            res.end(bytes);
          }
          resolve();
        });
        return;
      }

      // Streaming: forward each complete event as it arrives; hold back the terminal
      // event (message_stop / [DONE]) and anything after it until the line is on disk.
      // Reassembly for the log runs after the bytes are on their way (setImmediate).
      res.writeHead(status, headers);
      // The headers go out with the first events (one write, as a plain pass-through sends
      // them); when none came in with them, alone, once this turn of the loop is over.
      let forwarded = false;
      setImmediate(() => {
        if (!forwarded && !res.destroyed && !res.writableEnded) res.flushHeaders();
      });
      const splitter = new SseSplitter();
      const asm = assemblerFor(protocol);
      const terminalMark = protocol === 'anthropic' ? 'message_stop' : '[DONE]';
      const heldBack: Buffer[] = [];
      const unassembled: Buffer[] = [];
      let holding = false;
      let scheduled = false;
      const assemble = () => {
        scheduled = false;
        for (const raw of unassembled.splice(0)) asm.push(parseEvent(raw));
      };
      partial = () => {
        assemble();
        const r = asm.result();
        return { body: r.body, usage: r.usage };
      };
      up.on('data', (chunk: Buffer) => {
        const out: Buffer[] = [];
        for (const raw of splitter.pushRaw(chunk)) {
          if (!holding && raw.includes(terminalMark) && asm.isTerminal(parseEvent(raw))) holding = true;
          (holding ? heldBack : out).push(raw);
          unassembled.push(raw);
        }
        if (out.length && !res.destroyed) {
          forwarded = true;
          if (!res.write(out.length === 1 ? out[0] : Buffer.concat(out))) {
            up.pause();
            res.once('drain', () => up.resume());
          }
        }
        if (unassembled.length && !scheduled) {
          scheduled = true;
          setImmediate(assemble);
        }
      });
      up.on('end', async () => {
        if (finished) return;
        await bodySettled;
        if (finished) return;
        if (body.state !== 'complete') return refuse(undefined, 'the upstream answered before the request was complete');
        const rest = splitter.rest();
        if (rest.length) heldBack.push(rest);
        assemble();
        const r = asm.result();
        finish();
        const failure = r.error
          ? { type: 'stream_error' as const, status, message: `${r.error.type}: ${r.error.message}` }
          : !r.complete
            ? { type: 'incomplete_stream' as const, status, message: 'the stream ended without its final event' }
            : undefined;
        try {
          await write(true, true, !failure, r.body, r.usage, failure);
        } catch {
          res.destroy();
          return resolve();
        }
        if (!res.destroyed) {
          if (heldBack.length) res.write(heldBack.length === 1 ? heldBack[0] : Buffer.concat(heldBack));
          res.end();
        }
        resolve();
      });
    }
    return done;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    counters.requests += 1;
    const pathAndQuery = req.url ?? '/';
    const path = pathAndQuery.split('?')[0].replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const errProtocol: Protocol = path.startsWith('/v1/messages') ? 'anthropic' : 'openai';
    if ((method === 'HEAD' || method === 'GET') && path === '/') {
      // Claude Code probes `HEAD /` before its first call; answer without a key, reveal nothing.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
      return void res.end(method === 'HEAD' ? undefined : '{}');
    }
    if (closing) {
      counters.rejected.other += 1;
      req.resume();
      return sendError(res, errProtocol, 503, 'proxy: shutting down');
    }
    if (!sameKey(keyOf(req), key)) {
      counters.rejected.auth += 1;
      req.resume();
      return sendError(res, errProtocol, 401, 'proxy: missing or wrong API key for this job');
    }
    const route = classify(method, path);
    if (!route) {
      counters.rejected.other += 1;
      req.resume();
      return sendError(res, errProtocol, 404, `proxy: no route for ${method} ${path}`);
    }
    if (route.kind === 'passthrough') {
      let raw: Buffer;
      try {
        raw = await readBody(req, maxBody);
      } catch (error) {
        counters.rejected.other += 1;
        return sendError(res, route.protocol, (error as { status?: number }).status ?? 400, `proxy: ${(error as Error).message}`);
      }
      return passthrough(req, res, route, pathAndQuery, raw);
    }

    // Everything a generation call is routed by is in its headers: refuse before reading the body.
    const trialValue = req.headers[trialHeader];
    const trial = Array.isArray(trialValue) ? trialValue[0] : trialValue;
    if (!trial) {
      counters.rejected.trial += 1;
      req.resume();
      return sendError(res, route.protocol, 400, `proxy: missing ${trialHeader} header (every model call must name its trial)`);
    }
    const logPath = options.routes.resolve(trial);
    if (!logPath) {
      counters.rejected.trial += 1;
      req.resume();
      return sendError(res, route.protocol, 400, `proxy: unknown trial ${JSON.stringify(trial)} in ${trialHeader}`);
    }
    if (route.protocol !== options.upstream.protocol) {
      counters.rejected.other += 1;
      req.resume();
      return sendError(
        res,
        route.protocol,
        400,
        `proxy: ${path} needs an ${route.protocol} upstream, but the upstream speaks ${options.upstream.protocol} (the builtin proxy does not translate; use proxy.backend: litellm)`,
      );
    }
    return generation(req, res, route.protocol, path, pathAndQuery, trial, logPath);
  }

  const server = createServer((req, res) => {
    const p = handle(req, res).catch((error) => {
      sendError(res, 'openai', 500, `proxy: internal error: ${redactSecrets(String((error as Error)?.message ?? error), secrets)}`);
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 70_000;
  server.requestTimeout = 0;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, host, options.port ?? 0);

  return {
    backend: 'builtin',
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    key,
    trialHeader,
    counters: () => JSON.parse(JSON.stringify({ ...counters, log_batches: appender.batches })) as ProxyCounters,
    lineCounts: () => Object.fromEntries(Object.entries(counters.by_trial).map(([t, c]) => [t, { lines: c.lines, failed: c.failed }])),
    async stop(graceMs = 5000) {
      closing = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => setTimeout(r, graceMs).unref())]);
      for (const s of sockets) s.destroy();
      await appender.close();
      await closed;
      agent.destroy();
    },
  };
}
