/**
 * pipelines/demo-llamafactory end to end with the real LLaMA-Factory: real nx, the real Claude Code
 * CLI against the oracle, and `llamafactory-cli train` from the managed env (artifacts/env/llamafactory
 * of the checkout, shared with the temporary copy through TRAJGEN_LLAMAFACTORY_ENV; created on first
 * use, a few minutes once). LoRA on the tiny shipped Qwen2 model, on CPU.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createTempWorkspace, type TempWorkspace } from './harness';

const P = 'artifacts/demo-llamafactory';
const RUN_DIR = `${P}/model/demo-llamafactory-lora`;

interface TrainerLogEntry {
  current_steps: number;
  total_steps: number;
  loss?: number;
}

describe('demo-llamafactory with the real llamafactory-cli', () => {
  let ws: TempWorkspace;
  beforeAll(() => {
    ws = createTempWorkspace({ prefix: 'trajgen-lf-' });
  });
  afterAll(() => ws?.remove());

  const trainerLog = (): TrainerLogEntry[] =>
    ws.read(`${RUN_DIR}/trainer_log.jsonl`).split('\n').filter(Boolean).map((l) => JSON.parse(l) as TrainerLogEntry);
  const result = () => JSON.parse(ws.read(`${P}/train/result.json`));

  it('runs the pipeline to archive: LLaMA-Factory loads the registered dataset, trains, checkpoints; results, plot, report and write-back follow', () => {
    const r = ws.nx(['run', 'demo-llamafactory:archive'], { timeoutMs: 1_800_000 });
    expect(r.code, r.output.slice(-6000)).toBe(0);
    expect(r.ran).toContain('demo-llamafactory:train');

    // The generated inputs LLaMA-Factory read.
    const yaml = parse(ws.read(`${P}/training_config/demo-llamafactory-lora.yaml`));
    expect(yaml).toMatchObject({ stage: 'sft', do_train: true, dataset: 'demo_llamafactory', template: 'qwen3_nothink', finetuning_type: 'lora', bf16: false });
    expect(yaml.dataset_dir).toBe(join(ws.root, P, 'data/lf_data'));
    expect(yaml.output_dir).toBe(join(ws.root, RUN_DIR));
    expect(JSON.parse(ws.read(`${P}/data/lf_data/dataset_info.json`)).demo_llamafactory).toMatchObject({ file_name: 'demo_llamafactory.json', formatting: 'sharegpt' });

    // What the real CLI wrote: its own log lines, checkpoints under the output-dir rule, trainer_log.jsonl.
    const launch = ws.read(result().launch_log);
    expect(launch).toMatch(/llamafactory-cli train \S+training_config\/demo-llamafactory-lora\.yaml/);
    expect(launch).toMatch(/llamafactory\./); // LLaMA-Factory's own logger names (llamafactory.data.loader, …)
    const checkpoints = readdirSync(join(ws.root, RUN_DIR)).filter((n) => /^checkpoint-\d+$/.test(n));
    expect(checkpoints.length).toBeGreaterThan(0);
    for (const c of checkpoints) {
      for (const f of ['adapter_model.safetensors', 'adapter_config.json', 'trainer_state.json', 'optimizer.pt']) expect(existsSync(join(ws.root, RUN_DIR, c, f)), `${c}/${f}`).toBe(true);
    }
    const entries = trainerLog();
    const total = entries[0].total_steps;
    expect(total).toBeGreaterThan(4);
    expect(entries.filter((e) => e.loss !== undefined).map((e) => e.current_steps)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(existsSync(join(ws.root, RUN_DIR, 'training_loss.png'))).toBe(true); // plot_loss: LLaMA-Factory's own plot

    // trajgen's collection, as with the embedded trainer.
    const res = result();
    expect(res).toMatchObject({ backend: 'llamafactory', dataset: 'demo_llamafactory', steps: total, total_steps: total, checkpoint_path: `${RUN_DIR}/checkpoint-${total}`, resumed_from: null });
    expect(res.final_loss).toBeLessThan(entries[0].loss!);
    expect(ws.read(`${P}/train/training_loss.svg`)).toContain('<svg');
    expect(existsSync(join(ws.root, P, 'train', `checkpoint-${total}`, 'adapter_model.safetensors'))).toBe(true);
    const written = parse(ws.read('pipelines/demo-llamafactory/config.yaml')).runtime_info.output;
    expect(written).toMatchObject({ checkpoint_path: res.checkpoint_path, total_steps: total, final_loss: res.final_loss });
    const report = ws.read(`${P}/report/index.html`);
    expect(report).toContain('demo-llamafactory-lora');
    expect(JSON.parse(ws.read(`${P}/archive/summary.json`)).training).toMatchObject({ available: true });

    // check sees the managed env it used.
    const check = ws.nx(['run', 'demo-llamafactory:check']);
    expect(check.output).toMatch(/^OK\s+training\s+llamafactory \(managed\)\s+\S+: torch==2\.13\.0 .*llamafactory==0\.9\.5/m);
  }, 1_900_000);

  it('resumes from a checkpoint with the real CLI', () => {
    const before = result();
    const half = `checkpoint-${Math.floor(before.steps / 8) * 4}`;
    expect(existsSync(join(ws.root, RUN_DIR, half))).toBe(true);
    ws.edit('pipelines/demo-llamafactory/config.yaml', (t) =>
      t.replace('  overwrite_output_dir: true', `  overwrite_output_dir: false\n  resume_from_checkpoint: ${half}`),
    );
    const linesBefore = trainerLog().length;
    const r = ws.nx(['run', 'demo-llamafactory:train'], { timeoutMs: 900_000 });
    expect(r.code, r.output.slice(-6000)).toBe(0);
    expect(r.output).toContain(`Resuming from ${RUN_DIR}/${half}`);
    const res = result();
    expect(res).toMatchObject({ resumed_from: `${RUN_DIR}/${half}`, steps: before.steps, checkpoint_path: before.checkpoint_path });
    // LLaMA-Factory appended the resumed steps (half+1 … total) to its trainer_log.jsonl.
    const appended = trainerLog().slice(linesBefore).filter((e) => e.loss !== undefined).map((e) => e.current_steps);
    const from = Number(half.split('-')[1]);
    expect(appended).toEqual(Array.from({ length: before.steps - from }, (_, i) => from + 1 + i));
    expect(ws.read(res.launch_log)).toMatch(new RegExp(`Resuming training from checkpoint with epoch \\d+ and global step ${from}`));
  }, 1_000_000);
});
