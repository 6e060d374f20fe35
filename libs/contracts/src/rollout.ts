import { z } from 'zod';
import { count, counts, defineContract } from './contract';

/** One finished trial of rollout/trials.json. */
export const trialsIndexEntrySchema = z.object({
  job: z.string(),
  trial: z.string(),
  task_id: z.string(),
  agent: z.string(),
  reward: z.number().nullable(),
  exception_type: z.string().nullable(),
  /** `agent/litellm-trajectory.jsonl` / `agent/trajectory.json` → `sha256:<hex>` when present. */
  files: z.record(z.string(), z.string()),
  /** The trial finished but its result.json is unreadable: why (convert drops it, counted). */
  result_problem: z.string().optional(),
});

/**
 * `rollout/trials.json`: every finished trial of every job of the pipeline,
 * sorted by job then trial; deterministic (no timestamps), small (digests of
 * the raw trajectories, never their content).
 */
export const trialsIndexSchema = z.object({
  schema_version: z.literal(1),
  trials: z.array(trialsIndexEntrySchema),
});

const runTrialSchema = z.object({
  task_id: z.string(),
  trial: z.string(),
  reward: z.number().nullable(),
  exception_type: z.string().nullable(),
  status: z.string(),
  attempts: count(),
  requests: count(),
  failed_requests: count(),
});

/** `rollout/run.json`: the latest rollout run. */
export const runRecordSchema = z.object({
  schema_version: z.literal(1),
  pipeline: z.string(),
  /** The job this run created; null when nothing was rolled out. */
  job: z.string().nullable(),
  /** Workspace-relative job dir. */
  job_dir: z.string().nullable(),
  status: z.enum(['completed', 'nothing_to_roll_out', 'interrupted', 'failed']),
  /** The error, when status is failed. */
  error: z.string().optional(),
  engine: z.string(),
  scaffold: z.string(),
  agent_version: z.string().nullable(),
  model: z.string(),
  proxy_backend: z.string(),
  /** Copied from prepare/batch.json. */
  batch_digest: z.string(),
  /** ledgerStateDigest after the ledger closed; null unless the run completed AND settled the batch. */
  ledger_digest_after: z.string().nullable(),
  /** Every batch task is done, failed or skipped. */
  batch_settled: z.boolean(),
  batch: z.object({ tasks: count(), claimed: count(), capped_by_n_tasks: count(), refused: z.array(z.object({ id: z.string(), status: z.string() })) }),
  reconcile: z.object({ finalized: count(), returned: count(), adopted: count() }),
  counts: z.object({
    trials: count(),
    retried_attempts: count(),
    reward_1: count(),
    reward_0: count(),
    no_reward: count(),
    by_exception: counts(),
    by_status: counts(),
    not_started: count(),
  }),
  tokens: z.object({ input: count(), cache: count(), output: count() }),
  cost_usd: z.number().nonnegative(),
  /** Per trial: task, reward, status and the model calls the proxy logged. */
  trials: z.array(runTrialSchema),
  /** provider oracle only: generation requests the oracle received per trial. */
  oracle: z.object({ generation_by_trial: counts(), faults_fired: count() }).nullable(),
  proxy: z.object({ lines: count(), failed_lines: count(), requests_by_trial: counts() }).nullable(),
  timings: z.object({ total_ms: z.number().nonnegative(), setup_ms: z.number().nonnegative(), trials_ms: z.number().nonnegative() }),
});

export type TrialsIndexEntry = z.infer<typeof trialsIndexEntrySchema>;
export type TrialsIndex = z.infer<typeof trialsIndexSchema>;
export type RunRecord = z.infer<typeof runRecordSchema>;

export const trialsIndex = defineContract({ file: 'rollout/trials.json', schema: trialsIndexSchema, producer: 'rollout', consumers: 'convert, archive, ledger' });
export const readTrialsFile = trialsIndex.read;
export const writeTrialsFile = trialsIndex.write;

export const runRecord = defineContract({ file: 'rollout/run.json', schema: runRecordSchema, producer: 'rollout', consumers: 'prepare, archive' });
export const readRunFile = runRecord.read;
export const writeRunFile = runRecord.write;
