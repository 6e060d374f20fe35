import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrajgenError } from '@trajgen/core';
import { claudeCodeArgs, claudeCodeEnv, openCodeArgs, openCodeConfig, openCodeEnv, OPENCODE_PROVIDER, type Protocol } from '@trajgen/proxy';

/**
 * Agent adapters of the local engine: how the REAL agent CLIs from
 * node_modules (@anthropic-ai/claude-code, opencode-ai) are run for one trial,
 * pointed at the job's proxy with the recipes of @trajgen/proxy (verified
 * against the real CLIs by libs/oracle/scripts/try-agent.ts). File names
 * follow Harbor's installed claude-code and opencode agents so a local
 * trial dir reads like a Harbor one.
 */

export const LOCAL_SCAFFOLDS = ['claude-code', 'opencode'] as const;
export type LocalScaffold = (typeof LOCAL_SCAFFOLDS)[number];

/** The variable carrying the per-job key to OpenCode (its config holds only the `{env:…}` placeholder). */
export const OPENCODE_KEY_ENV = 'TRAJGEN_PROXY_KEY';

export interface AgentLaunchContext {
  instruction: string;
  /** Model alias (rollout.model). */
  model: string;
  proxyUrl: string;
  /** The per-job proxy key. */
  key: string;
  trial: string;
  trialHeader: string;
  /** `<job>/<trial>` (Harbor-shaped). */
  trialDir: string;
  /** Cache dir shared by the job's trials (startup speed; no trial data). */
  sharedCacheDir: string;
  maxTurns?: number;
}

export interface AgentLaunch {
  args: string[];
  /** The agent's own variables (layered over the clean base env). */
  env: Record<string, string>;
  /** Files to write before the start (path → content). */
  files: Record<string, string>;
}

export interface LocalAgent {
  scaffold: LocalScaffold;
  /** Wire protocol toward the proxy. */
  protocol: Protocol;
  /** stdout+stderr log in `<trial>/agent/` (Harbor's name). */
  logFile: string;
  /** The CLI binary in node_modules/.bin. */
  binName: string;
  /** model_name as recorded in the trial config (what the CLI is given). */
  modelName(model: string): string;
  launch(ctx: AgentLaunchContext): AgentLaunch;
  /** An error the CLI reported in its output although it may have exited 0 (Harbor treats OpenCode `error` events so). */
  outputError(output: string): string | undefined;
}

const claudeCode: LocalAgent = {
  scaffold: 'claude-code',
  protocol: 'anthropic',
  logFile: 'claude-code.txt',
  binName: 'claude',
  modelName: (model) => model,
  launch(ctx) {
    const env = claudeCodeEnv({ proxyUrl: ctx.proxyUrl, key: ctx.key, model: ctx.model, trial: ctx.trial, trialHeader: ctx.trialHeader });
    // Native transcripts land in the trial, as with Harbor (CLAUDE_CONFIG_DIR=/logs/agent/sessions).
    env.CLAUDE_CONFIG_DIR = join(ctx.trialDir, 'agent', 'sessions');
    if (ctx.maxTurns !== undefined) env.CLAUDE_CODE_MAX_TURNS = String(ctx.maxTurns);
    return { args: claudeCodeArgs(ctx.instruction, ctx.model), env, files: {} };
  },
  outputError: () => undefined,
};

