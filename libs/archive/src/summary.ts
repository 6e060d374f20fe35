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
import { counts, finite, isRecord, numberSummary, readJson, readYaml, str } from './read';

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
 * Ledger entries by status. Reads the canonical YAML (`tasks: {id: {status}}`)
 * and replays the journal (`{"set": {id: entry}}` per line) the ledger keeps
 * beside it until compaction; a torn or foreign line is skipped, never fatal.
 * The older `runs: [{task_id, status}]` layout is read too.
 */
export function ledgerCounts(paths: PipelinePaths): { total: number; counts: Record<string, number> } | { problem: string } {
  const file = paths.ledgerFile;
  const doc = readYaml<Record<string, unknown>>(file, rel(paths, file));
  if (doc.problem !== undefined) return { problem: doc.problem };
  const status = new Map<string, string>();
  const root = isRecord(doc.value) ? doc.value : {};
  if (isRecord(root.tasks)) {
    for (const [id, e] of Object.entries(root.tasks)) if (isRecord(e) && typeof e.status === 'string') status.set(id, e.status);
  } else if (Array.isArray(root.runs)) {
    for (const e of root.runs) if (isRecord(e) && typeof e.task_id === 'string' && typeof e.status === 'string') status.set(e.task_id, e.status);
  } else if (root.tasks !== undefined || root.runs !== undefined) {
    return { problem: `${rel(paths, file)} has neither a tasks mapping nor a runs list` };
  }
  const journal = join(paths.ledgerDir, 'journal.jsonl');
  if (existsSync(journal)) {
    for (const line of readFileSync(journal, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const rec = JSON.parse(line);
        if (isRecord(rec) && isRecord(rec.set)) for (const [id, e] of Object.entries(rec.set)) if (isRecord(e) && typeof e.status === 'string') status.set(id, e.status);
      } catch {
        /* a torn last line: the ledger itself reports and repairs it */
      }
    }
  }
  const byStatus: Record<string, number> = {};
  for (const s of ['pending', 'running', 'done', 'failed', 'skipped']) byStatus[s] = 0;
  for (const s of status.values()) byStatus[s] = (byStatus[s] ?? 0) + 1;
  return { total: status.size, counts: byStatus };
}

function taskPart(paths: PipelinePaths): Part<TaskCounts> {
  const ledger = ledgerCounts(paths);
  const batch = readJson<Record<string, unknown>>(paths.batchFile, rel(paths, paths.batchFile));
  const batchValue = isRecord(batch.value) ? { size: Array.isArray(batch.value.tasks) ? batch.value.tasks.length : 0, counts: counts(batch.value.counts) } : null;
  const ledgerValue = 'problem' in ledger ? null : ledger;
  if (!ledgerValue && !batchValue) return missing(`${'problem' in ledger ? ledger.problem : 'no ledger'}; ${batch.problem ?? 'prepare/batch.json has no tasks'}`);
  const sources = [ledgerValue ? rel(paths, paths.ledgerFile) : null, batchValue ? rel(paths, paths.batchFile) : null].filter(Boolean);
  return { available: true, source: sources.join(', '), ledger: ledgerValue, batch: batchValue };
}

// ------------------------------------------------------------------ trials, rewards, usage

interface TrialLine {
  job: string;
  trial: string;
  task_id: string;
  agent: string | null;
  reward: number | null;
  exception_type: string | null;
}

function readTrials(paths: PipelinePaths): { trials: TrialLine[]; file: string } | { problem: string } {
  const file = join(paths.rolloutOut, 'trials.json');
  const doc = readJson<Record<string, unknown>>(file, rel(paths, file));
  if (doc.problem !== undefined) return { problem: doc.problem };
  const list = isRecord(doc.value) && Array.isArray(doc.value.trials) ? doc.value.trials : Array.isArray(doc.value) ? doc.value : undefined;
  if (!list) return { problem: `${rel(paths, file)} has no trials list` };
  const trials: TrialLine[] = [];
  for (const t of list) {
    if (!isRecord(t)) continue;
    const trial = str(t.trial) ?? '';
    const task = str(t.task_id) ?? (trial.includes('__') ? trial.slice(0, trial.lastIndexOf('__')) : trial);
    if (!task) continue;
    trials.push({ job: str(t.job) ?? '', trial, task_id: task, agent: str(t.agent), reward: finite(t.reward), exception_type: str(t.exception_type) });
  }
  return { trials, file: rel(paths, file) };
}

interface TrialUsage {
  input: number | null;
  output: number | null;
  cache: number | null;
  cost: number | null;
}

