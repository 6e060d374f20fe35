/**
 * Benchmark: latency the builtin recording proxy adds over talking to the
 * upstream directly, next to the anchor measured in the same run — a minimal
 * Node pass-through proxy (pipes the request up and the response down, logs
 * nothing) — at 1, 16 and 64 concurrent streams; CPU per request of both
 * proxies; and requests vs logged lines (must be equal).
 *
 *   npm run bench -- proxy [--rounds=N] [--levels=1,16,64]
 *
 * Realistic bodies: a Claude Code-like request of ~200 KB (system prompt, tool
 * schemas, a long conversation with tool results) and an Anthropic SSE reply
 * of 50 events. Four processes so that load generation does not distort what
 * is measured: the upstream, the builtin proxy (fdatasync on, as in rollout),
 * the pass-through, and this process (the clients). Direct, pass-through and
 * builtin are measured back to back in each round (rounds interleaved, samples
 * pooled; at 1 stream they alternate request by request) so that drift from
 * other load on the machine hits all three alike.
 * Figures go to stdout and bench/results/proxy.json.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { request, createServer, Agent } from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, fdatasyncSync, closeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

const ROLE = process.argv[2];
const TRIALS = Array.from({ length: 8 }, (_, i) => `bench-task-${i}__${String(i).repeat(7)}`);
const args = Object.fromEntries(process.argv.slice(2).filter((a) => a.startsWith('--')).map((a) => a.replace(/^--/, '').split('=')));
const ROUNDS = Number(args.rounds ?? 3);
/** --levels=1,16: only these concurrency levels (a quick look; the committed figures use all three). */
const LEVELS = String(args.levels ?? '1,16,64').split(',').map(Number);

// ------------------------------------------------------------------ upstream role
function sseEvents(): string[] {
  const ev = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const out = [
    ev('message_start', { message: { id: 'msg_bench', type: 'message', role: 'assistant', model: 'bench', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 52000, cache_read_input_tokens: 48000, output_tokens: 1 } } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  ];
  for (let i = 0; i < 38; i++) out.push(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: `token ${i} of the benchmark reply, padded a little. ` } }));
  out.push(ev('content_block_stop', { index: 0 }));
  out.push(ev('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_bench', name: 'Bash', input: {} } }));
  for (const part of ['{"command": ', '"ls -la ', '&& cat README.md"', ', "description": ', '"look around"}']) out.push(ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: part } }));
  out.push(ev('content_block_stop', { index: 1 }));
  out.push(ev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 300 } }));
  out.push(ev('message_stop', {}));
  return out; // 50 events
}

async function serveUpstream() {
  const events = sseEvents();
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/__count')) {
        res.end(String(requests));
        return;
      }
      requests += 1;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // One write per event, as a real streaming server does.
      for (const e of events) res.write(e);
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
}

// ------------------------------------------------------------------ proxy roles
function onControl(stop: () => Promise<void>) {
  process.on('message', async (m: { cmd: string }) => {
    if (m.cmd === 'cpu') process.send!({ cpu: process.cpuUsage() });
    if (m.cmd === 'stop') {
      await stop();
      process.send!({ stopped: true });
      process.exit(0);
    }
  });
}

async function serveBuiltin() {
  const { startBuiltinProxy, JobTrialRouter } = await import('../libs/proxy/src/index');
  const [upstreamUrl, jobDir] = process.argv.slice(3);
  const routes = new JobTrialRouter(jobDir);
  for (const t of TRIALS) routes.register(t);
  const proxy = await startBuiltinProxy({ upstream: { baseUrl: upstreamUrl, protocol: 'anthropic' }, routes, fsync: true });
  onControl(() => proxy.stop());
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'counters') process.send!({ counters: proxy.counters() });
  });
  process.send!({ url: proxy.url, key: proxy.key });
}

