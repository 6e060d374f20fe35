import { pathToFileURL } from 'node:url';
import { utcIso, type ExceptionInfo, type TimingInfo, type TrialConfig, type TrialResult } from '@trajgen/harbor';
import type { TrialUsage } from './usage';

/**
 * Assemble a Harbor TrialResult (`<trial>/result.json`) from what the local
 * engine observed. Pure, so the field mapping is tested without running an
 * agent.
 */
export interface TrialFacts {
  id: string;
  trialName: string;
  /** Absolute trial dir (→ trial_uri). */
  trialDir: string;
  taskName: string;
  /** Workspace-relative task dir that ran. */
  taskPath: string;
  /** Dataset name (→ source, evals key). */
  source: string;
  checksum: string;
  config: TrialConfig;
  agent: { name: string; version: string; modelInfo: { name: string; provider: string } | null };
  /** null when the agent never started (no agent_result). */
  usage: TrialUsage | null;
  /** null when the verifier produced no result. */
  rewards: Record<string, number> | null;
  exception: ExceptionInfo | null;
  startedAt: Date;
  finishedAt: Date;
  timings: {
    environment_setup: TimingInfo | null;
    agent_setup: TimingInfo | null;
    agent_execution: TimingInfo | null;
    verifier: TimingInfo | null;
  };
  metadata?: Record<string, unknown>;
}

export function timing(start: Date, end: Date): TimingInfo {
  return { started_at: utcIso(start), finished_at: utcIso(end) };
}

/** Harbor's exception record: Python class name, message, traceback text, time. */
export function exceptionInfo(type: string, message: string, traceback: string, at = new Date()): ExceptionInfo {
  return { exception_type: type, exception_message: message, exception_traceback: traceback, occurred_at: utcIso(at) };
}

export function assembleTrialResult(f: TrialFacts): TrialResult {
  return {
    id: f.id,
    task_name: f.taskName,
    trial_name: f.trialName,
    trial_uri: pathToFileURL(f.trialDir).href,
    task_id: { path: f.taskPath },
    source: f.source,
    task_checksum: f.checksum,
    config: f.config,
    agent_info: { name: f.agent.name, version: f.agent.version, model_info: f.agent.modelInfo },
    agent_result: f.usage
      ? {
          n_input_tokens: f.usage.input_tokens,
          n_cache_tokens: f.usage.cache_tokens,
          n_output_tokens: f.usage.output_tokens,
          cost_usd: f.usage.cost_usd,
          rollout_details: null,
          metadata: { requests: f.usage.requests, failed_requests: f.usage.failed, ...(f.metadata ?? {}) },
        }
      : null,
    verifier_result: f.rewards ? { rewards: f.rewards } : null,
    verifier_environment_mode: 'shared',
    exception_info: f.exception,
    started_at: utcIso(f.startedAt),
    finished_at: utcIso(f.finishedAt),
    environment_setup: f.timings.environment_setup,
    agent_setup: f.timings.agent_setup,
    agent_execution: f.timings.agent_execution,
    verifier: f.timings.verifier,
    step_results: null,
  };
}
