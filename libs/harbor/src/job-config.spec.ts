import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_EXCLUDE_EXCEPTIONS,
  HARBOR_SCAFFOLDS,
  PROXY_ENV,
  escapeGlob,
  harborJobConfig,
  harborProcessEnv,
  type HarborJobConfigInput,
  type HarborScaffold,
} from './index';

const SECRET = 'sk-trajgen-0123456789abcdef0123456789abcdef';

function input(scaffold: HarborScaffold, over: Partial<HarborJobConfigInput> = {}): HarborJobConfigInput {
  return {
    jobName: 'tasks-claude-code-2.1.197-m-20261121101500',
    jobsDir: '/abs/artifacts/demo/jobs',
    datasetPath: '/abs/artifacts/demo/tasks/tasks',
    taskNames: ['b-task', 'a-task'],
    excludeTaskNames: ['done-one', 'weird[1]*'],
    scaffold,
    model: 'my-alias',
    proxyUrl: 'http://10.1.2.3:4567',
    trialHeader: 'x-trajgen-trial',
    nConcurrent: 8,
    nAttempts: 1,
    maxRetries: 2,
    timeouts: { agentSec: 900, verifierSec: 300, multiplier: 1.5 },
    environment: 'daytona',
    agent: { version: '2.1.197', maxTurns: 80, temperature: 0.7, env: { FOO: 'bar' }, passEnv: ['HF_HOME'], kwargs: { extra: true } },
    ...over,
  };
}

/** Harbor v0.22's JobConfig keys and AgentConfig keys (its pydantic models). */
const JOB_KEYS = new Set(['job_name', 'jobs_dir', 'n_attempts', 'install_only', 'timeout_multiplier', 'agent_timeout_multiplier', 'verifier_timeout_multiplier', 'agent_setup_timeout_multiplier', 'environment_build_timeout_multiplier', 'debug', 'n_concurrent_trials', 'quiet', 'retry', 'environment', 'verifier', 'metrics', 'agents', 'user_agent', 'datasets', 'tasks', 'artifacts', 'extra_instruction_paths', 'extra_instructions', 'source_jobs']);
const AGENT_KEYS = new Set(['name', 'import_path', 'model_name', 'n_concurrent', 'concurrency_group', 'skills', 'override_timeout_sec', 'override_setup_timeout_sec', 'max_timeout_sec', 'resume_trajectory', 'load_trajectory', 'extra_allowed_hosts', 'include_logs', 'exclude_logs', 'mcp_servers', 'kwargs', 'env']);
const DATASET_KEYS = new Set(['path', 'name', 'version', 'ref', 'registry_url', 'registry_path', 'repo', 'overwrite', 'download_dir', 'task_names', 'exclude_task_names', 'n_tasks']);

