import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { loadPipeline, pipelinePaths, type PipelinePaths } from '@trajgen/config';
import {
  SUMMARY_SCHEMA_VERSION,
  type ConversionCounts,
  type Part,
  type PipelineSummary,
  type Registration,
  type ReportSeries,
  type ScoreSummary,
  type TaskCounts,
  type TaskRow,
  type TrainingSummary,
  type TrialCounts,
  type Usage,
} from '@trajgen/report';
import { TrajgenError } from '@trajgen/core';
import {
  isWorkerResult,
  readBatchFile,
  readConvertStatsFile,
  readReceiptFile,
  readRunFile,
  readScoreStatsFile,
  readTrainResultFile,
  readTrialsFile,
  type LedgerCounts,
  type TrialsIndexEntry,
} from '@trajgen/contracts';
import { JOURNAL_FILE, readLedger } from '@trajgen/ledger';
import { finite, isRecord, readContract, readJson, readYaml, str } from './read';

/** The few config facts the summary needs; read tolerantly (an invalid config still gets its run recorded). */
export interface PipelineFacts {
  name: string;
  description: string;
  dataName: string;
  /** Why the config could not be loaded normally, if it could not. */
  configProblem?: string;
}

export function pipelineFacts(workspaceRoot: string, name: string): PipelineFacts {
  try {
    const p = loadPipeline(workspaceRoot, name);
    return { name, description: p.config.meta_info.description ?? '', dataName: p.config.conversion.data_name ?? name };
  } catch (error) {
    const raw = readYaml<Record<string, any>>(pipelinePaths(workspaceRoot, name).configFile);
    const cfg: Record<string, any> = isRecord(raw.value) ? raw.value : {};
    return {
      name,
      description: str(cfg.meta_info?.description) ?? '',
      dataName: str(cfg.conversion?.data_name) ?? name,
      configProblem: (error as Error).message.split('\n')[0],
    };
  }
}

const rel = (paths: PipelinePaths, p: string) => relative(paths.workspaceRoot, p);

function missing(reason: string): { available: false; reason: string } {
  return { available: false, reason };
}

// ------------------------------------------------------------------ tasks

/**
 * Ledger entries by status, read by the ledger lib itself (YAML plus the
 * journal it keeps beside it until compaction; a torn last journal line is
 * ignored there), without its lock: a rollout may hold it.
 */
export function ledgerCounts(paths: PipelinePaths): LedgerCounts | { problem: string } {
  if (!existsSync(paths.ledgerFile) && !existsSync(join(paths.artifacts, JOURNAL_FILE))) return { problem: `${rel(paths, paths.ledgerFile)} does not exist` };
  try {
    const { total, counts } = readLedger(paths).summary();
    return { total, counts: { ...counts } };
  } catch (error) {
    if (error instanceof TrajgenError) return { problem: error.message.split('\n')[0] };
    throw error;
  }
}

function taskPart(paths: PipelinePaths): Part<TaskCounts> {
  const ledger = ledgerCounts(paths);
  const batch = readContract(readBatchFile, paths.batchFile, paths.workspaceRoot);
  const batchValue = batch.value ? { size: batch.value.tasks.length, counts: { ...batch.value.counts } } : null;
  const ledgerValue = 'problem' in ledger ? null : ledger;
  if (!ledgerValue && !batchValue) return missing(`${'problem' in ledger ? ledger.problem : 'no ledger'}; ${batch.problem}`);
  const sources = [ledgerValue ? rel(paths, paths.ledgerFile) : null, batchValue ? rel(paths, paths.batchFile) : null].filter(Boolean);
  return { available: true, source: sources.join(', '), ledger: ledgerValue, batch: batchValue };
}

// ------------------------------------------------------------------ trials, rewards, usage

interface TrialUsage {
  input: number | null;
  output: number | null;
  cache: number | null;
  cost: number | null;
}

