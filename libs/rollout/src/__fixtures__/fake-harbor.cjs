#!/usr/bin/env node
/*
 * fake-harbor — a TEST DOUBLE of the Harbor CLI. NOT HARBOR.
 *
 * It stands in for Harbor running trials in Docker (no Docker engine where
 * trajgen is tested): retries, crashes and resume, cancel, n_attempts > 1 of
 * the harbor engine's orchestration. The real Harbor 0.26.0 runs in the
 * host-environment tests (test/e2e/harbor.test.ts). It
 * implements only the surface the engine uses, as Harbor 0.22's CLI and
 * output format define it:
 *
 *   fake-harbor run -c <config.json> -y        (`harbor run`) a JobConfig file
 *   fake-harbor job resume -p <job dir> [-f T]  (`harbor job resume`)
 *
 * and writes Harbor's job layout: <jobs_dir>/<job_name>/
 * {config.json, lock.json, result.json (JobResult, rewritten on every trial
 * start/end), job.log, <trial>/{config.json, result.json (TrialResult, written
 * once at trial end), trial.log, agent/, verifier/{reward.txt, test-stdout.txt}}}.
 * Trial names: task dir name[:32] minus trailing -/_, "__", 7 shortuuid chars.
 * Retries follow Harbor's RetryConfig (exception not in retry.exclude_exceptions → dir deleted,
 * same trial name, up to retry.max_retries); SIGTERM cancels running trials
 * (CancelledError results); resume deletes dirs without result.json and
 * CancelledError ones, then runs the tasks left.
 *
 * In place of an agent container it plays the agent's part toward the proxy:
 * it resolves agents[0].env `${VAR}` references from its environment as
 * Harbor does, adds the per-trial header the trajgen_harbor wrappers add
 * (kwargs.trajgen_trial_header) and sends ONE generation request to the
 * proxy in the scaffold's protocol — so the test sees the routing, the
 * key and one logged line per trial. The agent's ATIF file is a REAL Harbor
 * trajectory copied from FAKE_HARBOR_ATIF (a fixture), not one it made.
 *
 * Knobs (environment): FAKE_HARBOR_DELAY_MS (per trial, default 200),
 * FAKE_HARBOR_FAIL_FIRST (task ids whose first attempt fails with
 * NonZeroAgentExitCodeError), FAKE_HARBOR_REWARD_0 (task ids scored 0),
 * FAKE_HARBOR_CRASH_AFTER (exit 1 abruptly after N finished trials of a
 * `run`, leaving the next trial half done), FAKE_HARBOR_ATIF (fixture path),
 * FAKE_HARBOR_REFUSE (reject the config like a validation error: exit 1, no job).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const crypto = require('node:crypto');

const ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const list = (name) => new Set((process.env[name] || '').split(',').map((s) => s.trim()).filter(Boolean));
const now = () => new Date().toISOString().replace('Z', '000+00:00');
const localNow = () => {
  const d = new Date();
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
};
const writeJson = (file, value) => {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 4));
  fs.renameSync(tmp, file);
};
const log = (jobDir, line) => {
  fs.appendFileSync(path.join(jobDir, 'job.log'), `${new Date().toISOString()} ${line}\n`);
  process.stdout.write(`${line}\n`);
};

function trialName(task) {
  let s = '';
  for (const b of crypto.randomBytes(7)) s += ALPHABET[b % ALPHABET.length];
  return `${task.slice(0, 32).replace(/[-_]+$/, '')}__${s}`;
}

/** fnmatch with [..] classes (what the generated config's escaped globs need). */
function globToRegExp(glob) {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const j = glob.indexOf(']', i + 2);
      if (j < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, j).replace(/\\/g, '\\\\')}]`;
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** `[task].name` of task.toml (TrialResult.task_name), read with a regex: enough for a test double. */
function taskNameOf(taskDir) {
  try {
    const text = fs.readFileSync(path.join(taskDir, 'task.toml'), 'utf8');
    const m = /^\[task\][^[]*?^name\s*=\s*"([^"]+)"/ms.exec(text);
    return m ? m[1] : undefined;
  } catch {
    return undefined;
  }
}

function resolveEnv(value) {
  return String(value).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name, fallback) => process.env[name] ?? fallback ?? '');
}

function post(url, headers, body) {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', (e) => resolve({ status: 0, text: e.message }));
    req.end(data);
  });
}

/** One model call through the proxy, the way the scaffold's wrapper would make it. */
async function callProxy(agentCfg, trial, instruction) {
  const env = Object.fromEntries(Object.entries(agentCfg.env || {}).map(([k, v]) => [k, resolveEnv(v)]));
  const kwargs = agentCfg.kwargs || {};
  const header = kwargs.trajgen_trial_header || 'x-trajgen-trial';
  const model = String(agentCfg.model_name || '');
  const imp = String(agentCfg.import_path || '');
  const messages = [{ role: 'user', content: instruction }];
  if (imp.endsWith(':TrajgenClaudeCode')) {
    return post(`${env.ANTHROPIC_BASE_URL}/v1/messages`, { 'x-api-key': env.ANTHROPIC_API_KEY, 'anthropic-version': '2023-06-01', [header]: trial }, { model, max_tokens: 1024, messages });
  }
  if (imp.endsWith(':TrajgenOpenCode')) {
    const provider = model.split('/')[0];
    const opts = kwargs.opencode_config.provider[provider].options;
    const key = String(opts.apiKey).replace(/\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, n) => env[n] ?? process.env[n] ?? '');
    return post(`${opts.baseURL}/chat/completions`, { authorization: `Bearer ${key}`, [header]: trial }, { model: model.split('/').slice(1).join('/'), messages });
  }
  if (imp.endsWith(':TrajgenOpenHandsSDK')) {
    return post(`${env.LLM_BASE_URL}/chat/completions`, { authorization: `Bearer ${env.LLM_API_KEY}`, [header]: trial }, { model: model.split('/').slice(1).join('/'), messages });
  }
  if (imp.endsWith(':TrajgenTerminus2')) {
    return post(`${kwargs.api_base}/chat/completions`, { authorization: `Bearer ${process.env.OPENAI_API_KEY}`, [header]: trial }, { model: model.split('/').slice(1).join('/'), messages });
  }
  return { status: 0, text: `fake-harbor: unknown agent ${imp}` };
}

function jobResult(state) {
  const finished = state.results;
  const sum = (f) => (finished.some((t) => typeof f(t) === 'number') ? finished.reduce((s, t) => s + (f(t) || 0), 0) : null);
  return {
    id: state.id,
    started_at: state.startedAt,
    updated_at: localNow(),
    finished_at: state.finishedAt || null,
    n_total_trials: state.total,
    stats: {
      n_completed_trials: finished.length,
      n_errored_trials: finished.filter((t) => t.exception_info).length,
      n_running_trials: state.running.size,
      n_pending_trials: Math.max(0, state.total - finished.length - state.running.size),
      n_cancelled_trials: finished.filter((t) => t.exception_info && t.exception_info.exception_type === 'CancelledError').length,
      n_retries: state.retries,
      n_input_tokens: sum((t) => t.agent_result && t.agent_result.n_input_tokens),
      n_cache_tokens: sum((t) => t.agent_result && t.agent_result.n_cache_tokens),
      n_output_tokens: sum((t) => t.agent_result && t.agent_result.n_output_tokens),
      cost_usd: sum((t) => t.agent_result && t.agent_result.cost_usd),
      evals: {},
    },
  };
}

async function runTrial(state, task, name) {
  const { config, jobDir } = state;
  const agentCfg = config.agents[0];
  const taskDir = path.join(config.datasets[0].path, task);
  const dir = path.join(jobDir, name);
  fs.mkdirSync(path.join(dir, 'agent', 'setup'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'verifier'), { recursive: true });
  const trialConfig = {
    task: { path: taskDir, source: path.basename(config.datasets[0].path) },
    trial_name: name,
    trials_dir: jobDir,
    agent: { import_path: agentCfg.import_path, model_name: agentCfg.model_name, kwargs: agentCfg.kwargs, env: agentCfg.env },
    environment: config.environment,
    job_id: state.id,
  };
  writeJson(path.join(dir, 'config.json'), trialConfig);
  state.running.add(name);
  writeJson(path.join(jobDir, 'result.json'), jobResult(state));
  const started = now();
  fs.appendFileSync(path.join(dir, 'trial.log'), `${started} fake-harbor trial ${name}\n`);
  const instruction = fs.readFileSync(path.join(taskDir, 'instruction.md'), 'utf8');
  const call = await callProxy(agentCfg, name, instruction);
  fs.writeFileSync(path.join(dir, 'agent', 'fake-agent.txt'), `status ${call.status}\n${call.text.slice(0, 2000)}\n`);
  if (process.env.FAKE_HARBOR_ATIF && fs.existsSync(process.env.FAKE_HARBOR_ATIF)) fs.copyFileSync(process.env.FAKE_HARBOR_ATIF, path.join(dir, 'agent', 'trajectory.json'));
  await sleep(Number(process.env.FAKE_HARBOR_DELAY_MS || 200));
  if (state.cancelled) return finishTrial(state, task, name, dir, trialConfig, started, null, { type: 'CancelledError', message: 'cancelled by SIGTERM' });
  if (state.crashNow()) {
    process.stdout.write(`fake-harbor: simulated crash during ${name}\n`);
    process.exit(1);
  }
  const attempt = (state.attempts.get(task) || 0) + 1;
  state.attempts.set(task, attempt);
  if (attempt === 1 && list('FAKE_HARBOR_FAIL_FIRST').has(task)) {
    return finishTrial(state, task, name, dir, trialConfig, started, null, { type: 'NonZeroAgentExitCodeError', message: 'simulated agent crash (fake-harbor)' });
  }
  const reward = list('FAKE_HARBOR_REWARD_0').has(task) ? 0 : 1;
  fs.writeFileSync(path.join(dir, 'verifier', 'test-stdout.txt'), `fake verifier for ${task}: reward ${reward}\n`);
  fs.writeFileSync(path.join(dir, 'verifier', 'reward.txt'), `${reward}\n`);
  return finishTrial(state, task, name, dir, trialConfig, started, { reward }, call.status === 200 ? null : { type: 'NonZeroAgentExitCodeError', message: `proxy answered ${call.status}: ${call.text.slice(0, 200)}` });
}

function finishTrial(state, task, name, dir, trialConfig, started, rewards, exc) {
  let metrics = {};
  try {
    metrics = JSON.parse(fs.readFileSync(path.join(dir, 'agent', 'trajectory.json'), 'utf8')).final_metrics || {};
  } catch {
    metrics = {};
  }
  const model = String(trialConfig.agent.model_name || '');
  const result = {
    id: crypto.randomUUID(),
    task_name: taskNameOf(path.join(state.config.datasets[0].path, task)) || task,
    trial_name: name,
    trial_uri: `file://${dir}`,
    task_id: { path: trialConfig.task.path },
    source: trialConfig.task.source,
    task_checksum: 'fake',
    config: trialConfig,
    agent_info: {
      name: { ':TrajgenClaudeCode': 'claude-code', ':TrajgenOpenCode': 'opencode', ':TrajgenOpenHandsSDK': 'openhands-sdk', ':TrajgenTerminus2': 'terminus-2' }[String(trialConfig.agent.import_path).slice(String(trialConfig.agent.import_path).indexOf(':'))] || 'unknown',
      version: (trialConfig.agent.kwargs && trialConfig.agent.kwargs.version) || 'unknown',
      model_info: model.includes('/') ? { name: model.slice(model.indexOf('/') + 1), provider: model.slice(0, model.indexOf('/')) } : { name: model, provider: 'anthropic' },
    },
    agent_result: {
      n_input_tokens: metrics.total_prompt_tokens ?? null,
      n_cache_tokens: metrics.total_cached_tokens ?? null,
      n_output_tokens: metrics.total_completion_tokens ?? null,
      cost_usd: metrics.total_cost_usd ?? null,
      rollout_details: null,
      metadata: null,
    },
    verifier_result: rewards ? { rewards } : null,
    verifier_environment_mode: 'shared',
    exception_info: exc ? { exception_type: exc.type, exception_message: exc.message, exception_traceback: `Traceback (fake-harbor)\n${exc.type}: ${exc.message}\n`, occurred_at: now() } : null,
    started_at: started,
    finished_at: now(),
    environment_setup: { started_at: started, finished_at: started },
    agent_setup: { started_at: started, finished_at: started },
    agent_execution: { started_at: started, finished_at: now() },
    verifier: rewards ? { started_at: now(), finished_at: now() } : null,
    step_results: null,
  };
  if (exc) fs.writeFileSync(path.join(dir, 'exception.txt'), result.exception_info.exception_traceback);
  writeJson(path.join(dir, 'result.json'), result);
  state.running.delete(name);
  state.results.push(result);
  state.finished += 1;
  writeJson(path.join(state.jobDir, 'result.json'), jobResult(state));
  log(state.jobDir, `trial ${name} finished: ${rewards ? `reward ${rewards.reward}` : 'no reward'}${exc ? ` (${exc.type})` : ''}`);
  return result;
}

