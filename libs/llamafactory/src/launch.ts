import { TrajgenError } from '@trajgen/core';
import type { TrainingConfig } from '@trajgen/config';

export type DistributedConfig = TrainingConfig['distributed'];
export type DistributedMode = DistributedConfig['mode'];

/** Default rendezvous port for multi-node runs: every node must name the same one (LLaMA-Factory's default is a random free port). */
export const DEFAULT_MULTI_NODE_PORT = 29500;

/**
 * Sentinels for LLaMA-Factory's media placeholders (text-only training data): coding
 * trajectories contain literal `<image>`/`<video>`/`<audio>` text, which
 * LLaMA-Factory would otherwise count as media tokens and reject.
 */
export const TEXT_ONLY_PLACEHOLDERS: Record<string, string> = {
  IMAGE_PLACEHOLDER: '<|trajgen_no_image|>',
  VIDEO_PLACEHOLDER: '<|trajgen_no_video|>',
  AUDIO_PLACEHOLDER: '<|trajgen_no_audio|>',
};

/**
 * The environment `llamafactory-cli train` needs for a parallelism mode
 * (as LLaMA-Factory's launcher.py reads them). Only the variables trajgen
 * sets; the process environment is merged under them at launch.
 *
 *  - single: nothing (one process; LLaMA-Factory still switches to torchrun
 *    by itself when more than one GPU is visible, so pin CUDA_VISIBLE_DEVICES).
 *  - torchrun: FORCE_TORCHRUN=1 (+ NPROC_PER_NODE, MASTER_PORT when set).
 *  - multi-node: + NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT (the same on every node).
 *  - ray: USE_RAY=1; the worker count goes into the YAML (ray_num_workers).
 *
 * With torchrun, `PET_LOG_DIR` (torchrun's --log-dir) makes the elastic agent
 * give every rank its own TORCHELASTIC_ERROR_FILE under that dir
 * (`<dir>/<run_id>_*\/attempt_<n>/<rank>/error.json`), read on failure.
 */
export function launchEnv(distributed: DistributedConfig, options: { torchelasticDir?: string } = {}): Record<string, string> {
  const env: Record<string, string> = { ...TEXT_ONLY_PLACEHOLDERS };
  const torchrun = () => {
    env.FORCE_TORCHRUN = '1';
    if (distributed.nproc_per_node !== undefined) env.NPROC_PER_NODE = String(distributed.nproc_per_node);
    if (options.torchelasticDir) env.PET_LOG_DIR = options.torchelasticDir;
  };
  switch (distributed.mode) {
    case 'single':
      break;
    case 'torchrun':
      torchrun();
      if (distributed.master_port !== undefined) env.MASTER_PORT = String(distributed.master_port);
      break;
    case 'multi-node':
      if (distributed.nnodes < 2) {
        throw new TrajgenError(`training.distributed.mode multi-node needs nnodes ≥ 2, found ${distributed.nnodes}`, { hint: 'Use mode torchrun for one node.' });
      }
      if (distributed.node_rank >= distributed.nnodes) {
        throw new TrajgenError(`training.distributed.node_rank ${distributed.node_rank} is out of range for nnodes ${distributed.nnodes}`, {
          hint: `Node ranks run from 0 to ${distributed.nnodes - 1}; run the stage on each node with its own node_rank.`,
        });
      }
      torchrun();
      env.NNODES = String(distributed.nnodes);
      env.NODE_RANK = String(distributed.node_rank);
      env.MASTER_ADDR = distributed.master_addr;
      env.MASTER_PORT = String(distributed.master_port ?? DEFAULT_MULTI_NODE_PORT);
      break;
    case 'ray':
      env.USE_RAY = '1';
      break;
  }
  return env;
}

export interface LaunchPlan {
  command: string;
  args: string[];
  /** Variables set on top of the process environment. */
  env: Record<string, string>;
  cwd: string;
  mode: DistributedMode;
  /** Where torchrun writes per-rank error files (torchrun modes only). */
  torchelasticDir?: string;
  /** One line for people: how it is launched. */
  describe: string;
}

/** `llamafactory-cli train <yaml>` with the environment of the configured mode. */
export function llamafactoryLaunchPlan(options: {
  executable: string;
  yamlPath: string;
  cwd: string;
  distributed: DistributedConfig;
  torchelasticDir?: string;
}): LaunchPlan {
  const torchrunMode = options.distributed.mode === 'torchrun' || options.distributed.mode === 'multi-node';
  const env = launchEnv(options.distributed, { torchelasticDir: torchrunMode ? options.torchelasticDir : undefined });
  const shown = Object.entries(env)
    .filter(([k]) => !(k in TEXT_ONLY_PLACEHOLDERS))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return {
    command: options.executable,
    args: ['train', options.yamlPath],
    env,
    cwd: options.cwd,
    mode: options.distributed.mode,
    torchelasticDir: torchrunMode ? options.torchelasticDir : undefined,
    describe: `${shown ? shown + ' ' : ''}${options.executable} train ${options.yamlPath}`,
  };
}