/** Token counts and cost of one trial from its Harbor result.json (jobs are never cached: may be absent). */
function trialUsage(paths: PipelinePaths, t: TrialsIndexEntry): TrialUsage | undefined {
  if (!t.job || !t.trial || t.job.includes('..') || t.trial.includes('..')) return undefined;
  const r = readJson<Record<string, unknown>>(join(paths.jobs, t.job, t.trial, 'result.json'));
  const a = isRecord(r.value) && isRecord(r.value.agent_result) ? r.value.agent_result : undefined;
  if (!a) return undefined;
  const u = { input: finite(a.n_input_tokens), output: finite(a.n_output_tokens), cache: finite(a.n_cache_tokens), cost: finite(a.cost_usd) };
  return u.input === null && u.output === null && u.cost === null ? undefined : u;
}

const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);
const r4 = (v: number | null) => (v === null ? null : Math.round(v * 1e4) / 1e4);
const bump = (map: Record<string, number>, key: string) => (map[key] = (map[key] ?? 0) + 1);

/** Outcomes and usage of a set of trials: all of them, or one task's. */
interface Tally {
  trials: number;
  resolved: number;
  unresolved: number;
  errors: number;
  rewards: number[];
  usage: { input: number; output: number; cache: number; cost: number; trials: number };
}

const emptyTally = (): Tally => ({ trials: 0, resolved: 0, unresolved: 0, errors: 0, rewards: [], usage: { input: 0, output: 0, cache: 0, cost: 0, trials: 0 } });

function addTrial(tally: Tally, reward: number | null, u: TrialUsage | undefined): void {
  tally.trials++;
  if (reward === null) tally.errors++;
  else {
    tally.rewards.push(reward);
    if (reward >= 1) tally.resolved++;
    else tally.unresolved++;
  }
  if (!u) return;
  tally.usage.trials++;
  tally.usage.input += u.input ?? 0;
  tally.usage.output += u.output ?? 0;
  tally.usage.cache += u.cache ?? 0;
  tally.usage.cost += u.cost ?? 0;
}

const passRate = (t: Tally) => (t.rewards.length ? r4(t.resolved / t.rewards.length) : null);

function taskRow(task_id: string, t: Tally): TaskRow {
  const used = t.usage.trials > 0;
  return {
    task_id,
    trials: t.trials,
    resolved: t.resolved,
    unresolved: t.unresolved,
    errors: t.errors,
    pass_rate: passRate(t),
    mean_reward: r4(mean(t.rewards)),
    input_tokens: used ? t.usage.input : null,
    output_tokens: used ? t.usage.output : null,
    cost_usd: used ? r4(t.usage.cost) : null,
  };
}

function rewardSummary(rewards: number[]): TrialCounts['rewards'] {
  let lo: number | null = null;
  let hi: number | null = null;
  for (const r of rewards) {
    lo = lo === null || r < lo ? r : lo;
    hi = hi === null || r > hi ? r : hi;
  }
  return { count: rewards.length, min: lo, mean: r4(mean(rewards)), max: hi };
}

/** Tokens/cost of the latest rollout run (rollout/run.json), when it is there and follows its contract. */
function lastRunUsage(paths: PipelinePaths): Usage['last_run'] {
  const run = readContract(readRunFile, join(paths.rolloutOut, 'run.json'), paths.workspaceRoot).value;
  return run ? { job: run.job, input_tokens: run.tokens.input, output_tokens: run.tokens.output, cost_usd: run.cost_usd } : null;
}

function usagePart(paths: PipelinePaths, total: Tally): Part<Usage> {
  const lastRun = lastRunUsage(paths);
  const u = total.usage;
  if (!u.trials && !lastRun) return missing(`no trial result.json with token counts under ${rel(paths, paths.jobs)} (jobs are never in the Nx cache) and no rollout/run.json`);
  return {
    available: true,
    source: u.trials ? `${rel(paths, paths.jobs)}/<job>/<trial>/result.json` : `${rel(paths, paths.rolloutOut)}/run.json`,
    input_tokens: u.input,
    output_tokens: u.output,
    cache_tokens: u.cache,
    cost_usd: r4(u.cost) ?? 0,
    trials_with_usage: u.trials,
    trials_total: total.trials,
    last_run: lastRun,
  };
}

