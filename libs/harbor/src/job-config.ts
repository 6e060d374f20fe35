import { join } from 'node:path';
import { DEFAULT_RETRY_EXCLUDE_EXCEPTIONS } from './types';

/**
 * The Harbor CLI job config (Harbor's JobConfig) that the rollout
 * stage's `harbor` engine writes and runs with `harbor run -c <file> -y`.
 * Checked against the installed harbor==0.26.0's own models for every scaffold
 * × environment in libs/rollout/src/harbor-config.real.spec.ts.
 *
 * Secrets never appear in the file: the proxy URL and per-job key reach the
 * agents through `${VAR}` references in `agents[].env`, which Harbor resolves
 * from its own process environment; the engine sets those
 * variables when it spawns Harbor (`harborProcessEnv`). `kwargs` are not
 * redacted by Harbor (only env values are), so they only ever hold non-secret values (the
 * proxy URL; OpenCode's key as the `{env:…}` placeholder OpenCode resolves).
 *
 * Every trial must send the routing header `<trialHeader>: <trial name>`;
 * stock Harbor cannot template per-trial env, so each scaffold runs through a
 * small Python wrapper from `libs/harbor/python/trajgen_harbor/agents.py`
 * (import path `trajgen_harbor.agents:Trajgen…`) that subclasses Harbor's
 * agent and adds the header for the trial it runs in.
 */

export const HARBOR_SCAFFOLDS = ['claude-code', 'opencode', 'openhands-sdk', 'terminus-2'] as const;
export type HarborScaffold = (typeof HARBOR_SCAFFOLDS)[number];

export const HARBOR_ENVIRONMENT_TYPES = ['docker', 'daytona', 'modal', 'e2b', 'runloop', 'host'] as const;
export type HarborEnvironmentType = (typeof HARBOR_ENVIRONMENT_TYPES)[number];

/**
 * `host` is not a Harbor type: it is trajgen's own environment class
 * (libs/harbor/python/trajgen_harbor/host_env.py, trusted tasks only), selected
 * by import path — Harbor's mechanism for a custom environment.
 */
export const HARBOR_HOST_ENVIRONMENT_IMPORT_PATH = 'trajgen_harbor.host_env:HostEnvironment';

/** Host variables the generated config refers to (`${NAME}`); the engine sets them when it spawns Harbor. */
export const PROXY_ENV = {
  /** Proxy root URL as containers reach it, e.g. http://10.0.0.5:43123 (Anthropic clients). */
  url: 'TRAJGEN_PROXY_URL',
  /** The same with `/v1` (OpenAI-style clients). */
  openaiBase: 'TRAJGEN_PROXY_OPENAI_BASE',
  /** The per-job key the proxy requires. */
  key: 'TRAJGEN_PROXY_KEY',
} as const;

/** Where the Python agent wrappers live (put on PYTHONPATH for Harbor). */
export const HARBOR_PYTHON_DIR = join(__dirname, '..', 'python');

/** Import path of the wrapper class per scaffold (module `trajgen_harbor.agents`). */
export const HARBOR_AGENT_IMPORT_PATHS: Record<HarborScaffold, string> = {
  'claude-code': 'trajgen_harbor.agents:TrajgenClaudeCode',
  opencode: 'trajgen_harbor.agents:TrajgenOpenCode',
  'openhands-sdk': 'trajgen_harbor.agents:TrajgenOpenHandsSDK',
  'terminus-2': 'trajgen_harbor.agents:TrajgenTerminus2',
};

/** Harbor's built-in agent name behind each wrapper (its AgentName enum). */
export const HARBOR_AGENT_NAMES: Record<HarborScaffold, string> = {
  'claude-code': 'claude-code',
  opencode: 'opencode',
  'openhands-sdk': 'openhands-sdk',
  'terminus-2': 'terminus-2',
};

/** The OpenCode provider id the config defines for the proxy (model `trajgen/<alias>`). */
export const HARBOR_OPENCODE_PROVIDER = 'trajgen';

