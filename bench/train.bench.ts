/**
 * Benchmark of the embedded trainer (not a test): a real LoRA run of the demo's tiny base model
 * on CPU over LLaMA-Factory's glaive tool-call demo rows, through the train stage's own code path.
 *   node -r @swc-node/register bench/train.bench.ts [rows=32] [cutoff=1024] [epochs=2]
 * Prints the figures and writes bench/results/train.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseTrainerLog } from '@trajgen/llamafactory';
import { ensureTrainerEnv, trainPipeline } from '@trajgen/trainer';
import { trainingWorkspace } from '../test/support/training-workspace';

const root = join(__dirname, '..');

async function main() {
  const [rows = 32, cutoff = 1024, epochs = 2] = process.argv.slice(2).map(Number);
  const quiet = { log: () => undefined, warn: () => undefined };
  process.env.TRAJGEN_HF_TRAINER_ENV ??= join(root, 'artifacts/env/hf-trainer');

  let t = Date.now();
  const env = await ensureTrainerEnv(root, { log: (l) => console.log(l), warn: (l) => console.warn(l) });
  const envMs = Date.now() - t;

  const ws = await trainingWorkspace(`conversion:\n  data_name: bench\ntraining:\n  backend: hf\n  model_name_or_path: base-model\n  cutoff_len: ${cutoff}\n  per_device_train_batch_size: 2\n  gradient_accumulation_steps: 1\n  learning_rate: 5.0e-3\n  num_train_epochs: ${epochs}\n  logging_steps: 1\n  save_steps: 1000\n  output_dir: bench-lora\n`, { prefix: 'trajgen-bench-train-', name: 'benchp', rows, dataName: 'bench', baseModelFrom: 'demo' });
  try {
    t = Date.now();
    const outcome = await trainPipeline(ws.load(), quiet);
    const stageMs = Date.now() - t;
    const results = JSON.parse(readFileSync(join(ws.root, 'artifacts/benchp/model/bench-lora/train_results.json'), 'utf8'));
    const loss = parseTrainerLog(readFileSync(join(ws.root, 'artifacts/benchp/model/bench-lora/trainer_log.jsonl'), 'utf8')).loss;
    const figures = {
      when: new Date().toISOString(),
      machine: `${cpus().length} cores (${cpus()[0]?.model ?? '?'})`,
      python: env.python,
      env_created_this_run: env.env?.created ?? false,
      env_creation_sec: env.env?.marker.seconds ?? null,
      env_check_ms: envMs,
      rows,
      cutoff_len: cutoff,
      batch_size: 2,
      steps: outcome.result.steps,
      train_runtime_sec: results.train_runtime,
      train_steps_per_second: results.train_steps_per_second,
      train_samples_per_second: results.train_samples_per_second,
      stage_wall_sec: stageMs / 1000,
      startup_overhead_sec: Math.round((stageMs / 1000 - results.train_runtime) * 10) / 10,
      loss_first: loss[0][1],
      loss_last: loss[loss.length - 1][1],
    };
    console.log(figures);
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    writeFileSync(join(root, 'bench/results/train.json'), JSON.stringify(figures, null, 2) + '\n');
  } finally {
    ws.remove();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
