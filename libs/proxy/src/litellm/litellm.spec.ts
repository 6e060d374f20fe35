import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { isProcessAlive, liveProcessGroups } from '@trajgen/core';
import { JobTrialRouter, ensureLitellmEnv, litellmConfig, startLitellmProxy, writeLitellmFiles, MASTER_KEY_ENV, type TrajectoryLine } from '../index';
import { startScriptedUpstream, type ScriptedUpstream } from '../__fixtures__/scripted-upstream';
import { ANTHROPIC_MESSAGE, JSON_HEADERS, OPENAI_COMPLETION } from '../__fixtures__/fixtures';
import { trackedTempDirs } from '../../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

const TESTING = join(__dirname, 'testing');
const FAKE_LITELLM = join(TESTING, 'fake-litellm.cjs');
const ROOT = resolve(__dirname, '../../../..');

// The real LiteLLM: the managed env (artifacts/env/litellm of this checkout, or $TRAJGEN_LITELLM_ENV),
// created on first use (a few minutes once, then reused).
let litellmExe = '';
const litellmPython = () => join(dirname(litellmExe), 'python');

/** Running (core's zombie rule: exited, unreaped counts as gone). */
const alive = (pid: number) => isProcessAlive(pid);

function pidsOf(dir: string): { main: number; worker: number } {
  return JSON.parse(readFileSync(join(dir, 'fake-litellm.pids'), 'utf8'));
}

function lines(path: string): TrajectoryLine[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

describe('LiteLLM config generation', () => {
  it('references every key through os.environ and registers our callback', () => {
    const cfg = litellmConfig({
      models: ['trajgen-oracle', 'other-alias'],
      upstream: { baseUrl: 'https://api.example.com', protocol: 'anthropic', model: 'claude-x', apiKeyEnv: 'UPSTREAM_KEY' },
      requestTimeoutSec: 600,
    }) as any;
    expect(cfg.model_list).toHaveLength(2);
    expect(cfg.model_list[0]).toMatchObject({
      model_name: 'trajgen-oracle',
      litellm_params: { model: 'anthropic/claude-x', api_base: 'https://api.example.com', api_key: 'os.environ/UPSTREAM_KEY', max_retries: 0 },
    });
    expect(cfg.litellm_settings).toMatchObject({ callbacks: ['trajgen_trajectory_logger.trajectory_logger'], num_retries: 0, turn_off_message_logging: false });
    expect(cfg.general_settings).toMatchObject({ master_key: `os.environ/${MASTER_KEY_ENV}`, forward_client_headers_to_llm_api: false });
    const openai = litellmConfig({ models: ['m'], upstream: { baseUrl: 'http://h/v1', protocol: 'openai' }, requestTimeoutSec: 5 }) as any;
    expect(openai.model_list[0].litellm_params).toMatchObject({ model: 'openai/m', api_base: 'http://h/v1' });
    const bare = litellmConfig({ models: ['m'], upstream: { baseUrl: 'http://127.0.0.1:8123', protocol: 'openai' }, requestTimeoutSec: 5 }) as any;
    expect(bare.model_list[0].litellm_params.api_base).toBe('http://127.0.0.1:8123/v1');
    expect(openai.model_list[0].litellm_params.api_key).toBe('os.environ/TRAJGEN_UPSTREAM_API_KEY');
  });

  it('writes config.yaml, the module and its settings with no secret in the dir', () => {
    const dir = tempDir(join(tmpdir(), 'tg-litellm-'));
    process.env.TG_TEST_UPSTREAM = 'sk-upstream-never-written-123456';
    const files = writeLitellmFiles(
      dir,
      'job-1',
      { models: ['trajgen-oracle'], upstream: { baseUrl: 'http://127.0.0.1:9', protocol: 'anthropic', apiKeyEnv: 'TG_TEST_UPSTREAM' }, requestTimeoutSec: 600 },
      { job_dir: '/jobs/job-1', trial_header: 'x-trajgen-trial', accept_existing_trial_dirs: false, secret_env: [MASTER_KEY_ENV, 'TG_TEST_UPSTREAM'], prices: null },
    );
    const yamlText = readFileSync(files.config, 'utf8');
    expect(parse(yamlText)).toEqual(litellmConfig({ models: ['trajgen-oracle'], upstream: { baseUrl: 'http://127.0.0.1:9', protocol: 'anthropic', apiKeyEnv: 'TG_TEST_UPSTREAM' }, requestTimeoutSec: 600 }));
    expect(readdirSync(dir).sort()).toEqual(['config.yaml', 'routes.json', 'trajgen_logger_settings.json', 'trajgen_trajectory_logger.py']);
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f), 'utf8')).not.toContain('sk-upstream-never-written');
    expect(JSON.parse(readFileSync(files.settings, 'utf8'))).toMatchObject({ routes_file: files.routes, trial_header: 'x-trajgen-trial' });
  });
});

