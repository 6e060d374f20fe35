import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trackedTempDirs } from '../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createCacheServer } = require('./server.cjs');

let server: any;
let base: string;
const dir = tempDir(join(tmpdir(), 'tg-cache-'));

function call(method: string, path: string, opts: { token?: string; body?: Buffer; contentLength?: number; cut?: boolean } = {}): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body) headers['content-length'] = opts.contentLength ?? opts.body.length;
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, type: res.headers['content-type'] }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    if (opts.body) req.write(opts.body);
    if (opts.cut) req.destroy();
    else req.end();
    if (opts.cut) setTimeout(() => resolve({ status: -1, body: '' }), 200);
  });
}

beforeAll(async () => {
  server = createCacheServer({ dir, readWriteTokens: ['rw-token'], readOnlyTokens: ['ro-token'] });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

describe('nx remote cache server', () => {
  it('answers a miss with 404, stores a PUT, then serves it', async () => {
    expect((await call('GET', '/v1/cache/abc123', { token: 'rw-token' })).status).toBe(404);
    expect((await call('PUT', '/v1/cache/abc123', { token: 'rw-token', body: Buffer.from('tarball') })).status).toBe(200);
    const hit = await call('GET', '/v1/cache/abc123', { token: 'ro-token' });
    expect(hit).toMatchObject({ status: 200, body: 'tarball', type: 'application/octet-stream' });
  });

  it('never overwrites an entry (409)', async () => {
    expect((await call('PUT', '/v1/cache/abc123', { token: 'rw-token', body: Buffer.from('poison') })).status).toBe(409);
    expect((await call('GET', '/v1/cache/abc123', { token: 'rw-token' })).body).toBe('tarball');
  });

  it('refuses bad tokens with a text/plain 401 and read-only tokens on PUT with 403', async () => {
    const r = await call('GET', '/v1/cache/abc123', { token: 'nope' });
    expect(r).toMatchObject({ status: 401, type: 'text/plain' });
    expect((await call('PUT', '/v1/cache/new1', { token: 'ro-token', body: Buffer.from('x') })).status).toBe(403);
  });

  it('rejects an upload shorter than its Content-Length and keeps no partial entry', async () => {
    await call('PUT', '/v1/cache/short1', { token: 'rw-token', body: Buffer.from('abc'), contentLength: 10, cut: true });
    await new Promise((r) => setTimeout(r, 100));
    expect((await call('GET', '/v1/cache/short1', { token: 'rw-token' })).status).toBe(404);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('rejects hashes that could escape the cache dir', async () => {
    expect((await call('GET', '/v1/cache/..%2F..%2Fetc%2Fpasswd', { token: 'rw-token' })).status).toBe(404);
  });
});
