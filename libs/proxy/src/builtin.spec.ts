import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobTrialRouter, startBuiltinProxy, upstreamUrl, type RunningBuiltinProxy, type TrajectoryLine, type UpstreamOptions } from './index';
import { startScriptedUpstream, type ScriptedUpstream } from './__fixtures__/scripted-upstream';
import { ANTHROPIC_MESSAGE, ANTHROPIC_STREAM, JSON_HEADERS, OPENAI_COMPLETION, OPENAI_STREAM, SSE_HEADERS, splitBytes } from './__fixtures__/fixtures';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The response was cut (socket error / aborted) before it completed. */
  aborted: boolean;
}

function call(
  proxy: { url: string },
  path: string,
  body: unknown,
  opts: { headers?: Record<string, string>; method?: string; onChunk?: (chunk: Buffer, all: Buffer) => void; abortAfterFirstChunk?: boolean } = {},
): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = request(
      `${proxy.url}${path}`,
      { method: opts.method ?? 'POST', headers: { 'content-type': 'application/json', ...(opts.headers ?? {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        let aborted = false;
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          opts.onChunk?.(c, Buffer.concat(chunks));
          if (opts.abortAfterFirstChunk) {
            aborted = true;
            req.destroy();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), aborted: true });
          }
        });
        res.on('error', () => (aborted = true));
        res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), aborted: aborted || !res.complete }));
      },
    );
    req.on('error', (e) => (opts.abortAfterFirstChunk ? undefined : reject(e)));
    req.end(payload);
  });
}

function readLines(path: string): TrajectoryLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TrajectoryLine);
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const UPSTREAM_KEY = 'sk-upstream-SECRET-0123456789abcdef';
const ANTHROPIC_BODY = { model: 'trajgen-oracle', max_tokens: 1000, stream: true, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], system: [{ type: 'text', text: 'sys' }] };
const OPENAI_BODY = { model: 'trajgen-oracle', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] };

