import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { stableStringify, sha256, TrajgenError } from '@trajgen/core';
import { decideTurn, readConversation, type Turn, type WireProtocol } from './policy';
import { loadOracleTasks, type OracleTask } from './task';
import { matchTask } from './registry';
import {
  anthropicEvents,
  anthropicMessage,
  encodeSse,
  errorBody,
  estimateTokens,
  openaiChunks,
  openaiCompletion,
  type SseEvent,
} from './render';

export const ORACLE_FAULTS = ['http_429', 'http_500', 'disconnect', 'slow', 'wrong_answer'] as const;
export type OracleFault = (typeof ORACLE_FAULTS)[number];

export interface OracleOptions {
  /** Task id → Harbor task dir (or tasks already loaded with loadOracleTasks). */
  tasks: Record<string, string> | Map<string, OracleTask>;
  /** Delay before every generation response (ms). Default 0. */
  latencyMs?: number;
  /** Extra delay added by the `slow` fault (ms). Default 2000. */
  slowMs?: number;
  /** Delay between SSE events (ms), to make streams arrive in several chunks. Default 0. */
  chunkDelayMs?: number;
  /** Per task id: the faults to inject (see the README of this lib / index.ts). */
  faults?: Record<string, OracleFault | OracleFault[]>;
  host?: string;
  /** 0 = a free port. */
  port?: number;
  /** Header carrying the trial name. Default `x-trajgen-trial`. */
  trialHeader?: string;
  /** When set, generation and count_tokens requests must carry this key (x-api-key or Bearer). */
  apiKey?: string;
}

export interface OracleStats {
  /** Generation requests received (/v1/messages, /v1/chat/completions), whatever their outcome. */
  generation: { total: number; by_trial: Record<string, number>; by_kind: Record<string, number> };
  count_tokens: number;
  models: number;
  /** Requests refused for a wrong/missing key (also counted in generation when they were generation requests). */
  unauthorized: number;
  /** Faults injected, in order. */
  faults: { trial: string; task: string; fault: OracleFault }[];
}

export interface RunningOracle {
  url: string;
  port: number;
  tasks: Map<string, OracleTask>;
  stats(): OracleStats;
  /** Forget counters and which one-shot faults already fired. */
  reset(): void;
  stop(): Promise<void>;
}

/** The key generation requests without a trial header are counted under. */
export const NO_TRIAL = '(no trial header)';

const ONE_SHOT: OracleFault[] = ['http_429', 'http_500', 'disconnect'];

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

function faultList(v: OracleFault | OracleFault[] | undefined): OracleFault[] {
  if (!v) return [];
  return Array.isArray(v) ? v : [v];
}

function checkFaults(faults: OracleOptions['faults']): void {
  for (const [id, spec] of Object.entries(faults ?? {})) {
    for (const f of faultList(spec)) {
      if (!ORACLE_FAULTS.includes(f)) {
        throw new TrajgenError(`Oracle fault "${f}" for task ${id} is unknown`, { hint: `Use one of: ${ORACLE_FAULTS.join(', ')}.` });
      }
    }
  }
}

const freshStats = (): OracleStats => ({ generation: { total: 0, by_trial: {}, by_kind: {} }, count_tokens: 0, models: 0, unauthorized: 0, faults: [] });

/** One running oracle: its options and its counters (replaced, not cleared, by reset). */
interface Oracle {
  options: OracleOptions;
  tasks: Map<string, OracleTask>;
  trialHeader: string;
  stats: OracleStats;
  /** Per trial (or task without a trial header): the one-shot faults already fired. */
  fired: Map<string, Set<OracleFault>>;
}