const openCode: LocalAgent = {
  scaffold: 'opencode',
  protocol: 'openai',
  logFile: 'opencode.txt',
  binName: 'opencode',
  modelName: (model) => `${OPENCODE_PROVIDER}/${model}`,
  launch(ctx) {
    const configPath = join(ctx.trialDir, 'agent', 'opencode.json');
    // The key stays out of the file: OpenCode substitutes {env:…} when it loads the config.
    const config = openCodeConfig({ proxyUrl: ctx.proxyUrl, key: `{env:${OPENCODE_KEY_ENV}}`, model: ctx.model, trial: ctx.trial, trialHeader: ctx.trialHeader });
    const env: Record<string, string> = {
      ...openCodeEnv(configPath),
      [OPENCODE_KEY_ENV]: ctx.key,
      // Sessions and state in the trial (Harbor: agent/opencode/xdg-data, xdg-state).
      XDG_DATA_HOME: join(ctx.trialDir, 'agent', 'opencode', 'xdg-data'),
      XDG_STATE_HOME: join(ctx.trialDir, 'agent', 'opencode', 'xdg-state'),
      XDG_CACHE_HOME: ctx.sharedCacheDir,
    };
    return { args: openCodeArgs(ctx.instruction, ctx.model), env, files: { [configPath]: JSON.stringify(config, null, 2) + '\n' } };
  },
  outputError(output) {
    // `opencode run --format json` prints one JSON event per line; an `error` event fails the run (Harbor PR #1658).
    for (const line of output.split('\n')) {
      if (!line.startsWith('{') || !line.includes('"error"')) continue;
      try {
        const event = JSON.parse(line) as { type?: string; error?: unknown };
        if (event.type === 'error') {
          const e = event.error as { name?: string; data?: { message?: string }; message?: string } | string | undefined;
          const text = typeof e === 'string' ? e : (e?.data?.message ?? e?.message ?? e?.name ?? JSON.stringify(e));
          return `opencode reported an error event: ${text}`;
        }
      } catch {
        /* not an event line */
      }
    }
    return undefined;
  },
};

const AGENTS: Record<LocalScaffold, LocalAgent> = { 'claude-code': claudeCode, opencode: openCode };

/** The local engine's adapter for a scaffold, or a clear error for the others. */
export function localAgent(scaffold: string): LocalAgent {
  const a = AGENTS[scaffold as LocalScaffold];
  if (!a) {
    throw new TrajgenError(`rollout.scaffold: ${scaffold} cannot run in the local engine`, {
      hint: `The local engine runs the real claude-code and opencode CLIs from node_modules. Use rollout.engine: harbor for ${scaffold} (Harbor runs it in docker or a cloud sandbox).`,
    });
  }
  return a;
}

/** Absolute path of the agent CLI in the workspace's node_modules/.bin. */
export function agentExecutable(agent: LocalAgent, workspaceRoot: string): string {
  const bin = join(workspaceRoot, 'node_modules', '.bin', agent.binName);
  if (!existsSync(bin)) {
    throw new TrajgenError(`The ${agent.scaffold} CLI is not installed: ${bin} is missing`, {
      hint: 'Run `npm install` in the workspace (the agents are npm dependencies: @anthropic-ai/claude-code, opencode-ai).',
    });
  }
  return bin;
}

const versionCache = new Map<string, Promise<string>>();

/** `<cli> --version` → "2.1.197"; cached per binary for the life of the process. */
export function agentVersion(executable: string): Promise<string> {
  let p = versionCache.get(executable);
  if (!p) {
    p = new Promise<string>((resolve, reject) => {
      // A scratch HOME of its own, removed after: asking for the version must neither touch the user's agent
      // config nor leave the caches OpenCode writes at start (.cache, .config, .local) in the shared temp dir.
      const home = mkdtempSync(join(tmpdir(), 'trajgen-agent-version-'));
      execFile(executable, ['--version'], { timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TMPDIR: home } }, (error, stdout) => {
        rmSync(home, { recursive: true, force: true });
        const m = /\d+\.\d+\.\d+[\w.+-]*/.exec(String(stdout));
        if (m) return resolve(m[0]);
        reject(new TrajgenError(`Cannot read the version of ${executable}${error ? `: ${error.message}` : `: output ${JSON.stringify(String(stdout).slice(0, 80))}`}`));
      });
    });
    versionCache.set(executable, p);
    p.catch(() => versionCache.delete(executable));
  }
  return p;
}
