/**
 * Test fixture (not a test double of any component): writes the outputs the
 * upstream stages leave under artifacts/<p>/ through their contracts
 * (libs/contracts: the writers validate, the values are typed, so a format
 * change breaks this fixture's type check), and the ledger through the ledger
 * lib itself, so archive and report can be tested without running every
 * stage. Used by the archive/report specs and the e2e report test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipelinePaths } from '@trajgen/config';
import {
  writeBatchFile,
  writeConvertStatsFile,
  writeReceiptFile,
  writeRunFile,
  writeScoreStatsFile,
  writeTrainResultFile,
  writeTrialsFile,
  type TrialsIndexEntry,
} from '@trajgen/contracts';
import { openLedger } from '@trajgen/ledger';
import { convertStatsSample, receiptSample, runSample, scoreStatsSample, trainResultSample } from '../../../../test/support/contract-samples';

export const SEED_TASKS = ['add-greeting', 'fix-off-by-one', 'parse-csv', 'rename-symbol'] as const;

function write(root: string, rel: string, value: unknown): void {
  const file = at(root, rel);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2) + '\n');
}

/** The absolute path of a workspace-relative file, its directory made. */
function at(root: string, rel: string): string {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  return file;
}

/**
 * The ledger as rollout leaves it, made by the ledger itself: three tasks
 * done, parse-csv failed (an agent timeout), one task skipped by a person.
 */
function seedLedger(root: string, pipeline: string, job: string, trials: TrialsIndexEntry[]): void {
  const ledger = openLedger(pipelinePaths(root, pipeline), { purpose: 'seed', maxRetries: 0, reconcile: false });
  try {
    ledger.register([...SEED_TASKS, 'unverified-task']);
    ledger.claim(SEED_TASKS, { job });
    for (const task of SEED_TASKS) {
      const t = trials.find((x) => x.task_id === task && x.reward !== null)!;
      const failed = task === 'parse-csv';
      ledger.recordTrialOutcome(task, {
        job,
        trial: t.trial,
        reward: failed ? null : t.reward,
        trajectory_path: failed ? null : `artifacts/${pipeline}/jobs/${job}/${t.trial}/agent/litellm-trajectory.jsonl`,
        exception_type: failed ? 'AgentTimeoutError' : null,
      });
    }
    ledger.setStatus('unverified-task', 'skipped', 'not verified yet');
  } finally {
    ledger.close();
  }
}

export interface SeedOptions {
  /** Which stages' outputs to write (default: all). */
  stages?: ('prepare' | 'ledger' | 'rollout' | 'jobs' | 'convert' | 'score' | 'register' | 'train')[];
  dataName?: string;
}

