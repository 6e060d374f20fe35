/**
 * The caching semantics of the foundation issue, proved with real `nx` in a
 * temporary copy of the workspace: two small pipelines (two verified demo
 * tasks each, real Claude Code + the oracle, a few training steps), run and
 * edited step by step, reading which tasks ran and which were cache hits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { createTempWorkspace, type NxRun, type TempWorkspace } from './harness';

const PIPELINES = ['cache-a', 'cache-b'];
const STAGES = ['prepare', 'rollout', 'convert', 'score', 'register', 'train', 'archive'];
const TASKS = ['add-greeting', 'config-json-edit', 'csv-summary'];

let ws: TempWorkspace;

function configFor(name: string): string {
  const demo = readFileSync(join(ws.root, 'pipelines/demo/config.yaml'), 'utf8');
  return demo
    .replace('name: demo', `name: ${name}`)
    .replace(/\n    oracle:\n      latency_ms: 0\n      faults:\n        fix-off-by-one: wrong_answer[^\n]*/, '')
    .replace('  data_name: demo', `  data_name: ${name}`)
    .replace('  output_dir: demo-lora', `  output_dir: ${name}-lora`)
    .replace('  model_name_or_path: base-model', '  model_name_or_path: ../demo/base-model')
    .replace(/  num_train_epochs: \d+/, '  num_train_epochs: 2')
    .replace(/  save_steps: \d+/, '  save_steps: 2');
}

function runAll(extra: string[] = []): NxRun {
  const r = ws.nx(['run-many', '-t', 'archive', '-p', PIPELINES.join(','), ...extra]);
  expect(r.code, r.output.slice(-6000)).toBe(0);
  return r;
}

const stagesOf = (tasks: string[], pipeline: string) =>
  tasks.filter((t) => t.startsWith(`${pipeline}:`)).map((t) => t.split(':')[1]).sort();

function treeDigests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

function sizeOf(path: string, filter: (p: string) => boolean = () => true): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return filter(path) ? st.size : 0;
  return readdirSync(path).reduce((n, e) => n + sizeOf(join(path, e), filter), 0);
}

function filesUnder(path: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  if (existsSync(path)) walk(path);
  return out;
}

