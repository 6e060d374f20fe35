import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensurePythonEnv, PIP_FLAGS, type PythonEnv, type StageIO } from '@trajgen/core';
import { visibleGpus } from '@trajgen/llamafactory';

/** The Python package of the embedded trainer (run with PYTHONPATH set to this dir). */
export const TRAINER_PYTHON_DIR = resolve(__dirname, '..', 'python');
export const TRAINER_REQUIREMENTS_FILE = join(TRAINER_PYTHON_DIR, 'requirements.txt');

/** Where the embedded trainer's venv lives: shared by all pipelines (artifacts/env/), or $TRAJGEN_HF_TRAINER_ENV. */
export function trainerEnvDir(workspaceRoot: string): string {
  return process.env.TRAJGEN_HF_TRAINER_ENV ? resolve(process.env.TRAJGEN_HF_TRAINER_ENV) : join(workspaceRoot, 'artifacts', 'env', 'hf-trainer');
}

/** requirements.txt without comments; a TRAJGEN_TORCH_SPEC value replaces the torch line. */
export function trainerRequirements(): string[] {
  const lines = readFileSync(TRAINER_REQUIREMENTS_FILE, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
  const torch = process.env.TRAJGEN_TORCH_SPEC;
  return torch ? lines.map((l) => (/^torch\b/.test(l) ? torch : l)) : lines;
}

/** The newest `+cpu` torch version the package index offers, if any. */
export function cpuTorchVersion(python = 'python3'): string | undefined {
  const r = spawnSync(python, ['-m', 'pip', 'index', 'versions', 'torch', ...PIP_FLAGS], { encoding: 'utf8', timeout: 60_000 });
  const m = /Available versions: ([^\n]+)/.exec(`${r.stdout ?? ''}`);
  return m?.[1]
    .split(',')
    .map((v) => v.trim())
    .find((v) => v.endsWith('+cpu'));
}

/**
 * On a machine without an NVIDIA GPU, pin an unpinned `torch` to the index's
 * CPU build when it has one: the default torch wheel pulls gigabytes of CUDA
 * libraries a CPU run never uses.
 */
export function pinCpuTorch(requirements: string[]): string[] {
  if (process.env.TRAJGEN_TORCH_SPEC || !requirements.includes('torch')) return requirements;
  if ((visibleGpus() ?? 0) > 0) return requirements;
  const cpu = cpuTorchVersion(process.env.TRAJGEN_PYTHON || 'python3');
  return cpu ? requirements.map((r) => (r === 'torch' ? `torch==${cpu}` : r)) : requirements;
}

/**
 * The embedded trainer's Python: `$TRAJGEN_HF_TRAINER_PYTHON` when set (an
 * interpreter with torch, transformers, peft, …), else the managed venv,
 * created on first use from the machine's package index and reused while
 * requirements.txt is unchanged.
 */
export async function ensureTrainerEnv(workspaceRoot: string, io: Pick<StageIO, 'log' | 'warn'>): Promise<{ python: string; env?: PythonEnv }> {
  if (process.env.TRAJGEN_HF_TRAINER_PYTHON) return { python: process.env.TRAJGEN_HF_TRAINER_PYTHON };
  const env = await ensurePythonEnv(
    {
      dir: trainerEnvDir(workspaceRoot),
      label: 'embedded trainer',
      requirements: trainerRequirements(),
      resolveInstall: pinCpuTorch,
    },
    io,
  );
  return { python: env.python, env };
}
