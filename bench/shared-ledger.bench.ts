/**
 * Benchmark (not a test): the PostgreSQL ledger (`ledger.backend: postgres`)
 * against the YAML ledger, in one run, on the same data.
 *
 *   node -r @swc-node/register bench/shared-ledger.bench.ts
 *
 *  - prepare at 100k tasks: a 100k-id manifest, 99k consumed entries, 1k
 *    pending task dirs (the prepare bench's layout); preparePipeline with
 *    staging off, median of 3, per backend. Includes the ledger digest the
 *    fingerprint takes (YAML bytes vs count/max(rev) from the database) and,
 *    separately, that digest alone.
 *  - claims/s: the 1k pending tasks claimed one at a time (each claim durable:
 *    a journal append + fdatasync, or one transaction), the YAML ledger vs
 *    one PostgreSQL client vs two concurrent clients (two machines).
 *  - lease takeover after SIGKILL: a child claims 10 tasks with lease_sec 2
 *    (heartbeat 0.5 s) and is killed; time until another machine has them
 *    (reconcile + claim polled every 100 ms).
 *
 * Needs PostgreSQL on 127.0.0.1:5432 (trust auth; a database of its own,
 * dropped at the end). Writes bench/results/shared-ledger.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPipeline, pipelinePaths } from '@trajgen/config';
import { effectiveLedgerDigest, openLedger, openPostgresLedger, type PostgresLedger } from '@trajgen/ledger';
import { postgresLedgerDigest } from '../libs/ledger/src/ledger-digest.cjs';
import { preparePipeline } from '@trajgen/tasks';
import { emitEntry, emitLedgerYaml } from '../libs/ledger/src/ledger-yaml';
import { emptyEntry, type LedgerEntry } from '../libs/ledger/src/types';
import { createTestDatabase } from '../test/support/pg';
import { pipelineWorkspace } from '../test/support/pipeline-workspace';

const TOTAL = 100_000;
const RUNS = 3;
const LEASE_SEC = 2;
const id = (i: number) => `task-${String(i).padStart(6, '0')}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number) => Math.round(x * 10) / 10;

function writeTaskDir(dir: string, name: string): void {
  mkdirSync(join(dir, 'environment'), { recursive: true });
  mkdirSync(join(dir, 'tests'), { recursive: true });
  writeFileSync(join(dir, 'task.toml'), `schema_version = "1.4"\n\n[task]\nname = "big/${name}"\n\n[verifier]\ntimeout_sec = 600.0\n`);
  writeFileSync(join(dir, 'instruction.md'), `# ${name}\n\nFix the failing test.\n`);
  writeFileSync(join(dir, 'environment', 'Dockerfile'), 'FROM python:3.12-slim\n');
  writeFileSync(join(dir, 'tests', 'test.sh'), '#!/bin/bash\necho 1 > /logs/verifier/reward.txt\n');
}

/** A workspace with the 100k layout; the consumed entries returned for either backend. */
function workspace(backend: 'yaml' | 'postgres', urlEnv: string): { root: string; entries: Map<string, LedgerEntry> } {
  const ledger = backend === 'postgres' ? `ledger:\n  backend: postgres\n  postgres:\n    url_env: ${urlEnv}\n` : '';
  const { root } = pipelineWorkspace({
    prefix: `tg-bench-shared-${backend}-`,
    name: 'big',
    config: `meta_info:\n  name: big\ntask_source:\n  path: tasks\n  staging: link\n${ledger}rollout:\n  max_retries: 2\ntraining:\n  model_name_or_path: base\n  output_dir: out\n`,
  });
  const dir = join(root, 'pipelines', 'big');
  mkdirSync(join(dir, 'tasks'), { recursive: true });
  const ids = Array.from({ length: TOTAL }, (_, i) => id(i));
  writeFileSync(join(dir, 'tasks', 'verifiable_tasks.txt'), ids.join('\n') + '\n');
  const entries = new Map<string, LedgerEntry>();
  for (let i = 0; i < TOTAL; i++) {
    const t = id(i);
    if (i % 100 === 0) {
      writeTaskDir(join(dir, 'tasks', t), t);
      continue;
    }
    const job = `bench-job-${i % 10}`;
    entries.set(t, { ...emptyEntry('done'), attempts: 1, job, trial: `${t}__Ab3dEf9`, reward: i % 3 === 0 ? 0 : 1, trajectory_path: `artifacts/big/jobs/${job}/${t}__Ab3dEf9/agent/litellm-trajectory.jsonl`, trajectory_digest: `sha256:${'0123456789abcdef'.repeat(4)}`, started_at: '2026-11-21T10:15:00.000Z', finished_at: '2026-11-21T10:16:00.000Z' });
  }
  mkdirSync(join(root, 'artifacts', 'big'), { recursive: true });
  if (backend === 'yaml') writeFileSync(join(root, 'artifacts', 'big', 'consumption_ledger.yaml'), emitLedgerYaml('big', [...entries.keys()].sort(), (k) => emitEntry(k, entries.get(k)!)));
  return { root, entries };
}

