import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseTrainerLog } from '@trajgen/llamafactory';
import { trainPipeline } from './train-pipeline';
import { ensureTrainerEnv } from './env';
import { captureIO, REPO_ROOT, trainingWorkspace } from './__fixtures__/pipeline';
import type { PipelineWorkspace } from '../../../test/support/pipeline-workspace';

// A REAL training run of the embedded trainer (transformers + peft, CPU) on 8 rows of LLaMA-Factory's
// glaive tool-call demo, with the demo's tiny base model. The trainer's Python env is the workspace's
// artifacts/env/hf-trainer (created on first use, ~1 min from the package index; reused afterwards).
process.env.TRAJGEN_HF_TRAINER_ENV ??= join(REPO_ROOT, 'artifacts/env/hf-trainer');

const CONFIG = `# Test pipeline: comments must survive the write-back.
conversion:
  data_name: tdata
training:
  backend: hf
  model_name_or_path: base-model       # copied from pipelines/demo/base-model
  template: qwen3_nothink
  finetuning_type: lora
  lora_rank: 8
  cutoff_len: 256
  per_device_train_batch_size: 4
  gradient_accumulation_steps: 1
  learning_rate: 2.0e-2
  num_train_epochs: 4
  lr_scheduler_type: constant
  warmup_ratio: 0.0
  logging_steps: 1
  save_steps: 3
  output_dir: t-lora
runtime_info:
  output: {}                           # filled by train
`;

