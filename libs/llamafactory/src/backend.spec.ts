import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { validatePipelineConfigText, type TrainingConfig } from '@trajgen/config';
import { TrajgenError, ensurePythonEnv, atomicWriteFileSync } from '@trajgen/core';
import { runLlamaFactoryTrain, explainLlamaFactoryInstallFailure, LLAMAFACTORY_REQUIREMENTS, managedLlamaFactoryDir } from './backend';
import { buildTrainingArgs, renderTrainingYaml } from './training-yaml';
import { LLAMAFACTORY_CLI_TEST_DOUBLE } from '../../../test/support/training-workspace';

// These tests run the distributed launch orchestration (torchrun, multi-node, per-rank failures)
// against `llamafactory-cli-test-double`, a TEST DOUBLE kept because those modes need GPUs and several
// nodes. The real llamafactory-cli runs in test/e2e/llamafactory.test.ts (single process, CPU).

const root = mkdtempSync(join(tmpdir(), 'lf-backend-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.FAKE_LF_MODE;
});

function training(distributed: string): TrainingConfig {
  const r = validatePipelineConfigText(`training:\n  model_name_or_path: org/model\n  output_dir: r1\n  save_steps: 2\n  distributed: ${distributed}\n`, 'c.yaml', 'p');
  if (!r.config) throw new Error(r.issues.map((i) => i.message).join());
  return r.config.training;
}

function setup(name: string, t: TrainingConfig) {
  const artifacts = join(root, name, 'artifacts/p');
  const outputDir = join(artifacts, 'model/r1');
  const yamlPath = join(artifacts, 'training_config/r1.yaml');
  atomicWriteFileSync(yamlPath, renderTrainingYaml(buildTrainingArgs(t, { dataset: 'd', datasetDir: join(artifacts, 'data'), outputDir, modelNameOrPath: 'org/model', runName: 'r1' })));
  const lines: string[] = [];
  const io = { log: (l: string) => lines.push(l), warn: (l: string) => lines.push(`warning: ${l}`) };
  return { artifacts, outputDir, yamlPath, lines, io, logsDir: join(artifacts, 'logs') };
}

