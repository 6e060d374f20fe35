import { z } from 'zod';
import { count, defineContract } from './contract';

/** One dataset_info.json entry, in LLaMA-Factory's own keys. */
export const datasetEntrySchema = z.object({
  file_name: z.string().optional(),
  hf_hub_url: z.string().optional(),
  ms_hub_url: z.string().optional(),
  om_hub_url: z.string().optional(),
  script_url: z.string().optional(),
  cloud_file_name: z.string().optional(),
  formatting: z.enum(['alpaca', 'sharegpt', 'openai']).optional(),
  ranking: z.boolean().optional(),
  subset: z.string().optional(),
  split: z.string().optional(),
  folder: z.string().optional(),
  num_samples: count().optional(),
  columns: z.record(z.string(), z.string()).optional(),
  tags: z.record(z.string(), z.string()).optional(),
});

/**
 * `register/receipt.json`: what register did, for train. Deterministic for a
 * given input (no timestamps): a declared output and an input of train.
 */
export const registerReceiptSchema = z.object({
  schema_version: z.literal(1),
  /** Entry name in dataset_info.json (the YAML `dataset`). */
  dataset: z.string(),
  source: z.enum(['pipeline', 'local_lf', 'hf']),
  /** Directory holding dataset_info.json; workspace-relative when inside it. */
  dataset_dir: z.string(),
  dataset_info: z.string(),
  /** The entry's file_name (null for hub data). */
  file_name: z.string().nullable(),
  /** The data file (workspace-relative when inside it). */
  file: z.string().nullable(),
  file_digest: z.string().nullable(),
  rows: count().nullable(),
  variant: z.enum(['sharegpt', 'rendered']).nullable(),
  hf_hub_url: z.string().nullable(),
  action: z.enum(['registered', 'updated', 'unchanged']),
  changes: z.array(z.string()),
  previous_entry: datasetEntrySchema.nullable(),
  entry: datasetEntrySchema,
});

export type DatasetEntry = z.infer<typeof datasetEntrySchema>;
export type RegisterReceipt = z.infer<typeof registerReceiptSchema>;

export const registerReceipt = defineContract({ file: 'register/receipt.json', schema: registerReceiptSchema, producer: 'register', consumers: 'train, archive' });
export const readReceiptFile = registerReceipt.read;
export const writeReceiptFile = registerReceipt.write;