export interface HarborJobConfigInput {
  jobName: string;
  /** Absolute: `config.json` omits defaults, so a relative jobs_dir would resolve against the CWD at resume time. */
  jobsDir: string;
  /** Absolute path of the staged dataset dir (its subdirs are tasks). */
  datasetPath: string;
  /** Task dir names to run now (the claimed batch). Matched as globs by Harbor: escaped here. */
  taskNames: string[];
  /** Task dir names never to run (the ledger's exclusions at launch). */
  excludeTaskNames: string[];
  scaffold: HarborScaffold;
  /** Model alias the agent asks the proxy for. */
  model: string;
  /** Proxy root URL as the agents reach it (no /v1): written literally only where a kwarg needs it (not a secret). */
  proxyUrl: string;
  trialHeader: string;
  nConcurrent: number;
  nAttempts: number;
  /** Harbor retry.max_retries (within the job). */
  maxRetries: number;
  timeouts: { agentSec: number; verifierSec: number; multiplier: number };
  environment: HarborEnvironmentType;
  /** environment host only: dirs put first on PATH (the project's agent CLIs, node_modules/.bin). */
  hostBinDirs?: string[];
  agent: {
    version?: string;
    maxTurns?: number;
    temperature?: number;
    /** Extra non-secret environment (config rollout.agent.env). */
    env?: Record<string, string>;
    /** Host variables passed through by name (config rollout.agent.pass_env) → `${NAME}` references. */
    passEnv?: string[];
    /** Extra agent kwargs (config rollout.harbor.agent_kwargs); merged last. */
    kwargs?: Record<string, unknown>;
  };
}

/** The generated JobConfig (only the keys we set; Harbor fills defaults). */
export interface HarborJobConfig {
  job_name: string;
  jobs_dir: string;
  n_attempts: number;
  timeout_multiplier: number;
  n_concurrent_trials: number;
  quiet: boolean;
  retry: { max_retries: number; exclude_exceptions: string[] };
  environment:
    | { type: Exclude<HarborEnvironmentType, 'host'>; delete: boolean }
    | { import_path: string; delete: boolean; kwargs: { agent_bin_dirs: string[] } };
  verifier: { max_timeout_sec: number };
  agents: {
    name: null;
    import_path: string;
    model_name: string;
    max_timeout_sec: number;
    kwargs: Record<string, unknown>;
    env: Record<string, string>;
  }[];
  datasets: { path: string; task_names: string[]; exclude_task_names: string[] }[];
}

/**
 * Harbor matches `task_names`/`exclude_task_names` as fnmatch globs against the
 * task dir name (TaskConfig's glob filters): escape `*`, `?` and `[` so an id matches only itself.
 */
