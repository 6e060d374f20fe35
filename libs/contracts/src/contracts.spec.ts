import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trackedTempDirs } from '../../../test/support/temp-dirs';
import {
  ContractError,
  batchFile,
  convertStats,
  keyPath,
  registerReceipt,
  runRecord,
  scoreStats,
  summaryFile,
  trainResult,
  trialsIndex,
  type BatchFile,
  type ConvertStats,
  type RegisterReceipt,
  type RunRecord,
  type ScoreStats,
  type SummaryFile,
  type TrainResult,
  type TrialsIndex,
  type WorkerTrainResult,
} from './index';

const tempDir = trackedTempDirs();

// One complete value per contract, typed by the inferred type: a field the schema adds or renames breaks this file's type check.
const batch: BatchFile = {
  schema_version: 1,
  pipeline: 'p',
  dataset: 'tasks',
  task_root: 'pipelines/p/tasks',
  manifest: null,
  tasks: [{ id: 'a', name: 'trajgen/a', checksum: 'sha256:0', source_path: 'pipelines/p/tasks/a', staged_path: 'artifacts/p/tasks/tasks/a', metadata: { difficulty: 'easy' } }],
  counts: { listed: 2, staged: 1, consumed: 0, excluded: 0, missing: 1, invalid: 0 },
  missing: ['b'],
  invalid: [],
  ledger_digest_before: 'sha256:1',
  batch_digest: 'sha256:2',
};

const trials: TrialsIndex = {
  schema_version: 1,
  trials: [
    { job: 'j', trial: 'a__x', task_id: 'a', agent: 'claude-code', reward: 1, exception_type: null, files: { 'agent/trajectory.json': 'sha256:3' } },
    { job: 'j', trial: 'b__y', task_id: 'b', agent: 'claude-code', reward: null, exception_type: null, files: {}, result_problem: 'result.json is not valid JSON' },
  ],
};

const run: RunRecord = {
  schema_version: 1,
  pipeline: 'p',
  job: 'j',
  job_dir: 'artifacts/p/jobs/j',
  status: 'completed',
  engine: 'local',
  scaffold: 'claude-code',
  agent_version: '2.1.197',
  model: 'oracle',
  proxy_backend: 'builtin',
  batch_digest: 'sha256:2',
  ledger_digest_after: null,
  batch_settled: false,
  batch: { tasks: 1, claimed: 1, capped_by_n_tasks: 0, refused: [] },
  reconcile: { finalized: 0, returned: 0, adopted: 0 },
  counts: { trials: 1, retried_attempts: 0, reward_1: 1, reward_0: 0, no_reward: 0, by_exception: {}, by_status: { done: 1 }, not_started: 0 },
  tokens: { input: 10, cache: 0, output: 5 },
  cost_usd: 0.001,
  trials: [{ task_id: 'a', trial: 'a__x', reward: 1, exception_type: null, status: 'done', attempts: 1, requests: 2, failed_requests: 0 }],
  oracle: null,
  proxy: { lines: 2, failed_lines: 0, requests_by_trial: { a__x: 2 } },
  timings: { total_ms: 10, setup_ms: 1, trials_ms: 9 },
};

const convert: ConvertStats = {
  schema_version: 1,
  data_name: 'd',
  converter_version: 'v1',
  input: 'artifacts/p/rollout/trials.json',
  options: { scaffold: 'auto', instance_status: 'resolved', reasoning_check: 'off', reasoning_ratio_threshold: 0.5, exclude_repos_file: '', excluded_repos: 0, max_instances: null },
  rows: 1,
  instances: 1,
  trials: { seen: 2, selected: 1, converted: 1 },
  not_selected: { unresolved: 1 },
  dropped: {},
  by_scaffold: { 'claude-code': { trials: 1, rows: 1, main: 1, subagent: 0 } },
  records: {},
  memo: { hits: 0, misses: 1 },
  examples: [],
  drops: [],
};