describe('builtin proxy', () => {
  let upstream: ScriptedUpstream;
  let proxy: RunningBuiltinProxy;
  let jobDir: string;
  let routes: JobTrialRouter;
  let logA: string;

  async function start(protocol: UpstreamOptions['protocol'], extra: Partial<Parameters<typeof startBuiltinProxy>[0]> = {}) {
    proxy = await startBuiltinProxy({ upstream: { baseUrl: upstream.url, protocol, apiKey: UPSTREAM_KEY }, routes, prices: { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3 }, ...extra });
  }
  const auth = () => ({ 'x-api-key': proxy.key, 'x-trajgen-trial': 'task-a__AAAAAAA' });

  beforeEach(async () => {
    jobDir = tempDir(join(tmpdir(), 'tg-proxy-'));
    routes = new JobTrialRouter(jobDir);
    logA = routes.register('task-a__AAAAAAA');
    upstream = await startScriptedUpstream({ headers: JSON_HEADERS, chunks: [JSON.stringify(ANTHROPIC_MESSAGE)] });
  });
  afterEach(async () => {
    await proxy?.stop(500);
    await upstream.stop();
  });

  it('answers 401 without the per-job key and never reaches the upstream', async () => {
    await start('anthropic');
    const none = await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: { 'x-trajgen-trial': 'task-a__AAAAAAA' } });
    const wrong = await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: { 'x-api-key': `${proxy.key}x`, 'x-trajgen-trial': 'task-a__AAAAAAA' } });
    const openai = await call(proxy, '/v1/chat/completions', OPENAI_BODY, { headers: { authorization: 'Bearer nope', 'x-trajgen-trial': 'task-a__AAAAAAA' } });
    expect([none.status, wrong.status, openai.status]).toEqual([401, 401, 401]);
    expect(JSON.parse(none.body.toString()).error.type).toBe('authentication_error');
    expect(JSON.parse(openai.body.toString()).error.message).toMatch(/API key/);
    expect(upstream.received).toHaveLength(0);
    expect(readLines(logA)).toEqual([]);
    expect(proxy.counters().rejected.auth).toBe(3);
  });

  it('accepts the key as Authorization: Bearer too, and answers HEAD / without one', async () => {
    await start('anthropic');
    const head = await call(proxy, '/', undefined, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const r = await call(proxy, '/v1/messages', { ...ANTHROPIC_BODY, stream: false }, { headers: { authorization: `Bearer ${proxy.key}`, 'x-trajgen-trial': 'task-a__AAAAAAA' } });
    expect(r.status).toBe(200);
    expect(readLines(logA)).toHaveLength(1);
  });

  it('rejects a missing or unknown trial header with 400 and logs nothing anywhere', async () => {
    await start('anthropic');
    const missing = await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: { 'x-api-key': proxy.key } });
    const unknown = await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: { 'x-api-key': proxy.key, 'x-trajgen-trial': 'task-b__BBBBBBB' } });
    const escape = await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: { 'x-api-key': proxy.key, 'x-trajgen-trial': '../task-a__AAAAAAA' } });
    expect([missing.status, unknown.status, escape.status]).toEqual([400, 400, 400]);
    expect(missing.body.toString()).toMatch(/missing x-trajgen-trial/);
    expect(unknown.body.toString()).toMatch(/unknown trial/);
    expect(upstream.received).toHaveLength(0);
    expect(allFiles(jobDir)).toEqual([]);
    expect(proxy.counters().rejected.trial).toBe(3);
  });

  it('refuses trial names that could leave the job dir', () => {
    for (const bad of ['..', '../x', 'a/b', '.hidden', '', 'a\\b', 'x'.repeat(300)]) expect(() => routes.register(bad)).toThrow(/cannot be routed/);
    const lenient = new JobTrialRouter(jobDir, { acceptExistingTrialDirs: true });
    expect(lenient.resolve('task-a__AAAAAAA')).toBe(logA);
    expect(lenient.resolve('never-made__XXXXXXX')).toBeUndefined();
    expect(lenient.resolve('..')).toBeUndefined();
  });

  it('passes a non-streaming Anthropic response through byte for byte and logs the call', async () => {
    const bytes = JSON.stringify(ANTHROPIC_MESSAGE, null, 1);
    upstream.reply = { headers: { ...JSON_HEADERS, 'x-upstream': 'yes' }, chunks: [bytes.slice(0, 50), bytes.slice(50)] };
    await start('anthropic');
    const body = { ...ANTHROPIC_BODY, stream: false };
    const r = await call(proxy, '/v1/messages?beta=true', body, { headers: auth() });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(bytes);
    expect(r.headers['x-upstream']).toBe('yes');
    expect(upstream.received[0].url).toBe('/v1/messages?beta=true');
    const [line] = readLines(logA);
    expect(line).toMatchObject({ session_id: 'task-a__AAAAAAA', success: true, endpoint: '/v1/messages', stream: false, request_body: body, response_body: ANTHROPIC_MESSAGE });
    expect(line.failure).toBeUndefined();
    expect(line.usage).toEqual({
      prompt_tokens: 142,
      completion_tokens: 42,
      total_tokens: 184,
      prompt_tokens_details: { cached_tokens: 100 },
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 30,
      cost: (42 * 3 + 100 * 0.3 + 42 * 15) / 1e6,
    });
    expect(new Date(line.timestamp).getTime()).toBe(line.request_time);
    expect(line.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('passes an Anthropic stream through byte for byte and logs the reassembled message', async () => {
    upstream.reply = { headers: SSE_HEADERS, chunks: splitBytes(ANTHROPIC_STREAM, 37) };
    await start('anthropic');
    const r = await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: auth() });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/event-stream/);
    expect(r.body.equals(Buffer.from(ANTHROPIC_STREAM))).toBe(true);
    const [line] = readLines(logA);
    expect(line.success).toBe(true);
    expect(line.stream).toBe(true);
    expect(line.request_body).toEqual(ANTHROPIC_BODY);
    expect(line.response_body).toEqual(ANTHROPIC_MESSAGE);
    expect(line.usage?.completion_tokens).toBe(42);
  });

  it('passes an OpenAI stream through byte for byte and logs the reassembled chat.completion', async () => {
    upstream.reply = { headers: SSE_HEADERS, chunks: splitBytes(OPENAI_STREAM, 41) };
    await start('openai');
    const r = await call(proxy, '/v1/chat/completions', OPENAI_BODY, { headers: { authorization: `Bearer ${proxy.key}`, 'x-trajgen-trial': 'task-a__AAAAAAA' } });
    expect(r.body.equals(Buffer.from(OPENAI_STREAM))).toBe(true);
    const [line] = readLines(logA);
    expect(line).toMatchObject({ success: true, stream: true, endpoint: '/v1/chat/completions' });
    expect(line.response_body).toEqual(OPENAI_COMPLETION);
    expect(line.usage).toMatchObject({ prompt_tokens: 200, completion_tokens: 50, total_tokens: 250, cache_read_input_tokens: 128, completion_tokens_details: { reasoning_tokens: 20 } });
  });

  it('passes a non-streaming OpenAI response through and accepts an upstream base ending in /v1', async () => {
    const bytes = JSON.stringify(OPENAI_COMPLETION);
    upstream.reply = { headers: JSON_HEADERS, chunks: [bytes] };
    proxy = await startBuiltinProxy({ upstream: { baseUrl: `${upstream.url}/v1`, protocol: 'openai' }, routes });
    const r = await call(proxy, '/v1/chat/completions', { ...OPENAI_BODY, stream: false }, { headers: { authorization: `Bearer ${proxy.key}`, 'x-trajgen-trial': 'task-a__AAAAAAA' } });
    expect(r.body.toString()).toBe(bytes);
    expect(upstream.received[0].url).toBe('/v1/chat/completions');
    expect(readLines(logA)[0].response_body).toEqual(OPENAI_COMPLETION);
  });

  it('forwards events as they arrive and writes the line durably before the client sees message_stop', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const events = ANTHROPIC_STREAM.split(/(?<=\n\n)/);
    upstream.reply = { headers: SSE_HEADERS, chunks: events, gate: { before: 3, wait: gate } };
    await start('anthropic');
    const seen: { early: boolean; linesAtStop: number }[] = [];
    const r = await call(proxy, '/v1/messages', ANTHROPIC_BODY, {
      headers: auth(),
      onChunk: (_c, all) => {
        const text = all.toString();
        if (text.includes('content_block_start') && !text.includes('message_stop') && seen.length === 0) {
          // The first events reached us while the upstream is still held at the gate.
          seen.push({ early: true, linesAtStop: readLines(logA).length });
          release();
        }
        if (text.includes('event: message_stop')) seen.push({ early: false, linesAtStop: readLines(logA).length });
      },
    });
    expect(r.status).toBe(200);
    expect(seen[0]).toEqual({ early: true, linesAtStop: 0 });
    expect(seen[seen.length - 1]).toEqual({ early: false, linesAtStop: 1 });
    expect(statSync(logA).size).toBeGreaterThan(0);
  });

  it('sends the stream headers at once when the upstream holds its first event back', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    upstream.reply = { headers: SSE_HEADERS, chunks: ANTHROPIC_STREAM.split(/(?<=\n\n)/), gate: { before: 0, wait: gate } };
    await start('anthropic');
    const payload = JSON.stringify(ANTHROPIC_BODY);
    const done = new Promise<{ status: number; body: string; linesAtHeaders: number }>((resolve, reject) => {
      const req = request(`${proxy.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth() } }, (res) => {
        // Headers arrived while the upstream is still held: no event can have been sent yet.
        const linesAtHeaders = readLines(logA).length;
        release();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), linesAtHeaders }));
      });
      req.on('error', reject);
      req.end(payload);
    });
    const r = await done;
    expect(r).toMatchObject({ status: 200, linesAtHeaders: 0 });
    expect(r.body).toBe(ANTHROPIC_STREAM);
    expect(readLines(logA)).toHaveLength(1);
  });

  it('logs upstream 429 and 500 responses as failures and passes them through', async () => {
    const err429 = JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } });
    upstream.reply = (req) =>
      req.headers['x-case'] === '429'
        ? { status: 429, headers: { ...JSON_HEADERS, 'retry-after': '1' }, chunks: [err429] }
        : { status: 500, headers: JSON_HEADERS, chunks: ['{"error":{"message":"boom"}}'] };
    await start('anthropic');
    const a = await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: { ...auth(), 'x-case': '429' } });
    const b = await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: { ...auth(), 'x-case': '500' } });
    expect([a.status, b.status]).toEqual([429, 500]);
    expect(a.body.toString()).toBe(err429);
    expect(a.headers['retry-after']).toBe('1');
    const lines = readLines(logA);
    expect(lines.map((l) => [l.success, l.failure?.error_type, l.failure?.status_code])).toEqual([
      [false, 'upstream_http_error', 429],
      [false, 'upstream_http_error', 500],
    ]);
    expect(lines[0].response_body).toEqual(JSON.parse(err429));
    expect(lines[0].failure?.message).toContain('slow down');
    expect(proxy.counters().by_trial['task-a__AAAAAAA']).toMatchObject({ requests: 2, lines: 2, failed: 2 });
  });

  it('times out a silent upstream with 504 and logs it', async () => {
    upstream.reply = { hang: true };
    await start('anthropic', { requestTimeoutMs: 250 });
    const r = await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: auth() });
    expect(r.status).toBe(504);
    const [line] = readLines(logA);
    expect(line).toMatchObject({ success: false, failure: { error_type: 'timeout', status_code: null } });
    await upstream.received[0].closed; // the upstream request was aborted
  });

  it('cuts the client stream when the upstream stalls mid-stream, logging the partial message', async () => {
    const events = ANTHROPIC_STREAM.split(/(?<=\n\n)/);
    upstream.reply = { headers: SSE_HEADERS, chunks: events, gate: { before: 9, wait: new Promise(() => undefined) } };
    await start('anthropic', { requestTimeoutMs: 300 });
    const r = await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: auth() });
    expect(r.aborted).toBe(true);
    expect(r.body.toString()).toContain('Héllo wörld');
    const [line] = readLines(logA);
    expect(line).toMatchObject({ success: false, failure: { error_type: 'timeout', status_code: 200 } });
    expect((line.response_body as typeof ANTHROPIC_MESSAGE).content[1]).toEqual({ type: 'text', text: 'Héllo wörld' });
  });

  it('logs an upstream disconnect mid-stream and cuts the client connection', async () => {
    upstream.reply = { headers: SSE_HEADERS, chunks: ANTHROPIC_STREAM.split(/(?<=\n\n)/), cutAfter: 5 };
    await start('anthropic');
    const r = await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: auth() });
    expect(r.aborted).toBe(true);
    expect(r.body.toString()).not.toContain('message_stop');
    const [line] = readLines(logA);
    expect(line).toMatchObject({ success: false, failure: { error_type: 'upstream_disconnect', status_code: 200 } });
    expect((line.response_body as typeof ANTHROPIC_MESSAGE).content[0]).toMatchObject({ type: 'thinking', thinking: 'Let me look at the files first.' });
  });

  it('logs an unreachable upstream as a failure with 502', async () => {
    const dead = await startScriptedUpstream({});
    const url = dead.url;
    await dead.stop();
    proxy = await startBuiltinProxy({ upstream: { baseUrl: url, protocol: 'anthropic' }, routes });
    const r = await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: auth() });
    expect(r.status).toBe(502);
    expect(readLines(logA)[0]).toMatchObject({ success: false, failure: { error_type: 'upstream_unreachable' } });
    // A body still arriving when the upstream fails: the line holds all of it.
    const big = { ...ANTHROPIC_BODY, messages: [{ role: 'user', content: 'x'.repeat(3_000_000) }] };
    const r2 = await call(proxy, '/v1/messages', big, { headers: auth() });
    expect(r2.status).toBe(502);
    expect(readLines(logA)[1].request_body).toEqual(big);
  });

  it('aborts the upstream call and logs it when the client disconnects mid-stream', async () => {
    const events = ANTHROPIC_STREAM.split(/(?<=\n\n)/);
    upstream.reply = { headers: SSE_HEADERS, chunks: events, delayMs: 30 };
    await start('anthropic');
    const r = await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: auth(), abortAfterFirstChunk: true });
    expect(r.aborted).toBe(true);
    await upstream.received[0].closed;
    await expect.poll(() => readLines(logA).length, { timeout: 3000 }).toBe(1);
    expect(readLines(logA)[0]).toMatchObject({ success: false, failure: { error_type: 'client_disconnect' } });
  });

  it('injects the upstream key and writes no key anywhere', async () => {
    const echo = JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `bad key ${UPSTREAM_KEY}` } });
    upstream.reply = (req) => (req.headers['x-case'] === 'echo' ? { status: 401, headers: JSON_HEADERS, chunks: [echo] } : { headers: SSE_HEADERS, chunks: [ANTHROPIC_STREAM] });
    await start('anthropic');
    const secretInBody = { ...ANTHROPIC_BODY, messages: [{ role: 'user', content: `my key is ${proxy.key}` }] };
    await call(proxy, '/v1/messages', secretInBody, { headers: { ...auth(), authorization: `Bearer ${proxy.key}` } });
    await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: { ...auth(), 'x-case': 'echo' } });
    const sent = upstream.received[0].headers;
    expect(sent['x-api-key']).toBe(UPSTREAM_KEY);
    expect(sent.authorization).toBeUndefined();
    const lines = readLines(logA);
    expect(lines).toHaveLength(2);
    expect(lines[1].failure?.message).toContain('[REDACTED]');
    for (const file of allFiles(jobDir)) {
      const text = readFileSync(file, 'utf8');
      expect(text).not.toContain(UPSTREAM_KEY);
      expect(text).not.toContain(proxy.key);
    }
  });

  it('never sends the routing header or any x-trajgen-* header upstream (generation and pass-through)', async () => {
    upstream.reply = (req) => (req.url.includes('count_tokens') ? { headers: JSON_HEADERS, chunks: ['{"input_tokens":7}'] } : { headers: SSE_HEADERS, chunks: [ANTHROPIC_STREAM] });
    await start('anthropic', { trialHeader: 'x-route-me' });
    const headers = { 'x-api-key': proxy.key, 'x-route-me': 'task-a__AAAAAAA', 'x-trajgen-job': 'job-1', 'x-trajgen-anything': 'y', 'anthropic-version': '2023-06-01' };
    const gen = await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers });
    const ct = await call(proxy, '/v1/messages/count_tokens', { model: 'm', messages: [] }, { headers });
    expect([gen.status, ct.status]).toEqual([200, 200]);
    expect(upstream.received).toHaveLength(2);
    for (const r of upstream.received) {
      const names = Object.keys(r.headers);
      expect(names.filter((n) => n === 'x-route-me' || n.startsWith('x-trajgen-'))).toEqual([]);
      expect(JSON.stringify(r.headers)).not.toContain('task-a__AAAAAAA');
      expect(r.headers['anthropic-version']).toBe('2023-06-01'); // the client's own headers still pass
    }
    expect(readLines(logA)).toHaveLength(1);
  });

  it('sends the trial name on only when the upstream asks for it (the embedded oracle)', async () => {
    upstream.reply = { headers: SSE_HEADERS, chunks: [ANTHROPIC_STREAM] };
    proxy = await startBuiltinProxy({ upstream: { baseUrl: upstream.url, protocol: 'anthropic', trialHeader: 'X-Oracle-Trial' }, routes });
    await call(proxy, '/v1/messages', ANTHROPIC_BODY, { headers: auth() });
    expect(upstream.received[0].headers['x-oracle-trial']).toBe('task-a__AAAAAAA');
    expect(upstream.received[0].headers['x-trajgen-trial']).toBeUndefined();
  });

  it('forwards a large request body while it arrives and logs it as sent, on one line', async () => {
    upstream.reply = (req) => ({ headers: SSE_HEADERS, chunks: [ANTHROPIC_STREAM] });
    let forwardedEarly = false;
    await start('anthropic');
    // Pretty-printed (newlines between tokens) and ~300 KB: the line must stay one line and equal the body.
    const big = { ...ANTHROPIC_BODY, messages: [{ role: 'user', content: [{ type: 'text', text: 'é✓ line\nbreak '.repeat(20000) }] }] };
    const payload = Buffer.from(JSON.stringify(big, null, 2));
    const result = await new Promise<CallResult>((resolve, reject) => {
      const req = request(`${proxy.url}/v1/messages`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), aborted: false }));
      });
      req.on('error', reject);
      // Send half, wait until the upstream holds bytes of this request, then the rest.
      req.write(payload.subarray(0, payload.length >> 1));
      const poll = setInterval(() => {
        if (upstream.receiving > 0) {
          forwardedEarly = true;
          clearInterval(poll);
          req.end(payload.subarray(payload.length >> 1));
        }
      }, 5);
      setTimeout(() => {
        clearInterval(poll);
        if (!forwardedEarly) req.end(payload.subarray(payload.length >> 1));
      }, 3000);
    });
    expect(result.status).toBe(200);
    expect(forwardedEarly).toBe(true);
    expect(JSON.parse(upstream.received[0].body)).toEqual(big);
    const text = readFileSync(logA, 'utf8');
    expect(text.split('\n').filter(Boolean)).toHaveLength(1);
    expect(readLines(logA)[0]).toMatchObject({ request_body: big, stream: true, success: true });
  });

  it('logs a body that is not a JSON object as what it is, whatever the upstream answers', async () => {
    upstream.reply = (req) => (req.body.startsWith('[') ? { headers: JSON_HEADERS, chunks: [JSON.stringify(ANTHROPIC_MESSAGE)] } : { status: 400, headers: JSON_HEADERS, chunks: ['{"type":"error","error":{"type":"invalid_request_error","message":"bad json"}}'] });
    await start('anthropic');
    const array = await call(proxy, '/v1/messages', '[1, 2, 3]', { headers: auth() });
    const broken = await call(proxy, '/v1/messages', '{"model": "m", "messages": [', { headers: auth() });
    expect([array.status, broken.status]).toEqual([200, 400]);
    const lines = readLines(logA);
    expect(lines.map((l) => [l.success, l.request_body])).toEqual([
      [true, [1, 2, 3]],
      [false, '{"model": "m", "messages": ['],
    ]);
    expect(lines[1].failure?.error_type).toBe('upstream_http_error');
  });

  it('keeps concurrent calls of different trials apart, one whole line each', async () => {
    upstream.reply = (req) => {
      const n = JSON.parse(req.body).metadata.n as number;
      const stream = ANTHROPIC_STREAM.replace('Héllo wörld', `reply-${n}`);
      return { headers: SSE_HEADERS, chunks: splitBytes(stream, 200 + (n % 7) * 13), delayMs: n % 3 };
    };
    await start('anthropic');
    const trials = ['t-one__1111111', 't-two__2222222', 't-three__3333333', 't-four__4444444'];
    const paths = trials.map((t) => routes.register(t));
    const calls = Array.from({ length: 24 }, (_, n) =>
      call(proxy, '/v1/messages', { ...ANTHROPIC_BODY, metadata: { n } }, { headers: { 'x-api-key': proxy.key, 'x-trajgen-trial': trials[n % 4] } }),
    );
    const results = await Promise.all(calls);
    expect(results.every((r) => r.status === 200 && !r.aborted)).toBe(true);
    paths.forEach((p, i) => {
      const lines = readLines(p);
      expect(lines).toHaveLength(6);
      for (const l of lines) {
        expect(l.session_id).toBe(trials[i]);
        const n = (l.request_body as { metadata: { n: number } }).metadata.n;
        expect(n % 4).toBe(i);
        expect((l.response_body as typeof ANTHROPIC_MESSAGE).content[1]).toEqual({ type: 'text', text: `reply-${n} — listing ✓` });
      }
    });
    const c = proxy.counters();
    expect(c.generation).toBe(24);
    expect(c.lines).toBe(24);
  });

  it('forwards count_tokens and models without logging them', async () => {
    upstream.reply = (req) => ({ headers: JSON_HEADERS, chunks: [req.url.includes('count_tokens') ? '{"input_tokens":7}' : '{"data":[]}'] });
    await start('anthropic');
    const ct = await call(proxy, '/v1/messages/count_tokens?beta=true', { model: 'm', messages: [] }, { headers: auth() });
    const models = await call(proxy, '/v1/models', undefined, { method: 'GET', headers: { 'x-api-key': proxy.key } });
    expect(JSON.parse(ct.body.toString())).toEqual({ input_tokens: 7 });
    expect(models.status).toBe(200);
    expect(upstream.received.map((r) => r.url)).toEqual(['/v1/messages/count_tokens?beta=true', '/v1/models']);
    expect(readLines(logA)).toEqual([]);
    expect(proxy.counters()).toMatchObject({ passthrough: 2, generation: 0, lines: 0 });
  });

  it('refuses a protocol the upstream does not speak (no translation)', async () => {
    await start('anthropic');
    const r = await call(proxy, '/v1/chat/completions', OPENAI_BODY, { headers: auth() });
    expect(r.status).toBe(400);
    expect(r.body.toString()).toMatch(/does not translate/);
    expect(upstream.received).toHaveLength(0);
  });

  it('rewrites the model to the upstream id but logs the client body as sent', async () => {
    upstream.reply = { headers: JSON_HEADERS, chunks: [JSON.stringify(ANTHROPIC_MESSAGE)] };
    proxy = await startBuiltinProxy({ upstream: { baseUrl: upstream.url, protocol: 'anthropic', model: 'real-model-id' }, routes });
    await call(proxy, '/v1/messages', { ...ANTHROPIC_BODY, stream: false }, { headers: auth() });
    expect(JSON.parse(upstream.received[0].body).model).toBe('real-model-id');
    expect((readLines(logA)[0].request_body as { model: string }).model).toBe('trajgen-oracle');
  });

  it('joins upstream URLs without doubling /v1', () => {
    expect(upstreamUrl('http://h:1', '/v1/messages?beta=true').href).toBe('http://h:1/v1/messages?beta=true');
    expect(upstreamUrl('http://h:1/v1', '/v1/chat/completions').href).toBe('http://h:1/v1/chat/completions');
    expect(upstreamUrl('http://h:1/api/v1/', '/v1/models').href).toBe('http://h:1/api/v1/models');
    expect(upstreamUrl('http://h:1', '/chat/completions').href).toBe('http://h:1/v1/chat/completions');
  });
});
