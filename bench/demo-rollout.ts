/**
 * Shared by the rollout and harbor benchmarks: one rollout of the eight demo
 * tasks in a fresh pipeline workspace (its own ledger), in this process,
 * through the function the executor calls (rolloutPipeline). The workspace is
 * the rollout specs' own (libs/rollout/src/__fixtures__/workspace.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rolloutPipeline } from '../libs/rollout/src/index';
import { createWorkspace, DEMO_TASKS } from '../libs/rollout/src/__fixtures__/workspace';

export type RunRecord = Awaited<ReturnType<typeof rolloutPipeline>>['run'];

/** The demo's task ids, as its manifest lists them. */
export const DEMO_TASK_IDS = readFileSync(join(DEMO_TASKS, 'verifiable_tasks.txt'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));

/** Trials per minute of the trial phase, one decimal. */
export const trialsPerMin = (run: RunRecord): number => Math.round((run.counts.trials / (run.timings.trials_ms / 60_000)) * 10) / 10;

/** Roll out the demo tasks with `rollout` over the spec workspace's defaults (oracle upstream, builtin proxy, no retries); returns run.json's record. */
export async function rolloutDemoTasks(prefix: string, rollout: Record<string, unknown>): Promise<RunRecord> {
  const ws = createWorkspace({ name: 'throughput', prefix, demoTasks: DEMO_TASK_IDS, rollout: { max_retries: 0, timeouts: { agent_sec: 300, verifier_sec: 60 }, ...rollout } });
  try {
    ws.prepare();
    const quiet = { log: () => {}, warn: (l: string) => console.warn(`  warning: ${l}`), out: { write: () => true, isTTY: false } };
    return (await rolloutPipeline(ws.load(), quiet, { handleSignals: false })).run;
  } finally {
    ws.remove();
  }
}