describe('caching semantics (real nx, two pipelines)', () => {
  beforeAll(() => {
    ws = createTempWorkspace({ prefix: 'trajgen-cache-' });
    for (const p of PIPELINES) {
      for (const t of TASKS) cpSync(join(ws.root, 'pipelines/demo/tasks', t), join(ws.root, 'pipelines', p, 'tasks', t), { recursive: true });
      ws.write(`pipelines/${p}/tasks/verifiable_tasks.txt`, `# verified\n${TASKS[0]}\n${TASKS[1]}\n`);
      ws.write(`pipelines/${p}/excluded_tasks.txt`, '# none\n');
      ws.write(`pipelines/${p}/config.yaml`, configFor(p));
    }
    ws.git(['add', '-A']);
    ws.git(['commit', '-qm', 'two test pipelines']);
  });
  afterAll(() => ws?.remove());

  it('1. a first run executes every stage; rerunning an unchanged pipeline executes none', () => {
    const first = runAll();
    for (const p of PIPELINES) expect(stagesOf(first.ran, p)).toEqual([...STAGES].sort());
    const again = runAll();
    expect(again.ran).toEqual([]);
    expect(again.cached.length).toBe(STAGES.length * PIPELINES.length);
  });

  it('2a. comments, formatting and the runtime_info write-back invalidate nothing', () => {
    // The first run already wrote results back into runtime_info.output (train's write-back).
    expect(ws.read('pipelines/cache-a/config.yaml')).toMatch(/runtime_info:\n  output:\n    \w+/);
    ws.edit('pipelines/cache-a/config.yaml', (t) =>
      `# a comment added by a person\n${t}`
        .replace('  n_concurrent: 2', '  n_concurrent:   2     # spacing changed')
        .replace(/runtime_info:\n  output:\n/, 'runtime_info:\n  output:\n    note_by_hand: anything\n'),
    );
    expect(runAll().ran).toEqual([]);
  });

  it('2b. editing training.learning_rate reruns train and archive of that pipeline only', () => {
    ws.edit('pipelines/cache-a/config.yaml', (t) => t.replace('learning_rate: 5.0e-3', 'learning_rate: 4.0e-3'));
    const r = runAll();
    expect(r.ran.sort()).toEqual(['cache-a:archive', 'cache-a:train']);
  });

  it('2c. editing scoring reruns score, register, train and archive; convert, rollout and prepare stay cached', () => {
    ws.edit('pipelines/cache-b/config.yaml', (t) => t.replace('scoring:\n  lf_format: sharegpt', 'scoring:\n  lf_format: sharegpt\n  weights: {steps: 0.3}'));
    const r = runAll();
    expect(stagesOf(r.ran, 'cache-b')).toEqual(['archive', 'register', 'score', 'train']);
    expect(stagesOf(r.ran, 'cache-a')).toEqual([]);
  });

  it('3. editing a lib reruns exactly the stages that use it and their downstream, in every pipeline', () => {
    // libs/charts is used by score (plots), train (loss plot) and archive (report); register is
    // downstream of score. Nothing upstream of score uses it.
    ws.edit('libs/charts/src/svg.ts', (t) => {
      expect(t).toContain('font-size="13"');
      return t.replaceAll('font-size="13"', 'font-size="14"');
    });
    const r = runAll();
    for (const p of PIPELINES) expect(stagesOf(r.ran, p)).toEqual(['archive', 'register', 'score', 'train']);
    // A lib no stage of the chain uses (the cache server's tool dir) reruns nothing.
    ws.edit('tools/cache-server/server.cjs', (t) => `${t}\n// touched\n`);
    expect(runAll().ran).toEqual([]);
  });

  it("3b. a lib's tests and docs are not stage inputs: editing them reruns nothing", () => {
    // The stages hash their libs through nx.json's production patterns (one fileset per stage).
    ws.edit('libs/charts/src/charts.spec.ts', (t) => `${t}\n// a test-only edit\n`);
    ws.edit('libs/convert/README.md', (t) => `${t}\nA docs-only edit.\n`);
    expect(runAll().ran).toEqual([]);
    // The same lib's sources are: a comment in convert's code reruns convert (and, by early cut-off, only those
    // downstream stages whose upstream outputs changed), nothing upstream of it.
    ws.edit('libs/convert/src/index.ts', (t) => `${t}\n// a source edit\n`);
    const r = runAll();
    for (const p of PIPELINES) {
      expect(stagesOf(r.ran, p)).toContain('convert');
      expect(stagesOf(r.ran, p)).not.toEqual(expect.arrayContaining(['prepare']));
      expect(stagesOf(r.ran, p)).not.toEqual(expect.arrayContaining(['rollout']));
    }
  });

  it('4. the gitignored ledger is really hashed: a hand edit reruns prepare and rollout, identical bytes do not', () => {
    const ledgerPath = 'artifacts/cache-a/consumption_ledger.yaml';
    const before = ws.read(ledgerPath);
    ws.write(ledgerPath, before); // same bytes, new mtime
    expect(runAll().ran).toEqual([]);

    // A person resets a consumed task by hand: the stale-hit trap a plain fileset would fall into.
    const entry = before.indexOf(`${TASKS[1]}:`);
    expect(entry, before).toBeGreaterThan(-1);
    const statusAt = before.indexOf('status: done', entry);
    ws.write(ledgerPath, before.slice(0, statusAt) + 'status: pending' + before.slice(statusAt + 'status: done'.length));
    const r = runAll();
    expect(stagesOf(r.ran, 'cache-a')).toEqual(expect.arrayContaining(['prepare', 'rollout']));
    expect(stagesOf(r.ran, 'cache-b')).toEqual([]);
    const batch = JSON.parse(ws.read('artifacts/cache-a/prepare/batch.json'));
    expect(batch.tasks.map((t: { id: string }) => t.id)).toEqual([TASKS[1]]);
    // Consumed again by code: the next run executes nothing.
    expect(runAll().ran).toEqual([]);
  });

  let jobsBefore: Record<string, string>;
  it('5. rollout data is immutable: no restore, rerun or clean deletes or overwrites a job directory', () => {
    jobsBefore = treeDigests(join(ws.root, 'artifacts/cache-a/jobs'));
    expect(Object.keys(jobsBefore).some((f) => f.endsWith('agent/litellm-trajectory.jsonl'))).toBe(true);

    // (a) a rerun of rollout caused by a config change, then (b) reverting it: Nx restores the
    // older cache entry of rollout's outputs over the newer ones
    ws.edit('pipelines/cache-a/config.yaml', (t) => t.replace('  max_retries: 2', '  max_retries: 3'));
    const rerun = runAll();
    expect(stagesOf(rerun.ran, 'cache-a')).toContain('rollout');
    ws.edit('pipelines/cache-a/config.yaml', (t) => t.replace('  max_retries: 3', '  max_retries: 2'));
    const restored = runAll();
    expect(stagesOf(restored.cached, 'cache-a')).toContain('rollout');
    expect(stagesOf(restored.ran, 'cache-a')).toEqual([]);
    // (c) clean, even with everything it may remove
    expect(ws.nx(['run', 'cache-a:clean', '--data', '--models']).code).toBe(0);
    const refused = ws.nx(['run', 'cache-a:clean', '--jobs']);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('refuses to delete rollout jobs');

    const jobsAfter = treeDigests(join(ws.root, 'artifacts/cache-a/jobs'));
    for (const [file, digest] of Object.entries(jobsBefore)) expect(jobsAfter[file], file).toBe(digest);
    // The cleaned outputs come back from the cache; the jobs were never touched.
    const back = runAll();
    expect(stagesOf(back.ran, 'cache-a')).toEqual([]);
    expect(existsSync(join(ws.root, 'artifacts/cache-a/data/lf_data/cache-a.json'))).toBe(true);
  });

  it('6. an incremental run caches the new data, not the total: raw trajectories and full model dirs never enter the cache', () => {
    const outputCopies = () => sizeOf(ws.cacheDir, (p) => !p.includes('/terminalOutputs/') && !/\.db(-wal|-shm)?$/.test(p) && p !== join(ws.cacheDir, 'run.json'));
    const cacheBefore = outputCopies();
    ws.edit('pipelines/cache-a/tasks/verifiable_tasks.txt', (t) => `${t}${TASKS[2]}\n`);
    const r = runAll();
    expect(stagesOf(r.ran, 'cache-a')).toEqual(expect.arrayContaining(['prepare', 'rollout', 'convert']));
    const batch = JSON.parse(ws.read('artifacts/cache-a/prepare/batch.json'));
    expect(batch.tasks.map((t: { id: string }) => t.id)).toEqual([TASKS[2]]);
    // Only the new task was rolled out; earlier jobs are untouched.
    const jobsAfter = treeDigests(join(ws.root, 'artifacts/cache-a/jobs'));
    for (const [file, digest] of Object.entries(jobsBefore)) expect(jobsAfter[file], file).toBe(digest);

    // Output copies only: Nx's own bookkeeping (terminal output logs, its SQLite index) is not data.
    const growth = outputCopies() - cacheBefore;
    const a = join(ws.root, 'artifacts/cache-a');
    const declared = ['prepare', 'rollout', 'data', 'register', 'train', 'training_config', 'report', 'archive'].reduce((n, d) => n + sizeOf(join(a, d)), 0);
    const raw = sizeOf(join(a, 'jobs'));
    expect(growth).toBeGreaterThan(0);
    expect(growth).toBeLessThanOrEqual(declared);
    // No raw trajectory and no file of the full run dir (model/<run>/) is ever copied into the cache.
    const cached = filesUnder(ws.cacheDir).map((f) => relative(ws.cacheDir, f));
    expect(cached.filter((f) => /artifacts\/[^/]+\/jobs\//.test(f))).toEqual([]);
    expect(cached.filter((f) => /artifacts\/[^/]+\/model\//.test(f))).toEqual([]);
    expect(raw).toBeGreaterThan(0);
  });

  it('7. with the Nx daemon (interactive use) the stages hash the same: nothing reruns, an edit reruns exactly its stages, the daemon keeps its graph', () => {
    const daemon = { env: { NX_DAEMON: 'true' } };
    const runWithDaemon = () => {
      const r = ws.nx(['run-many', '-t', 'archive', '-p', PIPELINES.join(',')], daemon);
      expect(r.code, r.output.slice(-6000)).toBe(0);
      return r;
    };
    try {
      // The fingerprints reach the daemon's hashing: the entries cached without it are hits.
      expect(runWithDaemon().ran).toEqual([]);
      ws.edit('pipelines/cache-a/config.yaml', (t) => t.replace('learning_rate: 4.0e-3', 'learning_rate: 3.0e-3'));
      expect(runWithDaemon().ran.sort()).toEqual(['cache-a:archive', 'cache-a:train']);
      expect(runWithDaemon().ran).toEqual([]);
      // The hook's env vars did not stay in the daemon's env, so no command made it rebuild the graph for an env change.
      const log = ws.read('.nx/workspace-data/d/daemon.log');
      expect(log).toContain('PRE_TASKS_EXECUTION');
      expect(log.split('\n').filter((line) => /recompute necessary due to env variable refresh.*TRAJGEN_/.test(line))).toEqual([]);
    } finally {
      ws.nx(['daemon', '--stop'], daemon);
    }
  });
});