export function escapeGlob(name: string): string {
  return name.replace(/[[*?]/g, (c) => `[${c}]`);
}

const ref = (name: string) => `\${${name}}`;

/** The model id each scaffold is given: claude-code the alias verbatim; OpenAI-style clients a provider prefix. */
export function harborModelName(scaffold: HarborScaffold, model: string): string {
  switch (scaffold) {
    case 'claude-code':
      return model;
    case 'opencode':
      return `${HARBOR_OPENCODE_PROVIDER}/${model}`;
    case 'openhands-sdk':
    case 'terminus-2':
      return `openai/${model}`;
  }
}

/**
 * OpenCode's provider block for the proxy (merged by Harbor into the
 * container's opencode.json): `@ai-sdk/openai-compatible` → `POST <proxy>/v1/chat/completions`;
 * the key as OpenCode's `{env:…}` placeholder (the value arrives through
 * `agents[].env`), every hidden agent (title, summary, compaction) on the same model.
 */
export function harborOpenCodeConfig(model: string, proxyUrl: string): Record<string, unknown> {
  const full = `${HARBOR_OPENCODE_PROVIDER}/${model}`;
  return {
    provider: {
      [HARBOR_OPENCODE_PROVIDER]: {
        npm: '@ai-sdk/openai-compatible',
        name: 'trajgen recording proxy',
        options: { baseURL: `${proxyUrl.replace(/\/+$/, '')}/v1`, apiKey: `{env:${PROXY_ENV.key}}` },
        models: { [model]: { name: model, tool_call: true } },
      },
    },
    model: full,
    small_model: full,
    agent: { title: { model: full }, summary: { model: full }, compaction: { model: full } },
    autoupdate: false,
    share: 'disabled',
  };
}

/** Environment and kwargs per scaffold that route the agent through the proxy (what each of Harbor's built-in agents reads). */
function routing(input: HarborJobConfigInput): { env: Record<string, string>; kwargs: Record<string, unknown> } {
  const { scaffold, model, agent } = input;
  const proxy = input.proxyUrl.replace(/\/+$/, '');
  const kwargs: Record<string, unknown> = { trajgen_trial_header: input.trialHeader };
  // Terminus-2 is not an installed agent: its options model has neither `version` nor `skip_install` (Harbor 0.26 refuses them).
  if (scaffold !== 'terminus-2') {
    // On the host the project's own CLIs run (node_modules/.bin on PATH): nothing is downloaded at trial time.
    if (input.environment === 'host') kwargs.skip_install = true;
    else if (agent.version) kwargs.version = agent.version;
  }
  switch (scaffold) {
    case 'claude-code':
      if (agent.maxTurns !== undefined) kwargs.max_turns = agent.maxTurns;
      return {
        env: {
          ANTHROPIC_BASE_URL: ref(PROXY_ENV.url),
          ANTHROPIC_API_KEY: ref(PROXY_ENV.key),
          // Every model slot on the alias (Harbor's claude-code agent sets them too once a base URL is set).
          ANTHROPIC_MODEL: model,
          ANTHROPIC_SMALL_FAST_MODEL: model,
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          DISABLE_AUTOUPDATER: '1',
          DISABLE_TELEMETRY: '1',
          DISABLE_ERROR_REPORTING: '1',
        },
        kwargs,
      };
    case 'opencode':
      // OpenCode has no turn limit (a max_turns would be silently ignored): max_turns is not passed, the engine warns.
      kwargs.opencode_config = harborOpenCodeConfig(model, proxy);
      return { env: { [PROXY_ENV.key]: ref(PROXY_ENV.key), OPENCODE_DISABLE_AUTOUPDATE: '1', OPENCODE_DISABLE_SHARE: '1' }, kwargs };
    case 'openhands-sdk':
      if (agent.maxTurns !== undefined) kwargs.max_iterations = agent.maxTurns;
      if (agent.temperature !== undefined) kwargs.temperature = agent.temperature;
      return { env: { LLM_API_KEY: ref(PROXY_ENV.key), LLM_BASE_URL: ref(PROXY_ENV.openaiBase) }, kwargs };
    case 'terminus-2':
      // Runs in the Harbor host process; LiteLLM reads OPENAI_API_KEY from Harbor's env (set by the engine).
      if (agent.maxTurns !== undefined) kwargs.max_turns = agent.maxTurns;
      if (agent.temperature !== undefined) kwargs.temperature = agent.temperature;
      kwargs.api_base = `${proxy}/v1`;
      return { env: {}, kwargs };
  }
}

/**
 * Build the job config. Pure: the same input always gives the same config
 * (Harbor's resume compares configs).
 */
export function harborJobConfig(input: HarborJobConfigInput): HarborJobConfig {
  const r = routing(input);
  const env: Record<string, string> = { ...(input.agent.env ?? {}) };
  for (const name of input.agent.passEnv ?? []) env[name] = ref(name);
  Object.assign(env, r.env);
  return {
    job_name: input.jobName,
    jobs_dir: input.jobsDir,
    n_attempts: input.nAttempts,
    timeout_multiplier: input.timeouts.multiplier,
    n_concurrent_trials: input.nConcurrent,
    quiet: false,
    // The FULL default exclusion list: a shorter list would make verifier timeouts and reward-file errors retryable (the prior art excluded only AgentTimeoutError and re-ran such trials).
    retry: { max_retries: input.maxRetries, exclude_exceptions: [...DEFAULT_RETRY_EXCLUDE_EXCEPTIONS] },
    environment:
      input.environment === 'host'
        ? { import_path: HARBOR_HOST_ENVIRONMENT_IMPORT_PATH, delete: true, kwargs: { agent_bin_dirs: input.hostBinDirs ?? [] } }
        : { type: input.environment, delete: true },
    // Caps: effective timeout = min(task value, cap) × timeout_multiplier (Harbor's JobConfig rule), as in the local engine.
    verifier: { max_timeout_sec: input.timeouts.verifierSec },
    agents: [
      {
        name: null,
        import_path: HARBOR_AGENT_IMPORT_PATHS[input.scaffold],
        model_name: harborModelName(input.scaffold, input.model),
        max_timeout_sec: input.timeouts.agentSec,
        kwargs: { ...r.kwargs, ...(input.agent.kwargs ?? {}) },
        env,
      },
    ],
    datasets: [
      {
        path: input.datasetPath,
        task_names: [...input.taskNames].sort().map(escapeGlob),
        exclude_task_names: [...input.excludeTaskNames].sort().map(escapeGlob),
      },
    ],
  };
}

/**
 * The variables the config refers to, with their values, for Harbor's process
 * environment (never written to any file). Terminus-2 calls the model from the
 * Harbor process through LiteLLM, which reads OPENAI_API_KEY there (Harbor's terminus-2 calls the model through LiteLLM).
 */
export function harborProcessEnv(scaffold: HarborScaffold, proxy: { url: string; key: string }): Record<string, string> {
  const url = proxy.url.replace(/\/+$/, '');
  const env: Record<string, string> = {
    [PROXY_ENV.url]: url,
    [PROXY_ENV.openaiBase]: `${url}/v1`,
    [PROXY_ENV.key]: proxy.key,
  };
  if (scaffold === 'terminus-2') env.OPENAI_API_KEY = proxy.key;
  return env;
}
