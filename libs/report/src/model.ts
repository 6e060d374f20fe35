/**
 * What the report shows, and what `archives/run_NNN/metadata.yaml` records as
 * `summary`: the state of one pipeline's outputs on disk. Built by
 * `@trajgen/archive` (`collectSummary`) from the stages' outputs; every part
 * is optional because a stage may not have run yet, may belong to an older
 * format, or may be restored from a cache without its raw inputs.
 */

/** A part of the summary that is either there or says why not. */
export type Part<T> = ({ available: true; source: string } & T) | { available: false; reason: string };

export const SUMMARY_SCHEMA_VERSION = 1;

export interface NumberSummary {
  count: number;
  min: number | null;
  mean: number | null;
  max: number | null;
}

export interface TaskCounts {
  /** From the consumption ledger: entries by status (pending, running, done, failed, skipped). */
  ledger: { total: number; counts: Record<string, number> } | null;
  /** From prepare/batch.json: the current batch. */
  batch: { size: number; counts: Record<string, number> } | null;
}

export interface TaskRow {
  task_id: string;
  trials: number;
  /** Trials with reward 1.0. */
  resolved: number;
  /** Trials with a finite reward below 1.0. */
  unresolved: number;
  /** Trials without a verifier reward (an exception). */
  errors: number;
  /** resolved / trials with a reward (null: none has one). */
  pass_rate: number | null;
  mean_reward: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
}

export interface TrialCounts {
  total: number;
  jobs: number;
  resolved: number;
  unresolved: number;
  errors: number;
  pass_rate: number | null;
  rewards: NumberSummary;
  /** Harbor exception class → trials. */
  by_exception: Record<string, number>;
  by_agent: Record<string, number>;
  per_task: TaskRow[];
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_tokens: number;
  cost_usd: number;
  /** Trials whose result.json carried token counts (jobs are not in the Nx cache: a clone may lack them). */
  trials_with_usage: number;
  trials_total: number;
  /** rollout/run.json of the latest rollout run, when it reports totals. */
  last_run: { job: string | null; input_tokens: number | null; output_tokens: number | null; cost_usd: number | null } | null;
}

export interface ConversionCounts {
  data_name: string;
  rows: number | null;
  instances: number | null;
  /** seen → selected → converted. */
  trials: Record<string, number>;
  /** Trials not selected by conversion.instance_status, by why (e.g. unresolved). */
  not_selected: Record<string, number>;
  /** Selected trials that produced no rows, by reason. */
  dropped: Record<string, number>;
  /** Converted trials per scaffold. */
  by_scaffold: Record<string, number>;
}

export interface ScoreSummary {
  data_name: string;
  lf_format: string | null;
  rows: Record<string, number>;
  exclusions: Record<string, number>;
  scores: { all: NumberSummary | null; lf: NumberSummary | null };
  tokens: NumberSummary & { over_cutoff?: number | null };
  turns: NumberSummary | null;
  hack_flags: { confirmed: number; suspected: number } | null;
  tool_error_rate: number | null;
}

export interface Registration {
  dataset: string | null;
  action: string | null;
  file_name: string | null;
  dataset_dir: string | null;
}

export interface TrainingSummary {
  run: string | null;
  backend: string | null;
  final_loss: number | null;
  train_loss: number | null;
  steps: number | null;
  total_steps: number | null;
  epoch: number | null;
  runtime_sec: number | null;
  checkpoint_path: string | null;
  cached_checkpoint: string | null;
  log: string | null;
}

/** `archive/summary.json`; libs/contracts holds its schema, and the archive writes this type through it (so the two cannot drift apart). */
export interface PipelineSummary {
  schema_version: typeof SUMMARY_SCHEMA_VERSION;
  pipeline: string;
  description: string;
  tasks: Part<TaskCounts>;
  trials: Part<TrialCounts>;
  usage: Part<Usage>;
  conversion: Part<ConversionCounts>;
  score: Part<ScoreSummary>;
  register: Part<Registration>;
  training: Part<TrainingSummary>;
}

/** Series the report draws that are too long for metadata.yaml. */
export interface ReportSeries {
  /** TQS V2 composite of every scored main row (from the scored IM), when readable. */
  scores?: number[];
  /** Where `scores` came from, or why it is missing. */
  scoresNote?: string;
  /** Training loss by step (trainer_log.jsonl). */
  loss?: [number, number][];
  evalLoss?: [number, number][];
  lossNote?: string;
  /** Trial viewer links: per task, the trials that did not resolve (first few), and whether trial pages exist. */
  trials?: { pages: boolean; note?: string; failed: Record<string, { /** `<shard>/<id>`: the trial page's fragment. */ id: string; trial: string; outcome: string }[]> };
  /** Set when costs come from illustrative prices (the demo's oracle). */
  costNote?: string;
}

