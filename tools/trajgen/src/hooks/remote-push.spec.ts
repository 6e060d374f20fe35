import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushLocalHitsToRemote, type PushCandidate } from './remote-push';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Nx's local cache and HTTP client, doubled: records what would be uploaded. */
function fakeNx() {
  const cacheDir = mkdtempSync(join(tmpdir(), 'tg-push-'));
  dirs.push(cacheDir);
  const stored: string[] = [];
  return {
    stored,
    internals: () => ({
      cacheDir,
      get: (h: string) => (h === 'gone' ? null : { terminalOutput: `out ${h}`, code: 0 }),
      store: async (h: string, d: string, t: string, c: number) => {
        expect([d, t, c]).toEqual([cacheDir, `out ${h}`, 0]);
        stored.push(h);
        return true;
      },
    }),
  };
}

const task = (target: string, status: string, hash: string | null): PushCandidate => ({ project: 'demo', target, status, hash });
const SERVER = { NX_SELF_HOSTED_REMOTE_CACHE_SERVER: 'http://cache:8090' };

describe('uploading local cache hits to the remote cache', () => {
  it('uploads only local hits, once per server and hash', async () => {
    const nx = fakeNx();
    const tasks = [task('prepare', 'local-cache', 'h1'), task('rollout', 'local-cache-kept-existing', 'h2'), task('convert', 'success', 'h3'), task('score', 'remote-cache', 'h4'), task('train', 'local-cache', 'gone')];
    expect(await pushLocalHitsToRemote(tasks, SERVER, nx.internals)).toEqual(['demo:prepare', 'demo:rollout']);
    expect(nx.stored).toEqual(['h1', 'h2']);
    expect(await pushLocalHitsToRemote(tasks, SERVER, nx.internals)).toEqual([]);
    expect(await pushLocalHitsToRemote(tasks, { NX_SELF_HOSTED_REMOTE_CACHE_SERVER: 'http://other:8090' }, nx.internals)).toEqual(['demo:prepare', 'demo:rollout']);
    // convert executed (Nx uploaded it): a later local hit of it is not uploaded again.
    expect(await pushLocalHitsToRemote([task('convert', 'local-cache', 'h3')], SERVER, nx.internals)).toEqual([]);
  });

  it('does nothing without a self-hosted server, or when the remote cache is skipped', async () => {
    const nx = fakeNx();
    const tasks = [task('prepare', 'local-cache', 'h1')];
    expect(await pushLocalHitsToRemote(tasks, {}, nx.internals)).toEqual([]);
    expect(await pushLocalHitsToRemote(tasks, { ...SERVER, NX_SKIP_REMOTE_CACHE: 'true' }, nx.internals)).toEqual([]);
    expect(await pushLocalHitsToRemote(tasks, { ...SERVER, TRAJGEN_PUSH_LOCAL_HITS: 'false' }, nx.internals)).toEqual([]);
    expect(nx.stored).toEqual([]);
  });
});
