import { describe, expect, it } from 'vitest';
import { writeFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTrialName, SHORTUUID_ALPHABET, computeJobStats, readVerifierRewards, JobWriter, readJobDir, instanceIdOf, pyFloatKey, type TrialResult } from './index';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

function trial(name: string, task: string, reward: number | null, exception?: string): TrialResult {
  return {
    id: name, task_name: task, trial_name: name, trial_uri: `file:///x/${name}`, task_id: { path: `/t/${task}` }, source: 'tasks', task_checksum: 'x',
    config: { task: { path: `/t/${task}` }, trial_name: name, trials_dir: '/x', agent: { name: 'claude-code' } },
    agent_info: { name: 'claude-code', version: '2.1', model_info: { name: 'm', provider: 'anthropic' } },
    agent_result: { n_input_tokens: 10, n_cache_tokens: 0, n_output_tokens: 5, cost_usd: 0.01, rollout_details: null, metadata: null },
    verifier_result: reward === null ? null : { rewards: { reward } }, verifier_environment_mode: 'shared',
    exception_info: exception ? { exception_type: exception, exception_message: '', exception_traceback: '', occurred_at: 'now' } : null,
    started_at: null, finished_at: null, environment_setup: null, agent_setup: null, agent_execution: null, verifier: null, step_results: null,
  };
}

describe('trial names', () => {
  it('follow Harbor: 32-char task prefix, trailing _/- stripped, __ + 7 shortuuid chars', () => {
    const n = generateTrialName('org/a-very-long-task-name-that-goes-on-and-on-');
    expect(n).toMatch(/^a-very-long-task-name-that-goes__[2-9A-HJ-NP-Za-km-z]{7}$/);
    expect([...n.split('__')[1]].every((c) => SHORTUUID_ALPHABET.includes(c))).toBe(true);
    expect(generateTrialName('hello-world')).toMatch(/^hello-world__.{7}$/);
  });
});

describe('computeJobStats', () => {
  it('computes counts, sums, evals with reward and exception stats', () => {
    const s = computeJobStats([trial('a__1', 'a', 1), trial('b__1', 'b', 0), trial('c__1', 'c', null, 'AgentTimeoutError')], { total: 4, running: 0, retries: 1 });
    expect(s).toMatchObject({ n_completed_trials: 3, n_errored_trials: 1, n_pending_trials: 1, n_retries: 1, n_input_tokens: 30, cost_usd: 0.03 });
    const ev = s.evals['claude-code__m__tasks'];
    expect(ev.n_trials).toBe(2);
    expect(ev.n_errors).toBe(1);
    expect(ev.metrics).toEqual([{ mean: 1 / 3 }]);
    expect(ev.reward_stats).toEqual({ reward: { '1.0': ['a__1'], '0.0': ['b__1'] } });
    expect(ev.exception_stats).toEqual({ AgentTimeoutError: ['c__1'] });
    expect(ev.pass_at_k).toEqual({ '1': 0.5 });
    expect(pyFloatKey(0.5)).toBe('0.5');
  });
});

describe('readVerifierRewards', () => {
  it('prefers reward.json, falls back to reward.txt, and names Harbor errors', () => {
    const d = tempDir(join(tmpdir(), 'tg-v-'));
    expect(() => readVerifierRewards(d)).toThrow(expect.objectContaining({ exceptionType: 'RewardFileNotFoundError' }));
    writeFileSync(join(d, 'reward.txt'), '');
    expect(() => readVerifierRewards(d)).toThrow(expect.objectContaining({ exceptionType: 'RewardFileEmptyError' }));
    writeFileSync(join(d, 'reward.txt'), '1\n');
    expect(readVerifierRewards(d)).toEqual({ reward: 1 });
    writeFileSync(join(d, 'reward.json'), '{"correct": 0.5, "style": 1}');
    expect(readVerifierRewards(d)).toEqual({ correct: 0.5, style: 1 });
    writeFileSync(join(d, 'reward.json'), '{"correct": "yes"}');
    expect(() => readVerifierRewards(d)).toThrow(expect.objectContaining({ exceptionType: 'VerifierOutputParseError' }));
  });
});

describe('JobWriter / readJobDir', () => {
  it('writes the Harbor layout and reads it back, incomplete trials included', () => {
    const jobs = tempDir(join(tmpdir(), 'tg-j-'));
    const w = new JobWriter(jobs, 'job-1', { job_name: 'job-1' }, 2);
    const t1 = trial('a__AAAAAAA', 'a', 1);
    w.startTrial(t1.config);
    w.finishTrial(t1);
    w.startTrial({ ...t1.config, trial_name: 'b__BBBBBBB', task: { path: '/t/b' } });
    const job = readJobDir(join(jobs, 'job-1'));
    expect(job.result!.stats.n_completed_trials).toBe(1);
    expect(job.result!.stats.n_running_trials).toBe(1);
    expect(job.trials.map((t) => [t.name, Boolean(t.result)])).toEqual([['a__AAAAAAA', true], ['b__BBBBBBB', false]]);
    expect(instanceIdOf(job.trials[1])).toBe('b');
    expect(existsSync(join(jobs, 'job-1/a__AAAAAAA/agent'))).toBe(true);
    w.finish();
    expect(JSON.parse(readFileSync(join(jobs, 'job-1/result.json'), 'utf8')).finished_at).toMatch(/^\d{4}-/);
  });

  it('reports a truncated result.json instead of crashing', () => {
    const jobs = tempDir(join(tmpdir(), 'tg-j-'));
    mkdirSync(join(jobs, 'j/t__1'), { recursive: true });
    writeFileSync(join(jobs, 'j/config.json'), '{}');
    writeFileSync(join(jobs, 'j/t__1/result.json'), '{"id": "x", "task_');
    const job = readJobDir(join(jobs, 'j'));
    expect(job.trials[0].result).toBeUndefined();
    expect(job.trials[0].problem).toMatch(/not valid JSON/);
  });
});
