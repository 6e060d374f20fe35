import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { materializeTrainOutputs, restoreCachedCheckpoint } from './materialize';
import { cachedCheckpointMissing } from './cached-checkpoint.cjs';
import { planTraining, trainPipeline } from './train-pipeline';
import { trainingPreflight } from './preflight';
import { captureIO, LLAMAFACTORY_CLI_TEST_DOUBLE, trainingWorkspace } from './__fixtures__/pipeline';
import type { PipelineWorkspace } from '../../../test/support/pipeline-workspace';

const config = (training: string) => `# keep me
conversion:
  data_name: tdata
training:
  model_name_or_path: base-model
  output_dir: runs/r1
  save_steps: 2
${training}runtime_info:
  output:
    from_another_stage: 7   # other stages' results stay
`;

let ws: PipelineWorkspace | undefined;
afterEach(() => {
  ws?.remove();
  delete process.env.TRAJGEN_HF_TRAINER_PYTHON;
});

describe('planTraining', () => {
  it('writes no YAML for what the embedded trainer cannot do, and says why', async () => {
    ws = await trainingWorkspace(config('  backend: hf\n  template: llama3\n'), 2);
    expect(() => planTraining(ws!.load().paths, ws!.load().config.training)).toThrow(/template "llama3" is not implemented by the embedded trainer/);
    ws.write('pipelines/p/config.yaml', config('  backend: hf\n  distributed: {mode: torchrun}\n'));
    expect(() => planTraining(ws!.load().paths, ws!.load().config.training)).toThrow(/mode torchrun needs backend: llamafactory/);
    ws.write('pipelines/p/config.yaml', config('  backend: hf\n').replace('base-model', 'no-such-model'));
    expect(() => planTraining(ws!.load().paths, ws!.load().config.training)).toThrow(/no-such-model does not exist/);
  });

  it('needs the register receipt', async () => {
    ws = await trainingWorkspace(config('  backend: hf\n'), 2);
    rmSync(join(ws.root, 'artifacts/p/register'), { recursive: true });
    expect(() => planTraining(ws!.load().paths, ws!.load().config.training)).toThrow(/receipt.json is missing: the dataset is not registered/);
  });
});