/** Token counts and cost of one trial from its Harbor result.json (jobs are never cached: may be absent). */
function trialUsage(paths: PipelinePaths, t: TrialLine): TrialUsage | undefined {
  if (!t.job || !t.trial || t.job.includes('..') || t.trial.includes('..')) return undefined;
  const r = readJson<Record<string, unknown>>(join(paths.jobs, t.job, t.trial, 'result.json'));
  const a = isRecord(r.value) && isRecord(r.value.agent_result) ? r.value.agent_result : undefined;
  if (!a) return undefined;
  const u = { input: finite(a.n_input_tokens), output: finite(a.n_output_tokens), cache: finite(a.n_cache_tokens), cost: finite(a.cost_usd) };
  return u.input === null && u.output === null && u.cost === null ? undefined : u;
}

const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);
const r4 = (v: number | null) => (v === null ? null : Math.round(v * 1e4) / 1e4);

/** Tokens/cost of rollout/run.json, whose exact fields belong to the rollout stage: read every plausible spelling. */
function lastRunUsage(paths: PipelinePaths): Usage['last_run'] {
  const file = join(paths.rolloutOut, 'run.json');
  const doc = readJson<Record<string, unknown>>(file);
  if (!isRecord(doc.value)) return null;
  const run = doc.value;
  const tokens = isRecord(run.tokens) ? run.tokens : isRecord(run.usage) ? run.usage : {};
  const pick = (o: Record<string, unknown>, keys: string[]) => {
    for (const k of keys) if (finite(o[k]) !== null) return finite(o[k]);
    return null;
  };
  const costValue = isRecord(run.cost) ? pick(run.cost, ['usd', 'total_usd', 'total', 'cost_usd']) : pick(run, ['cost_usd', 'cost']);
  const input = pick(tokens, ['input', 'input_tokens', 'prompt', 'prompt_tokens', 'n_input_tokens']);
  const output = pick(tokens, ['output', 'output_tokens', 'completion', 'completion_tokens', 'n_output_tokens']);
  return { job: str(run.job) ?? str(run.job_name), input_tokens: input, output_tokens: output, cost_usd: costValue };
}

function trialParts(paths: PipelinePaths): { trials: Part<TrialCounts>; usage: Part<Usage> } {
  const read = readTrials(paths);
  if ('problem' in read) {
    return { trials: missing(read.problem), usage: missing(`${read.problem} (no rollout yet)`) };
  }
  const byTask = new Map<string, { rewards: number[]; resolved: number; unresolved: number; errors: number; trials: number; input: number; output: number; cost: number; withUsage: number }>();
  const byException: Record<string, number> = {};
  const byAgent: Record<string, number> = {};
  const rewards: number[] = [];
  const jobs = new Set<string>();
  let resolved = 0;
  let unresolved = 0;
  let errors = 0;
  const usage = { input: 0, output: 0, cache: 0, cost: 0, with: 0 };
  for (const t of read.trials) {
    jobs.add(t.job);
    const row = byTask.get(t.task_id) ?? { rewards: [], resolved: 0, unresolved: 0, errors: 0, trials: 0, input: 0, output: 0, cost: 0, withUsage: 0 };
    byTask.set(t.task_id, row);
    row.trials++;
    if (t.agent) byAgent[t.agent] = (byAgent[t.agent] ?? 0) + 1;
    if (t.exception_type) byException[t.exception_type] = (byException[t.exception_type] ?? 0) + 1;
    if (t.reward === null) {
      errors++;
      row.errors++;
    } else {
      rewards.push(t.reward);
      row.rewards.push(t.reward);
      if (t.reward >= 1) {
        resolved++;
        row.resolved++;
      } else {
        unresolved++;
        row.unresolved++;
      }
    }
    const u = trialUsage(paths, t);
    if (u) {
      usage.with++;
      row.withUsage++;
      usage.input += u.input ?? 0;
      usage.output += u.output ?? 0;
      usage.cache += u.cache ?? 0;
      usage.cost += u.cost ?? 0;
      row.input += u.input ?? 0;
      row.output += u.output ?? 0;
      row.cost += u.cost ?? 0;
    }
  }
  const perTask: TaskRow[] = [...byTask.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([task_id, r]) => ({
      task_id,
      trials: r.trials,
      resolved: r.resolved,
      unresolved: r.unresolved,
      errors: r.errors,
      pass_rate: r.rewards.length ? r4(r.resolved / r.rewards.length) : null,
      mean_reward: r4(mean(r.rewards)),
      input_tokens: r.withUsage ? r.input : null,
      output_tokens: r.withUsage ? r.output : null,
      cost_usd: r.withUsage ? r4(r.cost) : null,
    }));
  let lo: number | null = null;
  let hi: number | null = null;
  for (const r of rewards) {
    lo = lo === null || r < lo ? r : lo;
    hi = hi === null || r > hi ? r : hi;
  }
  const trials: Part<TrialCounts> = {
    available: true,
    source: read.file,
    total: read.trials.length,
    jobs: [...jobs].filter(Boolean).length,
    resolved,
    unresolved,
    errors,
    pass_rate: rewards.length ? r4(resolved / rewards.length) : null,
    rewards: { count: rewards.length, min: lo, mean: r4(mean(rewards)), max: hi },
    by_exception: byException,
    by_agent: byAgent,
    per_task: perTask,
  };
  const lastRun = lastRunUsage(paths);
  const usagePart: Part<Usage> =
    usage.with || lastRun
      ? {
          available: true,
          source: usage.with ? `${rel(paths, paths.jobs)}/<job>/<trial>/result.json` : `${rel(paths, paths.rolloutOut)}/run.json`,
          input_tokens: usage.input,
          output_tokens: usage.output,
          cache_tokens: usage.cache,
          cost_usd: r4(usage.cost) ?? 0,
          trials_with_usage: usage.with,
          trials_total: read.trials.length,
          last_run: lastRun,
        }
      : missing(`no trial result.json with token counts under ${rel(paths, paths.jobs)} (jobs are never in the Nx cache) and no rollout/run.json`);
  return { trials, usage: usagePart };
}

