import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { JobWriter, type TrialResult } from '@trajgen/harbor';
import { buildTrialsIndex } from './index';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** mkdtemp, removed after the file's tests. */
const temp = trackedTempDirs();

function result(job: JobWriter, trial: string, task: string, reward: number | null, exception?: string): TrialResult {
  return {
    id: `${trial}-id`,
    task_name: `org/${task}`,
    trial_name: trial,
    trial_uri: `file://${job.dir}/${trial}`,
    task_id: { path: `artifacts/p/tasks/tasks/${task}` },
    source: 'tasks',
    task_checksum: 'sha256:x',
    config: { task: { path: `artifacts/p/tasks/tasks/${task}` }, trial_name: trial, trials_dir: job.dir, agent: { name: 'claude-code' } },
    agent_info: { name: 'claude-code', version: '2.1.197', model_info: { name: 'm', provider: 'anthropic' } },
    agent_result: null,
    verifier_result: reward === null ? null : { rewards: { reward } },
    verifier_environment_mode: 'shared',
    exception_info: exception ? { exception_type: exception, exception_message: '', exception_traceback: '', occurred_at: new Date().toISOString() } : null,
    started_at: new Date().toISOString(),
    finished_at: new Date().toISOString(),
    environment_setup: null,
    agent_setup: null,
    agent_execution: null,
    verifier: null,
    step_results: null,
  };
}

function trial(job: JobWriter, name: string, task: string, opts: { reward?: number | null; exception?: string; jsonl?: string; atif?: string; unfinished?: boolean } = {}) {
  const dir = job.startTrial({ task: { path: `artifacts/p/tasks/tasks/${task}` }, trial_name: name, trials_dir: job.dir, agent: { name: 'claude-code' } });
  if (opts.jsonl !== undefined) writeFileSync(join(dir, 'agent', 'litellm-trajectory.jsonl'), opts.jsonl);
  if (opts.atif !== undefined) writeFileSync(join(dir, 'agent', 'trajectory.json'), opts.atif);
  if (!opts.unfinished) job.finishTrial(result(job, name, task, opts.reward === undefined ? 1 : opts.reward, opts.exception));
}

describe('rollout/trials.json', () => {
  it('lists a finished trial whose result.json is truncated, with the problem (never a silent disappearance)', () => {
    const jobs = temp(join(tmpdir(), 'tg-index-'));
    const j = new JobWriter(jobs, 'job-a', {}, 2);
    trial(j, 'ok__1', 'ok', { jsonl: '{"a":1}\n' });
    trial(j, 'torn__2', 'torn', { jsonl: '{"a":2}\n' });
    writeFileSync(join(j.dir, 'torn__2', 'result.json'), '{"id": "torn__2-id", "verif');
    const index = buildTrialsIndex(jobs);
    expect(index.trials.map((t) => t.trial)).toEqual(['ok__1', 'torn__2']);
    expect(index.trials[0].result_problem).toBeUndefined();
    expect(index.trials[1]).toMatchObject({ reward: null, agent: 'claude-code', result_problem: expect.stringMatching(/^result\.json is not valid JSON/) });
  });

  it('indexes every finished trial of every job, sorted by job then trial, deterministically, with file digests', () => {
    const jobs = temp(join(tmpdir(), 'tg-index-'));
    // Written out of order on purpose.
    const b = new JobWriter(jobs, 'job-b', {}, 2);
    trial(b, 'zeta__2', 'zeta', { jsonl: '{"a":1}\n' });
    trial(b, 'alpha__1', 'alpha', { reward: 0, exception: 'NonZeroAgentExitCodeError', jsonl: '{"b":2}\n', atif: '{"steps":[]}' });
    const a = new JobWriter(jobs, 'job-a', {}, 2);
    trial(a, 'mid__3', 'mid', { reward: null, exception: 'VerifierTimeoutError', jsonl: '{"c":3}\n' });
    trial(a, 'running__4', 'running', { unfinished: true, jsonl: '{"partial":true}\n' });
    // Dot dirs (kept attempts) are not trials of the job.
    mkdirSync(join(a.dir, '.attempts', 'mid__0'), { recursive: true });
    writeFileSync(join(a.dir, '.attempts', 'mid__0', 'result.json'), '{}');

    const first = buildTrialsIndex(jobs);
    const second = buildTrialsIndex(jobs);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(first.trials.map((t) => `${t.job}/${t.trial}`)).toEqual(['job-a/mid__3', 'job-b/alpha__1', 'job-b/zeta__2']);
    const alpha = first.trials[1];
    expect(alpha).toEqual({
      job: 'job-b',
      trial: 'alpha__1',
      task_id: 'alpha',
      agent: 'claude-code',
      reward: 0,
      exception_type: 'NonZeroAgentExitCodeError',
      files: {
        'agent/litellm-trajectory.jsonl': 'sha256:' + createHash('sha256').update('{"b":2}\n').digest('hex'),
        'agent/trajectory.json': 'sha256:' + createHash('sha256').update('{"steps":[]}').digest('hex'),
      },
    });
    expect(first.trials[0]).toMatchObject({ reward: null, exception_type: 'VerifierTimeoutError' });
    // No timestamps anywhere: the index of an unchanged set of jobs is byte-identical.
    expect(JSON.stringify(first)).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  });

  it('reuses digests of trials a previous index lists (finished trials are immutable) and hashes new ones', () => {
    const jobs = temp(join(tmpdir(), 'tg-index-'));
    const j = new JobWriter(jobs, 'job', {}, 2);
    trial(j, 'one__1', 'one', { jsonl: 'x\n' });
    const previous = buildTrialsIndex(jobs);
    previous.trials[0].files['agent/litellm-trajectory.jsonl'] = 'sha256:from-previous-index';
    trial(j, 'two__2', 'two', { jsonl: 'y\n' });
    const next = buildTrialsIndex(jobs, previous);
    expect(next.trials[0].files['agent/litellm-trajectory.jsonl']).toBe('sha256:from-previous-index');
    expect(next.trials[1].files['agent/litellm-trajectory.jsonl']).toBe('sha256:' + createHash('sha256').update('y\n').digest('hex'));
  });
});
