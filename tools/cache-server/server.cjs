#!/usr/bin/env node
'use strict';
/**
 * A self-hosted Nx remote cache (the HTTP protocol Nx 20.8+ speaks with
 * NX_SELF_HOSTED_REMOTE_CACHE_SERVER, Nx's documented self-hosted cache API):
 *
 *   GET /v1/cache/{hash}   200 + tar.gz body (hit) | 404 (miss)
 *   PUT /v1/cache/{hash}   200 stored | 409 already exists (never overwritten) | 403 read-only token
 *
 * Entries are files named by hash, written to a temp file and renamed, so a
 * reader never sees a partial entry; an upload shorter than its
 * Content-Length is rejected. Auth: `Authorization: Bearer <token>`; a wrong
 * token gets 401 with a text/plain body (Nx prints it). No dependencies.
 *
 *   node tools/cache-server/server.cjs --dir /srv/nx-cache --port 8090 \
 *        [--host 127.0.0.1] [--token-env NX_CACHE_RW_TOKEN] [--read-token-env NX_CACHE_RO_TOKEN]
 *
 * Tokens come from the named environment variables; with none set the server
 * accepts every request (only sensible on 127.0.0.1).
 */
const http = require('node:http');
const { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const { randomBytes, timingSafeEqual } = require('node:crypto');

const HASH = /^[A-Za-z0-9._-]{1,200}$/;

function safeEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Create (not start) a cache server. Returns the http.Server and its stats. */
function createCacheServer({ dir, readWriteTokens = [], readOnlyTokens = [], log = () => {} }) {
  mkdirSync(dir, { recursive: true });
  const stats = { gets: 0, hits: 0, misses: 0, puts: 0, stored: 0, conflicts: 0, rejected: 0, unauthorized: 0 };
  const authRequired = readWriteTokens.length + readOnlyTokens.length > 0;

  function access(req) {
    if (!authRequired) return 'rw';
    const header = req.headers.authorization || '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (readWriteTokens.some((t) => safeEqual(t, token))) return 'rw';
    if (readOnlyTokens.some((t) => safeEqual(t, token))) return 'ro';
    return 'none';
  }

  function text(res, status, body) {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const m = url.pathname.match(/^\/v1\/cache\/([^/]+)$/);
    if (!m || !HASH.test(m[1])) return text(res, 404, 'not found');
    const hash = m[1];
    const file = join(dir, hash);
    const who = access(req);
    if (who === 'none') {
      stats.unauthorized++;
      return text(res, 401, 'bad token');
    }
    if (req.method === 'GET') {
      stats.gets++;
      if (!existsSync(file)) {
        stats.misses++;
        log(`GET ${hash} 404`);
        return text(res, 404, 'miss');
      }
      stats.hits++;
      log(`GET ${hash} 200`);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(file).size });
      createReadStream(file).pipe(res);
      return;
    }
    if (req.method === 'PUT') {
      stats.puts++;
      if (who !== 'rw') return text(res, 403, 'read-only token');
      if (existsSync(file)) {
        stats.conflicts++;
        req.resume();
        log(`PUT ${hash} 409`);
        return text(res, 409, 'already exists');
      }
      const expected = Number(req.headers['content-length']);
      if (!Number.isFinite(expected)) {
        stats.rejected++;
        req.resume();
        return text(res, 411, 'content-length required');
      }
      const tmp = join(dir, `.${hash}.${randomBytes(4).toString('hex')}.tmp`);
      const out = createWriteStream(tmp);
      let received = 0;
      let failed = false;
      const fail = (status, why) => {
        if (failed) return;
        failed = true;
        out.destroy();
        rmSync(tmp, { force: true });
        stats.rejected++;
        log(`PUT ${hash} ${status} ${why}`);
        if (!res.headersSent) text(res, status, why);
      };
      req.on('data', (chunk) => {
        received += chunk.length;
        if (received > expected) fail(400, 'body longer than content-length');
      });
      req.on('aborted', () => fail(400, 'upload aborted'));
      req.on('error', () => fail(400, 'upload error'));
      req.pipe(out);
      out.on('finish', () => {
        if (failed) return;
        if (received !== expected) return fail(400, `short upload: ${received} of ${expected} bytes`);
        if (existsSync(file)) {
          rmSync(tmp, { force: true });
          stats.conflicts++;
          return text(res, 409, 'already exists');
        }
        renameSync(tmp, file);
        stats.stored++;
        log(`PUT ${hash} 200 ${received} B`);
        text(res, 200, 'stored');
      });
      return;
    }
    text(res, 405, 'method not allowed');
  });
  server.stats = stats;
  server.entries = () => readdirSync(dir).filter((f) => !f.startsWith('.'));
  return server;
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const [k, v] = a.includes('=') ? a.slice(2).split('=') : [a.slice(2), argv[++i]];
    out[k] = v;
  }
  return out;
}

if (require.main === module) {
  const args = parseArgs(process.argv.slice(2));
  if (!args.dir) {
    console.error('usage: server.cjs --dir <cache dir> [--port 8090] [--host 127.0.0.1] [--token-env NAME] [--read-token-env NAME]');
    process.exit(2);
  }
  const rw = args['token-env'] ? [process.env[args['token-env']]].filter(Boolean) : [];
  const ro = args['read-token-env'] ? [process.env[args['read-token-env']]].filter(Boolean) : [];
  if (args['token-env'] && !rw.length) {
    console.error(`${args['token-env']} is not set`);
    process.exit(2);
  }
  const server = createCacheServer({ dir: args.dir, readWriteTokens: rw, readOnlyTokens: ro, log: (l) => console.log(l) });
  server.listen(Number(args.port ?? 8090), args.host ?? '127.0.0.1', () => {
    const { address, port } = server.address();
    console.log(`nx remote cache on http://${address}:${port} (entries in ${args.dir}${rw.length ? ', token required' : ', no auth'})`);
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
}

module.exports = { createCacheServer };