// The llamafactory backend below runs `llamafactory-cli-test-double`, a TEST DOUBLE: no LLaMA-Factory run happens here.
describe('trainPipeline with the llamafactory backend (llamafactory-cli-test-double: a test double for torchrun on GPUs)', () => {
  it('collects the run into train/ and writes back; materializeTrainOutputs restores a missing run dir from the cached copy', async () => {
    ws = await trainingWorkspace(config('  backend: llamafactory\n  distributed: {mode: torchrun, nproc_per_node: 2}\n'), 2);
    const { io, lines } = captureIO();
    const outcome = await trainPipeline(ws.load(), io, { llamafactoryExecutable: LLAMAFACTORY_CLI_TEST_DOUBLE });
    expect(outcome.result).toMatchObject({
      backend: 'llamafactory',
      output_dir: 'artifacts/p/model/r1',
      checkpoint_path: 'artifacts/p/model/r1/checkpoint-6',
      cached_checkpoint: 'artifacts/p/train/checkpoint-6',
      cached_base_model: null,
      final_loss: 1,
      train_loss: 1.5,
      steps: 6,
      runtime_sec: 0.5,
    });
    expect(lines.join('\n')).toMatch(/Launching \(torchrun\): FORCE_TORCHRUN=1 NPROC_PER_NODE=2 PET_LOG_DIR=\S+ \S+llamafactory-cli-test-double train \S+training_config\/r1\.yaml/);
    const text = ws.read('pipelines/p/config.yaml');
    expect(text.startsWith('# keep me\n')).toBe(true);
    expect(text).toContain('from_another_stage: 7');
    expect(parse(text).runtime_info.output).toMatchObject({ checkpoint_path: 'artifacts/p/model/r1/checkpoint-6', final_loss: 1, total_steps: 6, train_runtime: 0.5 });

    // A fresh clone after an Nx cache restore: train/ is there, the run dir is not.
    const ckpt = join(ws.root, 'artifacts/p/model/r1/checkpoint-6/adapter_model.safetensors');
    const bytes = readFileSync(ckpt);
    expect(cachedCheckpointMissing(ws.root, 'p')).toBe(false);
    rmSync(join(ws.root, 'artifacts/p/model'), { recursive: true });
    // What the plugin's postTasksExecution hook runs after a restored train task: the CommonJS gate, then the restore.
    expect(cachedCheckpointMissing(ws.root, 'p')).toBe(true);
    expect(restoreCachedCheckpoint(ws.root, 'p')).toEqual(['artifacts/p/model/r1/checkpoint-6']);
    expect(readFileSync(ckpt)).toEqual(bytes);
    expect(cachedCheckpointMissing(ws.root, 'p')).toBe(false);
    expect(restoreCachedCheckpoint(ws.root, 'p')).toEqual([]);
    expect(materializeTrainOutputs(ws.load().paths)).toEqual({ restored: [], skipped: 'the run dir already holds the checkpoint' });
  });

  it('cache_checkpoint: none keeps checkpoints out of train/', async () => {
    ws = await trainingWorkspace(config('  backend: llamafactory\n  cache_checkpoint: none\n'), 2);
    const outcome = await trainPipeline(ws.load(), captureIO().io, { llamafactoryExecutable: LLAMAFACTORY_CLI_TEST_DOUBLE });
    expect(outcome.result.cached_checkpoint).toBeNull();
    expect(existsSync(join(ws.root, 'artifacts/p/train/checkpoint-6'))).toBe(false);
    expect(existsSync(join(ws.root, 'artifacts/p/train/result.json'))).toBe(true);
    expect(materializeTrainOutputs(ws.load().paths).skipped).toMatch(/no cached checkpoint/);
  });
});

describe('trainingPreflight', () => {
  it('hf backend: python, trainer env, base model, template, and the common rows', async () => {
    ws = await trainingWorkspace(config('  backend: hf\n  template: llama3\n'), 2);
    const rows = trainingPreflight(ws.load().paths, ws.load().config);
    const by = (check: string) => rows.find((r) => r.check === check);
    expect(by('base model')).toMatchObject({ status: 'ok', detail: 'pipelines/p/base-model (config only: weights initialised on first use)' });
    expect(by('template')).toMatchObject({ status: 'fail' });
    expect(by('YAML keys')).toMatchObject({ status: 'ok' });
    expect(by('output_dir')).toMatchObject({ status: 'ok', detail: 'artifacts/p/model/r1 (new run)' });
    expect(['ok', 'warn']).toContain(by('trainer env')?.status ?? by('trainer python')?.status);
  });
});

describe('trainPipeline with the hf backend: data errors', () => {
  it('surfaces the embedded trainer’s own error (bad function_call JSON) as the stage error, before any training', async () => {
    // The trainer validates the data before it imports torch: the machine's python3 (with PyYAML) suffices here.
    process.env.TRAJGEN_HF_TRAINER_PYTHON = 'python3';
    ws = await trainingWorkspace(config('  backend: hf\n'), 2);
    const rows = JSON.parse(ws.read('artifacts/p/data/lf_data/tdata.json'));
    rows[1].conversations[1] = { from: 'function_call', value: '{"name": "x", "arguments": ' };
    ws.write('artifacts/p/data/lf_data/tdata.json', JSON.stringify(rows));
    await expect(trainPipeline(ws.load(), captureIO().io)).rejects.toThrow(/The embedded trainer stopped: tdata#1: Invalid JSON format in function message/);
    expect(existsSync(join(ws.root, 'artifacts/p/model/r1/trainer_log.jsonl'))).toBe(false);
  });
});
