import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { TrajgenError, readEnvMarker, PIP_FLAGS } from '@trajgen/core';
import { resolveConfigPath, resolveOutputDir, type PipelineConfig, type PipelinePaths } from '@trajgen/config';
import { LLAMAFACTORY_REQUIREMENTS, managedLlamaFactoryDir } from './backend';
import { buildTrainingArgs } from './training-yaml';
import { dirEntries, resolveResumeCheckpoint } from './output-dir';
import { which } from './which';

/** Same shape as @trajgen/preflight's CheckResult (this lib cannot import preflight: preflight will import it). */
export interface TrainingCheck {
  area: string;
  check: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

const AREA = 'training';

/** Visible NVIDIA GPUs (nvidia-smi -L), or undefined without nvidia-smi. */
export function visibleGpus(): number | undefined {
  const smi = which('nvidia-smi');
  if (!smi) return undefined;
  const r = spawnSync(smi, ['-L'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return 0;
  return r.stdout.split('\n').filter((l) => /^GPU \d+/.test(l)).length;
}

/** Checks every backend shares: YAML keys, output dir / clobber guard, resume checkpoint, DeepSpeed file. */
export function commonTrainingChecks(paths: PipelinePaths, config: PipelineConfig): TrainingCheck[] {
  const t = config.training;
  const out: TrainingCheck[] = [];
  const outputDir = resolveOutputDir(paths, t.output_dir);
  const rel = (p: string) => (relative(paths.workspaceRoot, p).startsWith('..') ? p : relative(paths.workspaceRoot, p));
  try {
    const args = buildTrainingArgs(t, {
      dataset: config.dataset.name ?? 'dataset',
      datasetDir: paths.lfData,
      outputDir,
      modelNameOrPath: t.model_name_or_path,
      runName: 'check',
    });
    out.push({ area: AREA, check: 'YAML keys', status: 'ok', detail: `${Object.keys(args).length} keys, all known to LLaMA-Factory` });
  } catch (error) {
    const e = error as TrajgenError;
    out.push({ area: AREA, check: 'YAML keys', status: 'fail', detail: [e.message, ...(e.details ?? [])].join('; '), fix: e.hint });
  }

  let resume: string | undefined;
  if (t.resume_from_checkpoint) {
    try {
      resume = resolveResumeCheckpoint(t.resume_from_checkpoint, outputDir, (p) => resolveConfigPath(paths, p));
      out.push({ area: AREA, check: 'resume', status: 'ok', detail: `from ${rel(resume)}` });
    } catch (error) {
      const e = error as TrajgenError;
      out.push({ area: AREA, check: 'resume', status: 'fail', detail: e.message, fix: e.hint });
    }
  }
  let entries: string[] = [];
  try {
    entries = dirEntries(outputDir);
  } catch (error) {
    out.push({ area: AREA, check: 'output_dir', status: 'fail', detail: (error as Error).message, fix: 'choose another training.output_dir' });
  }
  if (entries.length && !t.resume_from_checkpoint) {
    out.push(
      t.overwrite_output_dir
        ? { area: AREA, check: 'output_dir', status: 'warn', detail: `${rel(outputDir)} is not empty; overwrite_output_dir: true replaces its checkpoints and logs` }
        : {
            area: AREA,
            check: 'output_dir',
            status: 'fail',
            detail: `${rel(outputDir)} is not empty (${entries.slice(0, 4).join(', ')}${entries.length > 4 ? ', …' : ''}); train would refuse it`,
            fix: 'set training.resume_from_checkpoint: latest, or training.overwrite_output_dir: true, or another output_dir',
          },
    );
  } else if (!entries.length) {
    out.push({ area: AREA, check: 'output_dir', status: 'ok', detail: `${rel(outputDir)} (new run)` });
  }
  if (t.deepspeed) {
    const ds = resolveConfigPath(paths, t.deepspeed);
    out.push(
      existsSync(ds)
        ? { area: AREA, check: 'deepspeed', status: 'ok', detail: rel(ds) }
        : { area: AREA, check: 'deepspeed', status: 'fail', detail: `${ds} not found`, fix: 'point training.deepspeed at a DeepSpeed JSON (e.g. a copy of LLaMA-Factory examples/deepspeed/ds_z3_config.json)' },
    );
  }
  return out;
}

/** Is `llamafactory` installable from the configured package index? (read-only query, no install) */
export function llamafactoryInIndex(python = 'python3'): { available: boolean; detail: string } {
  const r = spawnSync(python, ['-m', 'pip', 'index', 'versions', 'llamafactory', ...PIP_FLAGS], { encoding: 'utf8', timeout: 60_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const m = /Available versions: ([^\n]+)/.exec(out);
  if (r.status === 0 && m) return { available: true, detail: `index offers llamafactory ${m[1].split(',')[0].trim()}` };
  return { available: false, detail: 'pip finds no llamafactory distribution in the configured index' };
}

type Training = PipelineConfig['training'];

/**
 * The `check` rows for the llamafactory backend: exactly what is missing when
 * LLaMA-Factory is not installed, the managed env, torchrun for distributed
 * modes, GPUs versus nproc_per_node.
 */
export function llamafactoryPreflight(paths: PipelinePaths, config: PipelineConfig, options: { probeIndex?: boolean } = {}): TrainingCheck[] {
  const t = config.training;
  const { cli, check } = t.llamafactory.managed_env ? managedCliCheck(paths, options) : pathCliCheck(t);
  const out: TrainingCheck[] = [check];
  const mode = t.distributed.mode;
  if (mode === 'torchrun' || mode === 'multi-node') out.push(torchrunCheck(cli));
  out.push(gpuCheck(t));
  if (mode === 'multi-node') {
    out.push({
      area: AREA,
      check: 'multi-node',
      status: 'ok',
      detail: `node ${t.distributed.node_rank}/${t.distributed.nnodes}, master ${t.distributed.master_addr}:${t.distributed.master_port ?? 29500}; run the train stage on every node with its node_rank; dataset_dir must be the same path on all nodes`,
    });
  }
  return out;
}

const requirementsSpec = () => LLAMAFACTORY_REQUIREMENTS.join(' ');
const requirementsPipArgs = () => LLAMAFACTORY_REQUIREMENTS.map((r) => `'${r}'`).join(' ');

/** The managed env: current, stale (train recreates it), missing but installable, or not installable here. */
function managedCliCheck(paths: PipelinePaths, options: { probeIndex?: boolean }): { cli: string | undefined; check: TrainingCheck } {
  const spec = requirementsSpec();
  const dir = managedLlamaFactoryDir(paths.workspaceRoot);
  const marker = readEnvMarker(dir);
  const current = !!marker && JSON.stringify([...marker.requirements].sort()) === JSON.stringify([...LLAMAFACTORY_REQUIREMENTS].sort());
  const check = (status: TrainingCheck['status'], detail: string, fix?: string): TrainingCheck => ({ area: AREA, check: 'llamafactory (managed)', status, detail, ...(fix ? { fix } : {}) });
  if (marker && current && existsSync(join(dir, 'bin', 'llamafactory-cli'))) {
    const shown = relative(paths.workspaceRoot, dir).startsWith('..') ? dir : relative(paths.workspaceRoot, dir);
    return { cli: join(dir, 'bin', 'llamafactory-cli'), check: check('ok', `${shown}: ${marker.requirements.join(' ')} (created ${marker.created_at})`) };
  }
  if (marker) return { cli: undefined, check: check('warn', `${relative(paths.workspaceRoot, dir)} holds ${marker.requirements.join(' ')}; train recreates it with ${spec}`) };
  if (options.probeIndex === false) return { cli: undefined, check: check('warn', `${relative(paths.workspaceRoot, dir)} does not exist yet; train installs ${spec} into it`) };
  const probe = llamafactoryInIndex();
  return {
    cli: undefined,
    check: probe.available
      ? check('warn', `not installed yet; train installs ${spec} into ${relative(paths.workspaceRoot, dir)} (${probe.detail})`)
      : check(
          'fail',
          `not installed, and not installable here: ${probe.detail}`,
          `pip install ${requirementsPipArgs()} on a host that reaches PyPI and set training.llamafactory.executable, or use training.backend: hf`,
        ),
  };
}

/** training.llamafactory.executable, on PATH or as a path. */
function pathCliCheck(t: Training): { cli: string | undefined; check: TrainingCheck } {
  const cli = which(t.llamafactory.executable);
  return {
    cli,
    check: cli
      ? { area: AREA, check: 'llamafactory-cli', status: 'ok', detail: cli }
      : {
          area: AREA,
          check: 'llamafactory-cli',
          status: 'fail',
          detail: `${t.llamafactory.executable} not found${t.llamafactory.executable.includes('/') ? '' : ' on PATH'} (training.llamafactory.executable); LLaMA-Factory is not installed`,
          fix: `pip install ${requirementsPipArgs()} in the training environment and put its bin/ on PATH, or set training.llamafactory.managed_env: true (installs into artifacts/env/llamafactory)`,
        },
  };
}

/** torchrun beside the CLI, else on PATH: LLaMA-Factory launches it for the distributed modes. */
function torchrunCheck(cli: string | undefined): TrainingCheck {
  const sibling = cli ? join(dirname(cli), 'torchrun') : undefined;
  const torchrun = sibling && existsSync(sibling) ? sibling : which('torchrun');
  return torchrun
    ? { area: AREA, check: 'torchrun', status: 'ok', detail: torchrun }
    : { area: AREA, check: 'torchrun', status: cli ? 'fail' : 'warn', detail: 'torchrun not found (LLaMA-Factory launches it for FORCE_TORCHRUN=1)', fix: 'install torch in the LLaMA-Factory environment' };
}

/** Visible GPUs against the distributed mode and nproc_per_node. */
function gpuCheck(t: Training): TrainingCheck {
  const mode = t.distributed.mode;
  const gpus = visibleGpus();
  if (gpus === undefined || gpus === 0) {
    return {
      area: AREA,
      check: 'GPUs',
      status: mode === 'single' ? 'warn' : 'fail',
      detail: gpus === undefined ? 'nvidia-smi not found: no NVIDIA GPU visible' : 'nvidia-smi lists no GPU',
      fix: mode === 'single' ? 'LLaMA-Factory would train on CPU (slow); use backend: hf for CPU demos' : `${mode} training needs GPUs on this node`,
    };
  }
  const want = t.distributed.nproc_per_node;
  if (want !== undefined && want > gpus) {
    return { area: AREA, check: 'GPUs', status: 'fail', detail: `nproc_per_node ${want} > ${gpus} visible GPUs`, fix: 'lower training.distributed.nproc_per_node or check CUDA_VISIBLE_DEVICES' };
  }
  return {
    area: AREA,
    check: 'GPUs',
    status: mode === 'single' && gpus > 1 && !process.env.CUDA_VISIBLE_DEVICES ? 'warn' : 'ok',
    detail: `${gpus} visible`,
    fix: mode === 'single' && gpus > 1 ? 'mode single with several GPUs: LLaMA-Factory switches to torchrun by itself; set mode torchrun, or CUDA_VISIBLE_DEVICES=0' : undefined,
  };
}

/** Is `dir` a usable local model (config.json present)? */
export function localModelProblem(dir: string): string | undefined {
  if (!existsSync(dir)) return `${dir} does not exist`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return `${dir} is not a directory`;
  }
  if (!names.includes('config.json')) return `${dir} has no config.json`;
  return undefined;
}
