import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { TrainingConfig } from '@trajgen/config';
import { TrajgenError, ensurePythonEnv, type StageIO } from '@trajgen/core';
import { llamafactoryLaunchPlan, type LaunchPlan } from './launch';
import { collectRankErrors, logStamp, runTrainingProcess, trainingFailure, type TrainingProcessResult } from './process';
import { which } from './which';

/**
 * What the managed environment installs (LLaMA-Factory and its
 * training stack, pinned), exact versions so the env
 * is keyed by them and a new release never changes a pipeline under a user.
 * torch is pinned first: LLaMA-Factory asks only for torch>=2.4 (and
 * torchvision/torchaudio, which pin their own torch), so an unpinned resolve
 * may pick a CUDA build of several GB. 2.13.0 is the CPU wheel this machine
 * carries (the same torch the embedded trainer resolves, so pip reuses it);
 * torchvision 0.28.0 is the release built against it, torchaudio 2.11.1 the newest on PyPI (it no longer pins torch).
 * The `metrics` extra (nltk, jieba, rouge) is for predict/eval, not SFT.
 */
export const LLAMAFACTORY_VERSION = '0.9.5';
export const LLAMAFACTORY_REQUIREMENTS = ['torch==2.13.0', 'torchvision==0.28.0', 'torchaudio==2.11.1', `llamafactory==${LLAMAFACTORY_VERSION}`];

/** This lib's Python helpers (run with the managed env's interpreter). */
export const LLAMAFACTORY_PYTHON_DIR = resolve(__dirname, '..', 'python');

/** artifacts/env/llamafactory, or $TRAJGEN_LLAMAFACTORY_ENV (one env shared by several workspaces, e.g. test copies). */
export function managedLlamaFactoryDir(workspaceRoot: string): string {
  return process.env.TRAJGEN_LLAMAFACTORY_ENV ? resolve(process.env.TRAJGEN_LLAMAFACTORY_ENV) : join(workspaceRoot, 'artifacts', 'env', 'llamafactory');
}

/** Why a managed install failed, in words a person can act on. */
export function explainLlamaFactoryInstallFailure(pipOutput: string): { message: string; hint: string } | undefined {
  const spec = LLAMAFACTORY_REQUIREMENTS.join(' ');
  if (/No matching distribution found for llamafactory|Could not find a version that satisfies the requirement llamafactory/i.test(pipOutput)) {
    return {
      message: `LLaMA-Factory is not available from this machine's package index: pip found no distribution for ${spec}`,
      hint: `Install it on a host that can reach PyPI (pip install '${spec}'), then set training.llamafactory.executable to its llamafactory-cli; or train with backend: hf (the embedded trainer).`,
    };
  }
  if (/Connection|Name or service not known|Max retries exceeded|timed out|Network is unreachable/i.test(pipOutput)) {
    return {
      message: `LLaMA-Factory could not be installed: the package index is unreachable`,
      hint: `Check network access to the index (pip config list), or install '${spec}' by hand and set training.llamafactory.executable.`,
    };
  }
  return undefined;
}

/** The managed env's Python (created on first use from the package index, reused while its requirements stay the same). */
export async function ensureLlamaFactoryPython(workspaceRoot: string, io: Pick<StageIO, 'log' | 'warn'>): Promise<string> {
  const env = await ensurePythonEnv(
    {
      dir: managedLlamaFactoryDir(workspaceRoot),
      label: 'LLaMA-Factory',
      requirements: LLAMAFACTORY_REQUIREMENTS,
      explainFailure: explainLlamaFactoryInstallFailure,
      // PyPI's torchvision/torchaudio are CUDA-linked; next to the CPU torch they need this (see the script).
      postInstall: [join(LLAMAFACTORY_PYTHON_DIR, 'cpu_torch_fixups.py')],
    },
    io,
  );
  return env.python;
}

/** Install LLaMA-Factory into artifacts/env/llamafactory (once); returns its llamafactory-cli. */
export async function ensureLlamaFactoryEnv(workspaceRoot: string, io: Pick<StageIO, 'log' | 'warn'>): Promise<string> {
  return join(dirname(await ensureLlamaFactoryPython(workspaceRoot, io)), 'llamafactory-cli');
}

/** The llamafactory-cli to run: the managed env's, or the configured executable found on PATH. */
export async function resolveLlamaFactoryCli(workspaceRoot: string, training: TrainingConfig, io: Pick<StageIO, 'log' | 'warn'>): Promise<string> {
  if (training.llamafactory.managed_env) return ensureLlamaFactoryEnv(workspaceRoot, io);
  const exe = training.llamafactory.executable;
  const found = which(exe) ?? (exe.includes('/') && existsSync(exe) ? exe : undefined);
  if (!found) {
    throw new TrajgenError(`LLaMA-Factory is not installed: ${exe} not found${exe.includes('/') ? '' : ' on PATH'} (training.llamafactory.executable)`, {
      hint:
        `Set training.llamafactory.managed_env: true (train installs ${LLAMAFACTORY_REQUIREMENTS.join(' ')} into artifacts/env/llamafactory on first use), ` +
        `or run: pip install ${LLAMAFACTORY_REQUIREMENTS.map((r) => `'${r}'`).join(' ')} and put its llamafactory-cli on PATH.`,
    });
  }
  return found;
}

export interface LlamaFactoryRun {
  plan: LaunchPlan;
  result: TrainingProcessResult;
  logFile: string;
}

/**
 * `llamafactory-cli train <yaml>` in artifacts/<p> with the launch
 * environment of training.distributed; output teed to
 * artifacts/<p>/logs/<run>-<ts>.log; progress from trainer_log.jsonl; on a
 * failure the per-rank torchelastic error files are reported.
 */
export async function runLlamaFactoryTrain(options: {
  workspaceRoot: string;
  artifacts: string;
  logsDir: string;
  training: TrainingConfig;
  yamlPath: string;
  outputDir: string;
  run: string;
  io: Pick<StageIO, 'log' | 'warn'>;
  /** Override the CLI (tests: the llamafactory-cli-test-double test double). */
  executable?: string;
}): Promise<LlamaFactoryRun> {
  const ts = logStamp();
  const executable = options.executable ?? (await resolveLlamaFactoryCli(options.workspaceRoot, options.training, options.io));
  const torchelasticDir = join(options.logsDir, 'torchelastic', `${options.run}-${ts}`);
  const plan = llamafactoryLaunchPlan({
    executable,
    yamlPath: options.yamlPath,
    cwd: options.artifacts,
    distributed: options.training.distributed,
    torchelasticDir,
  });
  if (plan.torchelasticDir) mkdirSync(plan.torchelasticDir, { recursive: true });
  const logFile = join(options.logsDir, `${options.run}-${ts}.log`);
  options.io.log(`Launching (${plan.mode}): ${plan.describe}`);
  const result = await runTrainingProcess({
    command: plan.command,
    args: plan.args,
    env: plan.env,
    cwd: plan.cwd,
    logFile,
    trainerLog: join(options.outputDir, 'trainer_log.jsonl'),
    io: options.io,
  });
  if (result.exitCode !== 0) {
    throw trainingFailure({
      what: `llamafactory-cli train (${plan.mode})`,
      result,
      logFile,
      workspaceRoot: options.workspaceRoot,
      rankErrors: plan.torchelasticDir ? collectRankErrors(plan.torchelasticDir) : [],
      hint: options.training.distributed.mode === 'multi-node' ? 'Every node runs the same stage with its own node_rank; check the other nodes too.' : undefined,
    });
  }
  return { plan, result, logFile };
}