/** Trial outcomes overall and per task, by agent and exception, from rollout/trials.json; tokens from each trial's result.json. */
function trialParts(paths: PipelinePaths): { trials: Part<TrialCounts>; usage: Part<Usage> } {
  const file = join(paths.rolloutOut, 'trials.json');
  const read = readContract(readTrialsFile, file, paths.workspaceRoot);
  if (!read.value) return { trials: missing(read.problem), usage: missing(`${read.problem} (no rollout yet)`) };
  const total = emptyTally();
  const byTask = new Map<string, Tally>();
  const byException: Record<string, number> = {};
  const byAgent: Record<string, number> = {};
  const jobs = new Set<string>();
  for (const t of read.value.trials) {
    const u = trialUsage(paths, t);
    addTrial(total, t.reward, u);
    if (!byTask.has(t.task_id)) byTask.set(t.task_id, emptyTally());
    addTrial(byTask.get(t.task_id)!, t.reward, u);
    if (t.job) jobs.add(t.job);
    if (t.agent) bump(byAgent, t.agent);
    if (t.exception_type) bump(byException, t.exception_type);
  }
  const trials: Part<TrialCounts> = {
    available: true,
    source: rel(paths, file),
    total: total.trials,
    jobs: jobs.size,
    resolved: total.resolved,
    unresolved: total.unresolved,
    errors: total.errors,
    pass_rate: passRate(total),
    rewards: rewardSummary(total.rewards),
    by_exception: byException,
    by_agent: byAgent,
    per_task: [...byTask.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, t]) => taskRow(id, t)),
  };
  return { trials, usage: usagePart(paths, total) };
}

// ------------------------------------------------------------------ conversion, score, register, train

function conversionPart(paths: PipelinePaths, dataName: string): Part<ConversionCounts> {
  const file = join(paths.imData, `${dataName}.stats.json`);
  const read = readContract(readConvertStatsFile, file, paths.workspaceRoot);
  if (!read.value) return missing(read.problem);
  const s = read.value;
  return {
    available: true,
    source: rel(paths, file),
    data_name: s.data_name,
    rows: s.rows,
    instances: s.instances,
    trials: { ...s.trials },
    not_selected: s.not_selected,
    dropped: s.dropped,
    // Converted trials per scaffold.
    by_scaffold: Object.fromEntries(Object.entries(s.by_scaffold).map(([scaffold, n]) => [scaffold, n.trials])),
  };
}

function scorePart(paths: PipelinePaths, dataName: string): Part<ScoreSummary> {
  const file = join(paths.lfData, `${dataName}.stats.json`);
  const read = readContract(readScoreStatsFile, file, paths.workspaceRoot);
  if (!read.value) return missing(read.problem);
  const s = read.value;
  const { count, min, mean: tokenMean, max, over_cutoff } = s.tokens;
  return {
    available: true,
    source: rel(paths, file),
    data_name: s.data_name,
    lf_format: s.lf_format,
    rows: { ...s.rows },
    exclusions: s.exclusions,
    scores: { all: s.scores.all, lf: s.scores.lf },
    tokens: { count, min, mean: tokenMean, max, over_cutoff },
    turns: s.turns,
    hack_flags: { confirmed: s.hack_flags.confirmed, suspected: s.hack_flags.suspected },
    tool_error_rate: s.tool_errors.rate,
  };
}

function registerPart(paths: PipelinePaths): Part<Registration> {
  const file = join(paths.registerOut, 'receipt.json');
  const read = readContract(readReceiptFile, file, paths.workspaceRoot);
  if (!read.value) return missing(read.problem);
  const r = read.value;
  return { available: true, source: rel(paths, file), dataset: r.dataset, action: r.action, file_name: r.file_name, dataset_dir: r.dataset_dir };
}

