import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { TrajgenError, ensurePythonEnv, envIsCurrent, findExecutable, readEnvMarker, type EnvMarker, type StageIO } from '@trajgen/core';

/**
 * Harbor for the harbor engine: from a managed venv (`rollout.harbor.managed_env:
 * true`, created once under artifacts/env/harbor and reused while its
 * requirements stay the same) or the `rollout.harbor.executable` on PATH.
 *
 * Pinned to the newest release PyPI serves that installs here (0.26.0):
 * Harbor's job config, environment and agent classes change between minor
 * versions, and the wrappers in libs/harbor/python are checked against this one.
 */
export const HARBOR_VERSION = '0.26.0';
export const HARBOR_REQUIREMENTS = [`harbor==${HARBOR_VERSION}`];
/** Harbor needs Python ≥ 3.12. */
const MIN_PYTHON: [number, number] = [3, 12];

/** artifacts/env/harbor, or $TRAJGEN_HARBOR_ENV (tests share one env across temporary workspaces). */
export function managedHarborDir(workspaceRoot: string): string {
  return process.env.TRAJGEN_HARBOR_ENV ? resolve(process.env.TRAJGEN_HARBOR_ENV) : join(workspaceRoot, 'artifacts', 'env', 'harbor');
}

export function managedHarborExecutable(dir: string): string {
  return join(dir, 'bin', 'harbor');
}

function pythonVersion(python: string): [number, number] | undefined {
  const r = spawnSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8', timeout: 20_000 });
  const m = /^(\d+)\.(\d+)/.exec(r.stdout ?? '');
  return r.status === 0 && m ? [Number(m[1]), Number(m[2])] : undefined;
}

const newEnough = (v: [number, number] | undefined) => !!v && (v[0] > MIN_PYTHON[0] || (v[0] === MIN_PYTHON[0] && v[1] >= MIN_PYTHON[1]));

/**
 * A Python ≥ 3.12 to create the Harbor env with: $TRAJGEN_HARBOR_PYTHON, else
 * python3.13 / python3.12 / python3 on PATH, else a pyenv install. Undefined when none.
 */
export function findHarborPython(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TRAJGEN_HARBOR_PYTHON) return env.TRAJGEN_HARBOR_PYTHON;
  const candidates: string[] = [];
  for (const name of ['python3.13', 'python3.12', 'python3']) {
    const found = findExecutable(name, { pathVar: env.PATH ?? '', cwd: process.cwd() });
    if (found) candidates.push(found);
  }
  const pyenv = join(env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'versions');
  if (existsSync(pyenv)) {
    for (const v of readdirSync(pyenv).filter((d) => /^3\.1[2-9]\./.test(d)).sort().reverse()) {
      const [, minor] = v.split('.');
      candidates.push(join(pyenv, v, 'bin', `python3.${minor}`));
    }
  }
  return candidates.find((p) => existsSync(p) && newEnough(pythonVersion(p)));
}

export interface HarborInstall {
  executable: string;
  /** managed: the venv under artifacts/env (or $TRAJGEN_HARBOR_ENV); path: the configured executable. */
  source: 'managed' | 'path';
  marker?: EnvMarker;
  created?: boolean;
}

/** The command that installs what is missing, for error messages and `check`. */
export function harborInstallHint(): string {
  return `set rollout.harbor.managed_env: true (trajgen installs harbor==${HARBOR_VERSION} into artifacts/env/harbor with a Python ≥ 3.12; TRAJGEN_HARBOR_PYTHON picks the interpreter), or install it yourself: uv tool install harbor==${HARBOR_VERSION} (or pip install harbor==${HARBOR_VERSION} in a Python ≥ 3.12 venv) and put harbor on PATH / set rollout.harbor.executable`;
}

/** The managed Harbor env, created on first use (locked; a marker written last, so a torn install is redone). */
export async function ensureHarborEnv(workspaceRoot: string, io: Pick<StageIO, 'log'>): Promise<HarborInstall> {
  // Warm path without probing interpreters (pyenv shims take a second each): the env records the Python it was made with.
  const dir = managedHarborDir(workspaceRoot);
  const existing = readEnvMarker(dir);
  if (existing && !process.env.TRAJGEN_HARBOR_PYTHON && envIsCurrent(dir, HARBOR_REQUIREMENTS, existing.python)) {
    return { executable: managedHarborExecutable(dir), source: 'managed', marker: existing, created: false };
  }
  const python = findHarborPython();
  if (!python) {
    throw new TrajgenError('No Python ≥ 3.12 found to create the managed Harbor environment', {
      hint: 'Install python3.12 or newer (e.g. apt-get install python3.13-venv, or pyenv install 3.12) or point TRAJGEN_HARBOR_PYTHON at one.',
    });
  }
  const env = await ensurePythonEnv({ dir, label: 'Harbor', requirements: HARBOR_REQUIREMENTS, python }, io);
  return { executable: managedHarborExecutable(env.dir), source: 'managed', marker: env.marker, created: env.created };
}

/** Harbor as configured: the managed env (installed now if needed) or the executable on PATH (an error naming the fix when missing). */
export async function resolveHarbor(
  workspaceRoot: string,
  harbor: { managed_env: boolean; executable: string },
  io: Pick<StageIO, 'log'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<HarborInstall> {
  if (harbor.managed_env) return ensureHarborEnv(workspaceRoot, io);
  const found = findExecutable(harbor.executable, { pathVar: env.PATH ?? '', cwd: workspaceRoot });
  if (!found) {
    throw new TrajgenError(`The Harbor CLI ${JSON.stringify(harbor.executable)} is not installed (not found on PATH)`, { hint: harborInstallHint() });
  }
  return { executable: found, source: 'path' };
}

/** `harbor --version` → "0.26.0", or undefined. */
export function harborVersion(executable: string): string | undefined {
  const r = spawnSync(executable, ['--version'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HARBOR_TELEMETRY: '0' } });
  const m = /\d+\.\d+\.\d+[\w.+-]*/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r.status === 0 && m ? m[0] : undefined;
}

/** For `check`: what the managed env holds, without installing anything. */
export function managedHarborState(workspaceRoot: string): { dir: string; marker?: EnvMarker; executable?: string } {
  const dir = managedHarborDir(workspaceRoot);
  const marker = readEnvMarker(dir);
  const executable = managedHarborExecutable(dir);
  return { dir, marker, executable: marker && existsSync(executable) ? executable : undefined };
}
