import { z } from 'zod';
import { count, counts, defineContract } from './contract';

const dropSchema = z.object({ job: z.string(), trial: z.string(), reason: z.string(), message: z.string() });

/** `data/im_data/<data_name>.stats.json`: what convert did. selected = converted + Σ dropped. */
export const convertStatsSchema = z.object({
  schema_version: z.literal(1),
  data_name: z.string(),
  converter_version: z.string(),
  input: z.string(),
  options: z.object({
    scaffold: z.string(),
    instance_status: z.string(),
    reasoning_check: z.string(),
    reasoning_ratio_threshold: z.number(),
    exclude_repos_file: z.string(),
    excluded_repos: count(),
    max_instances: count().nullable(),
  }),
  rows: count(),
  instances: count(),
  trials: z.object({ seen: count(), selected: count(), converted: count() }),
  /** Trials not selected by outcome (instance_status), by why. */
  not_selected: counts(),
  /** Selected trials that produced no rows, by reason. */
  dropped: counts(),
  by_scaffold: z.record(z.string(), z.object({ trials: count(), rows: count(), main: count(), subagent: count() })),
  /** Record-level counts summed over converted and dropped trials. */
  records: counts(),
  memo: z.object({ hits: count(), misses: count() }),
  /** The first drops, to look at. */
  examples: z.array(dropSchema),
  /** Every dropped trial with its reason. */
  drops: z.array(dropSchema),
});

/** count/min/mean/max of a series (min/mean/max null when empty). */
export const numberSummarySchema = z.object({ count: count(), min: z.number().nullable(), mean: z.number().nullable(), max: z.number().nullable() });

/** `data/lf_data/<data_name>.stats.json`: what score did, beside the LF file it describes. */
export const scoreStatsSchema = z.object({
  schema_version: z.literal(1),
  /** `trajgen score`: score removes only stats files (and their LF file) that it wrote. */
  producer: z.literal('trajgen score'),
  data_name: z.string(),
  lf_format: z.string(),
  files: z.object({ im: z.string(), scored_im: z.string(), lf: z.string(), plots: z.array(z.string()) }),
  dataset_info_entry: z.object({
    file_name: z.string(),
    formatting: z.string(),
    columns: z.record(z.string(), z.string()),
    tags: z.record(z.string(), z.string()).optional(),
  }),
  scoring_version: z.string(),
  token_estimate: z.string(),
  rows: z.object({ in: count(), main: count(), subagent: count(), scored: count(), lf: count(), excluded: count() }),
  /** LF exclusions by filter reason. */
  exclusions: counts(),
  lf_repairs: counts(),
  tokens: numberSummarySchema.extend({ total: count(), cutoff: count(), over_cutoff: count() }),
  /** Estimated tokens of every LF row, ascending: the train stage compares them with training.cutoff_len. */
  token_lengths: z.array(count()),
  turns: numberSummarySchema,
  scores: z.object({ all: numberSummarySchema, lf: numberSummarySchema, components_mean: z.record(z.string(), z.number().nullable()) }),
  tool_errors: z.object({
    observations: count(),
    errored: count(),
    rate: z.number(),
    trajectories: count(),
    trajectories_with_error: count(),
    trajectory_rate: z.number(),
  }),
  hack_flags: z.object({
    confirmed: count(),
    suspected: count(),
    rows: z.array(z.object({ index: count(), instance: z.string(), level: z.string(), rules: z.array(z.string()) })),
  }),
  pathology: counts(),
  by_scaffold: counts(),
  validation: z.object({
    total: count(),
    kept: count(),
    dropped: count(),
    fatal: z.array(z.string()),
    outcome: z.string(),
    message: z.string().optional(),
    linted: count(),
    ok: z.boolean(),
  }),
  /** scoring.filters as the run applied them. */
  filters: z.record(z.string(), z.unknown()),
});

export type ConvertStats = z.infer<typeof convertStatsSchema>;
export type NumberSummary = z.infer<typeof numberSummarySchema>;
export type ScoreStats = z.infer<typeof scoreStatsSchema>;

export const convertStats = defineContract({ file: 'data/im_data/<data_name>.stats.json', schema: convertStatsSchema, producer: 'convert', consumers: 'archive' });
export const readConvertStatsFile = convertStats.read;
export const writeConvertStatsFile = convertStats.write;

export const scoreStats = defineContract({ file: 'data/lf_data/<data_name>.stats.json', schema: scoreStatsSchema, producer: 'score', consumers: 'train, archive' });
export const readScoreStatsFile = scoreStats.read;
export const writeScoreStatsFile = scoreStats.write;