async function timeIt<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t0 = performance.now();
  const v = await fn();
  return [performance.now() - t0, v];
}

async function main() {
  const db = await createTestDatabase('trajgen_bench');
  const URL_ENV = 'TRAJGEN_BENCH_LEDGER_URL';
  process.env[URL_ENV] = db.url;
  const pgOpts = { url: db.url, urlSource: `$${URL_ENV}`, purpose: 'bench', maxRetries: 2, leaseSec: 300, heartbeatSec: 60, connectTimeoutSec: 5 };
  const roots: string[] = [];
  try {
    // ---- setup
    const y = workspace('yaml', URL_ENV);
    const p = workspace('postgres', URL_ENV);
    roots.push(y.root, p.root);
    const [importMs] = await timeIt(async () => {
      const l = await openPostgresLedger(pipelinePaths(p.root, 'big'), { ...pgOpts, reconcile: false });
      await l.importEntries(p.entries);
      await l.close();
    });

    // ---- prepare at 100k (first run registers the 1k pending; then RUNS timed runs)
    const prepare = async (root: string) => (await timeIt(() => preparePipeline(loadPipeline(root, 'big'), { stage: false })))[0];
    await prepare(y.root);
    await prepare(p.root);
    const prepY: number[] = [];
    const prepP: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      prepY.push(await prepare(y.root));
      prepP.push(await prepare(p.root));
    }
    const digestY: number[] = [];
    const digestP: number[] = [];
    for (let i = 0; i < 5; i++) {
      digestY.push((await timeIt(() => effectiveLedgerDigest(join(y.root, 'artifacts', 'big'))))[0]);
      digestP.push((await timeIt(() => postgresLedgerDigest(db.url, 'big')))[0]);
    }

    // ---- claims/s: the 1k pending, one at a time
    const pending = Array.from({ length: TOTAL / 100 }, (_, i) => id(i * 100));
    const yl = openLedger(pipelinePaths(y.root, 'big'), { purpose: 'bench', maxRetries: 2, reconcile: false });
    const [yamlClaimMs] = await timeIt(() => {
      for (const t of pending) if (yl.claim([t], { job: 'bench-claim' }).length !== 1) throw new Error(`yaml: ${t} not claimed`);
    });
    yl.close();
    const pl = await openPostgresLedger(pipelinePaths(p.root, 'big'), { ...pgOpts, reconcile: false });
    const half = pending.slice(0, pending.length / 2);
    const [pgClaimMs] = await timeIt(async () => {
      for (let i = 0; i < half.length; i++) if ((await pl.claim(half, { job: 'bench-claim', limit: 1 })).length !== 1) throw new Error('pg: nothing claimed');
    });
    // Two machines on the other half, concurrently: every task exactly once.
    const other = await openPostgresLedger(pipelinePaths(p.root, 'big'), { ...pgOpts, reconcile: false });
    const rest = pending.slice(pending.length / 2);
    const got: string[] = [];
    const loop = async (l: PostgresLedger) => {
      for (;;) {
        const c = await l.claim(rest, { job: 'bench-claim2', limit: 1 });
        if (!c.length) return;
        got.push(...c);
      }
    };
    const [pg2ClaimMs] = await timeIt(() => Promise.all([loop(pl), loop(other)]));
    if (new Set(got).size !== rest.length || got.length !== rest.length) throw new Error(`two machines: ${got.length} claims for ${rest.length} tasks`);
    await pl.close();
    await other.close();

    // ---- lease takeover after SIGKILL
    // A pipeline of its own (10 tasks): the lease mechanics, not the 100k snapshot.
    const t = pipelineWorkspace({ prefix: 'tg-bench-lease-', name: 'lease', config: null });
    mkdirSync(join(t.root, 'artifacts', 'lease'), { recursive: true });
    roots.push(t.root);
    const tl = await openPostgresLedger(t.paths, { ...pgOpts, reconcile: false });
    await tl.register(pending.slice(0, 10));
    await tl.close();
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'lease-holder.child.ts'), t.root, 'lease', db.url, String(LEASE_SEC), '10'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const claimedByChild = await new Promise<string[]>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /CLAIMED (\S+)/.exec(out);
        if (m) resolve(m[1].split(','));
      });
      child.on('exit', () => reject(new Error(`holder exited: ${out}`)));
    });
    await new Promise((r) => setTimeout(r, 1000)); // a heartbeat or two: the lease is fresh when it dies
    child.kill('SIGKILL');
    const killedAt = performance.now();
    const taker = await openPostgresLedger(pipelinePaths(t.root, 'lease'), { ...pgOpts, reconcile: false });
    const taken: string[] = [];
    while (taken.length < claimedByChild.length) {
      await taker.reconcile();
      taken.push(...(await taker.claim(claimedByChild, { job: 'taker' })));
      if (taken.length < claimedByChild.length) await new Promise((r) => setTimeout(r, 100));
    }
    const takeoverMs = performance.now() - killedAt;
    await taker.close();

    const result = {
      benchmark: 'shared-ledger',
      anchor: 'the YAML ledger on the same data, in the same run',
      tasks: TOTAL,
      postgres_import_99k_entries_ms: Math.round(importMs),
      prepare_100k_ms: { yaml_median: Math.round(median(prepY)), postgres_median: Math.round(median(prepP)), yaml_runs: prepY.map(Math.round), postgres_runs: prepP.map(Math.round), ratio_postgres_over_yaml: round(median(prepP) / median(prepY)) },
      fingerprint_ledger_digest_ms: { yaml_median: round(median(digestY)), postgres_median: round(median(digestP)), postgres_note: 'includes connecting (a new client per fingerprint run)' },
      claims_per_sec: {
        yaml_one_process: Math.round(pending.length / (yamlClaimMs / 1000)),
        postgres_one_client: Math.round(half.length / (pgClaimMs / 1000)),
        postgres_two_clients_together: Math.round(rest.length / (pg2ClaimMs / 1000)),
        ratio_postgres_over_yaml: round(half.length / (pgClaimMs / 1000) / (pending.length / (yamlClaimMs / 1000))),
      },
      lease_takeover_after_sigkill_ms: Math.round(takeoverMs),
      lease_sec: LEASE_SEC,
      heartbeat_sec: LEASE_SEC / 4,
    };
    console.log(`prepare at 100k tasks (staging off, median of ${RUNS}): YAML ${result.prepare_100k_ms.yaml_median} ms, PostgreSQL ${result.prepare_100k_ms.postgres_median} ms (ratio ${result.prepare_100k_ms.ratio_postgres_over_yaml})`);
    console.log(`ledger digest for the fingerprint: YAML ${result.fingerprint_ledger_digest_ms.yaml_median} ms, PostgreSQL ${result.fingerprint_ledger_digest_ms.postgres_median} ms (with connecting)`);
    console.log(`claims/s, one at a time, each durable: YAML ${result.claims_per_sec.yaml_one_process}, PostgreSQL ${result.claims_per_sec.postgres_one_client} (ratio ${result.claims_per_sec.ratio_postgres_over_yaml}), PostgreSQL two machines together ${result.claims_per_sec.postgres_two_clients_together}`);
    console.log(`lease takeover after SIGKILL (lease_sec ${LEASE_SEC}): ${result.lease_takeover_after_sigkill_ms} ms`);
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results', 'shared-ledger.json'), JSON.stringify(result, null, 2) + '\n');
    console.log('wrote bench/results/shared-ledger.json');
  } finally {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
    await db.drop();
    delete process.env[URL_ENV];
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
