import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { TrajgenError } from '@trajgen/core';
import { readBatchFile } from '@trajgen/contracts';
import { inspectTaskDir } from '@trajgen/tasks';

/** prepare/batch.json (docs/architecture.md, prepare → rollout). Only the fields rollout reads. */
export interface BatchFileLike {
  schema_version: number;
  pipeline: string;
  dataset: string;
  task_root?: string;
  tasks: { id: string; name: string; checksum: string; source_path: string; staged_path: string; metadata?: Record<string, unknown> }[];
  batch_digest: string;
  ledger_digest_before?: string;
}

/** Read and check prepare/batch.json; a missing file says to run prepare first. */
export function readBatch(batchFile: string, workspaceRoot: string): BatchFileLike {
  const shown = relative(workspaceRoot, batchFile) || batchFile;
  if (!existsSync(batchFile)) {
    throw new TrajgenError(`${shown} not found: run prepare first`, {
      hint: 'Run `nx run <pipeline>:rollout` (prepare runs first through dependsOn), or `nx run <pipeline>:prepare` on its own.',
    });
  }
  // The whole shape is checked against prepare's contract (libs/contracts), not just the fields read here.
  return readBatchFile(batchFile, { root: workspaceRoot });
}

/** One task as the engines run it. */
export interface TaskToRun {
  id: string;
  /** `[task].name` or the dir name (TrialResult.task_name). */
  name: string;
  checksum: string;
  /** Absolute task dir (the staged copy when it exists). */
  dir: string;
  /** Workspace-relative path of that dir (TrialConfig.task.path). */
  relPath: string;
  instruction: string;
  /** `[agent].timeout_sec` (null: the task sets none). */
  agentTimeoutSec: number | null;
  /** `[verifier].timeout_sec` (null: Harbor's default 600 applies). */
  verifierTimeoutSec: number | null;
  verifierEnv: Record<string, unknown>;
  environmentEnv: Record<string, unknown>;
}

function table(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function positive(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}

/** Terminal-Bench canary lines are stripped from instructions, as Harbor does. */
function stripCanary(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/canary GUID/i.test(l))
    .join('\n')
    .trim();
}

/** Load a batch task: staged dir (fallback: source dir), instruction, timeouts and env tables of task.toml. */
export function loadTask(workspaceRoot: string, t: BatchFileLike['tasks'][number]): TaskToRun {
  const candidates = [t.staged_path, t.source_path].map((p) => (isAbsolute(p) ? p : join(workspaceRoot, p)));
  const dir = candidates.find((p) => existsSync(join(p, 'task.toml')));
  if (!dir) {
    throw new TrajgenError(`Task ${t.id} of the batch is gone: neither ${t.staged_path} nor ${t.source_path} holds a task.toml`, {
      hint: 'Run prepare again: it re-stages the manifest\'s tasks.',
    });
  }
  const inspection = inspectTaskDir(dir);
  if (inspection.problems.length) {
    throw new TrajgenError(`Task ${t.id} (${relative(workspaceRoot, dir)}) is not a valid task any more`, { details: inspection.problems, hint: 'Fix the task or run prepare again.' });
  }
  const cfg = inspection.config ?? {};
  const env = table(cfg.environment);
  return {
    id: t.id,
    name: t.name || t.id,
    checksum: t.checksum,
    dir,
    relPath: relative(workspaceRoot, dir),
    instruction: stripCanary(readFileSync(join(dir, 'instruction.md'), 'utf8')),
    agentTimeoutSec: positive(table(cfg.agent).timeout_sec),
    verifierTimeoutSec: positive(table(cfg.verifier).timeout_sec),
    verifierEnv: table(table(cfg.verifier).env),
    environmentEnv: table(env.env),
  };
}

/** Harbor's default verifier timeout when a task sets none (`[verifier].timeout_sec` of its TaskConfig). */
export const HARBOR_DEFAULT_VERIFIER_TIMEOUT_SEC = 600;

/**
 * Effective timeouts, the same rule in both engines: the task's value capped
 * by rollout.timeouts, times the multiplier (Harbor: `max_timeout_sec` caps,
 * `timeout_multiplier` scales, in Harbor's JobConfig).
 */
export function effectiveTimeouts(task: Pick<TaskToRun, 'agentTimeoutSec' | 'verifierTimeoutSec'>, cfg: { agent_sec: number; verifier_sec: number; multiplier: number }): { agentSec: number; verifierSec: number } {
  const agent = Math.min(task.agentTimeoutSec ?? Infinity, cfg.agent_sec);
  const verifier = Math.min(task.verifierTimeoutSec ?? HARBOR_DEFAULT_VERIFIER_TIMEOUT_SEC, cfg.verifier_sec);
  return { agentSec: agent * cfg.multiplier, verifierSec: verifier * cfg.multiplier };
}
