import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { subdirNames, writeJsonAtomic } from '@trajgen/core';
import type { TrialConfig } from '@trajgen/harbor';
import { primaryRewardOf, verifierRewards, type LedgerView } from '@trajgen/ledger';
import { TRAJECTORY_FILE, type Prices } from '@trajgen/proxy';
import { assembleTrialResult } from './trial-result';
import { usageOfFile } from './usage';

export interface CompletedTrial {
  job: string;
  trial: string;
  task_id: string;
  reward: number | null;
}

/**
 * Trials killed after their verifier finished (a reward file and a raw
 * trajectory, no result.json — the process died between the verifier's end
 * and the write of result.json) are complete in substance: write their
 * result.json from what they left, so convert, trials.json and the report see
 * them like any other finished trial and nobody rolls the task out again.
 *
 * Only trials whose task is not `running` in the ledger: a running task may be
 * another live process's trial whose result.json is seconds away. The
 * result's agent_result comes from the proxy log; its timings from the files'
 * times; `agent_result.metadata.completed_from` says it was rebuilt.
 */
export function completeVerifiedTrials(jobsDir: string, ledger: Pick<LedgerView, 'status'>, prices: Prices): CompletedTrial[] {
  const out: CompletedTrial[] = [];
  for (const job of subdirNames(jobsDir)) {
    const jobDir = join(jobsDir, job);
    for (const trial of subdirNames(jobDir)) {
      const dir = join(jobDir, trial);
      if (existsSync(join(dir, 'result.json')) || !existsSync(join(dir, 'config.json'))) continue;
      const v = verifierRewards(dir);
      const trajectory = join(dir, 'agent', TRAJECTORY_FILE);
      if (!v || !existsSync(trajectory) || statSync(trajectory).size === 0) continue;
      let config: TrialConfig;
      try {
        config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as TrialConfig;
      } catch {
        continue;
      }
      const taskPath = typeof config?.task?.path === 'string' ? config.task.path : '';
      const taskId = basename(taskPath);
      if (!taskId || ledger.status(taskId) === 'running') continue;
      const started = statSync(join(dir, 'config.json')).mtime;
      const finished = statSync(v.file).mtime;
      const usage = usageOfFile(trajectory, prices);
      const result = assembleTrialResult({
        id: randomUUID(),
        trialName: trial,
        trialDir: dir,
        taskName: taskId,
        taskPath,
        source: basename(join(taskPath, '..')),
        checksum: '',
        config,
        agent: { name: String(config.agent?.name ?? 'unknown'), version: 'unknown', modelInfo: null },
        usage,
        rewards: v.rewards,
        exception: null,
        startedAt: started,
        finishedAt: finished,
        timings: { environment_setup: null, agent_setup: null, agent_execution: null, verifier: null },
        metadata: { completed_from: 'verifier reward file and trajectory (the trial was killed before result.json was written)' },
      });
      writeJsonAtomic(join(dir, 'result.json'), result);
      out.push({ job, trial, task_id: taskId, reward: primaryRewardOf(v.rewards) });
    }
  }
  return out;
}
