#!/usr/bin/env node
'use strict';
/**
 * Entry point of the npm scripts. Bootstraps itself on a fresh clone (installs
 * node_modules when missing or stale), sets the offline-safe Nx environment,
 * then runs:
 *   demo            the demo pipeline end to end (nx run demo:archive)
 *   test [args]     the test suite (vitest)
 *   bench [name]    the benchmarks (bench/*.bench.ts), figures to bench/results/
 *   nx [args]       any nx command with the same environment
 * No dependencies: it must run before `npm install`.
 */
const { spawnSync } = require('node:child_process');
const { existsSync, statSync, readdirSync, utimesSync } = require('node:fs');
const { join } = require('node:path');
const http = require('node:http');
const https = require('node:https');

const root = join(__dirname, '..');
const { useWorkspaceTsconfig } = require('../tools/trajgen/src/swc-project.cjs');

function mtime(p) {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

function ensureInstalled() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const stale = !existsSync(marker) || mtime(join(root, 'package.json')) > mtime(marker) || mtime(join(root, 'package-lock.json')) > mtime(marker);
  if (!stale) return;
  console.log('trajgen: installing dependencies (npm install)…');
  // `npm ci` fails against registries that lack some platform packages the lockfile lists.
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    console.error('trajgen: npm install failed; see the output above.');
    process.exit(r.status ?? 1);
  }
}

/** Newest mtime of the plugin's TypeScript sources (not tests). */
function newestPluginSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestPluginSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')) newest = Math.max(newest, mtime(p));
  }
  return newest;
}

/**
 * Nx loads the plugin as built JavaScript (tools/trajgen/dist, checked in).
 * After an edit of its sources, rebuild it before Nx runs so a developer never
 * runs a stale plugin (the build spec catches a stale commit).
 */
function ensurePluginBuilt() {
  const stamp = join(root, 'tools', 'trajgen', 'dist', 'index.js');
  if (mtime(stamp) >= newestPluginSource(join(root, 'tools', 'trajgen', 'src'))) return;
  const { writePlugin } = require('./build-plugin.cjs');
  writePlugin(root);
  const now = new Date();
  utimesSync(stamp, now, now);
}

/** Offline-safe defaults; anything the user set wins. */
function nxEnv() {
  const env = { ...process.env };
  const defaults = {
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    NX_DEFAULT_OUTPUT_STYLE: 'static',
    // The plugin loads in Nx's own process, not a worker process (also set in .env for a bare `nx`).
    NX_ISOLATE_PLUGINS: 'false',
    NX_SKIP_NX_CACHE: undefined,
  };
  for (const [k, v] of Object.entries(defaults)) if (v !== undefined && env[k] === undefined) env[k] = v;
  // The benches' and tests' `node -r @swc-node/register` children compile with the workspace's options.
  return useWorkspaceTsconfig(env);
}

/**
 * Nx aborts the whole run when a self-hosted remote cache is unreachable. The
 * project's scripts probe it first and fall back to the local cache with a
 * warning instead.
 */
function probeRemoteCache(env) {
  const server = env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER;
  if (!server || env.NX_SKIP_REMOTE_CACHE === 'true') return Promise.resolve();
  return new Promise((resolve) => {
    let url;
    try {
      url = new URL('/v1/cache/0000000000000000', server);
    } catch {
      console.warn(`trajgen: warning: NX_SELF_HOSTED_REMOTE_CACHE_SERVER is not a URL (${server}); using the local cache only.`);
      env.NX_SKIP_REMOTE_CACHE = 'true';
      resolve();
      return;
    }
    const headers = env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN ? { authorization: `Bearer ${env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN}` } : {};
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: 'GET', timeout: 3000, headers }, (res) => {
      res.resume();
      resolve();
    });
    const fallback = (why) => {
      console.warn(`trajgen: warning: remote cache ${server} is unreachable (${why}); falling back to the local cache for this run.`);
      env.NX_SKIP_REMOTE_CACHE = 'true';
      resolve();
    };
    req.on('timeout', () => {
      req.destroy();
      fallback('no answer within 3 s');
    });
    req.on('error', (e) => fallback(e.message));
    req.end();
  });
}

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) {
    console.error(`trajgen: could not run ${cmd}: ${r.error.message}`);
    return 1;
  }
  return r.status ?? 1;
}

const nxBin = join(root, 'node_modules', '.bin', 'nx');
const vitestBin = join(root, 'node_modules', '.bin', 'vitest');

async function main() {
  const [command = 'help', ...rest] = process.argv.slice(2);
  if (command === 'help' || command === '--help') {
    console.log('usage: node scripts/trajgen.cjs demo | test [vitest args] | bench [name] | nx <args>');
    return 0;
  }
  ensureInstalled();
  ensurePluginBuilt();
  const env = nxEnv();
  await probeRemoteCache(env);
  switch (command) {
    case 'demo': {
      const code = run(nxBin, ['run', 'demo:archive', ...rest], env);
      if (code === 0) console.log('\ntrajgen demo: done. Report: artifacts/demo/report/index.html · run history: artifacts/demo/index.yaml');
      return code;
    }
    case 'test':
      return run(vitestBin, ['run', ...rest], env);
    case 'bench': {
      const dir = join(root, 'bench');
      const benches = readdirSync(dir).filter((f) => f.endsWith('.bench.ts') && (!rest[0] || f.startsWith(rest[0])));
      let code = 0;
      for (const b of benches) {
        console.log(`\n=== bench/${b} ===`);
        code = run(process.execPath, ['-r', '@swc-node/register', join(dir, b), ...rest.slice(1)], env) || code;
      }
      return code;
    }
    case 'nx':
      return run(nxBin, rest, env);
    default:
      console.error(`trajgen: unknown command "${command}"`);
      return 2;
  }
}

main().then((code) => process.exit(code));