/** Seed artifacts/<pipeline>/ with plausible outputs of every stage up to train. */
export function seedPipelineOutputs(root: string, pipeline: string, options: SeedOptions = {}): void {
  const want = new Set(options.stages ?? ['prepare', 'ledger', 'rollout', 'jobs', 'convert', 'score', 'register', 'train']);
  const a = `artifacts/${pipeline}`;
  const data = options.dataName ?? pipeline;
  const job = `${pipeline}-claude-code-2.1.197-trajgen-oracle-20261121T101500`;
  // Two trials per task; fix-off-by-one is always wrong, parse-csv has one infrastructure error.
  const trials: TrialsIndexEntry[] = SEED_TASKS.flatMap((task, i) =>
    [0, 1].map((k) => {
      const error = task === 'parse-csv' && k === 1;
      return {
        job,
        trial: `${task}__Ab${i}${k}xYz`,
        task_id: task,
        agent: 'claude-code',
        reward: error ? null : task === 'fix-off-by-one' ? 0 : 1,
        exception_type: error ? 'EnvironmentStartTimeoutError' : null,
        files: { 'agent/litellm-trajectory.jsonl': `sha256:${String(i * 2 + k).repeat(64).slice(0, 64)}` },
      };
    }),
  );
  if (want.has('prepare')) {
    writeBatchFile(at(root, `${a}/prepare/batch.json`), {
      schema_version: 1,
      pipeline,
      dataset: 'tasks',
      task_root: `pipelines/${pipeline}/tasks`,
      manifest: `pipelines/${pipeline}/tasks/verifiable_tasks.txt`,
      tasks: SEED_TASKS.map((id) => ({ id, name: `trajgen/${id}`, checksum: 'sha256:0', source_path: `pipelines/${pipeline}/tasks/${id}`, staged_path: `${a}/tasks/tasks/${id}`, metadata: {} })),
      counts: { listed: 5, staged: 4, consumed: 0, excluded: 1, missing: 0, invalid: 0 },
      missing: [],
      invalid: [],
      ledger_digest_before: 'x',
      batch_digest: 'y',
    });
  }
  if (want.has('ledger')) seedLedger(root, pipeline, job, trials);
  if (want.has('rollout')) {
    writeTrialsFile(at(root, `${a}/rollout/trials.json`), { schema_version: 1, trials });
    writeRunFile(at(root, `${a}/rollout/run.json`), {
      ...runSample,
      pipeline,
      job,
      job_dir: `${a}/jobs/${job}`,
      batch_digest: 'y',
      ledger_digest_after: 'z',
      counts: { ...runSample.counts, trials: trials.length },
      tokens: { input: 12000, cache: 1600, output: 3400 },
      cost_usd: 0.087,
    });
  }
  if (want.has('jobs')) {
    trials.forEach((t, i) =>
      write(root, `${a}/jobs/${job}/${t.trial}/result.json`, {
        id: `id-${i}`,
        task_name: t.task_id,
        trial_name: t.trial,
        agent_result: { n_input_tokens: 1000 + i * 100, n_cache_tokens: 200, n_output_tokens: 300 + i * 10, cost_usd: 0.01, rollout_details: null, metadata: null },
        verifier_result: t.reward === null ? null : { rewards: { reward: t.reward } },
      }),
    );
  }
  if (want.has('convert')) {
    writeConvertStatsFile(at(root, `${a}/data/im_data/${data}.stats.json`), {
      ...convertStatsSample,
      data_name: data,
      rows: 5,
      instances: 3,
      trials: { seen: 8, selected: 6, converted: 5 },
      not_selected: { unresolved: 2 },
      dropped: { no_trajectory: 1 },
      by_scaffold: { 'claude-code': { trials: 5, rows: 5, main: 5, subagent: 0 } },
      memo: { hits: 0, misses: 5 },
    });
    const rows = [0.91, 0.72, 0.55, 0.83, 0.38].map((c, i) =>
      JSON.stringify({ version: '2.0.0', meta_info: { unique_info: { _instance_id: `i-${i}`, _agent_type: 'main', _score: { composite: c } } }, messages: [] }),
    );
    rows.push(JSON.stringify({ version: '2.0.0', meta_info: { unique_info: { _instance_id: 'i-0', _agent_type: 'subagent', _score: null } }, messages: [] }));
    write(root, `${a}/data/im_data/${data}.scored.jsonl`, rows.join('\n') + '\n');
  }
  if (want.has('score')) {
    const stats = scoreStatsSample([800, 1200, 1600, 2400]);
    writeScoreStatsFile(at(root, `${a}/data/lf_data/${data}.stats.json`), {
      ...stats,
      data_name: data,
      rows: { in: 6, main: 5, subagent: 1, scored: 5, lf: 4, excluded: 2 },
      exclusions: { min_score: 1, max_tokens: 1 },
      tokens: { count: 4, min: 800, mean: 1500, max: 2400, total: 6000, cutoff: 131072, over_cutoff: 0 },
      turns: { count: 4, min: 4, mean: 9.5, max: 16 },
      scores: { all: { count: 5, min: 0.38, mean: 0.678, max: 0.91 }, lf: { count: 4, min: 0.55, mean: 0.7525, max: 0.91 }, components_mean: {} },
      tool_errors: { observations: 40, errored: 3, rate: 0.075, trajectories: 6, trajectories_with_error: 2, trajectory_rate: 0.333333 },
      hack_flags: { confirmed: 0, suspected: 1, rows: [] },
    });
    write(root, `${a}/data/lf_data/${data}.json`, '[]\n');
  }
  if (want.has('register')) {
    writeReceiptFile(at(root, `${a}/register/receipt.json`), { ...receiptSample, dataset: data, dataset_dir: `${a}/data/lf_data`, file_name: `${data}.json`, file_digest: 'sha256:1', action: 'registered' });
  }
  if (want.has('train')) {
    const log = Array.from({ length: 16 }, (_, i) => ({ current_steps: i + 1, total_steps: 16, loss: Math.round((2.4 * Math.exp(-i / 6) + 0.3) * 1e4) / 1e4, lr: 0.005, epoch: (i + 1) / 2 }));
    // An earlier, interrupted attempt logged step 8 too (a resume replays it): the later line wins.
    log.splice(7, 0, { current_steps: 8, total_steps: 16, loss: 9.99, lr: 0.005, epoch: 4 });
    write(root, `${a}/train/trainer_log.jsonl`, log.map((l) => JSON.stringify(l)).join('\n') + '\n');
    writeTrainResultFile(at(root, `${a}/train/result.json`), {
      ...trainResultSample,
      run: 'demo-lora',
      backend: 'hf',
      dataset: data,
      output_dir: `${a}/model/demo-lora`,
      checkpoint_path: `${a}/model/demo-lora/checkpoint-16`,
      checkpoint_step: 16,
      cached_checkpoint: `${a}/train/checkpoint-16`,
      final_loss: log[log.length - 1].loss,
      train_loss: 1.1,
      steps: 16,
      total_steps: 16,
      epoch: 8,
      runtime_sec: 42.5,
      log: `${a}/train/trainer_log.jsonl`,
      plot: `${a}/train/loss.svg`,
    });
  }
}
