import { afterEach, describe, expect, it, vi } from 'vitest';
import { commonTrainingChecks, llamafactoryPreflight } from './preflight';
import { LLAMAFACTORY_CLI_TEST_DOUBLE } from '../../../test/support/training-workspace';
import { pipelineWorkspace, type PipelineWorkspace } from '../../../test/support/pipeline-workspace';

const config = (training: string) => `training:\n  model_name_or_path: org/model\n  output_dir: r1\n${training}`;
let ws: PipelineWorkspace | undefined;
afterEach(() => {
  ws?.remove();
  vi.unstubAllEnvs();
});

describe('llamafactoryPreflight', () => {
  it('says exactly what is missing when LLaMA-Factory is not installed', () => {
    ws = pipelineWorkspace({ prefix: 'lf-preflight-', config: config('  llamafactory: {executable: llamafactory-cli-not-installed}\n') });
    const { paths, config: c } = ws.load();
    const row = llamafactoryPreflight(paths, c).find((r) => r.check === 'llamafactory-cli')!;
    expect(row).toMatchObject({ status: 'fail', detail: 'llamafactory-cli-not-installed not found on PATH (training.llamafactory.executable); LLaMA-Factory is not installed' });
    expect(row.fix).toBe("pip install 'torch==2.13.0' 'torchvision==0.28.0' 'torchaudio==2.11.1' 'llamafactory==0.9.5' in the training environment and put its bin/ on PATH, or set training.llamafactory.managed_env: true (installs into artifacts/env/llamafactory)");
  });

  it('accepts an installed CLI; notes the managed env that train will create; torchrun and GPU rows for distributed modes', () => {
    ws = pipelineWorkspace({ prefix: 'lf-preflight-', config: config(`  llamafactory: {executable: ${LLAMAFACTORY_CLI_TEST_DOUBLE}}\n  distributed: {mode: torchrun, nproc_per_node: 2}\n`) });
    const { paths, config: c } = ws.load();
    const rows = llamafactoryPreflight(paths, c);
    expect(rows.find((r) => r.check === 'llamafactory-cli')).toMatchObject({ status: 'ok', detail: LLAMAFACTORY_CLI_TEST_DOUBLE });
    expect(rows.map((r) => r.check)).toEqual(expect.arrayContaining(['torchrun', 'GPUs']));
    // This workspace's own env, not one a CI machine shares between clones (it may exist already).
    vi.stubEnv('TRAJGEN_LLAMAFACTORY_ENV', '');
    ws.write('pipelines/p/config.yaml', config('  llamafactory: {managed_env: true}\n'));
    const managed = llamafactoryPreflight(ws.load().paths, ws.load().config, { probeIndex: false }).find((r) => r.check === 'llamafactory (managed)')!;
    expect(managed).toMatchObject({ status: 'warn' });
    expect(managed.detail).toMatch(/artifacts\/env\/llamafactory does not exist yet; train installs torch==2.13.0 .*llamafactory==0\.9\.5 into it/);
  });
});

describe('commonTrainingChecks', () => {
  it('flags a run dir train would refuse, a missing resume checkpoint and a missing DeepSpeed file', () => {
    ws = pipelineWorkspace({ prefix: 'lf-preflight-', config: config('  resume_from_checkpoint: checkpoint-9\n  deepspeed: ds_z3.json\n  distributed: {mode: torchrun}\n') });
    ws.write('artifacts/p/model/r1/trainer_log.jsonl', '{}');
    const { paths, config: c } = ws.load();
    const rows = commonTrainingChecks(paths, c);
    expect(rows.find((r) => r.check === 'YAML keys')).toMatchObject({ status: 'ok' });
    expect(rows.find((r) => r.check === 'resume')).toMatchObject({ status: 'fail' });
    expect(rows.find((r) => r.check === 'deepspeed')).toMatchObject({ status: 'fail' });
    ws.write('pipelines/p/config.yaml', config(''));
    const guard = commonTrainingChecks(ws.load().paths, ws.load().config).find((r) => r.check === 'output_dir')!;
    expect(guard).toMatchObject({ status: 'fail', detail: 'artifacts/p/model/r1 is not empty (trainer_log.jsonl); train would refuse it' });
  });
});
