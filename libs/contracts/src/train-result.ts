import { z } from 'zod';
import { count, defineContract } from './contract';

/** `train/result.json` of a finished run (node 0 of a multi-node run). */
export const trainResultSchema = z.object({
  schema_version: z.literal(1),
  run: z.string(),
  backend: z.enum(['hf', 'llamafactory']),
  /** Registered dataset the run trained on. */
  dataset: z.string(),
  /** The run dir (all checkpoints; not a declared output). */
  output_dir: z.string(),
  /** Newest checkpoint by step, in the run dir; the run dir itself when no checkpoint was saved. */
  checkpoint_path: z.string(),
  checkpoint_step: count().nullable(),
  /** Copy of the newest checkpoint under train/ (what the Nx cache keeps), or null (cache_checkpoint: none). */
  cached_checkpoint: z.string().nullable(),
  /** Copy of the initialised base weights (weightless base models only), or null. */
  cached_base_model: z.string().nullable(),
  /** Last logged training loss. */
  final_loss: z.number().nullable(),
  /** Mean training loss of the run (train_results.json train_loss). */
  train_loss: z.number().nullable(),
  steps: count(),
  total_steps: count(),
  epoch: z.number().nullable(),
  runtime_sec: z.number().nullable(),
  training_config: z.string(),
  /** trainer_log.jsonl copy under train/. */
  log: z.string(),
  /** Loss plot (SVG) under train/. */
  plot: z.string(),
  train_results: z.string().nullable(),
  launch_log: z.string(),
  resumed_from: z.string().nullable(),
  /** Steps replayed after a resume (duplicate trainer_log lines). */
  replayed_steps: count(),
  /** Training rows longer than cutoff_len (score's token estimates), or null without stats. */
  rows_over_cutoff: z.object({ rows: count(), over: count(), longest: count(), cutoff_len: count() }).nullable(),
  trained_at: z.string(),
});

/** `train/result.json` of a worker node (rank > 0) of a multi-node run: node 0 writes the results. */
export const workerTrainResultSchema = z.object({
  schema_version: z.literal(1),
  run: z.string(),
  backend: z.enum(['hf', 'llamafactory']),
  role: z.literal('worker'),
  node_rank: count(),
  launch_log: z.string(),
});

export const trainResultFileSchema = z.union([trainResultSchema, workerTrainResultSchema]);

export type TrainResult = z.infer<typeof trainResultSchema>;
export type WorkerTrainResult = z.infer<typeof workerTrainResultSchema>;
export type TrainResultFile = z.infer<typeof trainResultFileSchema>;

/** A worker node's result carries no metrics or checkpoint. */
export const isWorkerResult = (r: TrainResultFile): r is WorkerTrainResult => 'role' in r && r.role === 'worker';

export const trainResult = defineContract({ file: 'train/result.json', schema: trainResultFileSchema, producer: 'train', consumers: 'archive' });
export const readTrainResultFile = trainResult.read;
export const writeTrainResultFile = trainResult.write;