/** The anchor: the smallest useful Node pass-through proxy (no auth, no logging, no checks). */
async function servePassThrough() {
  const target = new URL(process.argv[3]);
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const server = createServer((req, res) => {
    const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.keepAliveTimeout = 60_000;
  onControl(async () => void server.close());
  server.listen(0, '127.0.0.1', () => process.send!({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
}

// ------------------------------------------------------------------ client (main)
/** ~200 KB: what Claude Code sends deep into a task (system prompt, tools, history with tool results). */
function realisticBody(): string {
  const tools = Array.from({ length: 16 }, (_, i) => ({
    name: `Tool${i}`,
    description: `Tool number ${i}. ${'Explains at length what the tool does, when to use it and when not to. '.repeat(12)}`,
    input_schema: { type: 'object', properties: { command: { type: 'string', description: 'The command to run' }, timeout: { type: 'number' } }, required: ['command'] },
  }));
  const messages: unknown[] = [{ role: 'user', content: [{ type: 'text', text: 'Fix the failing test in src/parser.ts and make sure `npm test` passes.' }] }];
  for (let i = 0; messages.length < 60; i++) {
    messages.push({ role: 'assistant', content: [{ type: 'text', text: `Step ${i}: let me look at the next file.` }, { type: 'tool_use', id: `toolu_${i}`, name: 'Bash', input: { command: `cat src/file${i}.ts` } }] });
    const output = Array.from({ length: 60 }, (_, l) => `${String(l + 1).padStart(4)}  export function fn${i}_${l}(x: number): number { return x * ${l} + ${i}; } // “ü” ✓`).join('\n');
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${i}`, content: output }] });
  }
  const body = {
    model: 'bench',
    max_tokens: 32000,
    stream: true,
    system: [{ type: 'text', text: `You are Claude Code. ${'Follow the instructions carefully and use the tools. '.repeat(200)}` }],
    tools,
    messages,
    metadata: { user_id: 'bench-user' },
  };
  let text = JSON.stringify(body);
  // Trim the history to ~200 KB.
  while (Buffer.byteLength(text) > 205_000) {
    body.messages.splice(1, 2);
    text = JSON.stringify(body);
  }
  return text;
}

const BODY = realisticBody();
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function once(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request(`${url}/v1/messages`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), ...headers } }, (res) => {
      let events = 0;
      res.on('data', (c: Buffer) => (events += c.toString('latin1').split('\n\n').length - 1));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        if (events !== 50) return reject(new Error(`${events} events instead of 50`));
        resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(BODY);
  });
}

async function load(url: string, headersFor: (i: number) => Record<string, string>, concurrency: number, total: number): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        samples.push(await once(url, headersFor(i)));
      }
    }),
  );
  return samples;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const r2 = (x: number) => Math.round(x * 100) / 100;

function startChild(args: string[]): Promise<{ child: ChildProcess; msg: any }> {
  // BENCH_PROFILE=<dir>: CPU profile of the builtin proxy process (node --cpu-prof), to see where its time goes.
  const profile = process.env.BENCH_PROFILE && args[0] === 'builtin' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = fork(__filename, args, { execArgv: ['-r', '@swc-node/register', ...profile], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (msg) => resolve({ child, msg }));
    child.once('exit', (code) => reject(new Error(`${args[0]} exited ${code}`)));
  });
}

function ask(child: ChildProcess, cmd: string): Promise<any> {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send({ cmd });
  });
}

async function cpuMs(child: ChildProcess): Promise<number> {
  const { cpu } = await ask(child, 'cpu');
  return (cpu.user + cpu.system) / 1000;
}

function fsyncMicro(dir: string, n: number): { p50: number; p99: number } {
  const times: number[] = [];
  const path = join(dir, 'fsync-probe.jsonl');
  const line = Buffer.from(`${'{"x":"' + 'y'.repeat(200_000) + '"}'}\n`);
  const fd = openSync(path, 'a');
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    writeSync(fd, line);
    fdatasyncSync(fd);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  closeSync(fd);
  return { p50: r2(pct(times, 50)), p99: r2(pct(times, 99)) };
}

// Why this is long: it is the bench's script, read top to bottom (start the three children, measure
// each level, check requests against lines, write the results); the steps share the children and totals.
async function main() {
  const work = mkdtempSync(join(tmpdir(), 'tg-bench-proxy-'));
  const jobDir = join(work, 'job');
  mkdirSync(jobDir, { recursive: true });
  const { child: upstream, msg: up } = await startChild(['upstream']);
  const upstreamUrl = `http://127.0.0.1:${up.port}`;
  const { child: builtin, msg: bx } = await startChild(['builtin', upstreamUrl, jobDir]);
  const { child: passChild, msg: px } = await startChild(['passthrough', upstreamUrl]);
  const levels = [
    // 300 a round at 1 stream: its p99 is then the 9th-worst of 900 samples per path, not the 3rd of 300.
    { concurrency: 1, requests: 300 },
    { concurrency: 16, requests: 320 },
    { concurrency: 64, requests: 640 },
  ].filter((l) => LEVELS.includes(l.concurrency));
  const builtinHeaders = (i: number) => ({ 'x-api-key': bx.key, 'x-trajgen-trial': TRIALS[i % TRIALS.length] });
  const results: Record<string, unknown>[] = [];
  let sent = 0;
  console.log(`request body ${(Buffer.byteLength(BODY) / 1024).toFixed(0)} KB, response 50 SSE events; ${ROUNDS} interleaved rounds per level (1 stream: the paths alternate request by request)`);
  try {
    for (const { concurrency, requests } of levels) {
      const d: number[] = [];
      const p: number[] = [];
      const b: number[] = [];
      let passCpu = 0;
      let builtinCpu = 0;
      // Warm all paths (connections, JIT).
      await load(upstreamUrl, () => ({}), concurrency, concurrency * 2);
      await load(px.url, () => ({}), concurrency, concurrency * 2);
      await load(bx.url, builtinHeaders, concurrency, concurrency * 2);
      sent += concurrency * 2;
      if (concurrency === 1) {
        // One stream: the three paths take turns request by request, so that a hiccup of the machine (a
        // scheduler stall on 2 cores) lands on all three alike instead of on whichever block it hit. Each
        // proxy process idles while the others are measured, so its CPU over the level is its own.
        const [p0, b0] = [await cpuMs(passChild), await cpuMs(builtin)];
        for (let i = 0; i < requests * ROUNDS; i++) {
          d.push(await once(upstreamUrl, {}));
          p.push(await once(px.url, {}));
          b.push(await once(bx.url, builtinHeaders(i)));
        }
        passCpu = (await cpuMs(passChild)) - p0;
        builtinCpu = (await cpuMs(builtin)) - b0;
        sent += requests * ROUNDS;
      }
      for (let round = 0; concurrency > 1 && round < ROUNDS; round++) {
        d.push(...(await load(upstreamUrl, () => ({}), concurrency, requests)));
        let c0 = await cpuMs(passChild);
        p.push(...(await load(px.url, () => ({}), concurrency, requests)));
        passCpu += (await cpuMs(passChild)) - c0;
        c0 = await cpuMs(builtin);
        b.push(...(await load(bx.url, builtinHeaders, concurrency, requests)));
        builtinCpu += (await cpuMs(builtin)) - c0;
        sent += requests;
      }
      const n = requests * ROUNDS;
      const stats = (xs: number[]) => ({ p50: r2(pct(xs, 50)), p99: r2(pct(xs, 99)) });
      const added = (xs: number[]) => ({ p50: r2(pct(xs, 50) - pct(d, 50)), p99: r2(pct(xs, 99) - pct(d, 99)) });
      const row = {
        concurrency,
        requests_per_path: n,
        direct_ms: stats(d),
        passthrough_ms: stats(p),
        builtin_ms: stats(b),
        added_ms: { passthrough: added(p), builtin: added(b) },
        ratio_p99_builtin_over_passthrough: r2(pct(b, 99) / pct(p, 99)),
        ratio_added_p99_builtin_over_passthrough: pct(p, 99) - pct(d, 99) > 0.5 ? r2((pct(b, 99) - pct(d, 99)) / (pct(p, 99) - pct(d, 99))) : null,
        cpu_ms_per_request: { passthrough: r2(passCpu / n), builtin: r2(builtinCpu / n) },
      };
      results.push(row);
      console.log(
        `c=${String(concurrency).padStart(2)}  p99: direct ${row.direct_ms.p99}  pass-through ${row.passthrough_ms.p99} (+${row.added_ms.passthrough.p99})  builtin ${row.builtin_ms.p99} (+${row.added_ms.builtin.p99}) ms` +
          `  p50 added: pass-through +${row.added_ms.passthrough.p50}, builtin +${row.added_ms.builtin.p50} ms` +
          `  ratio p99 builtin/pass-through ${row.ratio_p99_builtin_over_passthrough}, added ${row.ratio_added_p99_builtin_over_passthrough ?? 'n/a (anchor adds < 0.5 ms)'}` +
          `  CPU/request ${row.cpu_ms_per_request.passthrough} vs ${row.cpu_ms_per_request.builtin} ms`,
      );
    }
    const { counters } = await ask(builtin, 'counters');
    const upstreamTotal = Number(await (await fetch(`${upstreamUrl}/__count`)).text());
    await ask(builtin, 'stop');
    let lines = 0;
    let torn = 0;
    for (const t of TRIALS) {
      const text = readFileSync(join(jobDir, t, 'agent', 'litellm-trajectory.jsonl'), 'utf8');
      for (const l of text.split('\n').filter(Boolean)) {
        lines += 1;
        try {
          JSON.parse(l);
        } catch {
          torn += 1;
        }
      }
    }
    const accounting = {
      builtin_client_requests: sent,
      builtin_forwarded: counters.generation,
      logged_lines: lines,
      log_batches: counters.log_batches,
      unparseable_lines: torn,
      upstream_received_all_paths: upstreamTotal,
      equal: sent === counters.generation && counters.generation === lines && torn === 0,
    };
    console.log(`builtin: client requests ${sent}, forwarded ${counters.generation}, logged lines ${lines}, unparseable ${torn} → ${accounting.equal ? 'EQUAL' : 'MISMATCH'}; ${counters.log_batches} write+fdatasync batches (group commit: ${(lines / counters.log_batches).toFixed(2)} lines per sync)`);
    const micro = fsyncMicro(work, 100);
    console.log(`one 200 KB append + fdatasync in ${work}: p50 ${micro.p50} ms, p99 ${micro.p99} ms (the floor of "durable before the response completes")`);
    const one = results.find((r) => r.concurrency === 1) as { added_ms: { builtin: { p99: number } } } | undefined;
    const goals = {
      added_p99_at_1_stream_ms: one?.added_ms.builtin.p99 ?? null,
      added_p99_at_1_stream_le_2ms: one ? one.added_ms.builtin.p99 <= 2 : null,
      p99_ratio_le_1_5_at_every_level: results.every((r) => (r.ratio_p99_builtin_over_passthrough as number) <= 1.5),
    };
    console.log(`goals: +${goals.added_p99_at_1_stream_ms ?? 'n/a'} ms p99 at 1 stream (≤ 2: ${goals.added_p99_at_1_stream_le_2ms ?? 'n/a'}); p99 ≤ 1.5× pass-through at ${levels.map((l) => l.concurrency).join('/')}: ${goals.p99_ratio_le_1_5_at_every_level}`);
    if (levels.length === 3) {
      const out = {
        schema_version: 2,
        bench: 'proxy',
        date: new Date().toISOString(),
        machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, tmpdir: tmpdir() },
        setup: `upstream, builtin proxy (fdatasync on), minimal pass-through proxy and clients in four processes on 127.0.0.1; request ${Buffer.byteLength(BODY)} bytes (Claude Code-like); Anthropic SSE of 50 events; keep-alive clients; 8 trials; ${ROUNDS} interleaved rounds`,
        latency: results,
        accounting,
        fsync_append_200kb_ms: micro,
        goals,
      };
      mkdirSync(join(__dirname, 'results'), { recursive: true });
      writeFileSync(join(__dirname, 'results', 'proxy.json'), `${JSON.stringify(out, null, 2)}\n`);
      console.log('written bench/results/proxy.json');
    } else console.log('not all levels run: bench/results/proxy.json left as it was');
    if (!accounting.equal) process.exitCode = 1;
  } finally {
    for (const c of [upstream, builtin, passChild]) c.kill();
    agent.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

if (ROLE === 'upstream') void serveUpstream();
else if (ROLE === 'builtin') void serveBuiltin();
else if (ROLE === 'passthrough') void servePassThrough();
else
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