// ------------------------------------------------------------------ conversion, score, register, train

function conversionPart(paths: PipelinePaths, dataName: string): Part<ConversionCounts> {
  const file = join(paths.imData, `${dataName}.stats.json`);
  const doc = readJson<Record<string, unknown>>(file, rel(paths, file));
  if (doc.problem !== undefined) return missing(doc.problem);
  const s = isRecord(doc.value) ? doc.value : {};
  return {
    available: true,
    source: rel(paths, file),
    data_name: str(s.data_name) ?? dataName,
    rows: finite(s.rows),
    instances: finite(s.instances),
    trials: counts(s.trials),
    not_selected: counts(s.not_selected),
    dropped: counts(s.dropped),
    // Converted trials per scaffold: {scaffold: {trials, rows, main, subagent}} (libs/convert), or plain counts.
    by_scaffold: Object.fromEntries(
      Object.entries(isRecord(s.by_scaffold) ? s.by_scaffold : {})
        .map(([k, v]) => [k, isRecord(v) ? finite(v.trials) ?? finite(v.rows) : finite(v)] as const)
        .filter((e): e is readonly [string, number] => e[1] !== null),
    ),
  };
}

function scorePart(paths: PipelinePaths, dataName: string): Part<ScoreSummary> {
  const file = join(paths.lfData, `${dataName}.stats.json`);
  const doc = readJson<Record<string, unknown>>(file, rel(paths, file));
  if (doc.problem !== undefined) return missing(doc.problem);
  const s = isRecord(doc.value) ? doc.value : {};
  const scores = isRecord(s.scores) ? s.scores : {};
  const tokens = isRecord(s.tokens) ? s.tokens : {};
  const hack = isRecord(s.hack_flags) ? s.hack_flags : undefined;
  return {
    available: true,
    source: rel(paths, file),
    data_name: str(s.data_name) ?? dataName,
    lf_format: str(s.lf_format),
    rows: counts(s.rows),
    exclusions: counts(s.exclusions),
    scores: { all: numberSummary(scores.all), lf: numberSummary(scores.lf) },
    tokens: { ...(numberSummary(tokens) ?? { count: 0, min: null, mean: null, max: null }), over_cutoff: finite(tokens.over_cutoff) },
    turns: numberSummary(s.turns),
    hack_flags: hack ? { confirmed: finite(hack.confirmed) ?? 0, suspected: finite(hack.suspected) ?? 0 } : null,
    tool_error_rate: isRecord(s.tool_errors) ? finite(s.tool_errors.rate) : null,
  };
}

function registerPart(paths: PipelinePaths): Part<Registration> {
  const file = join(paths.registerOut, 'receipt.json');
  const doc = readJson<Record<string, unknown>>(file, rel(paths, file));
  if (doc.problem !== undefined) return missing(doc.problem);
  const r = isRecord(doc.value) ? doc.value : {};
  return { available: true, source: rel(paths, file), dataset: str(r.dataset), action: str(r.action), file_name: str(r.file_name), dataset_dir: str(r.dataset_dir) };
}

export function trainingPart(paths: PipelinePaths): Part<TrainingSummary> {
  const file = join(paths.trainOut, 'result.json');
  const doc = readJson<Record<string, unknown>>(file, rel(paths, file));
  if (doc.problem !== undefined) return missing(doc.problem);
  const r = isRecord(doc.value) ? doc.value : {};
  return {
    available: true,
    source: rel(paths, file),
    run: str(r.run),
    backend: str(r.backend),
    final_loss: finite(r.final_loss),
    train_loss: finite(r.train_loss),
    steps: finite(r.steps),
    total_steps: finite(r.total_steps),
    epoch: finite(r.epoch),
    runtime_sec: finite(r.runtime_sec),
    checkpoint_path: str(r.checkpoint_path),
    cached_checkpoint: str(r.cached_checkpoint),
    log: str(r.log),
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
