import { join } from 'node:path';
import { TrajgenError } from '@trajgen/core';

/**
 * The environment of an agent or verifier process in the local engine: an
 * ALLOWLIST, never the host environment minus a denylist. Nothing of the
 * host's keys, tokens or config reaches a trial unless a person names it in
 * `rollout.agent.pass_env`.
 */

/** Host variables every trial process gets (none can hold a secret). */
export const HOST_ALLOWLIST = ['PATH', 'LANG', 'LC_ALL', 'TZ'] as const;

export interface TrialDirs {
  /** HOME of the trial (a fresh dir in the trial's temp area). */
  home: string;
  /** TMPDIR of the trial. */
  tmp: string;
}

export interface CleanEnvOptions {
  dirs: TrialDirs;
  /** The host environment to take allowlisted and passed-through names from. */
  host: NodeJS.ProcessEnv;
  /** rollout.agent.pass_env: host variables passed through by name. */
  passEnv?: readonly string[];
  /** Layers applied in order (later wins): rollout.agent.env, then the agent's own variables. */
  layers?: Record<string, string>[];
}

/**
 * HOME, TMPDIR, XDG dirs inside the trial; PATH/LANG/LC_ALL/TZ from the host;
 * the pass_env names; then the given layers.
 */
export function cleanEnv(options: CleanEnvOptions): Record<string, string> {
  const { home, tmp } = options.dirs;
  const env: Record<string, string> = {
    HOME: home,
    TMPDIR: tmp,
    USER: 'trajgen',
    LOGNAME: 'trajgen',
    SHELL: '/bin/bash',
    TERM: 'dumb',
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_CACHE_HOME: join(home, '.cache'),
  };
  for (const name of HOST_ALLOWLIST) {
    const v = options.host[name];
    if (v !== undefined && v !== '') env[name] = v;
  }
  for (const name of options.passEnv ?? []) {
    const v = options.host[name];
    if (v !== undefined) env[name] = v;
  }
  for (const layer of options.layers ?? []) Object.assign(env, layer);
  return env;
}

/**
 * Resolve a task's `[verifier].env` / `[environment].env` values as Harbor
 * does in task.toml (`${VAR}`, `${VAR:-default}`) — but a host
 * variable is only read when it is listed in `rollout.agent.pass_env`, so a
 * task cannot pull a secret out of the host on its own.
 */
export function resolveTaskEnv(
  table: Record<string, unknown> | undefined,
  host: NodeJS.ProcessEnv,
  passEnv: readonly string[],
  where: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!table) return out;
  const allowed = new Set(passEnv);
  for (const [key, raw] of Object.entries(table)) {
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') continue;
    out[key] = String(raw).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, fallback: string | undefined) => {
      if (allowed.has(name) && host[name] !== undefined) return host[name]!;
      if (fallback !== undefined) return fallback;
      throw new TrajgenError(`${where}: ${key} needs the host variable ${name}`, {
        hint: allowed.has(name)
          ? `Export ${name} before the rollout.`
          : `The local engine passes host variables only by name: add ${name} to rollout.agent.pass_env (and export it).`,
      });
    });
  }
  return out;
}
