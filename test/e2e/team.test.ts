/**
 * Team use, end to end with real nx: the self-hosted remote cache shared by two
 * clones, the fallback when it is unreachable, and `nx affected` in CI.
 * The cache server is the project's own (tools/cache-server/server.cjs), on
 * 127.0.0.1.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, utimesSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clonesSharingACache } from './clones';
import { createTempWorkspace, type TempWorkspace } from './harness';

const STAGES = ['prepare', 'rollout', 'convert', 'score', 'register', 'train', 'archive'];
const TOKEN = 'team-test-token';

/** One IM v2 row (the score stage's input), as the convert stage writes it. */
const IM_ROW = {
  version: '2.0.0',
  meta_info: {
    teacher: 'trajgen-oracle',
    query_source: 'synthesized',
    response_generate_time: '2026-11-21',
    response_update_time: '2026-11-21',
    owner: '00000000',
    language: 'en',
    category: 'code',
    rounds: 2,
    unique_info: { _instance_id: 'add-greeting', _agent_type: 'main', _score: null, _gen_params: {}, _usage: {}, scaffold: 'claude-code' },
  },
  tools: [{ type: 'function', function: { name: 'Bash', description: 'run a command', parameters: { type: 'object', properties: { command: { type: 'string' } } } } }],
  messages: [
    { role: 'user', content: 'Add a greeting function and run the tests.' },
    { role: 'assistant', content: '', reasoning_content: 'Write it, then test.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'Bash', arguments: '{"command":"pytest -q"}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: '3 passed in 0.02s' },
    { role: 'assistant', content: 'Done: greeting added, tests pass.', reasoning_content: '' },
  ],
};

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** scripts/trajgen.cjs reinstalls when package.json is newer than node_modules; a fresh copy is "newer". */
function markInstalled(ws: TempWorkspace): void {
  const old = new Date('2000-01-01T00:00:00Z');
  for (const f of ['package.json', 'package-lock.json']) utimesSync(join(ws.root, f), old, old);
}