describe('runLlamaFactoryTrain, distributed modes (llamafactory-cli-test-double: a test double for GPUs and several nodes)', () => {
  it('launches `<cli> train <yaml>` in artifacts/<p> with the torchrun env, tees the output, shows progress from trainer_log.jsonl', async () => {
    const t = training('{mode: torchrun, nproc_per_node: 2}');
    const s = setup('ok', t);
    const run = await runLlamaFactoryTrain({ workspaceRoot: root, artifacts: s.artifacts, logsDir: s.logsDir, training: t, yamlPath: s.yamlPath, outputDir: s.outputDir, run: 'r1', io: s.io, executable: LLAMAFACTORY_CLI_TEST_DOUBLE });
    expect(run.result.exitCode).toBe(0);
    const out = s.lines.join('\n');
    expect(out).toContain('fake-lf env: FORCE_TORCHRUN=1');
    expect(out).toContain('fake-lf env: NPROC_PER_NODE=2');
    expect(out).toMatch(/fake-lf env: PET_LOG_DIR=.*\/logs\/torchelastic\/r1-\d{8}T\d{6}Z/);
    expect(out).toContain(`fake-lf cwd: ${s.artifacts}`);
    expect(out).toMatch(/^ {2}step 1\/6 \(16.7%\) {2}loss 2.0000/m); // the first progress line always shows
    expect(out).toMatch(/^ {2}step 6\/6 \(100%\)/m); // and the last
    expect(run.result.lastEntry).toMatchObject({ current_steps: 6, total_steps: 6 });
    const log = readFileSync(run.logFile, 'utf8');
    expect(run.logFile).toMatch(/logs\/r1-\d{8}T\d{6}Z\.log$/);
    expect(log).toMatch(/^# .*cwd=.*\n# .*FORCE_TORCHRUN=1 NPROC_PER_NODE=2 PET_LOG_DIR=\S+ \S*llamafactory-cli-test-double train \S+r1\.yaml\n/);
    expect(log).toContain('fake-lf: done');
    expect(readdirSync(s.outputDir).filter((n) => n.startsWith('checkpoint-')).sort()).toEqual(['checkpoint-2', 'checkpoint-4', 'checkpoint-6']);
  });

  it('reports a distributed failure with every rank’s torchelastic error file, the exit code and the log path', async () => {
    const t = training('{mode: multi-node, nnodes: 2, node_rank: 0, master_addr: 10.1.1.1}');
    const s = setup('fail', t);
    process.env.FAKE_LF_MODE = 'fail-ranks';
    let err: TrajgenError | undefined;
    try {
      await runLlamaFactoryTrain({ workspaceRoot: root, artifacts: s.artifacts, logsDir: s.logsDir, training: t, yamlPath: s.yamlPath, outputDir: s.outputDir, run: 'r1', io: s.io, executable: LLAMAFACTORY_CLI_TEST_DOUBLE });
    } catch (e) {
      err = e as TrajgenError;
    }
    expect(err).toBeInstanceOf(TrajgenError);
    expect(err!.message).toBe('llamafactory-cli train (multi-node) exited with code 1');
    const details = err!.details.join('\n');
    expect(err!.details[0]).toMatch(/^rank 0: torch.OutOfMemoryError: CUDA out of memory on rank 0 — Traceback .* \(.*attempt_0\/0\/error.json\)$/);
    expect(err!.details[1]).toMatch(/^rank 1: torch.OutOfMemoryError: CUDA out of memory on rank 1 — /);
    expect(details).toMatch(/logs\/torchelastic\/r1-\d{8}T\d{6}Z\/none_abc123\/attempt_0\/1\/error.json/);
    expect(details).toContain('ChildFailedError');
    expect(err!.hint).toMatch(/check the other nodes too\. Full output: .*logs\/r1-.*\.log/);
    expect(s.lines.join('\n')).toContain('fake-lf env: NNODES=2');
  });

  it('says what is missing when the CLI does not exist', async () => {
    const t = training('{mode: single}');
    const s = setup('missing', t);
    await expect(
      runLlamaFactoryTrain({ workspaceRoot: root, artifacts: s.artifacts, logsDir: s.logsDir, training: t, yamlPath: s.yamlPath, outputDir: s.outputDir, run: 'r1', io: s.io, executable: join(root, 'no/llamafactory-cli') }),
    ).rejects.toThrow(/Could not start .*llamafactory-cli: not found/);
  });
});

describe('managed LLaMA-Factory environment', () => {
  it('names a release the package index does not have, and never marks the env usable (a real venv + pip attempt)', async () => {
    const dir = join(root, 'managed', 'artifacts/env/llamafactory');
    const lines: string[] = [];
    await expect(
      ensurePythonEnv({ dir, label: 'LLaMA-Factory', requirements: ['llamafactory==0.0.1'], explainFailure: explainLlamaFactoryInstallFailure }, { log: (l) => lines.push(l) }),
    ).rejects.toThrow("LLaMA-Factory is not available from this machine's package index: pip found no distribution for");
    expect(lines[0]).toMatch(/Creating the LLaMA-Factory Python environment in .*artifacts\/env\/llamafactory/);
    expect(existsSync(join(dir, '.trajgen-env.json'))).toBe(false); // never marked usable
    expect(readFileSync(`${dir}.install.log`, 'utf8')).toMatch(/No matching distribution found for llamafactory==0.0.1/);
  }, 120_000);

  it('pins torch to the CPU wheel and LLaMA-Factory to one release, and honours TRAJGEN_LLAMAFACTORY_ENV', () => {
    expect(LLAMAFACTORY_REQUIREMENTS).toContain('torch==2.13.0');
    expect(LLAMAFACTORY_REQUIREMENTS).toContain('llamafactory==0.9.5');
    expect(managedLlamaFactoryDir('/ws')).toBe(process.env.TRAJGEN_LLAMAFACTORY_ENV ? resolve(process.env.TRAJGEN_LLAMAFACTORY_ENV) : '/ws/artifacts/env/llamafactory');
    const saved = process.env.TRAJGEN_LLAMAFACTORY_ENV;
    process.env.TRAJGEN_LLAMAFACTORY_ENV = 'shared/lf-env';
    try {
      expect(managedLlamaFactoryDir('/ws')).toBe(resolve('shared/lf-env'));
    } finally {
      if (saved === undefined) delete process.env.TRAJGEN_LLAMAFACTORY_ENV;
      else process.env.TRAJGEN_LLAMAFACTORY_ENV = saved;
    }
  });

  it('explains unreachable indexes too', () => {
    expect(explainLlamaFactoryInstallFailure('WARNING: Retrying ... Max retries exceeded with url: /simple/llamafactory/')?.message).toMatch(/index is unreachable/);
    expect(explainLlamaFactoryInstallFailure('ERROR: something else')).toBeUndefined();
  });
});
