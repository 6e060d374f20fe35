/**
 * Benchmark (not a test): LLaMA-Factory against the embedded trainer, and the managed Python envs.
 *   node -r @swc-node/register bench/managed-envs.bench.ts [--no-cold] [rows=32] [cutoff=1024] [epochs=2]
 *
 * 1. Managed envs (LLaMA-Factory, LiteLLM): cold = created from nothing into a temporary dir (pip's
 *    own download/wheel cache is whatever this machine holds: say so when quoting), warm = the same
 *    call again (the digest check that every train/rollout makes). --no-cold skips the cold creations.
 * 2. Steps/s on the same data (LLaMA-Factory's glaive tool-call demo rows, the score stage's shape),
 *    the same model (pipelines/demo-llamafactory/base-model: the demo's tiny Qwen2 with weights) and
 *    the same training keys, through the train stage's own code path: the embedded trainer (the
 *    anchor) and the real llamafactory-cli, with LLaMA-Factory's default gradient checkpointing and
 *    without it (disable_gradient_checkpointing: true; the embedded trainer does not checkpoint).
 * Prints the figures and writes bench/results/managed-envs.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLlamaFactoryPython } from '@trajgen/llamafactory';
import { ensureLitellmEnv } from '@trajgen/proxy';
import { ensureTrainerEnv, trainPipeline } from '@trajgen/trainer';
import { trainingWorkspace } from '../test/support/training-workspace';

const root = join(__dirname, '..');
const io = { log: (l: string) => console.log(l), warn: (l: string) => console.warn(l) };
const quiet = { log: () => undefined, warn: () => undefined };

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = Date.now();
  const v = await fn();
  return [v, (Date.now() - t) / 1000];
}

/** Cold: a fresh env in a temporary dir (then removed); warm: the same call on the shared env. */
async function envFigures(name: string, variable: string, shared: string, ensure: () => Promise<unknown>, cold: boolean) {
  let coldSec: number | null = null;
  if (cold) {
    const dir = mkdtempSync(join(tmpdir(), `trajgen-bench-env-${name}-`));
    process.env[variable] = join(dir, name);
    try {
      [, coldSec] = await timed(ensure);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  process.env[variable] = shared;
  await ensure(); // creates the shared env when this machine has none yet
  const [, warmSec] = await timed(ensure);
  return { cold_sec: coldSec, warm_ms: Math.round(warmSec * 1000 * 10) / 10 };
}

async function trainRun(backend: 'hf' | 'llamafactory', extra: string, rows: number, cutoff: number, epochs: number) {
  const ws = await trainingWorkspace(`conversion:\n  data_name: bench\ntraining:\n  backend: ${backend}\n  llamafactory: {managed_env: true}\n  model_name_or_path: base-model\n  template: qwen3_nothink\n` +
      `  cutoff_len: ${cutoff}\n  per_device_train_batch_size: 2\n  gradient_accumulation_steps: 1\n  learning_rate: 5.0e-3\n  num_train_epochs: ${epochs}\n` +
      `  logging_steps: 1\n  save_steps: 1000\n  report_to: none\n  output_dir: bench-lora\n${extra}`, { prefix: 'trajgen-bench-env-lf-', name: 'benchp', rows, dataName: 'bench', baseModelFrom: 'demo-llamafactory' });
  try {
    const [outcome, wall] = await timed(() => trainPipeline(ws.load(), quiet));
    const results = JSON.parse(readFileSync(join(ws.root, 'artifacts/benchp/model/bench-lora/train_results.json'), 'utf8'));
    return {
      steps: outcome.result.steps,
      train_runtime_sec: results.train_runtime,
      steps_per_second: results.train_steps_per_second,
      stage_wall_sec: Math.round(wall * 10) / 10,
      startup_overhead_sec: Math.round((wall - results.train_runtime) * 10) / 10,
      final_loss: outcome.result.final_loss,
    };
  } finally {
    ws.remove();
  }
}

async function main() {
  const args = process.argv.slice(2);
  const cold = !args.includes('--no-cold');
  const [rows = 32, cutoff = 1024, epochs = 2] = args.filter((a) => !a.startsWith('--')).map(Number);
  const sharedLf = process.env.TRAJGEN_LLAMAFACTORY_ENV ?? join(root, 'artifacts/env/llamafactory');
  const sharedLl = process.env.TRAJGEN_LITELLM_ENV ?? join(root, 'artifacts/env/litellm');
  process.env.TRAJGEN_HF_TRAINER_ENV ??= join(root, 'artifacts/env/hf-trainer');

  await ensureTrainerEnv(root, io); // created on first use, like the others
  const [, hfWarm] = await timed(() => ensureTrainerEnv(root, io));
  const envs = {
    hf_trainer: { cold_sec: null, warm_ms: Math.round(hfWarm * 1000 * 10) / 10 },
    llamafactory: await envFigures('llamafactory', 'TRAJGEN_LLAMAFACTORY_ENV', sharedLf, () => ensureLlamaFactoryPython(root, io), cold),
    litellm: await envFigures('litellm', 'TRAJGEN_LITELLM_ENV', sharedLl, () => ensureLitellmEnv(root, io), cold),
  };
  console.log('envs', envs);

  const embedded = await trainRun('hf', '', rows, cutoff, epochs);
  console.log('embedded trainer (anchor)', embedded);
  const lf = await trainRun('llamafactory', '', rows, cutoff, epochs);
  console.log('llamafactory-cli', lf);
  const lfNoGc = await trainRun('llamafactory', '  disable_gradient_checkpointing: true\n', rows, cutoff, epochs);
  console.log('llamafactory-cli, no gradient checkpointing', lfNoGc);

  const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
  const figures = {
    when: new Date().toISOString(),
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), shared with other work`,
    data: { rows, cutoff_len: cutoff, epochs, batch_size: 2, model: 'pipelines/demo-llamafactory/base-model' },
    envs,
    train: { embedded_anchor: embedded, llamafactory: lf, llamafactory_no_gradient_checkpointing: lfNoGc },
    llamafactory_vs_embedded_steps_per_second: ratio(lf.steps_per_second, embedded.steps_per_second),
    llamafactory_no_gc_vs_embedded_steps_per_second: ratio(lfNoGc.steps_per_second, embedded.steps_per_second),
  };
  console.log(JSON.stringify(figures, null, 2));
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/managed-envs.json'), JSON.stringify(figures, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
