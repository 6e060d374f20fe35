/**
 * Test helpers: a throw-away workspace with Harbor-layout jobs written by
 * hand (a test double of what `harbor run` or the local engine leave behind:
 * config.json, result.json, agent/…, job result.json with reward_stats).
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { conversionSchema, type ConversionConfig, type PipelinePaths } from '@trajgen/config';
import { writeTrialsFile } from '@trajgen/contracts';
import { pipelineWorkspace } from '../../../../test/support/pipeline-workspace';
import { trackedTempDirs } from '../../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

export const REAL_FIXTURES = join(__dirname, '../../../../test/fixtures/real');
export const SYNTHETIC = join(__dirname, 'synthetic');
export const GOLDEN = join(__dirname, 'golden');

export interface TestWorkspace {
  root: string;
  paths: PipelinePaths;
}

export function makeWorkspace(pipeline = 'p'): TestWorkspace {
  const ws = pipelineWorkspace({ prefix: 'tg-convert-', name: pipeline, config: null, tempDir });
  return { root: ws.root, paths: ws.paths };
}

export function conversion(overrides: Record<string, unknown> = {}): ConversionConfig {
  return { ...conversionSchema.parse({ exclude_repos_file: '', ...overrides }), data_name: (overrides.data_name as string) ?? 'p' };
}

export interface TrialSpec {
  job: string;
  trial: string;
  taskId: string;
  agent?: string;
  reward: number | null;
  finishedAt?: string;
  /** trial-relative path → file content, or `{copy: path}`. */
  files: Record<string, string | { copy: string }>;
  /** task.toml content; the task dir goes to <root>/tasks/<taskId>. */
  taskToml?: string;
  /** Write task.path relative to the workspace (as the local engine does) instead of absolute. */
  relativeTaskPath?: boolean;
}

export function writeTrial(ws: TestWorkspace, t: TrialSpec): string {
  const dir = join(ws.paths.jobs, t.job, t.trial);
  mkdirSync(join(dir, 'agent'), { recursive: true });
  if (!existsSync(join(ws.paths.jobs, t.job, 'config.json'))) writeFileSync(join(ws.paths.jobs, t.job, 'config.json'), JSON.stringify({ job_name: t.job }));
  const taskDir = join(ws.root, 'tasks', t.taskId);
  if (t.taskToml !== undefined) {
    mkdirSync(taskDir, { recursive: true });
    writeFileSync(join(taskDir, 'task.toml'), t.taskToml);
  }
  const taskPath = t.relativeTaskPath ? `tasks/${t.taskId}` : taskDir;
  const config = { task: { path: taskPath }, trial_name: t.trial, trials_dir: join(ws.paths.jobs, t.job), agent: { name: t.agent ?? null, model_name: 'test-model' } };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 4));
  const result = {
    id: `id-${t.trial}`,
    task_name: t.taskId,
    trial_name: t.trial,
    trial_uri: `file://${dir}`,
    task_id: { path: taskPath },
    source: null,
    task_checksum: 'x',
    config,
    agent_info: { name: t.agent ?? 'unknown', version: '1', model_info: { name: 'test-model', provider: 'test' } },
    agent_result: null,
    verifier_result: t.reward === null ? null : { rewards: { reward: t.reward } },
    verifier_environment_mode: 'shared',
    exception_info: null,
    started_at: '2026-03-01T09:00:00.000000+00:00',
    finished_at: t.finishedAt ?? '2026-03-02T10:00:00.000000+00:00',
    environment_setup: null,
    agent_setup: null,
    agent_execution: null,
    verifier: null,
    step_results: null,
  };
  writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 4));
  for (const [rel, content] of Object.entries(t.files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    if (typeof content === 'string') writeFileSync(p, content);
    else copyFileSync(content.copy, p);
  }
  return dir;
}

/** The job's result.json with Harbor's reward_stats, as `harbor run` writes it. */
export function writeJobResult(ws: TestWorkspace, job: string, trials: TrialSpec[]): void {
  const rewards: Record<string, string[]> = {};
  for (const t of trials) if (t.reward !== null) (rewards[Number.isInteger(t.reward) ? `${t.reward}.0` : String(t.reward)] ??= []).push(t.trial);
  const dir = join(ws.paths.jobs, job);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ job_name: job }));
  writeFileSync(
    join(dir, 'result.json'),
    JSON.stringify({ id: job, started_at: '2026-03-01T09:00:00', updated_at: null, finished_at: null, n_total_trials: trials.length, stats: { n_completed_trials: trials.length, n_errored_trials: 0, evals: { 'agent__adhoc': { reward_stats: { reward: rewards } } } } }),
  );
}

/** rollout/trials.json as the rollout stage writes it (its agent falls back to 'unknown' as rollout's does), through its contract. */
export function writeTrialsJson(ws: TestWorkspace, trials: (TrialSpec & { digests?: Record<string, string> })[]): void {
  mkdirSync(ws.paths.rolloutOut, { recursive: true });
  writeTrialsFile(join(ws.paths.rolloutOut, 'trials.json'), {
    schema_version: 1,
    trials: trials.map((t) => ({ job: t.job, trial: t.trial, task_id: t.taskId, agent: t.agent ?? 'unknown', reward: t.reward, exception_type: null, files: t.digests ?? {} })),
  });
}

/** A seeded shuffle (mulberry32), for order-independence properties. */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
