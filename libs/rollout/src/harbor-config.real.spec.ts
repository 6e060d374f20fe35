/**
 * The generated Harbor job config loaded by the REAL Harbor (the managed env,
 * harbor==0.26.0; created on first use, shared through $TRAJGEN_HARBOR_ENV or
 * the workspace's artifacts/env/harbor): Harbor's JobConfig model, each agent's
 * class and options model (its preflight refuses unknown kwargs), the
 * environment's type or class and options — for every scaffold × every
 * environment value the config schema accepts. A config Harbor would refuse
 * fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { rolloutSchema } from '@trajgen/config';
import { HARBOR_ENVIRONMENT_TYPES, HARBOR_PYTHON_DIR, HARBOR_SCAFFOLDS, harborJobConfig, harborProcessEnv, type HarborEnvironmentType } from '@trajgen/harbor';
import { TrajgenError } from '@trajgen/core';
import { ensureHarborEnv, findHarborPython, resolveHarbor } from './harbor-env';

const ROOT = resolve(__dirname, '../../..');
const CHECKER = join(HARBOR_PYTHON_DIR, 'tests', 'check_job_config.py');

describe('generated job configs against the real Harbor (its own config models)', () => {
  let python = '';
  let dir = '';
  beforeAll(async () => {
    process.env.TRAJGEN_HARBOR_ENV ??= join(ROOT, 'artifacts', 'env', 'harbor');
    const env = await ensureHarborEnv(ROOT, { log: (l) => console.log(l) });
    python = join(env.executable, '..', 'python');
    dir = mkdtempSync(join(tmpdir(), 'trajgen-harbor-config-'));
  }, 900_000);
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  function load(files: string[]): Record<string, { ok: boolean; errors: string[]; notes: string[] }> {
    const proxy = harborProcessEnv('terminus-2', { url: 'http://127.0.0.1:4567', key: 'sk-test-key' });
    const r = spawnSync(python, [CHECKER, ...files], {
      encoding: 'utf8',
      env: { ...process.env, ...proxy, PYTHONPATH: HARBOR_PYTHON_DIR, HARBOR_TELEMETRY: '0', LITELLM_LOCAL_MODEL_COST_MAP: 'True' },
      timeout: 300_000,
    });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  }

  it('the schema and the generator agree on the environment values', () => {
    for (const environment of HARBOR_ENVIRONMENT_TYPES) expect(rolloutSchema.safeParse({ harbor: { environment } }).success, environment).toBe(true);
    expect(rolloutSchema.safeParse({ harbor: { environment: 'kubernetes' } }).success).toBe(false);
  });

  it('every scaffold × environment loads: JobConfig, agent class + options, environment', () => {
    const files: string[] = [];
    for (const scaffold of HARBOR_SCAFFOLDS) {
      for (const environment of HARBOR_ENVIRONMENT_TYPES) {
        const config = harborJobConfig({
          jobName: `job-${scaffold}-${environment}`,
          jobsDir: join(dir, 'jobs'),
          datasetPath: join(dir, 'dataset'),
          taskNames: ['add-greeting'],
          excludeTaskNames: ['done[1]'],
          scaffold,
          model: 'trajgen-oracle',
          proxyUrl: 'http://127.0.0.1:4567',
          trialHeader: 'x-trajgen-trial',
          nConcurrent: 2,
          nAttempts: 1,
          maxRetries: 2,
          timeouts: { agentSec: 300, verifierSec: 60, multiplier: 1 },
          environment: environment as HarborEnvironmentType,
          hostBinDirs: [join(ROOT, 'node_modules', '.bin')],
          agent: { version: '2.1.197', maxTurns: 30, temperature: 0.2, env: { FOO: 'bar' }, passEnv: ['HOME'], kwargs: {} },
        });
        const file = join(dir, `${scaffold}.${environment}.json`);
        writeFileSync(file, JSON.stringify(config));
        files.push(file);
      }
    }
    const results = load(files);
    const failures = Object.entries(results).filter(([, r]) => !r.ok).map(([f, r]) => `${f}: ${r.errors.join('; ')}`);
    expect(failures).toEqual([]);
    expect(Object.keys(results)).toHaveLength(HARBOR_SCAFFOLDS.length * HARBOR_ENVIRONMENT_TYPES.length);
  }, 300_000);

  it('a config Harbor refuses (an unknown agent kwarg) or would silently ignore (a misspelt job key) fails the check', () => {
    const base = harborJobConfig({
      jobName: 'bad',
      jobsDir: join(dir, 'jobs'),
      datasetPath: join(dir, 'dataset'),
      taskNames: ['a'],
      excludeTaskNames: [],
      scaffold: 'claude-code',
      model: 'm',
      proxyUrl: 'http://127.0.0.1:1',
      trialHeader: 'x-trajgen-trial',
      nConcurrent: 1,
      nAttempts: 1,
      maxRetries: 0,
      timeouts: { agentSec: 10, verifierSec: 10, multiplier: 1 },
      environment: 'host',
      agent: { kwargs: { no_such_option: 1 } },
    });
    const badKwarg = join(dir, 'bad-kwarg.json');
    writeFileSync(badKwarg, JSON.stringify(base));
    const badKey = join(dir, 'bad-key.json');
    writeFileSync(badKey, JSON.stringify({ ...base, agents: [{ ...base.agents[0], kwargs: {} }], n_concurent_trials: 2 }));
    const results = load([badKwarg, badKey]);
    expect(results[badKwarg].ok).toBe(false);
    expect(results[badKwarg].errors.join('\n')).toMatch(/no_such_option/);
    // Harbor's JobConfig silently ignores unknown keys: the check reports them.
    expect(results[badKey].ok).toBe(false);
    expect(results[badKey].errors.join('\n')).toMatch(/n_concurent_trials/);
  }, 300_000);

  it('the agent wrappers load as subclasses of the real Harbor agents and add the per-trial header; the host environment maps paths, cleans the env, kills whole groups on timeout and cancel, leaves nothing running', () => {
    const r = spawnSync(python, [join(HARBOR_PYTHON_DIR, 'tests', 'test_agents.py'), dir], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: HARBOR_PYTHON_DIR, HARBOR_TELEMETRY: '0', LITELLM_LOCAL_MODEL_COST_MAP: 'True' },
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const { wrappers: w, host_env: h } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    for (const s of HARBOR_SCAFFOLDS) expect(w[s], s).toMatchObject({ subclass: true, name: s });
    expect(w['claude-code'].trial).toBe('add-greeting__Ab3dEf9');
    expect(w['claude-code'].env.ANTHROPIC_CUSTOM_HEADERS).toBe('x-other: 1\nx-trajgen-trial: add-greeting__Ab3dEf9');
    expect(w['claude-code'].env.ANTHROPIC_BASE_URL).toBe('http://proxy');
    expect(w.opencode.config).toEqual({ provider: { trajgen: { options: { headers: { 'x-trajgen-trial': 'add-greeting__Ab3dEf9' } } } } });
    expect(w['terminus-2'].llm_kwargs).toEqual({ extra_headers: { 'x-keep': '1', 'x-trajgen-trial': 'add-greeting__Ab3dEf9' } });
    expect(w.unknown_option).toMatch(/Unknown option 'no_such_option'/);
    expect(w.bad_logs_dir).toMatch(/cannot take a trial name/);

    expect(h.type).toBe('trajgen-host');
    expect(h.files).toEqual(['data.txt']); // a fresh copy of environment/, the Dockerfile left out
    const [cwd, data, envLine] = h.exec.split('\n');
    expect(cwd).toMatch(/\/app$/);
    expect(data).toBe('hello');
    const [home, secret, appDir, path] = envLine.split('|');
    expect(home).toMatch(/\/home$/);
    expect(secret).toBe(''); // the host's variables stay out
    expect(appDir).toBe(cwd);
    expect(path.split(':')[0]).toBe(join(dir, 'bin'));
    expect(h.note_in_trial_dir).toBe('done\n'); // /logs/agent IS the trial's agent dir
    expect(h).toMatchObject({ uploaded: true, mounted: true, timeout: 'Command timed out after 1 seconds', bg_alive_after_timeout: false, bg_alive_after_cancel: false, daemon_alive_before_stop: true, daemon_alive_after_stop: false, scratch_removed: true });
    expect(h.timeout_s).toBeLessThan(10);
  }, 180_000);

  it('a missing Harbor is a clear error naming the fix; without a Python ≥ 3.12 the managed env says how to get one', async () => {
    const err = await resolveHarbor(ROOT, { managed_env: false, executable: 'no-such-harbor-cli' }, { log: () => undefined }, { PATH: '/nonexistent' }).catch((e: unknown) => e as TrajgenError);
    expect(err).toBeInstanceOf(TrajgenError);
    expect((err as TrajgenError).message).toMatch(/"no-such-harbor-cli" is not installed/);
    expect((err as TrajgenError).hint).toMatch(/managed_env: true/);
    expect((err as TrajgenError).hint).toMatch(/harbor==0\.26\.0/);
    expect(findHarborPython({ TRAJGEN_HARBOR_PYTHON: '/opt/py/bin/python3.12' })).toBe('/opt/py/bin/python3.12');
    const found = findHarborPython({ PATH: process.env.PATH, PYENV_ROOT: process.env.PYENV_ROOT });
    if (found) expect(spawnSync(found, ['-c', 'import sys; assert sys.version_info >= (3, 12)']).status, found).toBe(0);
  });
});