/** One entry of `artifacts/<p>/index.yaml` (and of `report/history.js`). */
export interface RunIndexEntry {
  id: string;
  started_at: string;
  completed_at: string;
  status: 'completed' | 'failed' | 'interrupted';
  /** Workspace-relative archive dir. */
  archive: string;
  stages_ran: string[];
  notes: string;
  nx_invocation?: string;
}

// ------------------------------------------------------------------ trial viewer

/** Where a trial's data went: into the training data, filtered out by score, or never converted, and why. */
export interface TrialDataStatus {
  /** in_lf: converted and kept for training; filtered: converted, excluded from LF; converted: not scored yet; not_selected / dropped: no IM row. */
  status: 'in_lf' | 'filtered' | 'converted' | 'not_selected' | 'dropped' | 'not_converted';
  /** Machine reason (e.g. unresolved, min_score, damaged_trajectory). */
  reason: string | null;
  /** One sentence for a person. */
  message: string | null;
}

/** One tool call with its result, side by side in the viewer. */
export interface ViewerCall {
  id: string;
  name: string;
  args: string;
  result: string | null;
  error?: boolean;
  /** Key of the sub-agent conversation this call started (same trial file). */
  sub?: string;
}

/**
 * A turn, kept short because a trial file holds many:
 * ['u', text] user; ['a', text, reasoning, calls] assistant;
 * ['m', note] a marker between raw model calls.
 */
export type ViewerTurn = ['u', string] | ['a', string, string, ViewerCall[]] | ['m', string];

export interface ViewerConversation {
  key: string;
  title: string;
  agent_type: 'main' | 'subagent' | 'side';
  source: 'im' | 'raw';
  /** The parent's tool call id (sub-agent rows: `_parent_tool_call_id`). */
  parent_call?: string | null;
  score?: { composite: number | null; components: Record<string, number | null> } | null;
  flags?: Record<string, unknown> | null;
  lf?: Record<string, unknown> | null;
  system?: string;
  tools?: string[];
  turns: ViewerTurn[];
}

/** Everything the trial page shows; written as `report/trials/<id>.js`. */
export interface TrialDetail {
  id: string;
  job: string;
  trial: string;
  task: string;
  agent: { name: string | null; version: string | null; model: string | null };
  reward: number | null;
  rewards: Record<string, number> | null;
  outcome: 'resolved' | 'unresolved' | 'error';
  exception: { type: string; message: string; traceback: string } | null;
  started_at: string | null;
  duration_sec: number | null;
  phases: Record<string, number | null>;
  usage: { input_tokens: number | null; output_tokens: number | null; cache_tokens: number | null; cost_usd: number | null; model_calls: number | null };
  verifier: { file: string; text: string; omitted_lines: number }[];
  data: TrialDataStatus;
  conversations: ViewerConversation[];
  /** Why parts are missing (jobs not in this clone, no IM row, …). */
  notes: string[];
  /** Set when costs come from illustrative prices (the demo's oracle), not a provider's bill. */
  cost_note?: string;
}

/** One row of the trials list (`report/trials/index.js`, columns TRIAL_COLUMNS). */
export interface TrialListRow {
  id: string;
  /** The data file (`trials/<shard>.js`) that holds this trial with a few dozen others. */
  shard: string;
  task: string;
  trial: string;
  job: string;
  scaffold: string | null;
  reward: number | null;
  outcome: 'resolved' | 'unresolved' | 'error';
  exception: string | null;
  score: number | null;
  flag: string | null;
  status: TrialDataStatus['status'];
  reason: string | null;
  tokens: number | null;
  cost: number | null;
  duration: number | null;
  subagents: number;
}

/** One run as the runs table compares it (history.js `TRAJGEN_RUNS`). */
export interface RunDetail {
  id: string;
  status: string;
  started_at: string;
  /** The run's config, flattened to dotted keys (secrets blanked); the table shows the keys that differ. */
  config: Record<string, string>;
  metrics: { pass_rate: number | null; rows: number | null; mean_score: number | null; final_loss: number | null; cost_usd: number | null; trials: number | null };
  /** Loss by step of the training run this run ended with. */
  loss: [number, number][];
  /** Quality-score histogram of the main rows: 20 bins over [0, 1]. */
  score_bins: number[] | null;
}
