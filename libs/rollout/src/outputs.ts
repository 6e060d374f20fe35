import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readTrialsFile, writeRunFile, writeTrialsFile } from '@trajgen/contracts';
import { instanceIdOf, listJobDirs, primaryReward, readJobDir } from '@trajgen/harbor';
import { TRAJECTORY_FILES } from '@trajgen/ledger';

/**
 * rollout/trials.json (docs/architecture.md): every FINISHED trial of every
 * job of the pipeline, sorted by job then trial; deterministic (no
 * timestamps), small (digests of the raw trajectories, never their content).
 */
export interface TrialsIndexEntry {
  job: string;
  trial: string;
  task_id: string;
  agent: string;
  reward: number | null;
  exception_type: string | null;
  /** `agent/litellm-trajectory.jsonl` / `agent/trajectory.json` → `sha256:<hex>` when present. */
  files: Record<string, string>;
  /** The trial finished but its result.json is unreadable (truncated, not JSON): why. Convert drops it, counted. */
  result_problem?: string;
}

export interface TrialsIndex {
  schema_version: 1;
  trials: TrialsIndexEntry[];
}

function sha256File(path: string): string {
  return 'sha256:' + createHash('sha256').update(readFileSync(path)).digest('hex');
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Build the index from the job dirs. Finished trials are immutable (jobs are
 * append-only), so entries of a previous index are reused for trials it
 * already lists (no re-hashing of old trajectories on every run) as long as
 * the same files are still there.
 */
export function buildTrialsIndex(jobsDir: string, previous?: TrialsIndex): TrialsIndex {
  const known = new Map<string, TrialsIndexEntry>();
  for (const e of previous?.trials ?? []) if (e && typeof e.job === 'string' && typeof e.trial === 'string') known.set(`${e.job}/${e.trial}`, e);
  const trials: TrialsIndexEntry[] = [];
  for (const jobPath of listJobDirs(jobsDir)) {
    const job = readJobDir(jobPath);
    for (const t of job.trials) {
      // A result.json that is there but unreadable is a finished trial with a damaged record: listed, never silently left out.
      if (!t.result && !t.problem) continue;
      const present = TRAJECTORY_FILES.filter((f) => {
        try {
          return statSync(join(t.dir, f)).isFile();
        } catch {
          return false;
        }
      });
      const old = known.get(`${job.name}/${t.name}`);
      let files: Record<string, string>;
      if (old && Object.keys(old.files ?? {}).sort().join() === [...present].sort().join()) files = { ...old.files };
      else files = Object.fromEntries(present.map((f) => [f, sha256File(join(t.dir, f))]));
      trials.push({
        job: job.name,
        trial: t.name,
        task_id: instanceIdOf(t),
        agent: t.result?.agent_info?.name ?? t.result?.config?.agent?.name ?? t.config?.agent?.name ?? 'unknown',
        reward: t.result ? primaryReward(t.result) : null,
        exception_type: t.result?.exception_info?.exception_type ?? null,
        files,
        // Trial-relative: trials.json is a declared output and holds no absolute path.
        ...(t.result ? {} : { result_problem: (t.problem ?? '').split(join(t.dir, 'result.json')).join('result.json') }),
      });
    }
  }
  trials.sort((a, b) => byName(a.job, b.job) || byName(a.trial, b.trial));
  return { schema_version: 1, trials };
}

/** The previous rollout/trials.json, if readable (its entries are reused for unchanged trials). */
export function readPreviousIndex(rolloutOut: string): TrialsIndex | undefined {
  try {
    return readTrialsFile(join(rolloutOut, 'trials.json'));
  } catch {
    // None yet, or one that breaks its contract: this run's index is then built from jobs/ alone.
    return undefined;
  }
}

export function writeTrials(rolloutOut: string, trials: TrialsIndex): void {
  writeTrialsFile(join(rolloutOut, 'trials.json'), trials);
}

export function writeRunRecord(rolloutOut: string, run: RunRecord): void {
  writeRunFile(join(rolloutOut, 'run.json'), run);
}

/** rollout/run.json: this run. */
export interface RunRecord {
  schema_version: 1;
  pipeline: string;
  /** The job this run created; null when nothing was rolled out. */
  job: string | null;
  /** Workspace-relative job dir. */
  job_dir: string | null;
  status: 'completed' | 'nothing_to_roll_out' | 'interrupted' | 'failed';
  /** The error, when status is failed. */
  error?: string;
  engine: string;
  scaffold: string;
  agent_version: string | null;
  model: string;
  proxy_backend: string;
  /** Copied from prepare/batch.json. */
  batch_digest: string;
  /**
   * ledgerStateDigest after ledger.close(); null unless the run completed AND settled the batch (prepare then
   * sees the real digest, so the next run rolls out what is left: capped, cancelled or retryable tasks).
   */
  ledger_digest_after: string | null;
  /** Every batch task is done, failed or skipped. */
  batch_settled: boolean;
  batch: { tasks: number; claimed: number; capped_by_n_tasks: number; refused: { id: string; status: string }[] };
  reconcile: { finalized: number; returned: number; adopted: number };
  counts: {
    trials: number;
    retried_attempts: number;
    reward_1: number;
    reward_0: number;
    no_reward: number;
    by_exception: Record<string, number>;
    by_status: Record<string, number>;
    not_started: number;
  };
  tokens: { input: number; cache: number; output: number };
  cost_usd: number;
  /** Per trial: task, reward, status and the model calls the proxy logged. */
  trials: { task_id: string; trial: string; reward: number | null; exception_type: string | null; status: string; attempts: number; requests: number; failed_requests: number }[];
  /** provider oracle only: generation requests the oracle received per trial (compare with the logged lines). */
  oracle: { generation_by_trial: Record<string, number>; faults_fired: number } | null;
  proxy: { lines: number; failed_lines: number; requests_by_trial: Record<string, number> } | null;
  timings: { total_ms: number; setup_ms: number; trials_ms: number };
}