const summaryOf = (n: number) => ({ count: n, min: n ? 1 : null, mean: n ? 1 : null, max: n ? 1 : null });
const score: ScoreStats = {
  schema_version: 1,
  producer: 'trajgen score',
  data_name: 'd',
  lf_format: 'sharegpt',
  files: { im: 'a/d.jsonl', scored_im: 'a/d.scored.jsonl', lf: 'a/d.json', plots: [] },
  dataset_info_entry: { file_name: 'd.json', formatting: 'sharegpt', columns: { messages: 'conversations' } },
  scoring_version: 'tqs-v2',
  token_estimate: 'ceil(characters / 4)',
  rows: { in: 1, main: 1, subagent: 0, scored: 1, lf: 1, excluded: 0 },
  exclusions: {},
  lf_repairs: {},
  tokens: { ...summaryOf(1), total: 1, cutoff: 4096, over_cutoff: 0 },
  token_lengths: [1],
  turns: summaryOf(1),
  scores: { all: summaryOf(1), lf: summaryOf(1), components_mean: { tvr: null } },
  tool_errors: { observations: 0, errored: 0, rate: 0, trajectories: 1, trajectories_with_error: 0, trajectory_rate: 0 },
  hack_flags: { confirmed: 0, suspected: 0, rows: [] },
  pathology: {},
  by_scaffold: { 'claude-code': 1 },
  validation: { total: 1, kept: 1, dropped: 0, fatal: [], outcome: 'trains', linted: 0, ok: true },
  filters: { min_score: 0 },
};

const receipt: RegisterReceipt = {
  schema_version: 1,
  dataset: 'd',
  source: 'pipeline',
  dataset_dir: 'artifacts/p/data/lf_data',
  dataset_info: 'artifacts/p/data/lf_data/dataset_info.json',
  file_name: 'd.json',
  file: 'artifacts/p/data/lf_data/d.json',
  file_digest: 'sha256:4',
  rows: 1,
  variant: 'sharegpt',
  hf_hub_url: null,
  action: 'registered',
  changes: [],
  previous_entry: null,
  entry: { file_name: 'd.json', formatting: 'sharegpt', columns: { messages: 'conversations' } },
};

const train: TrainResult = {
  schema_version: 1,
  run: 'r',
  backend: 'hf',
  dataset: 'd',
  output_dir: 'artifacts/p/model/r',
  checkpoint_path: 'artifacts/p/model/r/checkpoint-2',
  checkpoint_step: 2,
  cached_checkpoint: null,
  cached_base_model: null,
  final_loss: 0.5,
  train_loss: 0.7,
  steps: 2,
  total_steps: 2,
  epoch: 1,
  runtime_sec: 3.5,
  training_config: 'artifacts/p/training_config/r.yaml',
  log: 'artifacts/p/train/trainer_log.jsonl',
  plot: 'artifacts/p/train/training_loss.svg',
  train_results: null,
  launch_log: 'artifacts/p/logs/train.log',
  resumed_from: null,
  replayed_steps: 0,
  rows_over_cutoff: null,
  trained_at: '2026-12-07T06:00:00.000Z',
};
const worker: WorkerTrainResult = { schema_version: 1, run: 'r', backend: 'hf', role: 'worker', node_rank: 1, launch_log: 'artifacts/p/logs/train.log' };

const summary: SummaryFile = {
  schema_version: 1,
  pipeline: 'p',
  description: '',
  tasks: { available: true, source: 'artifacts/p/consumption_ledger.yaml', ledger: { total: 1, counts: { done: 1 } }, batch: null },
  trials: { available: false, reason: 'artifacts/p/rollout/trials.json does not exist' },
  usage: { available: false, reason: 'no rollout yet' },
  conversion: { available: false, reason: 'x' },
  score: { available: false, reason: 'x' },
  register: { available: true, source: 'artifacts/p/register/receipt.json', dataset: 'd', action: 'registered', file_name: 'd.json', dataset_dir: 'x' },
  training: { available: false, reason: 'x' },
};

const cases = [
  ['batch.json', batchFile, batch],
  ['trials.json', trialsIndex, trials],
  ['run.json', runRecord, run],
  ['convert stats', convertStats, convert],
  ['score stats', scoreStats, score],
  ['receipt.json', registerReceipt, receipt],
  ['train result', trainResult, train],
  ['train result (worker node)', trainResult, worker],
  ['summary.json', summaryFile, summary],
] as const;

