import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import {
  pipelinePaths,
  resolveConfigPath,
  validatePipelineConfigText,
  formatKeyPath,
  type PipelineConfig,
  type PipelinePaths,
} from '@trajgen/config';
import { postgresLedgerDigest } from '@trajgen/ledger';
import { trainingPreflight } from '@trajgen/trainer';
import { LITELLM_REQUIREMENTS, managedLitellmDir, managedLitellmExecutable } from '@trajgen/proxy';
import { readEnvMarker, subdirNames } from '@trajgen/core';
import { findTaskRoot, parseManifestText } from '@trajgen/tasks';
import { findHarborPython, harborInstallHint, harborVersion, managedHarborState, HARBOR_VERSION } from '@trajgen/rollout';
import { commandVersion, httpProbe, isSymlink, which, type CheckResult } from './probes';

const CLOUD_ENV_VARS: Record<string, string[]> = {
  daytona: ['DAYTONA_API_KEY'],
  modal: ['MODAL_TOKEN_ID', 'MODAL_TOKEN_SECRET'],
  e2b: ['E2B_API_KEY'],
  runloop: ['RUNLOOP_API_KEY'],
};

const AGENT_BINARIES: Record<string, string> = { 'claude-code': 'claude', opencode: 'opencode' };

export interface PreflightOptions {
  /** Timeout of each network probe (upstream, remote cache). */
  probeTimeoutMs?: number;
  /** Environment to read variables from (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Every check the chosen backends need, all of them, with no side effects.
 * Backends add their specifics here so `check` stays one table.
 */
export async function runPreflight(workspaceRoot: string, name: string, options: PreflightOptions = {}): Promise<CheckResult[]> {
  const env = options.env ?? process.env;
  const timeout = options.probeTimeoutMs ?? 5000;
  const paths = pipelinePaths(workspaceRoot, name);
  const results: CheckResult[] = [];
  const display = relative(workspaceRoot, paths.configFile);

  if (!existsSync(paths.configFile)) {
    return [{ area: 'config', check: 'file', status: 'fail', detail: `${display} is missing`, fix: `npx nx g @trajgen/plugin:pipeline ${name}` }];
  }
  const validation = validatePipelineConfigText(readFileSync(paths.configFile, 'utf8'), display, name);
  if (!validation.config) {
    for (const issue of validation.issues) {
      results.push({
        area: 'config',
        check: formatKeyPath(issue.path),
        status: 'fail',
        detail: `${issue.line ? `line ${issue.line}: ` : ''}${issue.message}`,
        fix: `edit ${display}${issue.line ? ` line ${issue.line}` : ''}`,
      });
    }
    return results;
  }
  results.push({ area: 'config', check: 'schema', status: 'ok', detail: `${display} is valid` });
  const config = validation.config;

  results.push(...workspaceChecks(paths));
  results.push(await remoteCacheCheck(env, timeout));
  if (config.conversion.from_jobs.length) {
    // Existing jobs as the source: no tasks, no agent, no model to reach — the job dirs are what must be right.
    results.push(...fromJobsChecks(paths, config));
  } else {
    results.push(await ledgerCheck(name, config, env, timeout));
    results.push(...taskSourceChecks(paths, config));
    results.push(...rolloutChecks(paths, config, env));
    results.push(await upstreamCheck(config, env, timeout));
  }
  // The train stage owns its checks: LLaMA-Factory or the embedded trainer's env, base model, template, YAML keys, output dir, resume.
  results.push(...trainingPreflight(paths, config));
  return results;
}

function workspaceChecks(paths: PipelinePaths): CheckResult[] {
  const out: CheckResult[] = [];
  const artifactsRoot = join(paths.workspaceRoot, 'artifacts');
  for (const dir of [artifactsRoot, paths.artifacts]) {
    if (isSymlink(dir)) {
      out.push({
        area: 'workspace',
        check: 'artifacts dir',
        status: 'fail',
        detail: `${relative(paths.workspaceRoot, dir)} is a symlink: Nx does not cache outputs inside a symlinked directory`,
        fix: 'make it a real directory (bind-mount it if it must live elsewhere); artifacts/<p>/jobs alone may be a symlink',
      });
    }
  }
  if (!out.length) out.push({ area: 'workspace', check: 'artifacts dir', status: 'ok', detail: 'a real directory (outputs are cacheable)' });
  return out;
}

/** ledger.backend: postgres — the variable is set and the database answers (no claim, no schema change). */
async function ledgerCheck(name: string, config: PipelineConfig, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CheckResult> {
  if (config.ledger.backend !== 'postgres') return { area: 'ledger', check: 'backend', status: 'ok', detail: 'yaml (artifacts/<p>/consumption_ledger.yaml, this clone)' };
  const variable = config.ledger.postgres.url_env;
  if (!env[variable]) return { area: 'ledger', check: 'postgres', status: 'fail', detail: `ledger.backend is postgres but ${variable} is not set`, fix: `export ${variable}=postgres://USER@HOST:5432/DATABASE` };
  const digest = await postgresLedgerDigest(env[variable], name, timeoutMs);
  if (digest.startsWith('pg:unavailable:')) {
    const code = digest.slice('pg:unavailable:'.length);
    // 42P01: the table does not exist yet — reachable; the first prepare or rollout creates the schema.
    if (code !== '42P01') return { area: 'ledger', check: 'postgres', status: 'fail', detail: `the database in ${variable} does not answer (${code})`, fix: 'check the connection string, that the server runs (pg_isready -h HOST) and accepts this client' };
    return { area: 'ledger', check: 'postgres', status: 'ok', detail: `${variable} answers; the schema is created at the first prepare` };
  }
  const [, count] = digest.split(':');
  return { area: 'ledger', check: 'postgres', status: 'ok', detail: `${variable} answers; ${count} tasks of "${name}" in the shared ledger` };
}

/**
 * The team's Nx remote cache (Nx's self-hosted remote cache API): plain nx aborts every run
 * when the server is unreachable or rejects the token; `npm run nx` falls back
 * to the local cache when it is unreachable.
 */
async function remoteCacheCheck(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CheckResult> {
  const server = env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER;
  const local = env.NX_CACHE_DIRECTORY ? `local cache ${env.NX_CACHE_DIRECTORY}` : 'the local cache (~/.nx/<workspace>/cache, shared by clones of this repo)';
  if (!server) return { area: 'workspace', check: 'nx cache', status: 'ok', detail: `${local}; no remote cache configured` };
  if (env.NX_SKIP_REMOTE_CACHE === 'true') return { area: 'workspace', check: 'remote cache', status: 'ok', detail: `${server} skipped (NX_SKIP_REMOTE_CACHE=true)` };
  const token = env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN;
  const probe = await httpProbe(new URL('/v1/cache/trajgen-check-0000', server).href, timeoutMs, token ? { authorization: `Bearer ${token}` } : {}).catch((e: Error) => ({ error: e.message, status: undefined }));
  if (probe.error) {
    return {
      area: 'workspace',
      check: 'remote cache',
      status: 'warn',
      detail: `${server} unreachable (${probe.error})`,
      fix: 'plain nx aborts every run while it is down; `npm run nx -- …` falls back to the local cache with a warning (or set NX_SKIP_REMOTE_CACHE=true)',
    };
  }
  if (probe.status === 401 || probe.status === 403) {
    return {
      area: 'workspace',
      check: 'remote cache',
      status: 'fail',
      detail: `${server} rejected the token (HTTP ${probe.status}): Nx aborts every run`,
      fix: `set NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN to a token the server accepts${token ? '' : ' (it is unset)'}`,
    };
  }
  if (probe.status === 404 || probe.status === 200) return { area: 'workspace', check: 'remote cache', status: 'ok', detail: `${server} answers (${token ? 'token accepted' : 'no token'})` };
  return { area: 'workspace', check: 'remote cache', status: 'fail', detail: `${server} answered HTTP ${probe.status} to GET /v1/cache/<hash>: Nx treats that as a misconfigured endpoint and aborts`, fix: 'point NX_SELF_HOSTED_REMOTE_CACHE_SERVER at the server root (it serves /v1/cache/{hash})' };
}

const RAW_TRAJECTORIES = ['agent/litellm-trajectory.jsonl', 'agent/trajectory.json', 'agent/completions'];

/** conversion.from_jobs: each entry an existing Harbor job dir with finished trials; job names unique (they key the rows). */
function fromJobsChecks(paths: PipelinePaths, config: PipelineConfig): CheckResult[] {
  const out: CheckResult[] = [];
  const names = new Map<string, string>();
  config.conversion.from_jobs.forEach((entry, i) => {
    const check = `conversion.from_jobs[${i}]`;
    const dir = resolveConfigPath(paths, entry);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      out.push({ area: 'jobs', check, status: 'fail', detail: `${dir} is not a directory`, fix: 'point it at a Harbor job dir (the folder holding config.json, result.json and one folder per trial)' });
      return;
    }
    if (!existsSync(join(dir, 'config.json')) && !existsSync(join(dir, 'result.json'))) {
      const inner = readdirSync(dir).filter((n) => existsSync(join(dir, n, 'config.json')) || existsSync(join(dir, n, 'result.json')));
      out.push({
        area: 'jobs',
        check,
        status: 'fail',
        detail: `${dir} has no config.json or result.json: not a Harbor job dir`,
        fix: inner.length ? `it holds job dirs: list them instead (${inner.slice(0, 3).join(', ')}${inner.length > 3 ? ', …' : ''})` : 'point it at a Harbor job dir',
      });
      return;
    }
    const name = basename(dir);
    if (names.has(name)) {
      out.push({ area: 'jobs', check, status: 'fail', detail: `job name ${name} also names ${names.get(name)}`, fix: 'rows are keyed by job and trial name: rename one of the job dirs' });
      return;
    }
    names.set(name, dir);
    const trials = subdirNames(dir);
    const finished = trials.filter((t) => existsSync(join(dir, t, 'result.json')));
    const withRaw = finished.filter((t) => RAW_TRAJECTORIES.some((f) => existsSync(join(dir, t, f))));
    if (!finished.length) {
      out.push({ area: 'jobs', check, status: 'fail', detail: `${dir}: no finished trial (no <trial>/result.json among ${trials.length} dirs)`, fix: 'wait for the job to finish, or list another job dir' });
      return;
    }
    const missing = finished.length - withRaw.length;
    out.push({
      area: 'jobs',
      check,
      status: missing ? 'warn' : 'ok',
      detail: `${name}: ${finished.length} finished trials${missing ? `, ${missing} without a raw trajectory (${RAW_TRAJECTORIES.join(', ')}): convert drops them as no_trajectory` : ''}`,
    });
  });
  return out;
}

function taskSourceChecks(paths: PipelinePaths, config: PipelineConfig): CheckResult[] {
  const source = resolveConfigPath(paths, config.task_source.path);
  if (!existsSync(source)) {
    return [{ area: 'tasks', check: 'source', status: 'fail', detail: `${source} does not exist`, fix: 'set task_source.path to the task pool directory' }];
  }
  const root = findTaskRoot(source, config.task_source.manifest);
  if (!root) {
    return [{ area: 'tasks', check: 'task root', status: 'fail', detail: `no Harbor task dirs under ${source}`, fix: 'point task_source.path at a directory of task dirs (task.toml, instruction.md, environment/, tests/)' }];
  }
  const manifest = join(root, config.task_source.manifest);
  if (!existsSync(manifest)) {
    return [
      {
        area: 'tasks',
        check: 'manifest',
        status: config.task_source.allow_unverified ? 'warn' : 'fail',
        detail: `${manifest} is missing`,
        fix: config.task_source.allow_unverified
          ? 'every valid task will be staged (allow_unverified: true)'
          : 'list verified task ids in the manifest, or set task_source.allow_unverified: true',
      },
    ];
  }
  const ids = parseManifestText(readFileSync(manifest, 'utf8'));
  if (ids.length === 0) {
    return [{ area: 'tasks', check: 'manifest', status: 'fail', detail: `${relative(paths.workspaceRoot, manifest)} lists no task ids`, fix: 'list the verified task ids, one a line' }];
  }
  return [{ area: 'tasks', check: 'manifest', status: 'ok', detail: `${relative(paths.workspaceRoot, manifest)}: ${ids.length} ids` }];
}

/** Harbor from the managed env or PATH, with its version; a missing one names the command that fixes it. */
function harborCheck(paths: PipelinePaths, config: PipelineConfig, env: NodeJS.ProcessEnv): CheckResult {
  const h = config.rollout.harbor;
  if (h.managed_env) {
    const state = managedHarborState(paths.workspaceRoot);
    const where = relative(paths.workspaceRoot, state.dir) || state.dir;
    if (state.executable) return { area: 'rollout', check: 'harbor (managed)', status: 'ok', detail: `harbor ${harborVersion(state.executable) ?? '?'} in ${where} (created ${state.marker!.created_at})` };
    const python = findHarborPython(env);
    return python
      ? { area: 'rollout', check: 'harbor (managed)', status: 'warn', detail: `not installed yet; rollout installs harbor==${HARBOR_VERSION} into ${where} with ${python}` }
      : { area: 'rollout', check: 'harbor (managed)', status: 'fail', detail: 'no Python ≥ 3.12 to create it with', fix: 'install python3.12+ (apt-get install python3.13-venv, or pyenv) or set TRAJGEN_HARBOR_PYTHON' };
  }
  const found = which(h.executable);
  return found
    ? { area: 'rollout', check: 'harbor CLI', status: 'ok', detail: `${commandVersion(found).output} (${found}, from PATH)` }
    : { area: 'rollout', check: 'harbor CLI', status: 'fail', detail: `${h.executable} not found on PATH`, fix: harborInstallHint() };
}

function rolloutChecks(paths: PipelinePaths, config: PipelineConfig, env: NodeJS.ProcessEnv): CheckResult[] {
  const out: CheckResult[] = [];
  const { engine, scaffold } = config.rollout;
  const localBin = join(paths.workspaceRoot, 'node_modules', '.bin');
  if (engine === 'local') {
    const bin = AGENT_BINARIES[scaffold];
    if (!bin) {
      out.push({ area: 'rollout', check: 'scaffold', status: 'fail', detail: `the local engine runs claude-code and opencode, not ${scaffold}`, fix: 'use rollout.engine: harbor for openhands-sdk and terminus-2' });
    } else {
      const found = which(bin, [localBin]);
      out.push(
        found
          ? { area: 'rollout', check: `${scaffold} CLI`, status: 'ok', detail: `${relative(paths.workspaceRoot, found) || found} ${commandVersion(found).output}` }
          : { area: 'rollout', check: `${scaffold} CLI`, status: 'fail', detail: `${bin} not found`, fix: 'npm install (the agent CLIs are project dependencies)' },
      );
    }
  } else {
    out.push(harborCheck(paths, config, env));
    const environment = config.rollout.harbor.environment;
    if (environment === 'host') {
      // trajgen's host environment runs the project's own agent CLIs (and Terminus-2 needs tmux), no containers.
      const bin = AGENT_BINARIES[scaffold];
      if (bin) {
        const found = which(bin, [localBin]);
        out.push(
          found
            ? { area: 'rollout', check: `${scaffold} CLI`, status: 'ok', detail: `${relative(paths.workspaceRoot, found) || found} ${commandVersion(found).output}` }
            : { area: 'rollout', check: `${scaffold} CLI`, status: 'fail', detail: `${bin} not found`, fix: 'npm install (the agent CLIs are project dependencies)' },
        );
      }
      if (scaffold === 'terminus-2') {
        const tmux = which('tmux');
        out.push(tmux ? { area: 'rollout', check: 'tmux', status: 'ok', detail: commandVersion(tmux, ['-V']).output } : { area: 'rollout', check: 'tmux', status: 'fail', detail: 'tmux not found on PATH', fix: 'apt-get install -y tmux (Terminus-2 drives a tmux session)' });
      }
    } else if (environment === 'docker') {
      const docker = which('docker');
      const info = docker ? commandVersion(docker, ['info', '--format', '{{.ServerVersion}}']) : { ok: false, output: 'docker not found' };
      out.push(
        info.ok
          ? { area: 'rollout', check: 'docker engine', status: 'ok', detail: `server ${info.output}` }
          : { area: 'rollout', check: 'docker engine', status: 'fail', detail: info.output, fix: 'start a Docker engine, or use a cloud environment (rollout.harbor.environment: daytona|modal|e2b|runloop)' },
      );
    } else {
      const missing = (CLOUD_ENV_VARS[environment] ?? []).filter((v) => !env[v]);
      out.push(
        missing.length
          ? { area: 'rollout', check: `${environment} credentials`, status: 'fail', detail: `unset: ${missing.join(', ')}`, fix: `export ${missing.join(' and ')}` }
          : { area: 'rollout', check: `${environment} credentials`, status: 'ok', detail: `${(CLOUD_ENV_VARS[environment] ?? []).join(', ')} set` },
      );
    }
  }
  if (config.proxy.backend === 'litellm' && config.proxy.litellm.managed_env) {
    const dir = managedLitellmDir(paths.workspaceRoot);
    const marker = readEnvMarker(dir);
    const spec = LITELLM_REQUIREMENTS.join(' ');
    const shown = relative(paths.workspaceRoot, dir).startsWith('..') ? dir : relative(paths.workspaceRoot, dir);
    const current = !!marker && JSON.stringify(marker.requirements) === JSON.stringify(LITELLM_REQUIREMENTS) && existsSync(managedLitellmExecutable(paths.workspaceRoot));
    out.push(
      current
        ? { area: 'proxy', check: 'litellm (managed)', status: 'ok', detail: `${shown}: ${spec} (created ${marker!.created_at})` }
        : { area: 'proxy', check: 'litellm (managed)', status: 'warn', detail: `not installed yet; rollout installs '${spec}' into ${shown} on first use (a few minutes, once)` },
    );
  } else if (config.proxy.backend === 'litellm') {
    const litellm = which(config.proxy.litellm.executable);
    out.push(
      litellm
        ? { area: 'proxy', check: 'litellm', status: 'ok', detail: commandVersion(litellm).output }
        : {
            area: 'proxy',
            check: 'litellm',
            status: 'fail',
            detail: `${config.proxy.litellm.executable} not found (proxy.litellm.executable)`,
            fix: `set proxy.litellm.managed_env: true (installs ${LITELLM_REQUIREMENTS.join(' ')} on first use), or pip install '${LITELLM_REQUIREMENTS.join(' ')}' and put litellm on PATH, or use proxy.backend: builtin`,
          },
    );
  } else {
    out.push({ area: 'proxy', check: 'builtin', status: 'ok', detail: 'Node recording proxy (no install needed)' });
  }
  return out;
}

/** The model list of the upstream API (OpenAI: GET {base}/models; Anthropic: GET {base}/v1/models). */
function modelsUrl(provider: string, baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  if (provider === 'anthropic' && !/\/v1$/.test(base)) return `${base}/v1/models`;
  return `${base}/models`;
}

async function upstreamCheck(config: PipelineConfig, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CheckResult> {
  const api = config.rollout.llm_api;
  if (api.provider === 'oracle') return { area: 'upstream', check: 'llm_api', status: 'ok', detail: 'embedded oracle (demo/test model)' };
  const key = api.api_key_env ? env[api.api_key_env] : undefined;
  if (api.api_key_env && !key) {
    return { area: 'upstream', check: 'llm_api key', status: 'fail', detail: `${api.api_key_env} is not set`, fix: `export ${api.api_key_env}=…` };
  }
  const model = api.model ?? config.rollout.model;
  const url = modelsUrl(api.provider, api.base_url!);
  const headers: Record<string, string> = { 'user-agent': 'trajgen-check' };
  if (key) {
    if (api.provider === 'anthropic') {
      headers['x-api-key'] = key;
      headers['anthropic-version'] = '2023-06-01';
    } else headers.authorization = `Bearer ${key}`;
  }
  const probe = await httpProbe(url, timeoutMs, headers, { readBody: true });
  if (probe.error) return { area: 'upstream', check: 'reachable', status: 'fail', detail: `${api.base_url}: ${probe.error}`, fix: 'check rollout.llm_api.base_url and the network' };
  const status = probe.status ?? 0;
  if (status === 401 || status === 403) {
    return {
      area: 'upstream',
      check: 'llm_api key',
      status: 'fail',
      detail: `${url} answered HTTP ${status}: the key in ${api.api_key_env ?? '(no api_key_env)'} was rejected`,
      fix: api.api_key_env ? `export a valid key in ${api.api_key_env}` : 'set rollout.llm_api.api_key_env to the variable holding the key',
    };
  }
  if (status >= 200 && status < 300) {
    let ids: string[] | undefined;
    try {
      const data = JSON.parse(probe.body ?? '')?.data;
      if (Array.isArray(data)) ids = data.map((m: { id?: unknown }) => String(m?.id ?? ''));
    } catch {
      /* not a model list */
    }
    if (!ids) return { area: 'upstream', check: 'reachable', status: 'ok', detail: `${url} answered HTTP ${status} (no model list to check ${model} against)` };
    const listed = ids.some((id) => id === model || id.split('/').pop() === model.split('/').pop());
    return listed
      ? { area: 'upstream', check: 'model', status: 'ok', detail: `${model} is served by ${api.base_url}` }
      : {
          area: 'upstream',
          check: 'model',
          status: 'warn',
          detail: `${model} is not in the ${ids.length} models ${api.base_url} lists`,
          fix: 'check rollout.llm_api.model (or rollout.model); a proxy may still route it',
        };
  }
  return { area: 'upstream', check: 'reachable', status: status >= 500 ? 'warn' : 'ok', detail: `${url} answered HTTP ${status}`, fix: status >= 500 ? 'the upstream reports an error; retry later' : undefined };
}

