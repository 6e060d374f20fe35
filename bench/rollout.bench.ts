/**
 * Benchmark: rollout throughput (trials per minute) on the eight demo tasks at
 * n_concurrent 1 and 4 — the local engine with the REAL Claude Code CLI, the
 * builtin recording proxy and the oracle (the scripted demo/test model, so the
 * figures measure the harness: agent start-up, tool calls, proxy, verifier —
 * not a model's thinking time).
 *
 *   node -r @swc-node/register bench/rollout.bench.ts      (or: npm run bench rollout)
 *   ROUNDS=2 SCAFFOLD=opencode … for more rounds or the other agent
 *
 * Each round runs in a fresh temporary workspace (its own ledger), in this
 * process, through the same function the executor calls (rolloutPipeline).
 * Figures go to stdout and bench/results/rollout.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { rolloutDemoTasks, trialsPerMin } from './demo-rollout';

const ROOT = join(__dirname, '..');
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const SCAFFOLD = process.env.SCAFFOLD ?? 'claude-code';
const CONCURRENCY = [1, 4];

interface RoundFigures {
  n_concurrent: number;
  round: number;
  trials: number;
  passed: number;
  trials_ms: number;
  total_ms: number;
  trials_per_min: number;
  model_calls: number;
}

async function round(nConcurrent: number, index: number): Promise<RoundFigures> {
  const r = await rolloutDemoTasks('trajgen-bench-rollout-', {
    scaffold: SCAFFOLD,
    llm_api: { provider: 'oracle', prices: { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3 }, oracle: { latency_ms: 0, faults: { 'fix-off-by-one': 'wrong_answer' } } },
    n_concurrent: nConcurrent,
  });
  const figures: RoundFigures = {
    n_concurrent: nConcurrent,
    round: index,
    trials: r.counts.trials,
    passed: r.counts.reward_1,
    trials_ms: r.timings.trials_ms,
    total_ms: r.timings.total_ms,
    trials_per_min: trialsPerMin(r),
    model_calls: r.trials.reduce((s, t) => s + t.requests, 0),
  };
  console.log(`n_concurrent ${nConcurrent} round ${index}: ${figures.trials} trials (${figures.passed} reward 1.0) in ${(figures.trials_ms / 1000).toFixed(1)} s → ${figures.trials_per_min} trials/min (${figures.model_calls} model calls; stage total ${(figures.total_ms / 1000).toFixed(1)} s)`);
  return figures;
}

async function main() {
  const rounds: RoundFigures[] = [];
  for (let i = 1; i <= ROUNDS; i++) for (const n of CONCURRENCY) rounds.push(await round(n, i));
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return Math.round((s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) * 10) / 10;
  };
  const summary = Object.fromEntries(CONCURRENCY.map((n) => [String(n), median(rounds.filter((r) => r.n_concurrent === n).map((r) => r.trials_per_min))]));
  const speedup = Math.round((summary['4'] / summary['1']) * 100) / 100;
  console.log(`trials/min: n_concurrent 1 → ${summary['1']}, 4 → ${summary['4']} (×${speedup}) on ${cpus().length} CPUs`);
  const out = {
    schema_version: 1,
    bench: 'rollout',
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' },
    setup: `local engine, real ${SCAFFOLD} CLI from node_modules, builtin proxy, oracle upstream (latency 0), the 8 demo tasks (fix-off-by-one scored 0.0 by design), ${ROUNDS} round(s) per setting; trials/min = trials / wall time of the trial phase`,
    scaffold: SCAFFOLD,
    trials_per_min: summary,
    speedup_4_over_1: speedup,
    rounds,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/rollout.json'), JSON.stringify(out, null, 2) + '\n');
  console.log('written bench/results/rollout.json');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
