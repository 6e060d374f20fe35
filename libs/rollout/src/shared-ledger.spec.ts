/**
 * Two clones of one pipeline on one PostgreSQL ledger (the real server on
 * 127.0.0.1:5432, a database of its own): the real rollout stage with the
 * local engine, the real Claude Code CLI and the oracle (the scripted
 * demo/test model, not a real LLM). Each clone has its own workspace and jobs
 * dir, as two machines would.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { rolloutPipeline } from './index';
import { captureIO, createWorkspace, simpleTask, type TestWorkspace } from './__fixtures__/workspace';
import { createTestDatabase, type TestDatabase } from '../../../test/support/pg';

const URL_ENV = 'TRAJGEN_TEST_SHARED_LEDGER_URL';
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('trajgen_rollout_spec');
  process.env[URL_ENV] = db.url;
});
afterAll(async () => {
  delete process.env[URL_ENV];
  await db?.drop();
});

const clones: TestWorkspace[] = [];
afterEach(() => {
  for (const c of clones.splice(0)) c.remove();
});

/** A clone of pipeline `name` with `ids` (simple tasks) on the shared ledger. */
function clone(name: string, ids: string[], leaseSec = 30): TestWorkspace {
  const ws = createWorkspace({
    name,
    rollout: { n_concurrent: 1, max_retries: 0 },
    ledger: { backend: 'postgres', postgres: { url_env: URL_ENV, lease_sec: leaseSec, heartbeat_sec: Math.max(0.2, leaseSec / 5) } },
  });
  for (const id of ids) ws.addTask(id, simpleTask({}));
  clones.push(ws);
  return ws;
}

/** A temp dir inside the clone, for a process that is killed before it can clean up after itself. */
function childTmp(ws: TestWorkspace): string {
  const dir = join(ws.root, '.tmp');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Finished trials (result.json) per task in a clone's jobs dir. */
function finishedTrials(ws: TestWorkspace): Record<string, number> {
  const out: Record<string, number> = {};
  const jobs = join(ws.root, 'artifacts', ws.name, 'jobs');
  if (!existsSync(jobs)) return out;
  for (const job of readdirSync(jobs).filter((n) => !n.startsWith('.'))) {
    for (const trial of readdirSync(join(jobs, job), { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.'))) {
      if (!existsSync(join(jobs, job, trial.name, 'result.json'))) continue;
      const id = trial.name.split('__')[0];
      out[id] = (out[id] ?? 0) + 1;
    }
  }
  return out;
}

async function statuses(pipeline: string): Promise<Record<string, string>> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const { rows } = await c.query('SELECT id, status FROM trajgen_ledger WHERE pipeline = $1 ORDER BY id', [pipeline]);
    return Object.fromEntries(rows.map((r) => [r.id, r.status]));
  } finally {
    await c.end();
  }
}

describe('one pipeline, two clones, one PostgreSQL ledger', () => {
  it('two clones roll out the same manifest concurrently: every task exactly once, the work split between them', async () => {
    const ids = ['t1', 't2', 't3', 't4', 't5', 't6'];
    const a = clone('shared1', ids);
    const b = clone('shared1', ids);
    await a.prepareFor();
    await b.prepareFor();
    const [ra, rb] = await Promise.all([rolloutPipeline(a.load(), captureIO().io, { handleSignals: false }), rolloutPipeline(b.load(), captureIO().io, { handleSignals: false })]);
    const fa = finishedTrials(a);
    const fb = finishedTrials(b);
    expect(Object.keys(fa).length, 'clone A did part of the work').toBeGreaterThan(0);
    expect(Object.keys(fb).length, 'clone B did part of the work').toBeGreaterThan(0);
    expect([...Object.keys(fa), ...Object.keys(fb)].sort(), 'every task once, none twice').toEqual(ids);
    for (const n of [...Object.values(fa), ...Object.values(fb)]) expect(n).toBe(1);
    expect(Object.values(await statuses('shared1'))).toEqual(ids.map(() => 'done'));
    expect(ra.run.counts.trials + rb.run.counts.trials).toBe(ids.length);
  }, 240_000);

  it('SIGKILL of one clone mid-run: the other finishes its tasks after the lease timeout, nothing run twice', async () => {
    const ids = ['k1', 'k2', 'k3', 'k4'];
    const a = clone('shared2', ids, 2);
    const b = clone('shared2', ids, 2);
    await a.prepareFor();
    await b.prepareFor();
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, '__fixtures__', 'rollout-child.ts'), a.root, 'shared2'], {
      cwd: a.root,
      // Its own temp dir, inside clone A (removed with it): the SIGKILL leaves its working copy behind.
      env: { ...process.env, TMPDIR: childTmp(a) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    // Kill A as soon as its first trial has started (claimed under its lease, not finished).
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (/\[0\/4\] start/.test(out) || / start k\d/.test(out)) {
          clearInterval(timer);
          resolve();
        }
        if (child.exitCode !== null) {
          clearInterval(timer);
          reject(new Error(`clone A exited before starting a trial:\n${out}`));
        }
      }, 50);
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const heldByA = Object.entries(await statuses('shared2')).filter(([, s]) => s === 'running').map(([id]) => id);
    expect(heldByA.length, out).toBeGreaterThan(0);

    const t0 = Date.now();
    const io = captureIO();
    const rb = await rolloutPipeline(b.load(), io.io, { handleSignals: false });
    expect(Object.values(await statuses('shared2')), io.lines.join('\n')).toEqual(ids.map(() => 'done'));
    const fa = finishedTrials(a);
    const fb = finishedTrials(b);
    // A died before any result: B ran every task, once; the task A held came back after the lease expired.
    for (const id of ids) expect((fa[id] ?? 0) + (fb[id] ?? 0), id).toBe(1);
    for (const id of heldByA) expect(fb[id], `${id} taken over by B`).toBe(1);
    expect(io.lines.join('\n')).toMatch(/expired lease reconciled/);
    expect(rb.run.counts.trials).toBe(ids.length - Object.keys(fa).length);
    expect(Date.now() - t0).toBeLessThan(180_000);
  }, 240_000);

  it('the database unreachable: a clear error before any trial starts, nothing claimed', async () => {
    const ws = clone('shared3', ['u1']);
    await ws.prepareFor();
    const saved = process.env[URL_ENV];
    process.env[URL_ENV] = 'postgres://postgres@127.0.0.1:1/nowhere';
    try {
      await expect(rolloutPipeline(ws.load(), captureIO().io, { handleSignals: false })).rejects.toThrow(new RegExp(`PostgreSQL ledger is unreachable \\(\\$${URL_ENV}\\)`));
      await expect(ws.prepareFor()).rejects.toThrow(/unreachable/);
    } finally {
      process.env[URL_ENV] = saved;
    }
    expect(existsSync(join(ws.root, 'artifacts', 'shared3', 'jobs')), 'no job started').toBe(false);
    expect(await statuses('shared3')).toEqual({ u1: 'pending' });
    delete process.env[URL_ENV];
    await expect(rolloutPipeline(ws.load(), captureIO().io, { handleSignals: false })).rejects.toThrow(new RegExp(`${URL_ENV} \\(ledger.postgres.url_env\\) is not set`));
    process.env[URL_ENV] = saved;
  }, 60_000);
});
