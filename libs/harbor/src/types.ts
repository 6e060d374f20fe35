/**
 * Harbor v0.22 job and trial results (JobResult, TrialResult). Field names and
 * nullability follow Harbor exactly so a job written by either engine reads
 * the same, and Harbor's own viewer can open ours.
 */

export interface TimingInfo {
  started_at: string | null;
  finished_at: string | null;
}

export interface ExceptionInfo {
  /** Python class name, e.g. AgentTimeoutError. */
  exception_type: string;
  exception_message: string;
  exception_traceback: string;
  occurred_at: string;
}

export interface ModelInfo {
  name: string;
  provider: string;
}

export interface AgentInfo {
  name: string;
  version: string;
  model_info: ModelInfo | null;
}

export interface AgentResult {
  n_input_tokens: number | null;
  n_cache_tokens: number | null;
  n_output_tokens: number | null;
  cost_usd: number | null;
  rollout_details: unknown[] | null;
  metadata: Record<string, unknown> | null;
}

export interface VerifierResult {
  rewards: Record<string, number> | null;
}

export type TaskId = { path: string } | { git_url: string; git_commit_id: string | null; path: string } | { org: string; name: string; ref: string | null };

/** Sparse TrialConfig as Harbor writes `<trial>/config.json` (defaults excluded). */
export interface TrialConfig {
  task: { path: string; [k: string]: unknown };
  trial_name: string;
  trials_dir: string;
  agent: { name?: string | null; import_path?: string | null; model_name?: string | null; kwargs?: Record<string, unknown>; env?: Record<string, string>; [k: string]: unknown };
  environment?: { type?: string; [k: string]: unknown };
  verifier?: Record<string, unknown>;
  job_id?: string;
  timeout_multiplier?: number;
  [k: string]: unknown;
}

export interface TrialResult {
  id: string;
  task_name: string;
  trial_name: string;
  trial_uri: string;
  task_id: TaskId;
  source: string | null;
  task_checksum: string;
  config: TrialConfig;
  agent_info: AgentInfo;
  agent_result: AgentResult | null;
  verifier_result: VerifierResult | null;
  verifier_environment_mode: 'shared' | 'separate' | null;
  exception_info: ExceptionInfo | null;
  started_at: string | null;
  finished_at: string | null;
  environment_setup: TimingInfo | null;
  agent_setup: TimingInfo | null;
  agent_execution: TimingInfo | null;
  verifier: TimingInfo | null;
  step_results: unknown[] | null;
}

export interface AgentDatasetStats {
  n_trials: number;
  n_errors: number;
  metrics: Record<string, number>[];
  pass_at_k: Record<string, number>;
  reward_stats: Record<string, Record<string, string[]>>;
  exception_stats: Record<string, string[]>;
}

export interface JobStats {
  n_completed_trials: number;
  n_errored_trials: number;
  n_running_trials: number;
  n_pending_trials: number;
  n_cancelled_trials: number;
  n_retries: number;
  n_input_tokens: number | null;
  n_cache_tokens: number | null;
  n_output_tokens: number | null;
  cost_usd: number | null;
  evals: Record<string, AgentDatasetStats>;
}

/** `<job>/result.json`: JobResult without `trial_results`. */
export interface JobResult {
  id: string;
  /** Naive local time, as Harbor writes it (unlike trial times, which are UTC). */
  started_at: string;
  updated_at: string | null;
  finished_at: string | null;
  n_total_trials: number;
  stats: JobStats;
}

/** The Harbor retry rule's default exclusions (RetryConfig.exclude_exceptions). */
export const DEFAULT_RETRY_EXCLUDE_EXCEPTIONS = [
  'AgentTimeoutError',
  'VerifierTimeoutError',
  'RewardFileNotFoundError',
  'RewardFileEmptyError',
  'VerifierOutputParseError',
  'ApiUsageLimitError',
  'AgentSafetyRefusalError',
  'AgentAuthenticationError',
  'ModelNotFoundError',
] as const;