async function runTask(state, task, existingName) {
  const retry = state.config.retry || {};
  const exclude = new Set(retry.exclude_exceptions || []);
  const name = existingName || trialName(task);
  for (let n = 0; ; n++) {
    const r = await runTrial(state, task, name);
    const type = r.exception_info && r.exception_info.exception_type;
    if (!type || exclude.has(type) || type === 'CancelledError' || n >= (retry.max_retries || 0) || state.cancelled) return;
    // Harbor: delete the failed trial dir, wait, run again under the same trial name.
    state.results = state.results.filter((x) => x.id !== r.id);
    state.finished -= 1;
    state.retries += 1;
    log(state.jobDir, `retrying ${name} after ${type}`);
    await sleep(300);
    fs.rmSync(path.join(state.jobDir, name), { recursive: true, force: true });
  }
}

async function runJob(config, jobDir, tasks, resumed) {
  const crashAfter = process.env.FAKE_HARBOR_CRASH_AFTER ? Number(process.env.FAKE_HARBOR_CRASH_AFTER) : Infinity;
  const previous = resumed ? JSON.parse(fs.readFileSync(path.join(jobDir, 'result.json'), 'utf8')) : null;
  const state = {
    config,
    jobDir,
    id: previous ? previous.id : crypto.randomUUID(),
    startedAt: previous ? previous.started_at : localNow(),
    total: tasks.total,
    results: tasks.done.slice(),
    running: new Set(),
    retries: 0,
    finished: 0,
    attempts: new Map(),
    cancelled: false,
    crashNow: () => state.finished >= crashAfter,
  };
  process.on('SIGTERM', () => {
    state.cancelled = true;
    log(jobDir, 'SIGTERM: cancelling running trials');
  });
  writeJson(path.join(jobDir, 'result.json'), jobResult(state));
  const queue = tasks.todo.slice();
  const workers = Array.from({ length: Math.max(1, Math.min(config.n_concurrent_trials || 4, queue.length)) }, async () => {
    while (queue.length && !state.cancelled) await runTask(state, queue.shift());
  });
  await Promise.all(workers);
  state.finishedAt = localNow();
  writeJson(path.join(jobDir, 'result.json'), jobResult(state));
  log(jobDir, `job ${config.job_name} done: ${state.results.length} trials`);
  process.exit(state.cancelled ? 130 : 0);
}

