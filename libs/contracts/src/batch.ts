import { z } from 'zod';
import { count, defineContract } from './contract';

/** One task of the batch. */
export const batchTaskSchema = z.object({
  id: z.string().min(1),
  /** `[task].name` or the dir name. */
  name: z.string(),
  checksum: z.string(),
  /** Workspace-relative task dir under the task root. */
  source_path: z.string(),
  /** Workspace-relative staged copy (what rollout runs). */
  staged_path: z.string(),
  metadata: z.record(z.string(), z.unknown()),
});

export const batchCountsSchema = z.object({
  /** Unique ids in the manifest (or, with allow_unverified and no manifest, task dirs found). */
  listed: count(),
  /** Task entries in the staging dir after the refresh (the batch plus consumed tasks still staged). */
  staged: count(),
  /** Listed ids the ledger has as done, failed or skipped (other than by excluded_tasks.txt). */
  consumed: count(),
  /** Listed ids in excluded_tasks.txt. */
  excluded: count(),
  /** Listed, not consumed, but no directory under the task root. */
  missing: count(),
  /** Listed, not consumed, but the directory is not a valid task. */
  invalid: count(),
});

/** `prepare/batch.json`: the tasks prepare hands to rollout, and the counts behind them. */
export const batchFileSchema = z.object({
  schema_version: z.literal(1),
  pipeline: z.string(),
  dataset: z.string().min(1),
  task_root: z.string(),
  /** Workspace-relative manifest path; null when allow_unverified staged every task dir (no manifest). */
  manifest: z.string().nullable(),
  tasks: z.array(batchTaskSchema),
  counts: batchCountsSchema,
  /** Listed ids missing on disk, by name. */
  missing: z.array(z.string()),
  /** Listed ids whose directory is not a valid task, with why. */
  invalid: z.array(z.object({ id: z.string(), problems: z.array(z.string()) })),
  ledger_digest_before: z.string(),
  batch_digest: z.string(),
});

export type BatchTask = z.infer<typeof batchTaskSchema>;
export type BatchCounts = z.infer<typeof batchCountsSchema>;
export type BatchFile = z.infer<typeof batchFileSchema>;

export const batchFile = defineContract({ file: 'prepare/batch.json', schema: batchFileSchema, producer: 'prepare', consumers: 'rollout, archive' });
export const readBatchFile = batchFile.read;
export const writeBatchFile = batchFile.write;
