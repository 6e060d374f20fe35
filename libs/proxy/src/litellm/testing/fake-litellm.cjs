#!/usr/bin/env node
'use strict';
/*
 * TEST DOUBLE — fake-litellm. NOT LiteLLM.
 *
 * Stands in for the `litellm` CLI in the tests of the LiteLLM backend's process
 * fault handling: crashes during start-up, readiness that never comes, groups that ignore SIGTERM,
 * which the real LiteLLM (managed env, used by the other tests) cannot be made to produce. It accepts the same flags
 * (`--config C --host H --port P --num_workers N`), reads the generated
 * config.yaml, serves GET /health/liveliness and GET /health/readiness, and
 * forwards /v1/* to model_list[0]'s api_base after checking the master key
 * (resolving `os.environ/NAME` references like LiteLLM). It does NOT run the
 * Python callback: it logs nothing.
 *
 * To test the process-group teardown it starts one "worker" child in its
 * process group and writes {"main": pid, "worker": pid} to fake-litellm.pids
 * in its cwd.
 *
 * Behaviour switches (env):
 *   FAKE_LITELLM_MODE=ok (default) | exit-early (exit 3 after 150 ms) |
 *                     never-ready (readiness stays 503) | ignore-sigterm (main and worker ignore SIGTERM)
 *   FAKE_LITELLM_READY_AFTER_MS=n   readiness answers 503 for the first n ms
 */
const http = require('node:http');
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const YAML = require('yaml');

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const mode = process.env.FAKE_LITELLM_MODE || 'ok';
const configPath = flag('config');
const host = flag('host', '0.0.0.0');
const port = Number(flag('port', '4000'));
if (!configPath || !fs.existsSync(configPath)) {
  console.error(`fake-litellm: config not found: ${configPath}`);
  process.exit(1);
}
const config = YAML.parse(fs.readFileSync(configPath, 'utf8'));
const envRef = (v) => (typeof v === 'string' && v.startsWith('os.environ/') ? process.env[v.slice('os.environ/'.length)] : v);
const masterKey = envRef(config.general_settings && config.general_settings.master_key);
const model = config.model_list[0].litellm_params;
console.log(`fake-litellm: config ${configPath}, ${config.model_list.length} model(s), callbacks ${JSON.stringify(config.litellm_settings.callbacks)}`);

if (mode === 'exit-early') {
  // Dies before it ever listens, like a LiteLLM that cannot import its callback.
  setTimeout(() => {
    console.error('fake-litellm: simulated start-up crash (FAKE_LITELLM_MODE=exit-early)');
    process.exit(3);
  }, 150);
}
if (mode === 'ignore-sigterm') process.on('SIGTERM', () => console.log('fake-litellm: ignoring SIGTERM'));
else process.on('SIGTERM', () => process.exit(0));

const workerCode = mode === 'ignore-sigterm' ? "process.on('SIGTERM',()=>{});setInterval(()=>{},1000)" : 'setInterval(()=>{},1000)';
const worker = spawn(process.execPath, ['-e', workerCode], { stdio: 'ignore' });
fs.writeFileSync('fake-litellm.pids', JSON.stringify({ main: process.pid, worker: worker.pid }));

const started = Date.now();
const readyAfter = Number(process.env.FAKE_LITELLM_READY_AFTER_MS || 0);

if (mode === 'exit-early') return;
const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (path === '/health/liveliness' || path === '/health/liveness') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify("I'm alive!"));
  }
  if (path === '/health/readiness') {
    if (mode === 'never-ready' || Date.now() - started < readyAfter) {
      res.writeHead(503, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ detail: 'Service Unhealthy (fake-litellm not ready)' }));
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ status: 'healthy', db: 'Not connected', litellm_version: 'fake', success_callbacks: config.litellm_settings.callbacks }));
  }
  const given = req.headers['x-api-key'] || String(req.headers.authorization || '').replace(/^Bearer\s+/i, '');
  if (!masterKey || given !== masterKey) {
    res.writeHead(401, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ error: { message: 'fake-litellm: bad master key' } }));
  }
  const target = new URL(model.api_base.replace(/\/+$/, '') + path.replace(/^\/v1(?=\/)/, /\/v1$/.test(model.api_base) ? '' : '/v1'));
  const headers = { ...req.headers, host: target.host };
  delete headers.authorization;
  headers['x-api-key'] = envRef(model.api_key) || '';
  const up = http.request(target, { method: req.method, headers }, (upRes) => {
    res.writeHead(upRes.statusCode, upRes.headers);
    upRes.pipe(res);
  });
  up.on('error', (e) => {
    res.writeHead(502);
    res.end(String(e.message));
  });
  req.pipe(up);
});
server.listen(port, host, () => console.log(`fake-litellm: listening on ${host}:${port}`));
server.on('error', (e) => {
  console.error(`fake-litellm: ${e.message}`);
  process.exit(1);
});