export function trainingPart(paths: PipelinePaths): Part<TrainingSummary> {
  const file = join(paths.trainOut, 'result.json');
  const read = readContract(readTrainResultFile, file, paths.workspaceRoot);
  if (!read.value) return missing(read.problem);
  const r = read.value;
  const source = rel(paths, file);
  if (isWorkerResult(r)) return missing(`${source} is a worker node's (rank ${r.node_rank}): node 0 of the run holds the results`);
  return {
    available: true,
    source,
    run: r.run,
    backend: r.backend,
    final_loss: r.final_loss,
    train_loss: r.train_loss,
    steps: r.steps,
    total_steps: r.total_steps,
    epoch: r.epoch,
    runtime_sec: r.runtime_sec,
    checkpoint_path: r.checkpoint_path,
    cached_checkpoint: r.cached_checkpoint,
    log: r.log,
  };
}

/**
 * The summary of what a pipeline's outputs on disk say: task and trial
 * counts, rewards per task, tokens and cost, conversion and filter counts,
 * score summary, registration and training metrics. Reads only small files
 * (stats, indexes, per-trial result.json), so the run recorder can call it
 * after every invocation.
 */
export function collectSummary(workspaceRoot: string, facts: PipelineFacts): PipelineSummary {
  const paths = pipelinePaths(workspaceRoot, facts.name);
  const { trials, usage } = trialParts(paths);
  return {
    schema_version: SUMMARY_SCHEMA_VERSION,
    pipeline: facts.name,
    description: facts.description,
    tasks: taskPart(paths),
    trials,
    usage,
    conversion: conversionPart(paths, facts.dataName),
    score: scorePart(paths, facts.dataName),
    register: registerPart(paths),
    training: trainingPart(paths),
  };
}

/** TQS V2 composite of every scored main row, streamed from the scored IM (the report's score histogram). */
export async function readScoreValues(paths: PipelinePaths, dataName: string): Promise<{ values?: number[]; note?: string }> {
  const file = join(paths.imData, `${dataName}.scored.jsonl`);
  if (!existsSync(file)) return { note: `${rel(paths, file)} does not exist` };
  const values: number[] = [];
  let bad = 0;
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    try {
      const score = JSON.parse(line)?.meta_info?.unique_info?._score;
      const c = finite(score?.composite);
      if (c !== null) values.push(c);
    } catch {
      bad++;
    }
  }
  return values.length ? { values, note: bad ? `${bad} unreadable lines skipped` : undefined } : { note: `no scored main row in ${rel(paths, file)}` };
}

/**
 * The loss curve from the trainer_log.jsonl the train stage copies under
 * train/ (`result.json` → `log`). A resumed run replays steps: the last value
 * per step wins.
 */
export function readLossCurve(paths: PipelinePaths, training: Part<TrainingSummary>): Pick<ReportSeries, 'loss' | 'evalLoss' | 'lossNote'> {
  const candidates = [training.available && training.log ? join(paths.workspaceRoot, training.log) : undefined, join(paths.trainOut, 'trainer_log.jsonl')].filter(
    (p): p is string => !!p && !relative(paths.workspaceRoot, p).startsWith('..'),
  );
  const file = candidates.find((p) => existsSync(p));
  if (!file) return { lossNote: `no trainer_log.jsonl under ${rel(paths, paths.trainOut)}` };
  const loss = new Map<number, number>();
  const evalLoss = new Map<number, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line);
      const step = finite(e?.current_steps) ?? finite(e?.step);
      if (step === null) continue;
      if (finite(e.loss) !== null) loss.set(step, e.loss);
      if (finite(e.eval_loss) !== null) evalLoss.set(step, e.eval_loss);
    } catch {
      /* a line being written */
    }
  }
  const sorted = (m: Map<number, number>) => [...m.entries()].sort((a, b) => a[0] - b[0]) as [number, number][];
  return loss.size ? { loss: sorted(loss), evalLoss: sorted(evalLoss) } : { lossNote: `${rel(paths, file)} has no loss entries` };
}