describe('LiteLLM callback module (the real litellm package of the managed env)', () => {
  beforeAll(async () => {
    litellmExe = await ensureLitellmEnv(ROOT, { log: (l) => console.log(l) });
  }, 1_200_000);

  it('writes one redacted line per call, routed by the trial header, deduped by call id', () => {
    const dir = tempDir(join(tmpdir(), 'tg-cb-'));
    const jobDir = join(dir, 'job');
    const routes = new JobTrialRouter(jobDir);
    const pathA = routes.register('task-a__AAAAAAA');
    const pathB = routes.register('task-b__BBBBBBB');
    const masterKey = 'sk-trajgen-master-abcdef0123456789';
    const upstreamKey = 'sk-upstream-key-0123456789abcdef';
    const files = writeLitellmFiles(
      join(dir, 'litellm'),
      'job',
      { models: ['trajgen-oracle'], upstream: { baseUrl: 'http://127.0.0.1:9', protocol: 'anthropic', apiKeyEnv: 'TG_UPSTREAM' }, requestTimeoutSec: 60 },
      { job_dir: jobDir, trial_header: 'x-trajgen-trial', accept_existing_trial_dirs: false, secret_env: [MASTER_KEY_ENV, 'TG_UPSTREAM'], prices: { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3 } },
    );
    writeFileSync(files.routes, JSON.stringify(routes.snapshot()));
    const anthropicBody = { model: 'trajgen-oracle', stream: false, system: [{ type: 'text', text: 'sys' }], messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 };
    const scenario = {
      trial_header: 'x-trajgen-trial',
      master_key: masterKey,
      upstream_key: upstreamKey,
      pre_call: [{ trial: 'task-a__AAAAAAA' }, {}, { trial: 'nope__XXXXXXX' }, { call_type: 'count_tokens' }],
      calls: [
        { kind: 'success', call_id: 'c1', trial: 'task-a__AAAAAAA', path: '/v1/messages', body: anthropicBody, response: ANTHROPIC_MESSAGE, also_sync: true },
        {
          kind: 'success',
          call_id: 'c2',
          trial: 'task-b__BBBBBBB',
          path: '/v1/chat/completions',
          body: { model: 'trajgen-oracle', stream: true, messages: [{ role: 'user', content: `key ${upstreamKey}` }] },
          response: OPENAI_COMPLETION,
          as_model_response: true,
        },
        { kind: 'failure', call_id: 'c3', trial: 'task-a__AAAAAAA', path: '/v1/messages', body: anthropicBody, status: 429, message: `rate limited for key ${masterKey}`, offset: 5 },
        { kind: 'success', call_id: 'c4', trial: 'nope__XXXXXXX', path: '/v1/messages', body: anthropicBody, response: ANTHROPIC_MESSAGE },
        { kind: 'success', call_id: 'c1', trial: 'task-a__AAAAAAA', path: '/v1/messages', body: anthropicBody, response: ANTHROPIC_MESSAGE },
      ],
    };
    const scenarioPath = join(dir, 'scenario.json');
    writeFileSync(scenarioPath, JSON.stringify(scenario));
    const r = spawnSync(litellmPython(), [join(TESTING, 'drive_callback.py'), join(dir, 'litellm'), scenarioPath], {
      env: { PATH: process.env.PATH, [MASTER_KEY_ENV]: masterKey, TG_UPSTREAM: upstreamKey, PYTHONDONTWRITEBYTECODE: '1', LITELLM_LOCAL_MODEL_COST_MAP: 'True' },
      timeout: 120_000,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.pre_call[0]).toBe('ok');
    expect(out.pre_call[1]).toMatch(/rejected: trajgen proxy: missing x-trajgen-trial/);
    expect(out.pre_call[2]).toMatch(/rejected: trajgen proxy: unknown trial 'nope__XXXXXXX'/);
    expect(out.pre_call[3]).toBe('ok'); // count_tokens is not a generation call

    const a = lines(pathA);
    const b = lines(pathB);
    expect(a.map((l) => [l.success, (l as any).litellm_call_id])).toEqual([
      [true, 'c1'],
      [false, 'c3'],
    ]);
    expect(a[0]).toMatchObject({ session_id: 'task-a__AAAAAAA', endpoint: '/v1/messages', stream: false, request_body: anthropicBody, response_body: ANTHROPIC_MESSAGE, duration_ms: 1500 });
    expect(a[0].timestamp).toBe(new Date(a[0].request_time).toISOString());
    expect(a[0].usage).toMatchObject({ prompt_tokens: 142, completion_tokens: 42, cache_read_input_tokens: 100, cost: 0.000786 });
    expect(a[1].failure).toMatchObject({ error_type: 'RateLimitError', status_code: 429 });
    expect(a[1].failure?.message).toContain('[REDACTED]');
    expect(b).toHaveLength(1);
    expect(b[0]).toMatchObject({ stream: true, endpoint: '/v1/chat/completions', response_body: OPENAI_COMPLETION });
    expect(JSON.stringify(b[0].request_body)).toContain('[REDACTED]');
    const unrouted = readFileSync(join(dir, 'litellm', 'unrouted.jsonl'), 'utf8').trim().split('\n');
    expect(unrouted.map((l) => JSON.parse(l).reason)).toEqual(['unknown trial']);
    for (const p of [pathA, pathB, join(dir, 'litellm', 'unrouted.jsonl')]) {
      const text = readFileSync(p, 'utf8');
      expect(text).not.toContain(masterKey);
      expect(text).not.toContain(upstreamKey);
    }
  });
});

describe('LiteLLM process faults (fake-litellm test double: crashes, hangs and SIGTERM-deaf groups the real LiteLLM cannot be made to produce)', () => {
  let upstream: ScriptedUpstream;
  let base: string;
  beforeEach(async () => {
    base = tempDir(join(tmpdir(), 'tg-ll-'));
    upstream = await startScriptedUpstream({ headers: JSON_HEADERS, chunks: [JSON.stringify(ANTHROPIC_MESSAGE)] });
  });
  afterEach(async () => {
    await upstream.stop();
    expect(liveProcessGroups()).toEqual([]);
  });

  const start = (mode: string, extra: Record<string, unknown> = {}, env: Record<string, string> = {}) =>
    startLitellmProxy({
      upstream: { baseUrl: upstream.url, protocol: 'anthropic' },
      routes: new JobTrialRouter(join(base, 'job')),
      litellm: {
        dir: join(base, 'litellm'),
        job: 'job',
        models: ['trajgen-oracle'],
        executable: FAKE_LITELLM,
        env: { ...process.env, FAKE_LITELLM_MODE: mode, ...env },
        startupTimeoutMs: 10_000,
        settleMs: 50,
        ...extra,
      },
    });

  it('fails clearly when LiteLLM dies during start-up, leaving nothing running', async () => {
    await expect(start('exit-early')).rejects.toThrow(/exited during start-up \(exit code 3\)/);
    await expect(start('exit-early')).rejects.toMatchObject({ details: expect.arrayContaining([expect.stringContaining('simulated start-up crash')]) });
    const { main, worker } = pidsOf(join(base, 'litellm'));
    await expect.poll(() => alive(main) || alive(worker), { timeout: 3000, interval: 50 }).toBe(false);
  });

  it('gives up after the start-up timeout and kills the group', async () => {
    await expect(start('never-ready', { startupTimeoutMs: 700 })).rejects.toThrow(/not ready within 1 s \(waiting for \/health\/readiness\)/);
    const { main, worker } = pidsOf(join(base, 'litellm'));
    await expect.poll(() => alive(main) || alive(worker), { timeout: 3000, interval: 50 }).toBe(false);
  });

  it('reports a crash after start-up through exited', async () => {
    const proxy = await start('ok');
    const { main } = pidsOf(join(base, 'litellm'));
    process.kill(main, 'SIGKILL');
    expect(await proxy.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await proxy.stop();
  });

  it('SIGKILLs a group that ignores SIGTERM', async () => {
    const proxy = await start('ignore-sigterm', { stopGraceMs: 300 });
    const { main, worker } = pidsOf(join(base, 'litellm'));
    const t0 = Date.now();
    await proxy.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    await expect.poll(() => alive(main) || alive(worker), { timeout: 3000, interval: 50 }).toBe(false);
  });

  it('names a missing executable and refuses port 4000', async () => {
    await expect(start('ok', { executable: join(base, 'no-such-litellm') })).rejects.toThrow(/Cannot start LiteLLM: .*no-such-litellm/);
    await expect(start('ok', { executable: join(base, 'no-such-litellm') })).rejects.toMatchObject({ hint: expect.stringContaining("pip install 'litellm[proxy]==1.106.12'") });
    await expect(
      startLitellmProxy({ upstream: { baseUrl: upstream.url, protocol: 'anthropic' }, routes: new JobTrialRouter(base), port: 4000, litellm: { dir: base, job: 'j', models: ['m'], executable: FAKE_LITELLM } }),
    ).rejects.toThrow(/never uses port 4000/);
  });

  it('kills the group when the parent gets Ctrl-C', async () => {
    const dir = join(base, 'litellm');
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(TESTING, 'start-and-wait.ts'), dir, join(base, 'job')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    await expect.poll(() => out, { timeout: 20_000, interval: 100 }).toMatch(/READY \d+/);
    const { main, worker } = pidsOf(dir);
    expect(alive(main) && alive(worker)).toBe(true);
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    child.kill('SIGINT');
    expect(await exited).toBe('SIGINT');
    await expect.poll(() => alive(main) || alive(worker), { timeout: 3000, interval: 50 }).toBe(false);
  });
});

describe('the real LiteLLM proxy (managed env) with our config and logger callback', () => {
  let upstream: ScriptedUpstream;
  let base: string;
  beforeAll(async () => {
    litellmExe = await ensureLitellmEnv(ROOT, { log: (l) => console.log(l) });
    base = tempDir(join(tmpdir(), 'tg-real-ll-'));
  }, 1_200_000);
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  afterEach(async () => {
    await upstream?.stop();
    expect(liveProcessGroups()).toEqual([]);
  });

  it('serves with the per-job key only, logs one line per call with the client’s exact body, forwards neither our key nor the trial header, and leaves no process behind', async () => {
    upstream = await startScriptedUpstream((req) =>
      req.url.includes('chat/completions') ? { headers: JSON_HEADERS, chunks: [JSON.stringify(OPENAI_COMPLETION)] } : { headers: JSON_HEADERS, chunks: [JSON.stringify(ANTHROPIC_MESSAGE)] },
    );
    const routes = new JobTrialRouter(join(base, 'job'));
    const trial = 'task-a__AAAAAAA';
    const path = routes.register(trial);
    const dir = join(base, 'litellm');
    const proxy = await startLitellmProxy({
      upstream: { baseUrl: upstream.url, protocol: 'anthropic' },
      routes,
      litellm: { dir, job: 'job', models: ['trajgen-oracle'], executable: litellmExe, startupTimeoutMs: 180_000, settleMs: 500 },
    });
    expect(proxy.port).not.toBe(4000);
    const headers = { 'x-api-key': proxy.key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-trajgen-trial': trial };
    const messages = { model: 'trajgen-oracle', max_tokens: 64, metadata: { user_id: 'user-1' }, system: [{ type: 'text', text: 'sys' }], messages: [{ role: 'user', content: 'hi' }] };
    try {
    const ok = await fetch(`${proxy.url}/v1/messages`, { method: 'POST', headers, body: JSON.stringify(messages) });
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(((await ok.json()) as { content: unknown }).content).toEqual(ANTHROPIC_MESSAGE.content);
    const bad = await fetch(`${proxy.url}/v1/messages`, { method: 'POST', headers: { ...headers, 'x-api-key': 'sk-wrong' }, body: JSON.stringify(messages) });
    // LiteLLM 1.106 looks a non-master key up in its database; with none configured it answers
      // 400 "No connected db." (not 401). Refused either way, and never forwarded (checked below).
      expect([400, 401], await bad.text()).toContain(bad.status);
    const noTrial = await fetch(`${proxy.url}/v1/messages`, { method: 'POST', headers: { ...headers, 'x-trajgen-trial': '' }, body: JSON.stringify(messages) });
    expect(noTrial.status).toBe(400);
    } finally {
      await proxy.stop();
    }

    // Upstream side: exactly one request (the two refused ones never left), our key and routing header absent.
    expect(upstream.received).toHaveLength(1);
    const sent = upstream.received[0].headers;
    expect(sent['x-trajgen-trial']).toBeUndefined();
    expect(sent['x-api-key']).toBe('trajgen-no-upstream-key');
    expect(JSON.stringify(sent)).not.toContain(proxy.key);

    const logged = lines(path);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ session_id: trial, success: true, endpoint: '/v1/messages', stream: false, request_body: messages });
    // LiteLLM hands the callback its own ModelResponse (OpenAI shape) for /v1/messages, not the Anthropic
    // body the client got (a CustomLogger must accept both shapes; convert does).
    const response = logged[0].response_body as { choices?: { message: { content?: string; tool_calls?: unknown[] } }[] };
    expect(response.choices?.[0].message.tool_calls).toHaveLength(1);
    expect(logged[0].usage).toMatchObject({ completion_tokens: ANTHROPIC_MESSAGE.usage.output_tokens });
    expect(Object.keys(logged[0]).sort()).toEqual(['duration_ms', 'endpoint', 'litellm_call_id', 'request_body', 'request_time', 'response_body', 'session_id', 'stream', 'success', 'timestamp', 'usage']);
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f), 'utf8').includes(proxy.key), f).toBe(false);
    expect(readFileSync(path, 'utf8')).not.toContain(proxy.key);
  }, 300_000);
});
