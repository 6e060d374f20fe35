/**
 * Benchmark: the real Harbor.
 *  1. Time to create the managed Harbor env (harbor==0.26.0 into a venv, Python ≥ 3.12)
 *     cold (an empty dir: pip resolves and installs, from pip's wheel cache when warm)
 *     and warm (the env exists: the marker check that every rollout does).
 *  2. Trials/min on the eight demo tasks, Claude Code + the oracle, n_concurrent 2:
 *     the `harbor` engine (real `harbor run`, trajgen's host environment) against
 *     the `local` engine (the anchor), in the same run, same tasks, same settings.
 *
 *   node -r @swc-node/register bench/harbor.bench.ts      (or: npm run bench harbor)
 *   SKIP_COLD=1 skips the cold install (reuses $TRAJGEN_HARBOR_ENV or artifacts/env/harbor).
 *
 * Figures go to stdout and bench/results/harbor.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureHarborEnv } from '../libs/rollout/src/index';
import { rolloutDemoTasks, trialsPerMin } from './demo-rollout';

const ROOT = join(__dirname, '..');
const quiet = { log: () => undefined };

async function envTimes(): Promise<{ cold_s: number | null; warm_s: number; env_dir: string }> {
  let cold: number | null = null;
  if (!process.env.SKIP_COLD) {
    const dir = mkdtempSync(join(tmpdir(), 'trajgen-bench-harbor-env-'));
    const saved = process.env.TRAJGEN_HARBOR_ENV;
    process.env.TRAJGEN_HARBOR_ENV = join(dir, 'harbor');
    try {
      const t0 = Date.now();
      const r = await ensureHarborEnv(ROOT, { log: (l) => console.log(`  ${l}`) });
      cold = (Date.now() - t0) / 1000;
      if (!r.created) throw new Error('the cold run did not create the env');
    } finally {
      if (saved === undefined) delete process.env.TRAJGEN_HARBOR_ENV;
      else process.env.TRAJGEN_HARBOR_ENV = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // Warm: the env every rollout uses (created here first if missing, not timed).
  if (!process.env.TRAJGEN_HARBOR_ENV) process.env.TRAJGEN_HARBOR_ENV = join(ROOT, 'artifacts', 'env', 'harbor');
  await ensureHarborEnv(ROOT, { log: (l) => console.log(`  ${l}`) });
  const t0 = process.hrtime.bigint();
  const r = await ensureHarborEnv(ROOT, quiet);
  const warm = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.created) throw new Error('the warm run reinstalled');
  return { cold_s: cold, warm_s: warm, env_dir: process.env.TRAJGEN_HARBOR_ENV };
}

async function throughput(engine: 'local' | 'harbor'): Promise<{ engine: string; trials: number; passed: number; trials_ms: number; trials_per_min: number }> {
  const run = await rolloutDemoTasks(`trajgen-bench-harbor-${engine}-`, {
    engine,
    llm_api: { provider: 'oracle', oracle: { latency_ms: 0, faults: { 'fix-off-by-one': 'wrong_answer' } } },
    n_concurrent: 2,
    ...(engine === 'harbor' ? { harbor: { managed_env: true, environment: 'host' } } : {}),
  });
  return { engine, trials: run.counts.trials, passed: run.counts.reward_1, trials_ms: run.timings.trials_ms, trials_per_min: trialsPerMin(run) };
}

async function main() {
  console.log('managed Harbor env (harbor==0.26.0):');
  const env = await envTimes();
  console.log(`  cold ${env.cold_s === null ? 'skipped' : `${env.cold_s.toFixed(1)} s`}, warm ${(env.warm_s * 1000).toFixed(1)} ms`);
  console.log('trials/min, 8 demo tasks, claude-code + oracle, n_concurrent 2:');
  const local = await throughput('local');
  console.log(`  local engine (anchor): ${local.trials_per_min} trials/min (${local.trials} trials, ${local.passed} passed, ${local.trials_ms} ms)`);
  const harbor = await throughput('harbor');
  console.log(`  harbor engine, host env: ${harbor.trials_per_min} trials/min (${harbor.trials} trials, ${harbor.passed} passed, ${harbor.trials_ms} ms)`);
  const ratio = Math.round((harbor.trials_per_min / local.trials_per_min) * 100) / 100;
  console.log(`  ratio harbor/local: ${ratio}`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench', 'results', 'harbor.json'),
    JSON.stringify({ measured_at: new Date().toISOString(), harbor_version: '0.26.0', env: { cold_s: env.cold_s, warm_ms: Math.round(env.warm_s * 10000) / 10 }, throughput: { local, harbor, ratio_harbor_over_local: ratio } }, null, 2) + '\n',
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
