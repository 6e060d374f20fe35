import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTrialDir } from '@trajgen/harbor';
import { completeVerifiedTrials } from './complete';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A trial dir as the local engine leaves it at each phase (a test double of a killed run). */
function trial(jobs: string, name: string, phase: 'created' | 'agent-done' | 'verified' | 'finished'): string {
  const dir = join(jobs, 'job1', name);
  mkdirSync(join(dir, 'agent'), { recursive: true });
  mkdirSync(join(dir, 'verifier'), { recursive: true });
  const task = name.split('__')[0];
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ task: { path: `artifacts/p/tasks/tasks/${task}` }, trial_name: name, trials_dir: join(jobs, 'job1'), agent: { name: 'claude-code' } }));
  if (phase === 'created') return dir;
  const line = { response: { usage: { input_tokens: 10, output_tokens: 5 } } };
  writeFileSync(join(dir, 'agent', 'litellm-trajectory.jsonl'), JSON.stringify(line) + '\n');
  if (phase === 'agent-done') return dir;
  writeFileSync(join(dir, 'verifier', 'reward.txt'), '1\n');
  if (phase === 'finished') writeFileSync(join(dir, 'result.json'), '{"trial_name":"x"}');
  return dir;
}

describe('completing trials killed after their verifier finished', () => {
  it('writes result.json from the reward file and trajectory; earlier phases and running tasks are left alone', () => {
    const jobs = mkdtempSync(join(tmpdir(), 'tg-complete-'));
    dirs.push(jobs);
    trial(jobs, 'a__1', 'created');
    trial(jobs, 'b__1', 'agent-done');
    const verified = trial(jobs, 'c__1', 'verified');
    trial(jobs, 'd__1', 'finished');
    const live = trial(jobs, 'e__1', 'verified');
    const done = completeVerifiedTrials(jobs, { status: (id: string) => (id === 'e' ? 'running' : 'done') }, { input_per_mtok: 0, output_per_mtok: 0, cache_read_per_mtok: 0 } as never);
    expect(done).toEqual([{ job: 'job1', trial: 'c__1', task_id: 'c', reward: 1 }]);
    const t = readTrialDir(verified, 'c__1');
    expect(t.result).toMatchObject({ trial_name: 'c__1', task_name: 'c', verifier_result: { rewards: { reward: 1 } }, exception_info: null });
    expect(t.result!.agent_result?.metadata).toMatchObject({ completed_from: expect.stringMatching(/killed before result.json/) });
    expect(existsSync(join(live, 'result.json')), 'a running task may be a live trial').toBe(false);
    expect(readFileSync(join(jobs, 'job1', 'd__1', 'result.json'), 'utf8')).toBe('{"trial_name":"x"}');
    expect(completeVerifiedTrials(jobs, { status: () => 'done' }, { input_per_mtok: 0, output_per_mtok: 0, cache_read_per_mtok: 0 } as never).map((c) => c.trial)).toEqual(['e__1']);
  });
});