function datasetTasks(config) {
  const ds = config.datasets[0];
  const include = (ds.task_names || ['*']).map(globToRegExp);
  const exclude = (ds.exclude_task_names || []).map(globToRegExp);
  return fs
    .readdirSync(ds.path)
    .filter((n) => fs.existsSync(path.join(ds.path, n, 'task.toml')))
    .filter((n) => include.some((r) => r.test(n)) && !exclude.some((r) => r.test(n)))
    .sort();
}

function arg(args, ...flags) {
  for (const f of flags) {
    const i = args.indexOf(f);
    if (i >= 0) return args[i + 1];
  }
  return undefined;
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--version') return void process.stdout.write('fake-harbor 0.22.0 (test double)\n');
  if (args[0] === 'run' || (args[0] === 'job' && args[1] === 'start')) {
    const file = arg(args, '-c', '--config');
    if (!file) throw new Error('fake-harbor run: -c <config> is required');
    if (!args.includes('-y') && !args.includes('--yes')) throw new Error('fake-harbor run: pass -y (Harbor may prompt otherwise)');
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (process.env.FAKE_HARBOR_REFUSE) {
      process.stderr.write('pydantic_core._pydantic_core.ValidationError: 1 validation error for JobConfig (simulated by fake-harbor)\n');
      process.exit(1);
    }
    const jobDir = path.join(config.jobs_dir, config.job_name);
    if (fs.existsSync(jobDir)) throw new Error(`fake-harbor: ${jobDir} exists (Harbor would resume it)`);
    fs.mkdirSync(jobDir, { recursive: true });
    writeJson(path.join(jobDir, 'config.json'), config);
    writeJson(path.join(jobDir, 'lock.json'), { schema_version: 3, created_at: now(), harbor: { version: '0.22.0-fake', git_commit_hash: null, is_editable: false }, n_concurrent_trials: config.n_concurrent_trials, retry: config.retry, trials: [] });
    const tasks = datasetTasks(config);
    // Trial expansion (Harbor's JobConfig n_attempts): attempts outermost, then tasks.
    const todo = Array.from({ length: config.n_attempts || 1 }, () => tasks).flat();
    log(jobDir, `fake-harbor: job ${config.job_name}, ${tasks.length} tasks × ${config.n_attempts || 1} attempts`);
    return runJob(config, jobDir, { todo, done: [], total: todo.length }, false);
  }
  if (args[0] === 'job' && args[1] === 'resume') {
    const jobDir = arg(args, '-p', '--job-path');
    if (!jobDir) throw new Error('fake-harbor job resume: -p <job dir> is required');
    const filters = [];
    for (let i = 0; i < args.length; i++) if (args[i] === '-f' || args[i] === '--filter-error-type') filters.push(args[i + 1]);
    const filter = new Set(filters.length ? filters : ['CancelledError']);
    const config = JSON.parse(fs.readFileSync(path.join(jobDir, 'config.json'), 'utf8'));
    const done = [];
    for (const name of fs.readdirSync(jobDir)) {
      const dir = path.join(jobDir, name);
      if (!fs.statSync(dir).isDirectory()) continue;
      let result;
      try {
        result = JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8'));
      } catch {
        result = undefined;
      }
      if (!result || (result.exception_info && filter.has(result.exception_info.exception_type))) {
        fs.rmSync(dir, { recursive: true, force: true });
        continue;
      }
      done.push(result);
    }
    const doneCount = new Map();
    for (const r of done) doneCount.set(path.basename(r.config.task.path), (doneCount.get(path.basename(r.config.task.path)) || 0) + 1);
    const all = datasetTasks(config);
    const n = config.n_attempts || 1;
    const todo = all.flatMap((t) => Array.from({ length: Math.max(0, n - (doneCount.get(t) || 0)) }, () => t));
    log(jobDir, `fake-harbor: resuming ${config.job_name}: ${done.length} kept, ${todo.length} to run`);
    return runJob(config, jobDir, { todo, done, total: all.length * n }, true);
  }
  throw new Error(`fake-harbor: unsupported command: ${args.join(' ')}`);
}

main().catch((error) => {
  process.stderr.write(`fake-harbor: ${error.message}\n`);
  process.exit(2);
});