describe('train with the embedded hf trainer (real, CPU)', () => {
  let ws: PipelineWorkspace;
  beforeAll(async () => {
    // On a fresh clone this creates the trainer env (~1 min from the package index); later runs reuse it.
    await ensureTrainerEnv(REPO_ROOT, { log: (l) => console.log(l), warn: (l) => console.warn(l) });
    ws = await trainingWorkspace(CONFIG, 8);
  }, 600_000);
  afterAll(() => ws?.remove());
  const run = (p: string) => join(ws.root, 'artifacts/p/model/t-lora', p);

  it('trains: loss decreases, checkpoints at save_steps, LLaMA-Factory-compatible outputs, result.json and the write-back', async () => {
    const { io, lines } = captureIO();
    const outcome = await trainPipeline(ws.load(), io);

    // checkpoints every save_steps (3) and at the end (8 steps = 8 rows / batch 4 × 4 epochs)
    expect(readdirSync(run('')).filter((n) => n.startsWith('checkpoint-')).sort()).toEqual(['checkpoint-3', 'checkpoint-6', 'checkpoint-8']);
    expect(readdirSync(run('checkpoint-3')).sort()).toEqual(
      expect.arrayContaining(['adapter_config.json', 'adapter_model.safetensors', 'optimizer.pt', 'rng_state.pth', 'scheduler.pt', 'tokenizer.json', 'trainer_state.json', 'training_args.bin']),
    );
    for (const f of ['adapter_model.safetensors', 'trainer_log.jsonl', 'trainer_state.json', 'train_results.json', 'all_results.json', 'training_loss.svg', 'base_model/model.safetensors']) {
      expect([f, existsSync(run(f))]).toEqual([f, true]);
    }
    expect(JSON.parse(readFileSync(run('adapter_config.json'), 'utf8'))).toMatchObject({ r: 8, lora_alpha: 16, peft_type: 'LORA' });

    // trainer_log.jsonl: LLaMA-Factory's fields, null keys removed, H:MM:SS times
    const logLines = readFileSync(run('trainer_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(logLines).toHaveLength(9); // 8 logged steps + the final summary line
    expect(Object.keys(logLines[0]).sort()).toEqual(['current_steps', 'elapsed_time', 'epoch', 'loss', 'lr', 'percentage', 'remaining_time', 'total_steps']);
    expect(logLines[0]).toMatchObject({ current_steps: 1, total_steps: 8, percentage: 12.5, lr: 0.02 });
    expect(logLines[0].elapsed_time).toMatch(/^\d+:\d{2}:\d{2}$/);
    expect(Object.keys(logLines[8]).sort()).toEqual(['current_steps', 'elapsed_time', 'epoch', 'percentage', 'remaining_time', 'total_steps']);

    // loss decreases on the data
    const loss = parseTrainerLog(readFileSync(run('trainer_log.jsonl'), 'utf8')).loss.map(([, l]) => l);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(loss.slice(-2))).toBeLessThan(mean(loss.slice(0, 2)) - 0.5);

    const state = JSON.parse(readFileSync(run('trainer_state.json'), 'utf8'));
    expect(state).toMatchObject({ global_step: 8, max_steps: 8 });
    expect(JSON.parse(readFileSync(run('train_results.json'), 'utf8'))).toEqual(
      expect.objectContaining({ epoch: 4, train_loss: expect.any(Number), train_runtime: expect.any(Number), train_samples_per_second: expect.any(Number), train_steps_per_second: expect.any(Number) }),
    );

    // train/ (the declared output): result.json with workspace-relative paths, the newest checkpoint copy, log, plot
    const r = outcome.result;
    expect(r).toMatchObject({
      schema_version: 1,
      run: 't-lora',
      backend: 'hf',
      dataset: 'tdata',
      output_dir: 'artifacts/p/model/t-lora',
      checkpoint_path: 'artifacts/p/model/t-lora/checkpoint-8',
      checkpoint_step: 8,
      cached_checkpoint: 'artifacts/p/train/checkpoint-8',
      cached_base_model: 'artifacts/p/train/base_model',
      steps: 8,
      total_steps: 8,
      training_config: 'artifacts/p/training_config/t-lora.yaml',
      log: 'artifacts/p/train/trainer_log.jsonl',
      plot: 'artifacts/p/train/training_loss.svg',
      resumed_from: null,
    });
    expect(r.final_loss).toBeCloseTo(loss[loss.length - 1], 6);
    expect(readFileSync(join(ws.root, 'artifacts/p/train/checkpoint-8/adapter_model.safetensors'))).toEqual(readFileSync(run('checkpoint-8/adapter_model.safetensors')));
    expect(readFileSync(join(ws.root, r.plot), 'utf8')).toMatch(/^<svg[\s\S]*training loss — t-lora/);

    // the generated YAML is what the trainer read
    const yaml = parse(readFileSync(join(ws.root, r.training_config), 'utf8'));
    expect(yaml).toMatchObject({ stage: 'sft', do_train: true, dataset: 'tdata', dataset_dir: join(ws.root, 'artifacts/p/data/lf_data'), output_dir: run(''), template: 'qwen3_nothink', cutoff_len: 256 });

    // write-back: runtime_info.output filled, every comment kept
    const text = ws.read('pipelines/p/config.yaml');
    expect(text).toContain('# Test pipeline: comments must survive the write-back.');
    expect(text).toContain('  model_name_or_path: base-model       # copied from pipelines/demo/base-model');
    expect(parse(text).runtime_info.output).toMatchObject({
      checkpoint_path: 'artifacts/p/model/t-lora/checkpoint-8',
      final_loss: r.final_loss,
      total_steps: 8,
      training_log: 'artifacts/p/train/trainer_log.jsonl',
      train_loss_plot: 'artifacts/p/train/training_loss.svg',
      train_results: 'artifacts/p/train/train_results.json',
      output_dir: 'artifacts/p/model/t-lora',
    });
    expect(lines.join('\n')).toMatch(/step 8\/8 \(100%\)/);
    expect(outcome.summary).toMatch(/^8 steps, loss \d+\.\d{4} → \d+\.\d{4}, checkpoint artifacts\/p\/model\/t-lora\/checkpoint-8$/);
  }, 180_000);

  it('refuses to train into the finished run again (clobber guard), before launching anything', async () => {
    const { io, lines } = captureIO();
    await expect(trainPipeline(ws.load(), io)).rejects.toThrow(/Refusing to train into .*t-lora: it is not empty/);
    expect(lines.some((l) => l.startsWith('Launching'))).toBe(false);
  });

  it('resumes from a checkpoint: the step count continues, replayed steps are logged twice and match', async () => {
    const before = parseTrainerLog(readFileSync(run('trainer_log.jsonl'), 'utf8'));
    ws.write('pipelines/p/config.yaml', CONFIG.replace('  num_train_epochs: 4', '  num_train_epochs: 5\n  resume_from_checkpoint: checkpoint-6'));
    const { io, lines } = captureIO();
    const outcome = await trainPipeline(ws.load(), io);
    expect(lines.join('\n')).toContain('Resuming from artifacts/p/model/t-lora/checkpoint-6');
    const raw = readFileSync(run('trainer_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const firstResumed = raw.findIndex((e, i) => i > 0 && e.current_steps < raw[i - 1].current_steps);
    expect(raw[firstResumed].current_steps).toBe(7); // continues after checkpoint-6, not from 1
    const after = parseTrainerLog(readFileSync(run('trainer_log.jsonl'), 'utf8'));
    expect(after.duplicates).toBe(2); // steps 7 and 8 were logged by both runs
    expect(after.loss.map(([s]) => s)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // optimizer, scheduler, RNG and data position restored: the replayed steps reproduce the first run's losses
    for (const step of [7, 8]) {
      expect(after.loss.find(([s]) => s === step)![1]).toBeCloseTo(before.loss.find(([s]) => s === step)![1], 4);
    }
    expect(readdirSync(run('')).filter((n) => n.startsWith('checkpoint-')).sort()).toEqual(['checkpoint-10', 'checkpoint-3', 'checkpoint-6', 'checkpoint-8', 'checkpoint-9']);
    expect(outcome.result).toMatchObject({ steps: 10, checkpoint_path: 'artifacts/p/model/t-lora/checkpoint-10', resumed_from: 'artifacts/p/model/t-lora/checkpoint-6', replayed_steps: 2 });
    expect(parse(ws.read('pipelines/p/config.yaml')).runtime_info.output.total_steps).toBe(10);
  }, 180_000);
});
