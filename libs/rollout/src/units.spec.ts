import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrialResult } from '@trajgen/harbor';
import {
  Progress,
  assembleTrialResult,
  cleanEnv,
  effectiveTimeouts,
  exceptionInfo,
  jobName,
  localAgent,
  localStamp,
  nameSegment,
  resolveTaskEnv,
  shouldRetry,
  usageOfLines,
} from './index';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** mkdtemp, removed after the file's tests. */
const temp = trackedTempDirs();

describe('job names: dataset-agent-version-model-local time, unique', () => {
  it('say what ran, in local time, and stay unique', () => {
    const at = new Date(2026, 10, 21, 9, 5, 7);
    expect(localStamp(at)).toBe('20261121090507');
    expect(jobName({ dataset: 'py-cc', agent: 'claude-code', version: '2.1.197', model: 'anthropic/claude x', at })).toBe('py-cc-claude-code-2.1.197-anthropic-claude-x-20261121090507');
    const jobs = temp(join(tmpdir(), 'tg-jobs-'));
    const first = jobName({ dataset: 'd', agent: 'a', version: '1', model: 'm', at }, jobs);
    mkdirSync(join(jobs, first));
    const second = jobName({ dataset: 'd', agent: 'a', version: '1', model: 'm', at }, jobs);
    expect(second).toBe(`${first}-2`);
    mkdirSync(join(jobs, second));
    expect(jobName({ dataset: 'd', agent: 'a', version: '1', model: 'm', at }, jobs)).toBe(`${first}-3`);
    expect(nameSegment('../..')).toBe('unknown');
    expect(nameSegment('.hidden')).toBe('hidden');
  });
});

describe('clean environment (allowlist)', () => {
  const host = { PATH: '/usr/bin:/bin', LANG: 'en_US.UTF-8', SECRET_TOKEN: 'hunter2', ANTHROPIC_API_KEY: 'sk-real', HOME: '/root', HF_HOME: '/cache/hf', AWS_SECRET_ACCESS_KEY: 'aws' };

  it('passes only allowlisted and named host variables; HOME and XDG dirs inside the trial', () => {
    const env = cleanEnv({ dirs: { home: '/t/home', tmp: '/t/tmp' }, host, passEnv: ['HF_HOME'], layers: [{ FOO: 'bar' }, { ANTHROPIC_API_KEY: 'sk-trajgen-job' }] });
    expect(env).toMatchObject({ PATH: '/usr/bin:/bin', LANG: 'en_US.UTF-8', HOME: '/t/home', TMPDIR: '/t/tmp', XDG_CONFIG_HOME: '/t/home/.config', HF_HOME: '/cache/hf', FOO: 'bar', ANTHROPIC_API_KEY: 'sk-trajgen-job' });
    const values = Object.values(env).join('\n');
    expect(values).not.toContain('hunter2');
    expect(values).not.toContain('sk-real');
    expect(values).not.toContain('aws');
    expect(env).not.toHaveProperty('SECRET_TOKEN');
  });

  it('resolves task env ${VAR} only from pass_env names, with defaults', () => {
    expect(resolveTaskEnv({ A: 'x-${HF_HOME}', B: '${NOPE:-dflt}', C: 3 }, host, ['HF_HOME'], 'task.toml')).toEqual({ A: 'x-/cache/hf', B: 'dflt', C: '3' });
    expect(() => resolveTaskEnv({ S: '${SECRET_TOKEN}' }, host, [], 'x/task.toml [verifier].env')).toThrow(/needs the host variable SECRET_TOKEN[\s\S]*/);
    try {
      resolveTaskEnv({ S: '${SECRET_TOKEN}' }, host, [], 'w');
    } catch (e) {
      expect((e as { hint: string }).hint).toMatch(/rollout\.agent\.pass_env/);
    }
  });
});

