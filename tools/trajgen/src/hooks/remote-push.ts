import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Nx uploads a task's outputs to the remote cache only when it executes the
 * task (DbCache.put → remoteCache.store). A result that is already in the
 * local cache — everything a clone ran before the team set up the remote
 * cache, or ran with NX_SKIP_REMOTE_CACHE — is a local hit on every later
 * run and never reaches the remote: a teammate gets misses for work that
 * exists. So after each run, every stage that was a *local* cache hit is
 * uploaded with Nx's own HTTP remote-cache client (the same tarball Nx would
 * have stored; the server keeps the first copy of a hash and answers 409 to
 * the rest). A marker per server and hash under the cache directory makes
 * this a stat call on later runs.
 *
 * Only with the self-hosted server (NX_SELF_HOSTED_REMOTE_CACHE_SERVER) and
 * not when the remote cache is skipped for this run.
 */
export interface PushCandidate {
  project: string;
  target: string;
  status: string;
  hash: string | null;
}

const LOCAL_HIT = new Set(['local-cache', 'local-cache-kept-existing']);

interface NxInternals {
  cacheDir: string;
  get(hash: string): { terminalOutput?: string | null; code: number } | null;
  store(hash: string, cacheDir: string, terminalOutput: string, code: number): Promise<boolean>;
}

function nxInternals(): NxInternals {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const native = require('nx/src/native');
  const { cacheDir } = require('nx/src/utils/cache-directory');
  const { workspaceRoot } = require('nx/src/utils/workspace-root');
  const { getDbConnection } = require('nx/src/utils/db-connection');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const local = new native.NxCache(workspaceRoot, cacheDir, getDbConnection());
  const remote = new native.HttpRemoteCache();
  return { cacheDir, get: (h) => local.get(h), store: (h, d, t, c) => remote.store(h, d, t, c) };
}

export async function pushLocalHitsToRemote(tasks: PushCandidate[], env: NodeJS.ProcessEnv = process.env, internals?: () => NxInternals): Promise<string[]> {
  const server = env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER;
  if (!server || env.NX_SKIP_REMOTE_CACHE === 'true' || env.NX_DISABLE_REMOTE_CACHE === 'true' || env.TRAJGEN_PUSH_LOCAL_HITS === 'false') return [];
  const hits = tasks.filter((t) => LOCAL_HIT.has(t.status) && t.hash);
  if (hits.length === 0 && !tasks.some((t) => t.status === 'success')) return [];
  const nx = (internals ?? nxInternals)();
  const markers = join(nx.cacheDir, 'trajgen-pushed', createHash('sha256').update(server).digest('hex').slice(0, 16));
  // What Nx executed in this run with the remote configured, Nx uploaded itself: not again.
  for (const t of tasks) {
    if (t.status !== 'success' || !t.hash) continue;
    mkdirSync(markers, { recursive: true });
    writeFileSync(join(markers, t.hash), `${t.project}:${t.target}\n`);
  }
  const pushed: string[] = [];
  for (const t of hits) {
    const marker = join(markers, t.hash!);
    if (existsSync(marker)) continue;
    const entry = nx.get(t.hash!);
    if (!entry) continue;
    await nx.store(t.hash!, nx.cacheDir, entry.terminalOutput ?? '', entry.code);
    mkdirSync(markers, { recursive: true });
    writeFileSync(marker, `${t.project}:${t.target}\n`);
    pushed.push(`${t.project}:${t.target}`);
  }
  return pushed;
}