describe('contracts', () => {
  it.each(cases)('%s: write then read gives the same value, written as given', (_name, contract, value) => {
    const file = join(tempDir(join(tmpdir(), 'contracts-')), 'f.json');
    (contract.write as (p: string, v: unknown) => void)(file, value);
    expect(readFileSync(file, 'utf8')).toBe(JSON.stringify(value, null, 2) + '\n');
    expect(contract.read(file)).toEqual(value);
  });

  it('a missing file says which stage writes it', () => {
    const root = tempDir(join(tmpdir(), 'contracts-'));
    const error = catchError(() => batchFile.read(join(root, 'artifacts/p/prepare/batch.json'), { root }));
    expect(error).toBeInstanceOf(ContractError);
    expect(error.problem).toBe('missing');
    expect(error.message).toBe('artifacts/p/prepare/batch.json does not exist');
    expect(error.hint).toMatch(/prepare stage writes it/);
  });

  it('a torn file is not valid JSON, with the parser message and what to do', () => {
    const root = tempDir(join(tmpdir(), 'contracts-'));
    writeFileSync(join(root, 'trials.json'), '{"trials": [');
    const error = catchError(() => trialsIndex.read(join(root, 'trials.json'), { root }));
    expect(error.problem).toBe('unreadable');
    expect(error.message).toMatch(/^trials\.json is not valid JSON \(/);
    expect(error.hint).toMatch(/Run the rollout stage again/);
  });

  it('a malformed file names the file, the contract, every key path and what was expected', () => {
    const root = tempDir(join(tmpdir(), 'contracts-'));
    mkdirSync(join(root, 'prepare'));
    const bad = { ...batch, schema_version: 2, tasks: [{ ...batch.tasks[0], staged_path: 7 }], counts: { ...batch.counts, listed: -1 } };
    writeFileSync(join(root, 'prepare/batch.json'), JSON.stringify(bad));
    const error = catchError(() => batchFile.read(join(root, 'prepare/batch.json'), { root }));
    expect(error.problem).toBe('invalid');
    expect(error.message).toBe('prepare/batch.json does not follow the prepare → rollout, archive contract (prepare/batch.json)');
    expect(error.details).toEqual([
      expect.stringMatching(/^schema_version: .*expected 1/),
      expect.stringMatching(/^tasks\[0\]\.staged_path: .*expected string, received number/),
      expect.stringMatching(/^counts\.listed: .*>=0/),
    ]);
    expect(error.format()).toContain('→ Run the prepare stage again to rewrite it');
  });

  it('a foreign layout is rejected, not half read (the archive used to accept a ledger-like runs list)', () => {
    const root = tempDir(join(tmpdir(), 'contracts-'));
    writeFileSync(join(root, 'result.json'), '[1,2]');
    const error = catchError(() => trainResult.read(join(root, 'result.json'), { root }));
    expect(error.problem).toBe('invalid');
    expect(error.details[0]).toMatch(/^\(the top level\): /);
  });

  it('write refuses a value its readers would reject, and leaves no file', () => {
    const dir = tempDir(join(tmpdir(), 'contracts-'));
    const broken = { ...run, status: 'finished' } as unknown as RunRecord;
    const error = catchError(() => runRecord.write(join(dir, 'run.json'), broken));
    expect(error.details).toEqual([expect.stringMatching(/^status: /)]);
    expect(error.hint).toMatch(/a bug in trajgen/);
    expect(existsSync(join(dir, 'run.json'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reading strips keys the contract does not know (an older or newer producer adds one)', () => {
    const dir = tempDir(join(tmpdir(), 'contracts-'));
    writeFileSync(join(dir, 'r.json'), JSON.stringify({ ...receipt, extra: true }));
    expect(registerReceipt.read(join(dir, 'r.json'))).toEqual(receipt);
  });

  it('key paths read like the JSON', () => {
    expect(keyPath(['tasks', 3, 'id'])).toBe('tasks[3].id');
    expect(keyPath([])).toBe('(the top level)');
  });
});

function catchError(fn: () => unknown): ContractError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ContractError) return error;
    throw error;
  }
  throw new Error('expected a ContractError');
}
