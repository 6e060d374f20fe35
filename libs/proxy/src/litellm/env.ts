import { join, resolve } from 'node:path';
import { ensurePythonEnv, envPython, type StageIO } from '@trajgen/core';

/**
 * The LiteLLM release the managed env installs. 1.106.12 is the newest whose `[proxy]` extra
 * installs from PyPI: from 1.110.0 the extra needs a `litellm-proxy` package PyPI does not serve,
 * and 1.108.x/1.109.x pin `litellm-proxy-extras` post-releases it does not serve either
 * ("No matching distribution found for litellm-proxy==1.110.2; extra == "proxy"").
 */
export const LITELLM_VERSION = '1.106.12';
export const LITELLM_REQUIREMENTS = [`litellm[proxy]==${LITELLM_VERSION}`];

/** artifacts/env/litellm, or $TRAJGEN_LITELLM_ENV (one env shared by several workspaces, e.g. test copies). */
export function managedLitellmDir(workspaceRoot: string): string {
  return process.env.TRAJGEN_LITELLM_ENV ? resolve(process.env.TRAJGEN_LITELLM_ENV) : join(workspaceRoot, 'artifacts', 'env', 'litellm');
}

function explainLitellmInstallFailure(pipOutput: string): { message: string; hint: string } | undefined {
  const m = /No matching distribution found for (\S+)/.exec(pipOutput);
  if (!m) return undefined;
  return {
    message: `LiteLLM could not be installed from this machine's package index: no distribution for ${m[1]}`,
    hint: `Install 'litellm[proxy]' by hand where it installs and set proxy.litellm.managed_env: false with proxy.litellm.executable, or use proxy.backend: builtin.`,
  };
}

/**
 * The `litellm` CLI of the managed env, created on first use from the package
 * index (about a minute or two here) and reused while LITELLM_REQUIREMENTS stay
 * the same.
 */
export async function ensureLitellmEnv(workspaceRoot: string, io: Pick<StageIO, 'log'>): Promise<string> {
  const env = await ensurePythonEnv(
    { dir: managedLitellmDir(workspaceRoot), label: 'LiteLLM', requirements: LITELLM_REQUIREMENTS, explainFailure: explainLitellmInstallFailure },
    io,
  );
  return join(env.dir, 'bin', 'litellm');
}

/** Where the managed env's litellm would be (for `check`, which creates nothing). */
export function managedLitellmExecutable(workspaceRoot: string): string {
  return join(envPython(managedLitellmDir(workspaceRoot)), '..', 'litellm');
}