describe('agent adapters', () => {
  it('route Claude Code and OpenCode through the proxy with the trial header; OpenCode keeps the key out of its config file', () => {
    const ctx = { instruction: 'do it', model: 'm', proxyUrl: 'http://127.0.0.1:1', key: 'sk-trajgen-k', trial: 't__1', trialHeader: 'x-trajgen-trial', trialDir: '/j/t__1', sharedCacheDir: '/c', maxTurns: 7 };
    const cc = localAgent('claude-code').launch(ctx);
    expect(cc.env).toMatchObject({ ANTHROPIC_BASE_URL: 'http://127.0.0.1:1', ANTHROPIC_API_KEY: 'sk-trajgen-k', ANTHROPIC_CUSTOM_HEADERS: 'x-trajgen-trial: t__1', CLAUDE_CONFIG_DIR: '/j/t__1/agent/sessions', CLAUDE_CODE_MAX_TURNS: '7' });
    expect(cc.args).toContain('--dangerously-skip-permissions');
    const oc = localAgent('opencode').launch(ctx);
    const [path, text] = Object.entries(oc.files)[0];
    expect(path).toBe('/j/t__1/agent/opencode.json');
    expect(text).not.toContain('sk-trajgen-k');
    expect(JSON.parse(text).provider.trajgen.options).toMatchObject({ baseURL: 'http://127.0.0.1:1/v1', apiKey: '{env:TRAJGEN_PROXY_KEY}', headers: { 'x-trajgen-trial': 't__1' } });
    expect(oc.env).toMatchObject({ TRAJGEN_PROXY_KEY: 'sk-trajgen-k', OPENCODE_CONFIG: path, XDG_DATA_HOME: '/j/t__1/agent/opencode/xdg-data' });
    expect(localAgent('opencode').outputError('{"type":"text"}\n{"type":"error","error":{"name":"APIError","data":{"message":"boom"}}}\n')).toMatch(/boom/);
    expect(localAgent('opencode').outputError('{"type":"text","part":{"text":"an error happened"}}\n')).toBeUndefined();
  });

  it('refuse scaffolds the local engine cannot run, pointing to the harbor engine', () => {
    expect(() => localAgent('openhands-sdk')).toThrow(/cannot run in the local engine/);
    try {
      localAgent('terminus-2');
    } catch (e) {
      expect((e as { hint: string }).hint).toMatch(/rollout\.engine: harbor/);
    }
  });
});

describe('usage from logged lines', () => {
  it('sums tokens (input includes cache) and prices them; counts failed and torn lines', () => {
    const lines = [
      JSON.stringify({ success: true, usage: { input_tokens: 100, cache_read_input_tokens: 900, output_tokens: 50 } }),
      JSON.stringify({ success: true, usage: { prompt_tokens: 200, completion_tokens: 20, prompt_tokens_details: { cached_tokens: 50 } } }),
      JSON.stringify({ success: false, usage: null, failure: { error_type: 'upstream_http_error', status_code: 429 } }),
      '{"torn":',
    ].join('\n');
    const u = usageOfLines(lines, { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3 });
    expect(u).toMatchObject({ requests: 3, failed: 1, unreadable: 1, input_tokens: 1200, cache_tokens: 950, output_tokens: 70 });
    // (100 + 150) × 3 + 950 × 0.3 + 70 × 15, per million
    expect(u.cost_usd).toBeCloseTo((250 * 3 + 950 * 0.3 + 70 * 15) / 1e6, 12);
  });
});

describe('trial result assembly', () => {
  it('fills every TrialResult field from the facts', () => {
    const start = new Date('2026-11-21T10:00:00Z');
    const end = new Date('2026-11-21T10:00:05Z');
    const r = assembleTrialResult({
      id: 'id-1',
      trialName: 'add-greeting__abc',
      trialDir: '/w/artifacts/p/jobs/j/add-greeting__abc',
      taskName: 'trajgen/add-greeting',
      taskPath: 'artifacts/p/tasks/tasks/add-greeting',
      source: 'tasks',
      checksum: 'sha256:1',
      config: { task: { path: 'artifacts/p/tasks/tasks/add-greeting' }, trial_name: 'add-greeting__abc', trials_dir: '/w/j', agent: { name: 'claude-code' } },
      agent: { name: 'claude-code', version: '2.1.197', modelInfo: { name: 'm', provider: 'anthropic' } },
      usage: { requests: 5, failed: 1, input_tokens: 10, cache_tokens: 4, output_tokens: 3, cost_usd: 0.5, unreadable: 0 },
      rewards: { reward: 0 },
      exception: exceptionInfo('AgentTimeoutError', 'Agent execution timed out after 2 seconds', 'tb', end),
      startedAt: start,
      finishedAt: end,
      timings: { environment_setup: null, agent_setup: null, agent_execution: { started_at: 'a', finished_at: 'b' }, verifier: { started_at: 'c', finished_at: 'd' } },
    });
    const keys = ['id', 'task_name', 'trial_name', 'trial_uri', 'task_id', 'source', 'task_checksum', 'config', 'agent_info', 'agent_result', 'verifier_result', 'verifier_environment_mode', 'exception_info', 'started_at', 'finished_at', 'environment_setup', 'agent_setup', 'agent_execution', 'verifier', 'step_results'];
    expect(Object.keys(r).sort()).toEqual([...keys].sort());
    expect(r.trial_uri).toBe('file:///w/artifacts/p/jobs/j/add-greeting__abc');
    expect(r.agent_result).toMatchObject({ n_input_tokens: 10, n_cache_tokens: 4, n_output_tokens: 3, cost_usd: 0.5, metadata: { requests: 5, failed_requests: 1 } });
    expect(r.verifier_result).toEqual({ rewards: { reward: 0 } });
    expect(r.exception_info).toMatchObject({ exception_type: 'AgentTimeoutError', occurred_at: '2026-11-21T10:00:05.000000+00:00' });
    expect(r.started_at).toBe('2026-11-21T10:00:00.000000+00:00');
    expect(r.step_results).toBeNull();
  });
});

