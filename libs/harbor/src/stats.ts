import type { AgentDatasetStats, JobStats, TrialResult } from './types';

/** Python's str() of a float, as Harbor keys reward values ("1.0", "0.5"). */
export function pyFloatKey(x: number): string {
  if (Number.isInteger(x)) return `${x}.0`;
  return String(x);
}

export function evalKey(trial: TrialResult): string {
  const dataset = trial.source ?? 'adhoc';
  const model = trial.agent_info.model_info?.name;
  return model ? `${trial.agent_info.name}__${model}__${dataset}` : `${trial.agent_info.name}__${dataset}`;
}

function choose(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

function passAtK(trials: TrialResult[]): Record<string, number> {
  const rewards = trials.map((t) => t.verifier_result?.rewards);
  const binary = rewards.every((r) => r && Object.keys(r).length === 1 && [0, 1].includes(Object.values(r)[0]));
  if (!binary || trials.length === 0) return {};
  const byTask = new Map<string, { n: number; c: number }>();
  for (const t of trials) {
    const e = byTask.get(t.task_name) ?? { n: 0, c: 0 };
    e.n += 1;
    e.c += Object.values(t.verifier_result!.rewards!)[0] === 1 ? 1 : 0;
    byTask.set(t.task_name, e);
  }
  const minN = Math.min(...[...byTask.values()].map((e) => e.n));
  const ks = new Set<number>();
  for (let k = 1; k <= minN; k *= 2) ks.add(k);
  for (let k = 5; k <= minN; k += 5) ks.add(k);
  const out: Record<string, number> = {};
  for (const k of [...ks].sort((a, b) => a - b)) {
    const vals = [...byTask.values()].map(({ n, c }) => 1 - choose(n - c, k) / choose(n, k));
    out[String(k)] = vals.reduce((a, b) => a + b, 0) / vals.length;
  }
  return out;
}

function datasetStats(trials: TrialResult[]): AgentDatasetStats {
  const rewardKeys = new Set<string>();
  for (const t of trials) for (const k of Object.keys(t.verifier_result?.rewards ?? {})) rewardKeys.add(k);
  const keys = rewardKeys.size ? [...rewardKeys] : ['reward'];
  const metrics = keys.map((k) => {
    // Harbor's mean counts a missing reward as 0.
    const mean = trials.length ? trials.reduce((s, t) => s + (t.verifier_result?.rewards?.[k] ?? 0), 0) / trials.length : 0;
    return keys.length === 1 ? { mean } : { [k]: mean };
  });
  const reward_stats: Record<string, Record<string, string[]>> = {};
  const exception_stats: Record<string, string[]> = {};
  for (const t of trials) {
    for (const [k, v] of Object.entries(t.verifier_result?.rewards ?? {})) {
      ((reward_stats[k] ??= {})[pyFloatKey(v)] ??= []).push(t.trial_name);
    }
    if (t.exception_info) (exception_stats[t.exception_info.exception_type] ??= []).push(t.trial_name);
  }
  return {
    n_trials: trials.filter((t) => t.verifier_result?.rewards).length,
    n_errors: trials.filter((t) => t.exception_info).length,
    metrics,
    pass_at_k: passAtK(trials.filter((t) => t.verifier_result?.rewards)),
    reward_stats,
    exception_stats,
  };
}

function sumOrNull(values: (number | null | undefined)[]): number | null {
  const present = values.filter((v): v is number => typeof v === 'number');
  return present.length ? present.reduce((a, b) => a + b, 0) : null;
}

/** JobStats from the finished trials, as Harbor computes them for the job's result.json (JobResult). */
export function computeJobStats(finished: TrialResult[], opts: { total: number; running: number; retries: number }): JobStats {
  const groups = new Map<string, TrialResult[]>();
  for (const t of finished) groups.set(evalKey(t), [...(groups.get(evalKey(t)) ?? []), t]);
  const evals: Record<string, AgentDatasetStats> = {};
  for (const [k, ts] of groups) evals[k] = datasetStats(ts);
  return {
    n_completed_trials: finished.length,
    n_errored_trials: finished.filter((t) => t.exception_info).length,
    n_running_trials: opts.running,
    n_pending_trials: Math.max(0, opts.total - finished.length - opts.running),
    n_cancelled_trials: finished.filter((t) => t.exception_info?.exception_type === 'CancelledError').length,
    n_retries: opts.retries,
    n_input_tokens: sumOrNull(finished.map((t) => t.agent_result?.n_input_tokens)),
    n_cache_tokens: sumOrNull(finished.map((t) => t.agent_result?.n_cache_tokens)),
    n_output_tokens: sumOrNull(finished.map((t) => t.agent_result?.n_output_tokens)),
    cost_usd: sumOrNull(finished.map((t) => t.agent_result?.cost_usd)),
    evals,
  };
}

/** The single reward of a trial ("reward" key, or the only key), or null. */
export function primaryReward(t: Pick<TrialResult, 'verifier_result'>): number | null {
  const r = t.verifier_result?.rewards;
  if (!r) return null;
  if (typeof r.reward === 'number') return r.reward;
  const values = Object.values(r);
  return values.length === 1 ? values[0] : null;
}