function authorized(req: IncomingMessage, apiKey: string | undefined): boolean {
  if (!apiKey) return true;
  const bearer = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
  const given = String(req.headers['x-api-key'] ?? bearer ?? '');
  const a = Buffer.from(given);
  const b = Buffer.from(apiKey);
  return a.length === b.length && timingSafeEqual(a, b);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A generation request (/v1/messages or /v1/chat/completions): counted, faults injected, the task's next turn answered. */
async function generation(o: Oracle, req: IncomingMessage, res: ServerResponse, protocol: WireProtocol, raw: Buffer) {
  const { options } = o;
  const trial = String(req.headers[o.trialHeader] ?? '') || NO_TRIAL;
  o.stats.generation.total += 1;
  o.stats.generation.by_trial[trial] = (o.stats.generation.by_trial[trial] ?? 0) + 1;
  if (!authorized(req, options.apiKey)) {
    o.stats.unauthorized += 1;
    return sendJson(res, 401, errorBody(protocol, 401, 'invalid x-api-key'));
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  } catch {
    return sendJson(res, 400, errorBody(protocol, 400, 'request body is not JSON'));
  }
  const conv = readConversation(protocol, body);
  const task = matchTask(o.tasks, trial === NO_TRIAL ? undefined : trial, conv);
  const faults = task ? faultList(options.faults?.[task.id]) : [];
  const stateKey = trial === NO_TRIAL ? `task:${task?.id}` : trial;
  const used = o.fired.get(stateKey) ?? new Set<OracleFault>();
  o.fired.set(stateKey, used);
  const stream = body.stream === true;
  const fire = (f: OracleFault) => {
    used.add(f);
    o.stats.faults.push({ trial, task: task?.id ?? '', fault: f });
  };

  await sleep((options.latencyMs ?? 0) + (faults.includes('slow') ? (options.slowMs ?? 2000) : 0));
  if (faults.includes('slow')) o.stats.faults.push({ trial, task: task?.id ?? '', fault: 'slow' });

  const pendingOneShot = faults.find((f) => ONE_SHOT.includes(f) && !used.has(f));
  if (pendingOneShot === 'http_429') {
    fire('http_429');
    count(o.stats, 'fault_http_429');
    return sendJson(res, 429, errorBody(protocol, 429, 'oracle: injected rate limit (http_429 fault)'), { 'retry-after': '1' });
  }
  if (pendingOneShot === 'http_500') {
    fire('http_500');
    count(o.stats, 'fault_http_500');
    return sendJson(res, 500, errorBody(protocol, 500, 'oracle: injected server error (http_500 fault)'));
  }

  const turn: Turn = decideTurn(conv, task, { wrongAnswer: faults.includes('wrong_answer') });
  count(o.stats, turn.kind);
  const model = typeof body.model === 'string' ? body.model : 'trajgen-oracle';
  const ctx = { seed: sha256(`${trial}\u0000${stableStringify(body)}`), model, body };
  const cut = pendingOneShot === 'disconnect';
  if (cut) fire('disconnect');

  if (protocol === 'anthropic') {
    const message = anthropicMessage(turn, ctx);
    if (!stream) return sendBody(res, JSON.stringify(message), cut);
    return sendStream(res, anthropicEvents(message), cut, options.chunkDelayMs ?? 0);
  }
  const completion = openaiCompletion(turn, ctx);
  if (!stream) return sendBody(res, JSON.stringify(completion), cut);
  const includeUsage = !!(body.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
  return sendStream(res, openaiChunks(completion, includeUsage), cut, options.chunkDelayMs ?? 0);
}

function countTokens(o: Oracle, req: IncomingMessage, res: ServerResponse, raw: Buffer) {
  o.stats.count_tokens += 1;
  if (!authorized(req, o.options.apiKey)) {
    o.stats.unauthorized += 1;
    return sendJson(res, 401, errorBody('anthropic', 401, 'invalid x-api-key'));
  }
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return sendJson(res, 400, errorBody('anthropic', 400, 'request body is not JSON'));
  }
  sendJson(res, 200, { input_tokens: estimateTokens({ system: body.system, tools: body.tools, messages: body.messages }) });
}

function resetOracle(o: Oracle): void {
  o.stats = freshStats();
  o.fired = new Map();
}

/** Answer one request (body read) by its method and path. */
async function route(o: Oracle, req: IncomingMessage, res: ServerResponse, raw: Buffer) {
  const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '') || '/';
  if (req.method === 'GET' && path === '/__oracle/stats') return sendJson(res, 200, o.stats);
  if (req.method === 'POST' && path === '/__oracle/reset') {
    resetOracle(o);
    return sendJson(res, 200, { ok: true });
  }
  if ((req.method === 'GET' || req.method === 'HEAD') && path === '/') return sendJson(res, 200, { oracle: true });
  if (req.method === 'POST' && path === '/v1/messages') return generation(o, req, res, 'anthropic', raw);
  if (req.method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions')) return generation(o, req, res, 'openai', raw);
  if (req.method === 'POST' && path === '/v1/messages/count_tokens') return countTokens(o, req, res, raw);
  if (req.method === 'GET' && (path === '/v1/models' || path === '/models')) {
    o.stats.models += 1;
    return sendJson(res, 200, {
      object: 'list',
      data: [{ id: 'trajgen-oracle', object: 'model', created: 1767225600, owned_by: 'trajgen', type: 'model', display_name: 'trajgen oracle (demo/test model)' }],
    });
  }
  sendJson(res, 404, { error: { type: 'not_found', message: `oracle: no route ${req.method} ${path}` } });
}

/**
 * Start the oracle: an HTTP server on `host:port` speaking Anthropic
 * (`POST /v1/messages`, `/v1/messages/count_tokens`) and OpenAI
 * (`POST /v1/chat/completions`, `GET /v1/models`), plus `GET /__oracle/stats`
 * and `POST /__oracle/reset` for tests.
 */
export async function startOracle(options: OracleOptions): Promise<RunningOracle> {
  const tasks = options.tasks instanceof Map ? options.tasks : loadOracleTasks(options.tasks);
  checkFaults(options.faults);
  const trialHeader = (options.trialHeader ?? 'x-trajgen-trial').toLowerCase();
  const o: Oracle = { options, tasks, trialHeader, stats: freshStats(), fired: new Map() };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      route(o, req, res, Buffer.concat(chunks)).catch((error) => {
        if (!res.headersSent) sendJson(res, 500, { error: { type: 'oracle_error', message: String((error as Error).message) } });
        else res.destroy();
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    tasks,
    stats: () => JSON.parse(JSON.stringify(o.stats)) as OracleStats,
    reset() {
      resetOracle(o);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function count(stats: OracleStats, kind: string) {
  stats.generation.by_kind[kind] = (stats.generation.by_kind[kind] ?? 0) + 1;
}

/** Non-streaming body; `cut` sends the headers and half the body, then drops the connection. */
function sendBody(res: ServerResponse, text: string, cut: boolean) {
  const buf = Buffer.from(text);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': buf.length });
  if (!cut) return void res.end(buf);
  res.write(buf.subarray(0, Math.floor(buf.length / 2)), () => res.destroy());
}

async function sendStream(res: ServerResponse, events: SseEvent[], cut: boolean, delayMs: number) {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.flushHeaders();
  const stopAt = cut ? Math.max(1, Math.floor(events.length / 2)) : events.length;
  for (let i = 0; i < stopAt; i++) {
    if (res.destroyed) return;
    res.write(encodeSse(events[i]));
    if (delayMs > 0) await sleep(delayMs);
    else if (i % 8 === 7) await new Promise<void>((r) => setImmediate(r));
  }
  if (cut) {
    // Let the written events leave before the connection is dropped mid-stream.
    await new Promise<void>((r) => res.write('', () => r()));
    res.destroy();
    return;
  }
  res.end();
}
