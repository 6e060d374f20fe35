/**
 * `check` against every external requirement. The outside world is replaced
 * by TEST DOUBLES, named as such: shell scripts standing in for the claude,
 * opencode, harbor, docker, litellm, llamafactory-cli and python3 executables
 * (`fakeBin`), and a scripted HTTP server standing in for the upstream model
 * API and the Nx remote cache (`scriptedServer`).
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import type { CheckResult } from './probes';
import { runPreflight } from './preflight';
import { formatCheckReport } from './report';
import { pipelineWorkspace } from '../../../test/support/pipeline-workspace';

const ws = pipelineWorkspace({ prefix: 'preflight-', config: null });
const root = ws.root;
const bin = join(root, 'fake-bin');
const emptyBin = join(root, 'empty-bin');

/** A test-double executable: prints `out` (to stdout) and exits with `code`. */
function fakeBin(name: string, out: string, code = 0, dir = bin): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n# test double for ${name}\necho '${out}'\nexit ${code}\n`);
  chmodSync(file, 0o755);
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let handler: Handler = (_req, res) => res.end();
let base: string;
/** A scripted HTTP server (test double for the upstream API and the remote cache); `handler` decides each answer. */
function scriptedServer(): Promise<void> {
  server = createServer((req, res) => handler(req, res));
  return new Promise((r) => server.listen(0, '127.0.0.1', () => ((base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`), r())));
}

function pipeline(config: Record<string, unknown>, name = 'p'): void {
  const dir = join(root, 'pipelines', name);
  mkdirSync(join(dir, 'tasks/hello/environment'), { recursive: true });
  mkdirSync(join(dir, 'tasks/hello/tests'), { recursive: true });
  writeFileSync(join(dir, 'tasks/hello/task.toml'), 'version = "1.0"\n');
  writeFileSync(join(dir, 'tasks/hello/instruction.md'), 'Say hello.\n');
  writeFileSync(join(dir, 'tasks/verifiable_tasks.txt'), 'hello\n');
  mkdirSync(join(dir, 'base-model'), { recursive: true });
  writeFileSync(join(dir, 'base-model/config.json'), '{}');
  writeFileSync(join(dir, 'base-model/tokenizer.json'), '{}');
  ws.writeConfig({ training: { backend: 'hf', model_name_or_path: 'base-model', output_dir: 'run' }, ...config }, name);
}

const row = (results: CheckResult[], area: string, check: string) => results.find((r) => r.area === area && r.check === check);
const run = (env: NodeJS.ProcessEnv = {}, name = 'p') => runPreflight(root, name, { env, probeTimeoutMs: 1500 });

beforeAll(async () => {
  mkdirSync(emptyBin, { recursive: true });
  fakeBin('claude', '2.1.197 (Claude Code)');
  fakeBin('python3', 'Python 3.11.7 venv');
  await scriptedServer();
});
afterAll(() => {
  server.close();
  ws.remove();
});
afterEach(() => {
  vi.unstubAllEnvs();
  handler = (_req, res) => res.end();
});

describe('runPreflight', () => {
  it('fails with the generator command when the config is missing', async () => {
    expect(await run({}, 'absent')).toEqual([{ area: 'config', check: 'file', status: 'fail', detail: 'pipelines/absent/config.yaml is missing', fix: 'npx nx g @trajgen/plugin:pipeline absent' }]);
  });

  it('passes a local pipeline whose every requirement is met (one warning: the trainer env is created on first use)', async () => {
    vi.stubEnv('PATH', bin);
    // This workspace's own env, not one a CI machine shares between clones (it may exist already).
    vi.stubEnv('TRAJGEN_HF_TRAINER_ENV', '');
    pipeline({ rollout: { engine: 'local', scaffold: 'claude-code' } });
    const results = await run();
    expect(results.filter((r) => r.status !== 'ok')).toEqual([
      { area: 'training', check: 'trainer env', status: 'warn', detail: 'artifacts/env/hf-trainer does not exist yet', fix: expect.stringContaining('first train creates it') },
    ]);
    expect(row(results, 'rollout', 'claude-code CLI')?.detail).toContain('2.1.197 (Claude Code)');
    expect(row(results, 'workspace', 'nx cache')).toMatchObject({ status: 'ok', detail: expect.stringContaining('no remote cache configured') });
    expect(row(results, 'training', 'python')).toMatchObject({ status: 'ok', detail: 'Python 3.11.7 with venv' });
    expect(formatCheckReport(results)).toMatch(/PASS with 1 warning$/);
  });

  it('local engine: a missing agent CLI and an unsupported scaffold fail with the fix', async () => {
    vi.stubEnv('PATH', emptyBin);
    pipeline({ rollout: { engine: 'local', scaffold: 'opencode' } });
    expect(row(await run(), 'rollout', 'opencode CLI')).toEqual({ area: 'rollout', check: 'opencode CLI', status: 'fail', detail: 'opencode not found', fix: 'npm install (the agent CLIs are project dependencies)' });
    pipeline({ rollout: { engine: 'local', scaffold: 'terminus-2' } });
    expect(row(await run(), 'rollout', 'scaffold')).toMatchObject({ status: 'fail', fix: 'use rollout.engine: harbor for openhands-sdk and terminus-2' });
  });

  it('harbor engine with docker: Harbor CLI and a reachable Docker engine, else the fix for each', async () => {
    const dockerUp = join(root, 'bin-docker-up');
    fakeBin('harbor', 'harbor 0.22.0', 0, dockerUp);
    fakeBin('docker', '28.1.1', 0, dockerUp);
    fakeBin('python3', 'Python 3.11.7 venv', 0, dockerUp);
    vi.stubEnv('PATH', dockerUp);
    pipeline({ rollout: { engine: 'harbor', scaffold: 'openhands-sdk' } });
    let results = await run();
    expect(row(results, 'rollout', 'harbor CLI')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^harbor 0\.22\.0 \(.*from PATH\)$/) });
    expect(row(results, 'rollout', 'docker engine')).toMatchObject({ status: 'ok', detail: 'server 28.1.1' });

    const dockerDown = join(root, 'bin-docker-down');
    fakeBin('docker', 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?', 1, dockerDown);
    vi.stubEnv('PATH', dockerDown);
    results = await run();
    expect(row(results, 'rollout', 'harbor CLI')).toMatchObject({ status: 'fail', fix: expect.stringContaining('rollout.harbor.managed_env: true') });
    expect(row(results, 'rollout', 'docker engine')).toMatchObject({ status: 'fail', detail: expect.stringContaining('Cannot connect to the Docker daemon'), fix: expect.stringContaining('start a Docker engine') });
  });

  it('harbor engine with a cloud environment: its credentials, by name', async () => {
    vi.stubEnv('PATH', bin);
    pipeline({ rollout: { engine: 'harbor', scaffold: 'terminus-2', harbor: { environment: 'modal' } } });
    expect(row(await run({ MODAL_TOKEN_ID: 'x' }), 'rollout', 'modal credentials')).toEqual({ area: 'rollout', check: 'modal credentials', status: 'fail', detail: 'unset: MODAL_TOKEN_SECRET', fix: 'export MODAL_TOKEN_SECRET' });
    expect(row(await run({ MODAL_TOKEN_ID: 'x', MODAL_TOKEN_SECRET: 'y' }), 'rollout', 'modal credentials')).toMatchObject({ status: 'ok', detail: 'MODAL_TOKEN_ID, MODAL_TOKEN_SECRET set' });
  });

  it('litellm proxy backend: the managed env rollout creates, or the litellm CLI', async () => {
    vi.stubEnv('PATH', bin);
    vi.stubEnv('TRAJGEN_LITELLM_ENV', join(bin, 'no-litellm-env'));
    pipeline({ proxy: { backend: 'litellm' } });
    expect(row(await run(), 'proxy', 'litellm (managed)')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/rollout installs 'litellm\[proxy\]==1\.106\.12' into .*no-litellm-env on first use/) });
    pipeline({ proxy: { backend: 'litellm', litellm: { managed_env: false } } });
    expect(row(await run(), 'proxy', 'litellm')).toMatchObject({ status: 'fail', fix: expect.stringContaining("pip install 'litellm[proxy]==1.106.12'") });
    fakeBin('litellm', 'LiteLLM: Current Version = 1.83.0');
    expect(row(await run(), 'proxy', 'litellm')).toMatchObject({ status: 'ok', detail: 'LiteLLM: Current Version = 1.83.0' });
    rmSync(join(bin, 'litellm'));
  });

  describe('upstream model API', () => {
    const api = (extra: Record<string, unknown> = {}) => pipeline({ rollout: { model: 'claude-sonnet-4-5', llm_api: { provider: 'anthropic', base_url: base, api_key_env: 'TEST_UPSTREAM_KEY', ...extra } } });
    let seen: IncomingMessage | undefined;
    const models = (ids: string[], status = 200): Handler => (req, res) => {
      seen = req;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: ids.map((id) => ({ id })) }));
    };

    it('the key variable must be set', async () => {
      vi.stubEnv('PATH', bin);
      api();
      expect(row(await run(), 'upstream', 'llm_api key')).toEqual({ area: 'upstream', check: 'llm_api key', status: 'fail', detail: 'TEST_UPSTREAM_KEY is not set', fix: 'export TEST_UPSTREAM_KEY=…' });
    });

    it('lists the model with the key (Anthropic headers), or warns when the model is not listed', async () => {
      vi.stubEnv('PATH', bin);
      api();
      handler = models(['claude-sonnet-4-5', 'claude-haiku-4-5']);
      expect(row(await run({ TEST_UPSTREAM_KEY: 'k-123' }), 'upstream', 'model')).toMatchObject({ status: 'ok', detail: `claude-sonnet-4-5 is served by ${base}` });
      expect(seen?.url).toBe('/v1/models');
      expect(seen?.headers['x-api-key']).toBe('k-123');
      handler = models(['gpt-5']);
      expect(row(await run({ TEST_UPSTREAM_KEY: 'k-123' }), 'upstream', 'model')).toMatchObject({ status: 'warn', detail: `claude-sonnet-4-5 is not in the 1 models ${base} lists` });
    });

    it('an OpenAI-style upstream gets a bearer token on {base}/models', async () => {
      vi.stubEnv('PATH', bin);
      pipeline({ rollout: { llm_api: { provider: 'openai', base_url: `${base}/v1`, model: 'qwen3-coder', api_key_env: 'TEST_UPSTREAM_KEY' } } });
      handler = models(['qwen3-coder']);
      expect(row(await run({ TEST_UPSTREAM_KEY: 'k-9' }), 'upstream', 'model')?.status).toBe('ok');
      expect(seen?.url).toBe('/v1/models');
      expect(seen?.headers.authorization).toBe('Bearer k-9');
    });

    it('a rejected key and an unreachable upstream fail', async () => {
      vi.stubEnv('PATH', bin);
      api();
      handler = models([], 401);
      expect(row(await run({ TEST_UPSTREAM_KEY: 'bad' }), 'upstream', 'llm_api key')).toMatchObject({ status: 'fail', detail: expect.stringContaining('answered HTTP 401: the key in TEST_UPSTREAM_KEY was rejected') });
      api({ base_url: 'http://127.0.0.1:9' });
      expect(row(await run({ TEST_UPSTREAM_KEY: 'k' }), 'upstream', 'reachable')).toMatchObject({ status: 'fail', fix: 'check rollout.llm_api.base_url and the network' });
    });
  });

  describe('training backend (rows from the train stage: @trajgen/trainer trainingPreflight)', () => {
    it('the embedded trainer needs Python ≥ 3.10 with venv', async () => {
      const old = join(root, 'bin-py39');
      fakeBin('python3', 'Python 3.9.18 venv', 0, old);
      vi.stubEnv('PATH', old);
      pipeline({});
      expect(row(await run(), 'training', 'python')).toMatchObject({ status: 'fail', detail: 'Python 3.9.18: the embedded trainer needs ≥ 3.10' });
      fakeBin('python3', 'Python 3.12.1 no-venv', 0, old);
      expect(row(await run(), 'training', 'python')).toMatchObject({ status: 'fail', detail: 'Python 3.12.1 has no venv/ensurepip module', fix: expect.stringContaining('python3-venv') });
      vi.stubEnv('PATH', emptyBin);
      expect(row(await run(), 'training', 'python')).toMatchObject({ status: 'fail', detail: 'python3 not found on PATH' });
    });

    it('LLaMA-Factory: the CLI missing fails with the fix; the embedded trainer rejects what it cannot train', async () => {
      vi.stubEnv('PATH', bin);
      pipeline({ training: { backend: 'llamafactory', model_name_or_path: 'Qwen/Qwen3-0.6B', output_dir: 'run' } });
      const results = await run();
      const lf = results.filter((r) => r.area === 'training' && r.status === 'fail');
      expect(lf.length).toBeGreaterThan(0);
      expect(lf.map((r) => `${r.check}: ${r.fix}`).join('\n')).toMatch(/llamafactory/i);
      pipeline({ training: { backend: 'hf', model_name_or_path: 'base-model', output_dir: 'run', template: 'llama3' } });
      expect(row(await run(), 'training', 'template')).toMatchObject({ status: 'fail', detail: expect.stringContaining('"llama3" is not implemented by the embedded trainer') });
    });
  });

  describe('Nx remote cache', () => {
    it('reachable with an accepted token; a rejected token fails (Nx would abort); unreachable warns (npm run nx falls back)', async () => {
      vi.stubEnv('PATH', bin);
      pipeline({});
      let auth: string | undefined;
      handler = (req, res) => {
        auth = req.headers.authorization;
        res.writeHead(auth === 'Bearer good' ? 404 : 401, { 'content-type': 'text/plain' });
        res.end(auth === 'Bearer good' ? 'miss' : 'bad token');
      };
      const cache = (token: string, server = base) => run({ NX_SELF_HOSTED_REMOTE_CACHE_SERVER: server, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: token });
      expect(row(await cache('good'), 'workspace', 'remote cache')).toEqual({ area: 'workspace', check: 'remote cache', status: 'ok', detail: `${base} answers (token accepted)` });
      expect(auth).toBe('Bearer good');
      expect(row(await cache('bad'), 'workspace', 'remote cache')).toMatchObject({ status: 'fail', detail: `${base} rejected the token (HTTP 401): Nx aborts every run` });
      expect(row(await cache('good', 'http://127.0.0.1:9'), 'workspace', 'remote cache')).toMatchObject({ status: 'warn', fix: expect.stringContaining('falls back to the local cache') });
      expect(row(await run({ NX_SELF_HOSTED_REMOTE_CACHE_SERVER: base, NX_SKIP_REMOTE_CACHE: 'true' }), 'workspace', 'remote cache')).toMatchObject({ status: 'ok', detail: `${base} skipped (NX_SKIP_REMOTE_CACHE=true)` });
    });
  });
});

describe('formatCheckReport', () => {
  it('prints one table of every check, then the fix of each problem, then the verdict', () => {
    const text = formatCheckReport([
      { area: 'config', check: 'schema', status: 'ok', detail: 'valid' },
      { area: 'rollout', check: 'docker engine', status: 'fail', detail: 'not running', fix: 'start a Docker engine' },
      { area: 'training', check: 'trainer env', status: 'warn', detail: 'absent', fix: 'created on first train' },
    ]);
    const [table, fixes, verdict] = text.split('\n\n');
    expect(table.split('\n')).toHaveLength(5);
    expect(table).toMatch(/^status\s+area\s+check\s+detail\n/);
    expect(table).toMatch(/FAIL\s+rollout\s+docker engine\s+not running/);
    expect(fixes).toBe('To fix:\n1. [FAIL] rollout / docker engine: start a Docker engine\n2. [WARN] training / trainer env: created on first train');
    expect(verdict).toBe('FAIL: 1 failing, 1 warning');
  });
});

describe('runPreflight: the shared ledger (ledger.backend: postgres, the real server on 127.0.0.1:5432)', () => {
  it('fails when the variable is unset or the database does not answer; reports the shared ledger when it does', async () => {
    pipeline({ ledger: { backend: 'postgres', postgres: { url_env: 'PF_LEDGER_URL' } } }, 'pgp');
    expect(row(await run({}, 'pgp'), 'ledger', 'postgres')).toMatchObject({ status: 'fail', detail: 'ledger.backend is postgres but PF_LEDGER_URL is not set' });
    expect(row(await run({ PF_LEDGER_URL: 'postgres://postgres@127.0.0.1:1/none' }, 'pgp'), 'ledger', 'postgres')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/does not answer \(ECONNREFUSED\)/) });
    // The server answers; this database has no trajgen schema yet.
    expect(row(await run({ PF_LEDGER_URL: 'postgres://postgres@127.0.0.1:5432/postgres' }, 'pgp'), 'ledger', 'postgres')).toMatchObject({ status: 'ok' });
    pipeline({}, 'yamlp');
    expect(row(await run({}, 'yamlp'), 'ledger', 'backend')).toMatchObject({ status: 'ok', detail: expect.stringContaining('yaml') });
  });
});