describe("harborJobConfig (checked against Harbor v0.22's JobConfig keys)", () => {
  it('uses only JobConfig v0.22 keys, absolute paths, the full default retry exclusions and a cloud environment', () => {
    const c = harborJobConfig(input('claude-code'));
    for (const k of Object.keys(c)) expect(JOB_KEYS.has(k), k).toBe(true);
    for (const k of Object.keys(c.agents[0])) expect(AGENT_KEYS.has(k), k).toBe(true);
    for (const k of Object.keys(c.datasets[0])) expect(DATASET_KEYS.has(k), k).toBe(true);
    expect(c).toMatchObject({
      job_name: 'tasks-claude-code-2.1.197-m-20261121101500',
      jobs_dir: '/abs/artifacts/demo/jobs',
      n_attempts: 1,
      n_concurrent_trials: 8,
      timeout_multiplier: 1.5,
      environment: { type: 'daytona', delete: true },
      verifier: { max_timeout_sec: 300 },
    });
    // Never just AgentTimeoutError (verifier timeouts and reward-file errors would be retried): all nine defaults.
    expect(c.retry).toEqual({ max_retries: 2, exclude_exceptions: [...DEFAULT_RETRY_EXCLUDE_EXCEPTIONS] });
    expect(c.retry.exclude_exceptions).toHaveLength(9);
    expect(c.agents[0]).toMatchObject({ name: null, import_path: 'trajgen_harbor.agents:TrajgenClaudeCode', model_name: 'my-alias', max_timeout_sec: 900 });
  });

  it('lists the batch as escaped include globs and the ledger exclusions as exclude globs (Harbor matches dir names)', () => {
    const c = harborJobConfig(input('claude-code'));
    expect(c.datasets).toEqual([{ path: '/abs/artifacts/demo/tasks/tasks', task_names: ['a-task', 'b-task'], exclude_task_names: ['done-one', 'weird[[]1][*]'] }]);
    expect(escapeGlob('a?b')).toBe('a[?]b');
  });

  it('routes every scaffold through the proxy with ${VAR} references only, never a literal secret', () => {
    for (const scaffold of HARBOR_SCAFFOLDS) {
      const c = harborJobConfig(input(scaffold));
      const text = JSON.stringify(c);
      expect(text).not.toContain(SECRET);
      const env = c.agents[0].env;
      // Secret-looking names only ever hold a reference.
      for (const [k, v] of Object.entries(env)) if (/KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL|AUTH/i.test(k)) expect(v, `${scaffold} ${k}`).toMatch(/^\$\{[A-Z_][A-Z0-9_]*\}$/);
      expect(env).toMatchObject({ FOO: 'bar', HF_HOME: '${HF_HOME}' });
      expect(c.agents[0].kwargs).toMatchObject({ trajgen_trial_header: 'x-trajgen-trial', extra: true });
      // Terminus-2 is not an installed agent: Harbor refuses a `version` kwarg for it.
      if (scaffold === 'terminus-2') expect(c.agents[0].kwargs).not.toHaveProperty('version');
      else expect(c.agents[0].kwargs.version).toBe('2.1.197');
    }
    const cc = harborJobConfig(input('claude-code')).agents[0];
    expect(cc.env).toMatchObject({ ANTHROPIC_BASE_URL: `\${${PROXY_ENV.url}}`, ANTHROPIC_API_KEY: `\${${PROXY_ENV.key}}` });
    expect(cc.kwargs.max_turns).toBe(80);

    const oc = harborJobConfig(input('opencode')).agents[0];
    expect(oc.model_name).toBe('trajgen/my-alias');
    expect(oc.env[PROXY_ENV.key]).toBe(`\${${PROXY_ENV.key}}`);
    expect(oc.kwargs.opencode_config).toMatchObject({
      provider: { trajgen: { npm: '@ai-sdk/openai-compatible', options: { baseURL: 'http://10.1.2.3:4567/v1', apiKey: `{env:${PROXY_ENV.key}}` } } },
      model: 'trajgen/my-alias',
    });
    expect(oc.kwargs).not.toHaveProperty('max_turns');

    const oh = harborJobConfig(input('openhands-sdk')).agents[0];
    expect(oh).toMatchObject({ model_name: 'openai/my-alias', env: { LLM_API_KEY: `\${${PROXY_ENV.key}}`, LLM_BASE_URL: `\${${PROXY_ENV.openaiBase}}` }, kwargs: { max_iterations: 80, temperature: 0.7 } });

    const t2 = harborJobConfig(input('terminus-2')).agents[0];
    expect(t2).toMatchObject({ model_name: 'openai/my-alias', kwargs: { api_base: 'http://10.1.2.3:4567/v1', max_turns: 80, temperature: 0.7 } });
  });

  it('environment host: trajgen\'s host environment by import path, the project\'s CLIs on PATH, no install at trial time', () => {
    const c = harborJobConfig(input('claude-code', { environment: 'host', hostBinDirs: ['/ws/node_modules/.bin'] }));
    expect(c.environment).toEqual({ import_path: 'trajgen_harbor.host_env:HostEnvironment', delete: true, kwargs: { agent_bin_dirs: ['/ws/node_modules/.bin'] } });
    expect(c.agents[0].kwargs).toMatchObject({ skip_install: true });
    expect(c.agents[0].kwargs).not.toHaveProperty('version');
    expect(harborJobConfig(input('terminus-2', { environment: 'host' })).agents[0].kwargs).not.toHaveProperty('skip_install');
  });

  it('is a pure function of its input (Harbor resume compares configs)', () => {
    expect(JSON.stringify(harborJobConfig(input('opencode')))).toBe(JSON.stringify(harborJobConfig(input('opencode'))));
  });

  it('gives Harbor the values the references need, only in its process env', () => {
    expect(harborProcessEnv('claude-code', { url: 'http://h:1/', key: SECRET })).toEqual({
      [PROXY_ENV.url]: 'http://h:1',
      [PROXY_ENV.openaiBase]: 'http://h:1/v1',
      [PROXY_ENV.key]: SECRET,
    });
    expect(harborProcessEnv('terminus-2', { url: 'http://h:1', key: SECRET }).OPENAI_API_KEY).toBe(SECRET);
  });
});
