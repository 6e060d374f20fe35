/**
 * The PostgreSQL ledger against the real server on 127.0.0.1:5432 (a database
 * of its own for this file, dropped at the end).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openLedger } from './ledger';
import { openPostgresLedger, migrateLedgerSchema, postgresDigest, PG_SCHEMA_VERSION, type PostgresLedger, type PostgresLedgerOptions } from './postgres';
import { postgresLedgerDigest } from './ledger-digest.cjs';
import { createTestDatabase, type TestDatabase } from '../../../test/support/pg';
import { tempPipeline, writeTrial, type TempPipeline } from './__fixtures__/pipeline';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('trajgen_ledger_spec');
});
afterAll(async () => {
  await db?.drop();
});

const temps: TempPipeline[] = [];
const open: PostgresLedger[] = [];
afterEach(async () => {
  for (const l of open.splice(0)) await l.close();
  for (const t of temps.splice(0)) t.remove();
});

let pipelineCounter = 0;
function pipeline(name = `p${++pipelineCounter}`): TempPipeline {
  const t = tempPipeline(name);
  temps.push(t);
  return t;
}

async function openPg(tp: TempPipeline, opts: Partial<PostgresLedgerOptions> = {}): Promise<PostgresLedger> {
  const l = await openPostgresLedger(tp.paths, { url: db.url, urlSource: '$TEST_URL', purpose: 'test', maxRetries: 1, leaseSec: 30, heartbeatSec: 10, connectTimeoutSec: 5, ...opts });
  open.push(l);
  return l;
}

describe('PostgreSQL ledger', () => {
  it('creates and migrates its schema once (schema_version), idempotently', async () => {
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      expect(await migrateLedgerSchema(pool)).toBe(PG_SCHEMA_VERSION);
      expect(await migrateLedgerSchema(pool)).toBe(PG_SCHEMA_VERSION);
      const { rows } = await pool.query('SELECT version FROM trajgen_schema_version ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
    } finally {
      await pool.end();
    }
  });

  it('two machines claiming the same ids at once: every task exactly once, the work split', async () => {
    const tp = pipeline();
    const a = await openPg(tp);
    const b = await openPg(tp);
    const ids = Array.from({ length: 40 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    await a.register(ids);
    const got: Record<string, string[]> = { a: [], b: [] };
    const loop = async (l: PostgresLedger, who: 'a' | 'b') => {
      for (;;) {
        const c = await l.claim(ids, { job: `job-${who}`, limit: 2 });
        if (c.length === 0) return;
        got[who].push(...c);
        for (const id of c) await l.recordTrialOutcome(id, { job: `job-${who}`, trial: `${id}__${who}`, reward: 1, trajectory_path: 'x', exception_type: null });
      }
    };
    await Promise.all([loop(a, 'a'), loop(b, 'b')]);
    expect([...got.a, ...got.b].sort()).toEqual(ids);
    expect(got.a.filter((id) => got.b.includes(id))).toEqual([]);
    expect(got.a.length).toBeGreaterThan(0);
    expect(got.b.length).toBeGreaterThan(0);
    await a.refresh();
    expect(a.summary().counts.done).toBe(40);
  });

  it('a dead machine\'s leases expire: reconcile returns its unfinished tasks, finalizes finished ones from disk, and another machine takes them', async () => {
    const tp = pipeline();
    const dead = await openPg(tp, { leaseSec: 0.5, heartbeatSec: 100 });
    await dead.claim(['x', 'y', 'z'], { job: 'jdead' });
    writeTrial(tp.paths, 'jdead', 'y', { reward: 1 }); // finished on shared storage, never recorded
    // The machine dies: no heartbeat, no close. (Stop its timer without releasing the leases.)
    (dead as unknown as { heartbeat?: NodeJS.Timeout }).heartbeat && clearInterval((dead as unknown as { heartbeat: NodeJS.Timeout }).heartbeat);
    const other = await openPg(tp, { leaseSec: 30 });
    expect(await other.claim(['x', 'y', 'z'], { job: 'jother' }), 'live leases are never taken').toEqual([]);
    expect(other.openReport.reconcile.returned).toEqual([]);
    await new Promise((r) => setTimeout(r, 700));
    const report = await other.reconcile();
    expect(report.returned.map((i) => i.id).sort()).toEqual(['x', 'z']);
    expect(report.finalized.map((i) => [i.id, i.to])).toEqual([['y', 'done']]);
    expect(await other.claim(['x', 'y', 'z'], { job: 'jother' })).toEqual(['x', 'z']);
    // The dead machine cannot record into a task another machine took over.
    await expect(dead.recordTrialOutcome('x', { job: 'jdead', trial: 'x__1', reward: 1, trajectory_path: 'x', exception_type: null })).rejects.toThrow(/claimed by job jother/);
  });

  it('the digest changes with the ledger, not with lease renewals; the fingerprint script reads the same', async () => {
    const tp = pipeline();
    const l = await openPg(tp, { heartbeatSec: 0.05 });
    const name = tp.paths.artifacts.split('/').pop()!;
    const d0 = await l.digest();
    await l.claim(['a'], { job: 'j' });
    const d1 = await l.digest();
    expect(d1).not.toBe(d0);
    await new Promise((r) => setTimeout(r, 300)); // several heartbeats
    expect(await l.digest()).toBe(d1);
    expect(await postgresLedgerDigest(db.url, name)).toBe(d1);
    await l.recordTrialOutcome('a', { job: 'j', trial: 'a__1', reward: 0, trajectory_path: 'x', exception_type: null });
    expect(await l.digest()).not.toBe(d1);
    expect(await postgresLedgerDigest('postgres://postgres@127.0.0.1:1/none', name)).toMatch(/^pg:unavailable:/);
  });

  it('same statuses, rules, notes and history as the YAML ledger; a reset done task is not adopted back', async () => {
    const tp = pipeline();
    const l = await openPg(tp, { by: 'alice@box' });
    await l.claim(['d', 'f'], { job: 'j1' });
    const t = writeTrial(tp.paths, 'j1', 'd', { reward: 1 });
    await l.recordTrialOutcome('d', { job: 'j1', trial: t, reward: 1, trajectory_path: 'x', exception_type: null });
    expect(await l.recordTrialOutcome('f', { job: 'j1', trial: 'f__1', reward: null, trajectory_path: null, exception_type: 'NetworkConnectionError' })).toMatchObject({ status: 'pending', attempts: 1 });
    await expect(l.setStatuses([{ id: 'd', status: 'pending' }], ' ')).rejects.toThrow(/note is required/);
    expect(await l.setStatuses([{ id: 'd', status: 'pending' }], 'weak test')).toEqual([{ id: 'd', from: 'done', to: 'pending' }]);
    const again = await openPg(tp);
    expect(again.get('d')?.history.at(-1)).toMatchObject({ change: 'done → pending', by: 'alice@box' });
    expect(again.openReport.reconcile.adopted).toEqual([]);
    expect((await again.applyExclusions(new Set(['f']))).skipped).toEqual(['f']);
    expect(again.get('f')).toMatchObject({ status: 'skipped', note: 'excluded_tasks.txt' });
  });

  it('an unreachable database: a clear error naming the variable, nothing claimed', async () => {
    const tp = pipeline();
    await expect(
      openPostgresLedger(tp.paths, { url: 'postgres://postgres@127.0.0.1:1/nowhere', urlSource: '$TRAJGEN_LEDGER_DATABASE_URL', purpose: 'test', maxRetries: 0, leaseSec: 1, heartbeatSec: 1, connectTimeoutSec: 2 }),
    ).rejects.toThrow(/The PostgreSQL ledger is unreachable \(\$TRAJGEN_LEDGER_DATABASE_URL\): .*ECONNREFUSED/);
  });

  it('import from and export to the YAML ledger keep statuses, attempts, notes and history', async () => {
    const tp = pipeline();
    const y = openLedger(tp.paths, { purpose: 'seed', maxRetries: 0, by: 'bob@box' });
    y.claim(['a', 'b'], { job: 'j' });
    y.recordTrialOutcome('a', { job: 'j', trial: 'a__1', reward: 1, trajectory_path: 'x', trajectory_digest: 'sha256:1', exception_type: null });
    y.recordTrialOutcome('b', { job: 'j', trial: 'b__1', reward: null, trajectory_path: null, exception_type: 'AgentTimeoutError' });
    y.setStatus('c', 'skipped', 'broken upstream');
    const before = Object.fromEntries([...y.all()].map(([id, e]) => [id, { ...e }]));
    y.close();
    const l = await openPg(tp);
    expect(await l.importEntries(Object.entries(before))).toBe(3);
    const fresh = await openPg(tp);
    expect(Object.fromEntries([...fresh.all()].map(([id, e]) => [id, { ...e }]))).toEqual(before);
  });
});

describe('digest helpers', () => {
  it('postgresDigest counts rows and the newest rev', async () => {
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      expect(await postgresDigest(pool, 'never-used')).toBe('pg:0:0');
    } finally {
      await pool.end();
    }
  });
});
