import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { relative } from 'node:path';
import { resolveConfigPath, type PipelineConfig, type PipelinePaths } from '@trajgen/config';
import { envIsCurrent, readEnvMarker } from '@trajgen/core';
import { commonTrainingChecks, llamafactoryPreflight, localModelProblem, type TrainingCheck } from '@trajgen/llamafactory';
import { trainerEnvDir, trainerRequirements } from './env';
import { HF_SUPPORTED_TEMPLATES } from './hf-backend';

const AREA = 'training';

function hfChecks(paths: PipelinePaths, config: PipelineConfig): TrainingCheck[] {
  const t = config.training;
  const out: TrainingCheck[] = [];
  const rel = (p: string) => (relative(paths.workspaceRoot, p).startsWith('..') ? p : relative(paths.workspaceRoot, p));
  if (process.env.TRAJGEN_HF_TRAINER_PYTHON) {
    out.push({ area: AREA, check: 'trainer python', status: existsSync(process.env.TRAJGEN_HF_TRAINER_PYTHON) ? 'ok' : 'fail', detail: `TRAJGEN_HF_TRAINER_PYTHON=${process.env.TRAJGEN_HF_TRAINER_PYTHON}` });
  } else {
    // The env is created with `python -m venv`: probe the version and the venv/ensurepip modules together.
    const python = process.env.TRAJGEN_PYTHON || 'python3';
    const probe = spawnSync(python, ['-c', 'import sys, importlib.util as u; print("Python %d.%d.%d" % sys.version_info[:3], "venv" if u.find_spec("venv") and u.find_spec("ensurepip") else "no-venv")'], { encoding: 'utf8' });
    const m = (probe.stdout ?? '').trim().match(/^Python ((\d+)\.(\d+)\.\d+) (venv|no-venv)$/);
    const fix = 'install Python ≥ 3.10 with the venv module (Debian: python3-venv), or point TRAJGEN_PYTHON at one; the first train creates the env';
    let version: string | undefined;
    if (probe.error || probe.status !== 0 || !m) out.push({ area: AREA, check: 'python', status: 'fail', detail: probe.error ? `${python} not found on PATH` : `${python} did not run`, fix });
    else if (Number(m[2]) < 3 || (Number(m[2]) === 3 && Number(m[3]) < 10)) out.push({ area: AREA, check: 'python', status: 'fail', detail: `Python ${m[1]}: the embedded trainer needs ≥ 3.10`, fix });
    else if (m[4] === 'no-venv') out.push({ area: AREA, check: 'python', status: 'fail', detail: `Python ${m[1]} has no venv/ensurepip module`, fix });
    else {
      version = m[1];
      out.push({ area: AREA, check: 'python', status: 'ok', detail: `Python ${version} with venv` });
    }
    const dir = trainerEnvDir(paths.workspaceRoot);
    if (version && envIsCurrent(dir, trainerRequirements(), version)) {
      out.push({ area: AREA, check: 'trainer env', status: 'ok', detail: `${rel(dir)} (created ${readEnvMarker(dir)!.created_at})` });
    } else {
      out.push({
        area: AREA,
        check: 'trainer env',
        status: 'warn',
        detail: `${rel(dir)} ${existsSync(dir) ? 'is outdated' : 'does not exist yet'}`,
        fix: 'the first train creates it from the package index (torch, transformers, peft, …; about a minute)',
      });
    }
  }
  const model = resolveConfigPath(paths, t.model_name_or_path);
  const problem = localModelProblem(model);
  if (problem) {
    out.push({ area: AREA, check: 'base model', status: 'fail', detail: problem, fix: 'the embedded trainer needs a local dir with config.json and tokenizer files (it never downloads)' });
  } else {
    const names = readdirSync(model);
    const weights = names.some((n) => /^(model|pytorch_model).*\.(safetensors|bin)$/.test(n));
    const tokenizer = names.includes('tokenizer.json') || names.includes('tokenizer_config.json');
    out.push(
      tokenizer
        ? { area: AREA, check: 'base model', status: 'ok', detail: `${rel(model)}${weights ? '' : ' (config only: weights initialised on first use)'}` }
        : { area: AREA, check: 'base model', status: 'fail', detail: `${rel(model)} has no tokenizer files`, fix: 'add tokenizer.json + tokenizer_config.json' },
    );
  }
  if (!(HF_SUPPORTED_TEMPLATES as readonly string[]).includes(t.template)) {
    out.push({ area: AREA, check: 'template', status: 'fail', detail: `"${t.template}" is not implemented by the embedded trainer`, fix: `use ${HF_SUPPORTED_TEMPLATES.join(' or ')}, or backend: llamafactory` });
  } else out.push({ area: AREA, check: 'template', status: 'ok', detail: `${t.template} (Qwen Hermes tool-call layout)` });
  if (t.finetuning_type !== 'lora' && t.finetuning_type !== 'full') {
    out.push({ area: AREA, check: 'finetuning_type', status: 'fail', detail: `${t.finetuning_type} is not implemented by the embedded trainer`, fix: 'use lora or full, or backend: llamafactory' });
  }
  if (t.distributed.mode !== 'single') {
    out.push({ area: AREA, check: 'distributed', status: 'fail', detail: `mode ${t.distributed.mode} needs backend: llamafactory`, fix: 'set training.distributed.mode: single' });
  }
  if (config.dataset.source === 'hf') {
    out.push({ area: AREA, check: 'dataset', status: 'fail', detail: 'hub datasets need backend: llamafactory (the embedded trainer reads local files)', fix: 'register a local copy (dataset.source: local_lf)' });
  }
  return out;
}

/**
 * Every `check` row of the train stage, for libs/preflight to include:
 * backend requirements (LLaMA-Factory or the embedded trainer's Python env),
 * the base model, the template, the YAML keys, the output dir and resume.
 * No side effects (the llamafactory managed env is probed with a read-only
 * `pip index versions`).
 */
export function trainingPreflight(paths: PipelinePaths, config: PipelineConfig, options: { probeIndex?: boolean } = {}): TrainingCheck[] {
  const backend = config.training.backend === 'hf' ? hfChecks(paths, config) : llamafactoryPreflight(paths, config, options);
  return [...backend, ...commonTrainingChecks(paths, config)];
}