function trajgenScript(ws: TempWorkspace, args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, ['scripts/trajgen.cjs', ...args], { cwd: ws.root, env: { ...ws.env, ...env }, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status ?? 1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

describe('remote cache shared by two clones (stages that exist today: score, archive)', () => {
  const c = clonesSharingACache('trajgen-team-', TOKEN);

  it('clone A runs score and archive and uploads them; clone B restores both without running anything', () => {
    c.a.write('artifacts/demo/data/im_data/demo.jsonl', JSON.stringify(IM_ROW) + '\n');
    const scoreA = c.a.nx(['run', 'demo:score', '--exclude-task-dependencies'], { env: c.remote });
    expect(scoreA.code, scoreA.output).toBe(0);
    const archiveA = c.a.nx(['run', 'demo:archive', '--exclude-task-dependencies'], { env: c.remote });
    expect(archiveA.code, archiveA.output).toBe(0);
    expect([...scoreA.ran, ...archiveA.ran]).toEqual(['demo:score', 'demo:archive']);
    expect(c.a.read('artifacts/demo/report/index.html')).toContain('quality score of every main row');
    expect(c.server.entries(), c.server.log()).toHaveLength(2);

    const scoreB = c.b.nx(['run', 'demo:score', '--exclude-task-dependencies'], { env: c.remote });
    const archiveB = c.b.nx(['run', 'demo:archive', '--exclude-task-dependencies'], { env: c.remote });
    expect(scoreB.code, scoreB.output).toBe(0);
    expect(archiveB.code, archiveB.output).toBe(0);
    expect([...scoreB.remote, ...archiveB.remote].sort()).toEqual(['demo:archive', 'demo:score']);
    expect([...scoreB.ran, ...archiveB.ran]).toEqual([]);
    // B never had the IM input: the LF data and its stats came from the cache, byte for byte.
    expect(existsSync(join(c.b.root, 'artifacts/demo/data/im_data/demo.jsonl'))).toBe(false);
    expect(c.b.read('artifacts/demo/data/lf_data/demo.json')).toBe(c.a.read('artifacts/demo/data/lf_data/demo.json'));
    expect(c.b.read('artifacts/demo/archive/summary.json')).toBe(c.a.read('artifacts/demo/archive/summary.json'));
    expect(c.b.read('artifacts/demo/report/index.html')).toBe(c.a.read('artifacts/demo/report/index.html'));
    // The trial viewer's pages and data are declared outputs: restored with the report.
    for (const f of ['trials.html', 'trial.html', 'trials/index.js']) expect(c.b.read(`artifacts/demo/report/${f}`), f).toBe(c.a.read(`artifacts/demo/report/${f}`));
    // Run history is per clone: A recorded its runs; B, which executed nothing, records none and its report says so.
    expect(parse(c.a.read('artifacts/demo/index.yaml')).runs.map((r: { id: string }) => r.id)).toEqual(['run_001', 'run_002']);
    expect(existsSync(join(c.b.root, 'artifacts/demo/index.yaml'))).toBe(false);
    expect(c.b.read('artifacts/demo/report/history.js')).toContain('window.TRAJGEN_HISTORY = []');
  });

  it("a cache restore of the report replaces the page but never the clone's run history", () => {
    const historyA = c.a.read('artifacts/demo/report/history.js');
    expect(historyA).toContain('"id": "run_002"');
    c.a.write('artifacts/demo/report/index.html', 'tampered');
    const restore = c.a.nx(['run', 'demo:archive', '--exclude-task-dependencies'], { env: c.remote });
    expect(restore.cached, restore.output).toEqual(['demo:archive']);
    expect(c.a.read('artifacts/demo/report/index.html')).toBe(c.b.read('artifacts/demo/report/index.html'));
    expect(c.a.read('artifacts/demo/report/history.js')).toBe(historyA);
  });

  it('an unreachable server makes plain nx fail; the project script warns and falls back to the local cache', async () => {
    const down = { NX_SELF_HOSTED_REMOTE_CACHE_SERVER: `http://127.0.0.1:${await closedPort()}`, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: TOKEN, NX_CACHE_DIRECTORY: join(c.b.root, '.nx-cache-offline') };
    const plain = c.b.nx(['run', 'demo:score', '--exclude-task-dependencies'], { env: down });
    expect(plain.code).not.toBe(0);
    expect(plain.output).toMatch(/Failed to send request|remote cache/i);
    expect(plain.ran).toEqual([]);

    markInstalled(c.b);
    const script = trajgenScript(c.b, ['nx', 'run', 'demo:score', '--exclude-task-dependencies'], down);
    expect(script.output).toMatch(/trajgen: warning: remote cache http:\/\/127\.0\.0\.1:\d+ is unreachable \([^)]*\); falling back to the local cache for this run\./);
    expect(script.output).not.toContain('trajgen: installing dependencies');
    // The fallback ran the real task (B has no IM data: score fails for that reason, not because of the cache).
    expect(script.output).toMatch(/> nx run demo:score/);
    expect(script.output).not.toMatch(/Failed to send request/);
  });
});

describe('the whole demo through the remote cache into a fresh clone', () => {
  const c = clonesSharingACache('trajgen-demo-', TOKEN);

  it('B rolls out, converts, scores and trains nothing again; outputs are restored; the ledger never hands out a consumed task', () => {
    const runA = c.a.nx(['run', 'demo:archive'], { env: c.remote });
    expect(runA.code, runA.output).toBe(0);
    expect(runA.ran.sort()).toEqual(STAGES.map((s) => `demo:${s}`).sort());

    const runB = c.b.nx(['run', 'demo:archive'], { env: c.remote });
    expect(runB.code, runB.output).toBe(0);
    expect(runB.ran).toEqual([]);
    expect(runB.remote.sort()).toEqual(STAGES.map((s) => `demo:${s}`).sort());
    // No agent ran in B: rollout jobs (never cached) do not exist there.
    expect(existsSync(join(c.b.root, 'artifacts/demo/jobs'))).toBe(false);
    for (const f of ['data/lf_data/demo.json', 'data/lf_data/dataset_info.json', 'train/result.json', 'report/index.html', 'rollout/trials.json']) {
      expect(c.b.read(`artifacts/demo/${f}`), f).toBe(c.a.read(`artifacts/demo/${f}`));
    }
    const train = JSON.parse(c.b.read('artifacts/demo/train/result.json'));
    expect(train.cached_checkpoint, 'the newest checkpoint travels with the train output').toBeTruthy();
    expect(readdirSync(join(c.b.root, train.cached_checkpoint)).length).toBeGreaterThan(0);
    // The post-run hook put the restored checkpoint back where runtime_info.output.checkpoint_path points.
    expect(existsSync(join(c.b.root, train.checkpoint_path, 'adapter_model.safetensors'))).toBe(true);
    expect(runB.output).toContain(`restored ${train.checkpoint_path}`);

    // Ledger guarantee in B: tasks consumed in A (restored rollout/trials.json) are never handed out again,
    // not by a forced prepare, not when a new task is listed.
    // libs/ledger adopts the consumed tasks from the restored rollout/trials.json when it opens (reconcile).
    const consumedInA = new Set<string>(JSON.parse(c.a.read('artifacts/demo/rollout/trials.json')).trials.map((t: { task_id: string }) => t.task_id));
    expect(consumedInA.size).toBeGreaterThan(0);
    const prepareB = c.b.nx(['run', 'demo:prepare', '--skip-nx-cache'], { env: { NX_SKIP_REMOTE_CACHE: 'true' } });
    expect(prepareB.code, prepareB.output).toBe(0);
    const handedOut: string[] = JSON.parse(c.b.read('artifacts/demo/prepare/batch.json')).tasks.map((t: { id: string }) => t.id);
    expect(handedOut.filter((id) => consumedInA.has(id))).toEqual([]);
    // A newly listed task is handed out, and still none of A's.
    const batchA = JSON.parse(c.a.read('artifacts/demo/prepare/batch.json'));
    const model = batchA.tasks[0];
    cpSync(join(c.b.root, model.source_path), join(c.b.root, `${model.source_path}-listed-later`), { recursive: true });
    c.b.edit(batchA.manifest, (t) => `${t.trimEnd()}\n${model.id}-listed-later\n`);
    const prepareNew = c.b.nx(['run', 'demo:prepare'], { env: { NX_SKIP_REMOTE_CACHE: 'true' } });
    expect(prepareNew.code, prepareNew.output).toBe(0);
    const withNew: string[] = JSON.parse(c.b.read('artifacts/demo/prepare/batch.json')).tasks.map((t: { id: string }) => t.id);
    expect(withNew).toContain(`${model.id}-listed-later`);
    expect(withNew.filter((id) => consumedInA.has(id))).toEqual([]);
    const rolloutB = c.b.nx(['run', 'demo:rollout', '--skip-nx-cache', '--exclude-task-dependencies'], { env: { NX_SKIP_REMOTE_CACHE: 'true' } });
    expect(rolloutB.code, rolloutB.output).toBe(0);
    const jobsOfA = new Set<string>(JSON.parse(c.a.read('artifacts/demo/rollout/trials.json')).trials.map((t: { job: string }) => t.job));
    const newInB: { job: string; task_id: string }[] = JSON.parse(c.b.read('artifacts/demo/rollout/trials.json')).trials.filter((t: { job: string }) => !jobsOfA.has(t.job));
    expect(newInB.filter((t) => consumedInA.has(t.task_id)), 'no task consumed in A is rolled out again in B').toEqual([]);
  });
});

describe('nx affected in CI', () => {
  let ws: TempWorkspace;
  beforeAll(() => {
    ws = createTempWorkspace({ prefix: 'trajgen-affected-' });
    cpSync(join(ws.root, 'pipelines/demo'), join(ws.root, 'pipelines/demo2'), { recursive: true });
    ws.edit('pipelines/demo2/config.yaml', (t) => t.replace(/^ {2}name: demo$/m, '  name: demo2'));
    ws.git(['add', '-A']);
    ws.git(['commit', '-qm', 'a second pipeline']);
  });
  afterAll(() => ws?.remove());

  /** `--explain=stdout`: Nx 24's machine-readable reason per affected task, without running anything. */
  function affectedTasks(): string[] {
    const r = ws.nx(['affected', '-t', ...STAGES, '--base=HEAD~1', '--head=HEAD', '--explain=stdout']);
    expect(r.code, r.output).toBe(0);
    const json = JSON.parse(r.output.slice(r.output.indexOf('{'), r.output.lastIndexOf('}') + 1));
    expect(json.requested.targets).toEqual(STAGES);
    return Object.keys(json.affected).sort();
  }
  const tasksOf = (pipelines: string[], stages: string[]) => pipelines.flatMap((p) => stages.map((s) => `${p}:${s}`)).sort();
  /** Every pipeline of the workspace: each folder under pipelines/ with a config.yaml. */
  const allPipelines = () => readdirSync(join(ws.root, 'pipelines')).filter((d) => existsSync(join(ws.root, 'pipelines', d, 'config.yaml')));

  it('a change to the scoring lib selects score, register, train and archive of every pipeline, nothing upstream', () => {
    ws.edit('libs/score/src/stats.ts', (t) => `${t}\n// affected test: a scoring change\n`);
    ws.git(['commit', '-qam', 'scoring change']);
    expect(allPipelines().length).toBeGreaterThanOrEqual(3);
    expect(affectedTasks()).toEqual(tasksOf(allPipelines(), ['score', 'register', 'train', 'archive']));
  });

  it("a change to one pipeline's config selects only that pipeline", () => {
    ws.edit('pipelines/demo2/config.yaml', (t) => t.replace('learning_rate: 5.0e-3', 'learning_rate: 1.0e-3'));
    ws.git(['commit', '-qam', 'demo2: learning rate']);
    expect(affectedTasks()).toEqual(tasksOf(['demo2'], STAGES));
  });

  it('a change to the report lib selects only archive of every pipeline; a README change selects nothing', () => {
    ws.edit('libs/report/src/html.ts', (t) => `${t}\n// affected test: a report change\n`);
    ws.git(['commit', '-qam', 'report change']);
    expect(affectedTasks()).toEqual(tasksOf(allPipelines(), ['archive']));
    ws.edit('README.md', (t) => `${t}\nA note.\n`);
    ws.git(['commit', '-qam', 'docs']);
    expect(affectedTasks()).toEqual([]);
  });
});
