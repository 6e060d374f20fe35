/**
 * Benchmark (not a test): the prepare stage on a large pool.
 *
 *   node -r @swc-node/register bench/prepare.bench.ts
 *
 * Target (issue #3): a 100,000-task manifest against a 100,000-entry ledger,
 * prepare ≤ 2 s excluding staging I/O.
 *
 * What is measured, honestly:
 *  - The pool: 100,000 ids in verifiable_tasks.txt; the ledger holds all of
 *    them (98,000 done, 500 failed, 500 skipped, 1,000 pending — a pipeline
 *    that has been running for a while). The 99,000 consumed entries are
 *    generated straight into consumption_ledger.yaml (canonical layout); a
 *    setup prepare run registers the 1,000 pending ones, so the file on disk
 *    is one trajgen wrote (compaction records its checksum, the next open
 *    reads it lazily). The 1,000 pending tasks exist on disk as real Harbor
 *    task dirs; the 99,000 consumed ones do not need to: prepare decides them
 *    from the ledger alone and never touches their dirs.
 *  - Also measured: the same with the ledger checksum removed (as after a
 *    hand edit): the whole YAML is then checked line by line.
 *  - "prepare excluding staging" = prepareBatch with staging off, everything
 *    else real: the effective ledger digest (hashes the YAML), manifest read
 *    and id checks, lock, loading the 100k-entry YAML + journal, reconcile,
 *    excluded_tasks.txt, classification, validation (task.toml parse, required
 *    files) and content checksum of every batch candidate, writing batch.json,
 *    close. Cold = first run in the process; warm = median of 3 more.
 *  - Staging I/O (1,000 symlinks, then a no-op refresh) is measured apart.
 *  - A second figure: a cold pool (5,000 tasks, empty ledger: every task is a
 *    candidate, all registered as pending, the ledger compacted at close).
 *
 * Writes bench/results/prepare.json.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPipeline } from '@trajgen/config';
import { prepareBatch, type PrepareResult } from '@trajgen/tasks';
import { emitEntry, emitLedgerYaml } from '../libs/ledger/src/ledger-yaml';
import { emptyEntry, type LedgerEntry } from '../libs/ledger/src/types';
import { pipelineWorkspace } from '../test/support/pipeline-workspace';

const TOTAL = 100_000;
const PENDING = 1_000;
const FAILED = 500;
const SKIPPED = 500;
const COLD_POOL = 5_000;

const id = (i: number) => `task-${String(i).padStart(6, '0')}`;

function workspace(): { root: string; pipelineDir: string } {
  const ws = pipelineWorkspace({
    prefix: 'tg-bench-prepare-',
    name: 'big',
    config: 'meta_info:\n  name: big\ntask_source:\n  path: tasks\n  staging: link\nrollout:\n  max_retries: 2\ntraining:\n  model_name_or_path: base\n  output_dir: out\n',
  });
  const pipelineDir = join(ws.root, 'pipelines', 'big');
  mkdirSync(join(pipelineDir, 'tasks'), { recursive: true });
  return { root: ws.root, pipelineDir };
}

function writeTaskDir(dir: string, name: string): void {
  mkdirSync(join(dir, 'environment'), { recursive: true });
  mkdirSync(join(dir, 'tests'), { recursive: true });
  mkdirSync(join(dir, 'solution'), { recursive: true });
  writeFileSync(join(dir, 'task.toml'), `schema_version = "1.4"\n\n[task]\nname = "big/${name}"\n\n[metadata]\ndifficulty = "medium"\ncategory = "swe"\ntags = ["python", "bugfix"]\n\n[verifier]\ntimeout_sec = 600.0\n\n[agent]\ntimeout_sec = 900.0\n\n[environment]\nbuild_timeout_sec = 600.0\ncpus = 2\nmemory_mb = 4096\n`);
  writeFileSync(join(dir, 'instruction.md'), `# ${name}\n\nFix the failing test in the repository. ${'Context line. '.repeat(40)}\n`);
  writeFileSync(join(dir, 'environment', 'Dockerfile'), 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . /app\nRUN pip install -e .\n');
  writeFileSync(join(dir, 'tests', 'test.sh'), '#!/bin/bash\ncd /app && python -m pytest -q tests/ && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n');
  writeFileSync(join(dir, 'solution', 'solve.sh'), '#!/bin/bash\ngit apply /solution/fix.patch\n');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const round = (x: number) => Math.round(x);
const phases = (r: PrepareResult) => Object.fromEntries(Object.entries(r.timings.phases).map(([k, v]) => [k, round(v)]));

function largePool() {
  const { root, pipelineDir } = workspace();
  try {
    const t0 = performance.now();
    const ids = Array.from({ length: TOTAL }, (_, i) => id(i));
    writeFileSync(join(pipelineDir, 'tasks', 'verifiable_tasks.txt'), '# verified by upstream\n' + ids.join('\n') + '\n');
    // Pending = every 100th id, spread over the pool.
    const entries = new Map<string, LedgerEntry>();
    let failed = 0;
    let skipped = 0;
    for (let i = 0; i < TOTAL; i++) {
      const t = id(i);
      if (i % 100 === 0) {
        writeTaskDir(join(pipelineDir, 'tasks', t), t); // pending: registered by the setup run below
        continue;
      }
      const job = `bench-claude-code-2.1.197-model-2026112${i % 10}T101500`;
      const trial = `${t}__Ab3dEf9`;
      if (failed < FAILED && i % 100 === 1) {
        failed++;
        entries.set(t, { ...emptyEntry('failed'), attempts: 3, job, trial, exception_type: 'NetworkConnectionError', started_at: '2026-11-21T10:15:00.000Z', finished_at: '2026-11-21T10:16:00.000Z', note: 'NetworkConnectionError (no verifier result); 3 attempts used, max_retries 2' });
      } else if (skipped < SKIPPED && i % 100 === 2) {
        skipped++;
        entries.set(t, { ...emptyEntry('skipped'), note: 'broken environment', history: [{ at: '2026-11-21T10:15:00.000Z', change: 'pending → skipped', by: 'alice@host', note: 'broken environment' }] });
      } else {
        entries.set(t, {
          ...emptyEntry('done'),
          attempts: 1,
          job,
          trial,
          reward: i % 3 === 0 ? 0 : 1,
          trajectory_path: `artifacts/big/jobs/${job}/${trial}/agent/litellm-trajectory.jsonl`,
          trajectory_digest: `sha256:${'0123456789abcdef'.repeat(4)}`,
          started_at: '2026-11-21T10:15:00.000Z',
          finished_at: '2026-11-21T10:16:00.000Z',
        });
      }
    }
    const ledgerFile = join(root, 'artifacts', 'big', 'consumption_ledger.yaml');
    mkdirSync(join(root, 'artifacts', 'big'), { recursive: true });
    const sorted = [...entries.keys()].sort();
    writeFileSync(ledgerFile, emitLedgerYaml('big', sorted, (k) => emitEntry(k, entries.get(k)!)));
    const setupMs = performance.now() - t0;

    const pipeline = loadPipeline(root, 'big');
    const run = (stage: boolean) => prepareBatch(pipeline, { stage });
    const setup = run(false);
    if (setup.registered !== PENDING) throw new Error(`setup registered ${setup.registered}`);
    const cold = run(false);
    const warm = [run(false), run(false), run(false)];
    const warmMs = median(warm.map((r) => r.timings.excluding_staging_ms));
    const firstStage = run(true);
    const refresh = run(true);
    rmSync(join(root, 'artifacts', 'big', '.ledger', 'yaml.sha256'));
    const checked = run(false);
    if (checked.openReport.trusted || !cold.openReport.trusted) throw new Error('unexpected ledger read mode');
    const b = cold.batch;
    if (b.tasks.length !== PENDING || b.counts.consumed !== TOTAL - PENDING || b.counts.listed !== TOTAL) throw new Error(`unexpected batch: ${JSON.stringify(b.counts)} ${b.tasks.length}`);
    return {
      listed: TOTAL,
      ledger_entries: entries.size + PENDING,
      ledger_yaml_bytes: statSync(ledgerFile).size,
      batch: b.tasks.length,
      counts: b.counts,
      setup_ms: round(setupMs),
      prepare_excluding_staging_cold_ms: round(cold.timings.excluding_staging_ms),
      prepare_excluding_staging_warm_median_ms: round(warmMs),
      phases_cold_ms: phases(cold),
      phases_warm_ms: phases(warm[1]),
      prepare_excluding_staging_checked_ledger_ms: round(checked.timings.excluding_staging_ms),
      phases_checked_ledger_ms: phases(checked),
      staging_first_ms: round(firstStage.timings.staging_ms),
      staging_refresh_ms: round(refresh.timings.staging_ms),
      staging_first_report: { added: firstStage.staging!.added.length, staged: firstStage.staging!.staged },
      total_with_staging_first_ms: round(firstStage.timings.total_ms),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function coldPool() {
  const { root, pipelineDir } = workspace();
  try {
    const ids = Array.from({ length: COLD_POOL }, (_, i) => id(i));
    for (const t of ids) writeTaskDir(join(pipelineDir, 'tasks', t), t);
    writeFileSync(join(pipelineDir, 'tasks', 'verifiable_tasks.txt'), ids.join('\n') + '\n');
    const r = prepareBatch(loadPipeline(root, 'big'), { stage: true });
    if (r.batch.tasks.length !== COLD_POOL || r.registered !== COLD_POOL) throw new Error('unexpected cold batch');
    return {
      listed: COLD_POOL,
      ledger_entries_before: 0,
      batch: r.batch.tasks.length,
      prepare_excluding_staging_ms: round(r.timings.excluding_staging_ms),
      per_candidate_ms: +(r.timings.phases.validate_checksum / COLD_POOL).toFixed(3),
      staging_ms: round(r.timings.staging_ms),
      phases_ms: phases(r),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const target = 2000;
const large = largePool();
const cold = coldPool();
const headline = Math.max(large.prepare_excluding_staging_cold_ms, large.prepare_excluding_staging_warm_median_ms);
const result = {
  benchmark: 'prepare',
  target: `${TOTAL}-task manifest vs ${TOTAL}-entry ledger: prepare ≤ ${target} ms excluding staging I/O`,
  prepare_100k_excluding_staging_ms: headline,
  pass: headline <= target,
  large_pool: large,
  cold_pool: cold,
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  measured_at: new Date().toISOString(),
};
console.log(
  `prepare: ${TOTAL} listed vs ${TOTAL}-entry ledger (batch ${large.batch}): ${large.prepare_excluding_staging_cold_ms} ms cold, ${large.prepare_excluding_staging_warm_median_ms} ms warm, excluding staging (target ≤ ${target} ms) — ${result.pass ? 'PASS' : 'FAIL'}`,
);
console.log(`  phases (cold, ms): ${JSON.stringify(large.phases_cold_ms)}`);
console.log(`  with the ledger checksum removed (hand-edited file, checked line by line): ${large.prepare_excluding_staging_checked_ledger_ms} ms; phases ${JSON.stringify(large.phases_checked_ledger_ms)}`);
console.log(`  staging I/O: ${large.staging_first_ms} ms for ${large.staging_first_report.added} links, ${large.staging_refresh_ms} ms for a no-op refresh`);
console.log(`  cold pool of ${COLD_POOL} (every task a candidate): ${cold.prepare_excluding_staging_ms} ms excluding staging (${cold.per_candidate_ms} ms per task: validate + checksum), staging ${cold.staging_ms} ms`);
mkdirSync(join(__dirname, 'results'), { recursive: true });
writeFileSync(join(__dirname, 'results', 'prepare.json'), JSON.stringify(result, null, 2) + '\n');
console.log('wrote bench/results/prepare.json');
