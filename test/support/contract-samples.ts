/**
 * One complete value per inter-stage contract (libs/contracts), typed by the
 * inferred types: a field a schema adds, drops or renames breaks the type
 * check of every spec and fixture that builds on these. Override what a test
 * is about: `{ ...runSample, tokens: {...} }`.
 */
import type { BatchFile, ConvertStats, RegisterReceipt, RunRecord, ScoreStats, SummaryFile, TrainResult, TrialsIndex, WorkerTrainResult } from '@trajgen/contracts';

export const batchSample: BatchFile = {
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

export const trialsSample: TrialsIndex = {
  schema_version: 1,
  trials: [
    { job: 'j', trial: 'a__x', task_id: 'a', agent: 'claude-code', reward: 1, exception_type: null, files: { 'agent/trajectory.json': 'sha256:3' } },
    { job: 'j', trial: 'b__y', task_id: 'b', agent: 'claude-code', reward: null, exception_type: null, files: {}, result_problem: 'result.json is not valid JSON' },
  ],
};

export const runSample: RunRecord = {
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

export const convertStatsSample: ConvertStats = {
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

/** Score's stats for LF rows of these estimated token lengths (ascending). */
export function scoreStatsSample(tokenLengths: number[] = [1]): ScoreStats {
    const n = tokenLengths.length;
  return {
    schema_version: 1,
    producer: 'trajgen score',
    data_name: 'd',
    lf_format: 'sharegpt',
    files: { im: 'a/d.jsonl', scored_im: 'a/d.scored.jsonl', lf: 'a/d.json', plots: [] },
    dataset_info_entry: { file_name: 'd.json', formatting: 'sharegpt', columns: { messages: 'conversations' } },
    scoring_version: 'tqs-v2',
    token_estimate: 'ceil(characters / 4)',
    rows: { in: n, main: n, subagent: 0, scored: n, lf: n, excluded: 0 },
    exclusions: {},
    lf_repairs: {},
    tokens: { ...summaryOf(n), total: tokenLengths.reduce((a, b) => a + b, 0), cutoff: 4096, over_cutoff: 0 },
    token_lengths: tokenLengths,
    turns: summaryOf(n),
    scores: { all: summaryOf(n), lf: summaryOf(n), components_mean: { tvr: null } },
    tool_errors: { observations: 0, errored: 0, rate: 0, trajectories: n, trajectories_with_error: 0, trajectory_rate: 0 },
    hack_flags: { confirmed: 0, suspected: 0, rows: [] },
    pathology: {},
    by_scaffold: { 'claude-code': n },
    validation: { total: n, kept: n, dropped: 0, fatal: [], outcome: 'trains', linted: 0, ok: true },
    filters: { min_score: 0 },
  };
}

export const receiptSample: RegisterReceipt = {
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

export const trainResultSample: TrainResult = {
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
export const workerTrainResultSample: WorkerTrainResult = { schema_version: 1, run: 'r', backend: 'hf', role: 'worker', node_rank: 1, launch_log: 'artifacts/p/logs/train.log' };

export const summarySample: SummaryFile = {
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