describe('retry rule and timeouts', () => {
  const dir = temp(join(tmpdir(), 'tg-trial-'));
  mkdirSync(join(dir, 'agent'), { recursive: true });
  const result = (type: string | null, reward: number | null) =>
    ({ exception_info: type ? { exception_type: type } : null, verifier_result: reward === null ? null : { rewards: { reward } } }) as unknown as TrialResult;

  it('retries infrastructure failures (not Harbor exclusions, not usable trials) while attempts remain', () => {
    expect(shouldRetry(dir, result('NonZeroAgentExitCodeError', 0), 1, 3)).toBe(true);
    expect(shouldRetry(dir, result('NonZeroAgentExitCodeError', 0), 3, 3)).toBe(false);
    for (const t of ['AgentTimeoutError', 'VerifierTimeoutError', 'RewardFileNotFoundError', 'CancelledError']) expect(shouldRetry(dir, result(t, null), 1, 3), t).toBe(false);
    expect(shouldRetry(dir, result(null, null), 1, 3)).toBe(false);
    writeFileSync(join(dir, 'agent', 'litellm-trajectory.jsonl'), '{}\n');
    // A trajectory and a reward: the ledger counts it done, nothing to retry.
    expect(shouldRetry(dir, result('NonZeroAgentExitCodeError', 0), 1, 3)).toBe(false);
  });

  it('caps the task timeout by the config and scales both by the multiplier', () => {
    expect(effectiveTimeouts({ agentTimeoutSec: 300, verifierTimeoutSec: 60 }, { agent_sec: 900, verifier_sec: 30, multiplier: 2 })).toEqual({ agentSec: 600, verifierSec: 60 });
    expect(effectiveTimeouts({ agentTimeoutSec: null, verifierTimeoutSec: null }, { agent_sec: 900, verifier_sec: 300, multiplier: 1 })).toEqual({ agentSec: 900, verifierSec: 300 });
  });
});

describe('progress', () => {
  const row = (task: string, reward: number | null, exception: string | null = null) => ({ task, trial: `${task}__x`, reward, exception, requests: 5, failed: 0, input_tokens: 1000, output_tokens: 100, cost_usd: 0.01, duration_ms: 2000, attempts: 1, status: 'done' });

  it('writes plain lines when not a TTY (CI): no carriage returns or escape codes', () => {
    let t = 0;
    let text = '';
    const p = new Progress({ total: 3, out: { write: (s: string) => (text += s), isTTY: false }, now: () => t });
    p.trialStarted('a', 'a__x');
    t = 10_000;
    p.trialFinished(row('a', 1));
    t = 20_000;
    p.trialFinished(row('b', 0, 'NonZeroAgentExitCodeError'));
    p.stop();
    expect(text).not.toMatch(/\r|\x1b/);
    const lines = text.trim().split('\n');
    expect(lines[1]).toMatch(/^\[1\/3\] a reward 1\.0 · 5 calls · 1\.1k tok · \$0\.01 · 2s → done \| rollout 1\/3 done · pass 100% \(1\/1\) · running 0 · tokens 1\.0k in \/ 100 out · \$0\.01 · elapsed 10s · ETA 20s$/);
    expect(lines[2]).toMatch(/\[2\/3\] b reward 0\.0 NonZeroAgentExitCodeError .*pass 50% \(1\/2\).*ETA 10s/);
    const summary = p.summary();
    expect(summary).toMatch(/^task\s+trial\s+reward\s+exception\s+calls/);
    expect(summary).toMatch(/total: 2 trials, pass 1\/2, 1 with an exception, 10 model calls, 2\.0k in \/ 200 out tokens, \$0\.02/);
  });

  it('redraws one status line in place on a TTY and counts live tokens of running trials', () => {
    let text = '';
    const p = new Progress({ total: 2, out: { write: (s: string) => (text += s), isTTY: true }, intervalMs: 60_000 });
    p.trialStarted('a', 'a__x');
    p.callLogged('a__x', { prompt_tokens: 2000, completion_tokens: 10, cost: 0.5 });
    expect(p.statusLine()).toMatch(/tokens 2\.0k in \/ 10 out · \$0\.50/);
    p.trialFinished(row('a', 1));
    p.stop();
    expect(text).toContain('\r\x1b[2K');
    expect(text.endsWith('\n')).toBe(true);
  });
});
