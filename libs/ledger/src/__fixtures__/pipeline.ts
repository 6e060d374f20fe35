/**
 * Test helpers: a temporary workspace layout for one pipeline, and trial dirs
 * shaped like Harbor's (trial dir, TrialResult) — only the fields the
 * ledger reads, written by hand (a test double of a Harbor job, not Harbor).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelinePaths } from '@trajgen/config';
import { pipelineWorkspace } from '../../../../test/support/pipeline-workspace';
import { trialPrefix } from '../reconcile';

export interface TempPipeline {
  root: string;
  paths: PipelinePaths;
  remove(): void;
}

export function tempPipeline(name = 'p'): TempPipeline {
  const ws = pipelineWorkspace({ prefix: 'tg-ledger-', name, config: null });
  mkdirSync(join(ws.root, 'artifacts', name), { recursive: true });
  return { root: ws.root, paths: ws.paths, remove: ws.remove };
}

let counter = 0;
export function trialName(taskId: string): string {
  counter++;
  return `${trialPrefix(taskId)}__T${String(counter).padStart(6, '0')}`;
}

export interface FakeTrial {
  reward?: number | null;
  exception?: string | null;
  trajectory?: boolean;
  /** Leave result.json out (trial still running or killed). */
  unfinished?: boolean;
  finishedAt?: string;
  /** Write verifier/reward.txt with this value (the verifier finished). */
  rewardFile?: number;
}

/** Write a trial dir of `job` for `taskId`; returns the trial name. */
export function writeTrial(paths: PipelinePaths, job: string, taskId: string, t: FakeTrial = {}, trial = trialName(taskId)): string {
  const dir = join(paths.jobs, job, trial);
  mkdirSync(join(dir, 'agent'), { recursive: true });
  const task = { path: `artifacts/p/tasks/tasks/${taskId}` };
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ task, trial_name: trial }));
  if (t.trajectory !== false) writeFileSync(join(dir, 'agent', 'litellm-trajectory.jsonl'), `{"task":"${taskId}"}\n`);
  if (t.rewardFile !== undefined) {
    mkdirSync(join(dir, 'verifier'), { recursive: true });
    writeFileSync(join(dir, 'verifier', 'reward.txt'), `${t.rewardFile}\n`);
  }
  if (!t.unfinished) {
    const reward = t.reward === undefined ? 1 : t.reward;
    writeFileSync(
      join(dir, 'result.json'),
      JSON.stringify({
        trial_name: trial,
        task_name: taskId,
        config: { task },
        verifier_result: reward === null ? null : { rewards: { reward } },
        exception_info: t.exception ? { exception_type: t.exception, exception_message: 'x', exception_traceback: '', occurred_at: '2026-01-01T00:00:00Z' } : null,
        started_at: '2026-01-01T00:00:00Z',
        finished_at: t.finishedAt ?? '2026-01-01T00:01:00Z',
      }),
    );
  }
  return trial;
}
