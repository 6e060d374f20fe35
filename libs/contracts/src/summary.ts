import { z } from 'zod';
import { count, counts, defineContract } from './contract';
import { numberSummarySchema } from './stats';

/** A part of the summary that is either there (with where it came from) or says why not. */
export type Part<T> = ({ available: true; source: string } & T) | { available: false; reason: string };

function part<S extends z.ZodRawShape>(shape: S) {
  return z.discriminatedUnion('available', [
    z.object({ available: z.literal(true), source: z.string(), ...shape }),
    z.object({ available: z.literal(false), reason: z.string() }),
  ]);
}

/** Token sums from each trial's Harbor result.json (a file the archive does not own): any number, so an odd count there never stops the archive writing its summary. */
const tokens = () => z.number();

/** What archive reads from the consumption ledger: entries by status (pending, running, done, failed, skipped). */
export const ledgerCountsSchema = z.object({ total: count(), counts: counts() });

const taskCounts = {
  ledger: ledgerCountsSchema.nullable(),
  /** From prepare/batch.json: the current batch. */
  batch: z.object({ size: count(), counts: counts() }).nullable(),
};

const taskRow = z.object({
  task_id: z.string(),
  trials: count(),
  resolved: count(),
  unresolved: count(),
  errors: count(),
  pass_rate: z.number().nullable(),
  mean_reward: z.number().nullable(),
  input_tokens: tokens().nullable(),
  output_tokens: tokens().nullable(),
  cost_usd: z.number().nullable(),
});

const trialCounts = {
  total: count(),
  jobs: count(),
  resolved: count(),
  unresolved: count(),
  errors: count(),
  pass_rate: z.number().nullable(),
  rewards: numberSummarySchema,
  by_exception: counts(),
  by_agent: counts(),
  per_task: z.array(taskRow),
};

const usage = {
  input_tokens: tokens(),
  output_tokens: tokens(),
  cache_tokens: tokens(),
  cost_usd: z.number(),
  trials_with_usage: count(),
  trials_total: count(),
  last_run: z.object({ job: z.string().nullable(), input_tokens: count().nullable(), output_tokens: count().nullable(), cost_usd: z.number().nullable() }).nullable(),
};

const conversionCounts = {
  data_name: z.string(),
  rows: count().nullable(),
  instances: count().nullable(),
  trials: counts(),
  not_selected: counts(),
  dropped: counts(),
  by_scaffold: counts(),
};

const scoreSummary = {
  data_name: z.string(),
  lf_format: z.string().nullable(),
  rows: counts(),
  exclusions: counts(),
  scores: z.object({ all: numberSummarySchema.nullable(), lf: numberSummarySchema.nullable() }),
  tokens: numberSummarySchema.extend({ over_cutoff: count().nullable().optional() }),
  turns: numberSummarySchema.nullable(),
  hack_flags: z.object({ confirmed: count(), suspected: count() }).nullable(),
  tool_error_rate: z.number().nullable(),
};

const registration = {
  dataset: z.string().nullable(),
  action: z.string().nullable(),
  file_name: z.string().nullable(),
  dataset_dir: z.string().nullable(),
};

const trainingSummary = {
  run: z.string().nullable(),
  backend: z.string().nullable(),
  final_loss: z.number().nullable(),
  train_loss: z.number().nullable(),
  steps: count().nullable(),
  total_steps: count().nullable(),
  epoch: z.number().nullable(),
  runtime_sec: z.number().nullable(),
  checkpoint_path: z.string().nullable(),
  cached_checkpoint: z.string().nullable(),
  log: z.string().nullable(),
};

/** `archive/summary.json`: the state of one pipeline's outputs on disk (the report and the run records show it). */
export const summaryFileSchema = z.object({
  schema_version: z.literal(1),
  pipeline: z.string(),
  description: z.string(),
  tasks: part(taskCounts),
  trials: part(trialCounts),
  usage: part(usage),
  conversion: part(conversionCounts),
  score: part(scoreSummary),
  register: part(registration),
  training: part(trainingSummary),
});

export type LedgerCounts = z.infer<typeof ledgerCountsSchema>;
export type SummaryFile = z.infer<typeof summaryFileSchema>;

export const summaryFile = defineContract({ file: 'archive/summary.json', schema: summaryFileSchema, producer: 'archive', consumers: 'run recorder' });
export const readSummaryFile = summaryFile.read;
export const writeSummaryFile = summaryFile.write;
