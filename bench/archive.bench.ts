/**
 * Archive/report benchmark (not a test):
 *  1. the run recorder's cost on a fully cached invocation (postTasksExecution
 *     with only cache hits: must stay negligible), in-process;
 *  2. the same seen from the command line: a cached `nx run` with and without
 *     the plugin's hooks, in temporary copies of the workspace;
 *  3. recording one run (index + archive + metadata with the summary) and the
 *     archive stage (summary + report) of a pipeline with many trials and
 *     scored rows.
 * Prints the figures and writes bench/results/archive.json.
 *
 *   npm run bench -- archive [--runs=5] [--trials=2000] [--rows=20000]
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PostTasksExecutionContext } from '@nx/devkit';
import * as archive from '../libs/archive/src';
import { loadPipeline } from '../libs/config/src';
import { seedPipelineOutputs } from '../libs/archive/src/__fixtures__/seed';
import { postTasksExecution, useArchiveLib } from '../tools/trajgen/src/hooks/tasks-execution';
import { createTempWorkspace, type TempWorkspace } from '../test/e2e/harness';
import { pipelineWorkspace } from '../test/support/pipeline-workspace';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const RUNS = Number(args.runs ?? 5);
const TRIALS = Number(args.trials ?? 2000);
const ROWS = Number(args.rows ?? 20000);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function time<T>(fn: () => T): [number, T] {
  const t0 = process.hrtime.bigint();
  const v = fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, v];
}
async function timeAsync<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const v = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, v];
}

/** A pipeline with TRIALS trials (each with its result.json) and ROWS scored IM rows. */
function bigPipeline(root: string): void {
  seedPipelineOutputs(root, 'big');
  const a = join(root, 'artifacts/big');
  const job = 'big-claude-code-job';
  const trials = Array.from({ length: TRIALS }, (_, i) => ({ job, trial: `task-${i % 500}__t${i}`, task_id: `task-${i % 500}`, agent: 'claude-code', reward: i % 3 ? 1 : 0, exception_type: null }));
  writeFileSync(join(a, 'rollout/trials.json'), JSON.stringify({ schema_version: 1, trials }));
  for (const t of trials) {
    mkdirSync(join(a, 'jobs', job, t.trial), { recursive: true });
    writeFileSync(join(a, 'jobs', job, t.trial, 'result.json'), JSON.stringify({ agent_result: { n_input_tokens: 12000, n_output_tokens: 900, n_cache_tokens: 4000, cost_usd: 0.05 } }));
  }
  const filler = 'x'.repeat(1500);
  const lines: string[] = [];
  for (let i = 0; i < ROWS; i++) lines.push(JSON.stringify({ meta_info: { unique_info: { _agent_type: 'main', _score: { composite: (i % 100) / 100 } } }, messages: [{ role: 'user', content: filler }] }));
  writeFileSync(join(a, 'data/im_data/big.scored.jsonl'), lines.join('\n') + '\n');
}

function cachedContext(root: string): PostTasksExecutionContext {
  const taskResults: PostTasksExecutionContext['taskResults'] = {};
  for (const p of ['big', 'other'])
    for (const target of ['prepare', 'rollout', 'convert', 'score', 'register', 'train', 'archive'])
      taskResults[`${p}:${target}`] = { task: { id: `${p}:${target}`, target: { project: p, target }, hash: '1', outputs: [], overrides: {}, cache: true }, status: 'local-cache', code: 0 } as never;
  return { id: 'bench', workspaceRoot: root, nxJsonConfiguration: {}, taskResults, argv: [], startTime: Date.now(), endTime: Date.now() };
}

function cachedNxRun(ws: TempWorkspace): number {
  const t0 = process.hrtime.bigint();
  const r = ws.nx(['run', 'demo:archive', '--exclude-task-dependencies']);
  if (r.code !== 0 || r.ran.length) throw new Error(`expected a cache hit:\n${r.output.slice(-3000)}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main() {
  useArchiveLib(archive);
  const ws = pipelineWorkspace({ prefix: 'archive-bench-', name: 'big' });
  const root = ws.root;
  try {
    const [seedMs] = time(() => bigPipeline(root));
    console.log(`seeded ${TRIALS} trials and ${ROWS} scored rows in ${(seedMs / 1000).toFixed(1)} s`);

    // 1. The hook on a fully cached invocation.
    const ctx = cachedContext(root);
    mkdirSync(join(root, 'artifacts/big/report'), { recursive: true });
    writeFileSync(join(root, 'artifacts/big/report/history.js'), 'window.TRAJGEN_HISTORY = [];\n');
    const hookMs: number[] = [];
    // The hook prints one "restored from the Nx cache" line per cached stage: timed, not shown 200 times.
    const print = console.log;
    console.log = () => {};
    try {
      for (let i = 0; i < 200; i++) hookMs.push((await timeAsync(async () => postTasksExecution(undefined, ctx)))[0]);
    } finally {
      console.log = print;
    }

    // 3. Recording a run and the archive stage at scale.
    const recordMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      recordMs.push(
        time(() =>
          archive.recordInvocation({ workspaceRoot: root, invocation: `bench-${i}`, argv: [], startTime: Date.now(), endTime: Date.now(), tasks: [{ project: 'big', target: 'score', status: 'success' }] }),
        )[0],
      );
    }
    const pipeline = loadPipeline(root, 'big');
    const quiet = { log: () => {}, warn: () => {} };
    const stageMs: number[] = [];
    for (let i = 0; i < RUNS; i++) stageMs.push((await timeAsync(() => archive.archivePipeline(pipeline, quiet)))[0]);
    const reportBytes = statSync(join(root, 'artifacts/big/report/index.html')).size;

    // 2. A cached nx run with and without the hooks (temporary copies; the second has them removed from the plugin).
    const withHooks = createTempWorkspace({ prefix: 'archive-bench-hooks-' });
    const without = createTempWorkspace({ prefix: 'archive-bench-nohooks-' });
    let nx: { with_hooks_ms: number; without_hooks_ms: number } | undefined;
    try {
      without.edit('tools/trajgen/src/index.ts', (t) => t.replace(/^export \{ preTasksExecution, postTasksExecution \}.*$/m, ''));
      for (const ws of [withHooks, without]) {
        seedPipelineOutputs(ws.root, 'demo');
        const first = ws.nx(['run', 'demo:archive', '--exclude-task-dependencies']);
        if (first.code !== 0) throw new Error(first.output.slice(-3000));
      }
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        a.push(cachedNxRun(withHooks));
        b.push(cachedNxRun(without));
      }
      nx = { with_hooks_ms: Math.round(median(a)), without_hooks_ms: Math.round(median(b)) };
    } finally {
      withHooks.remove();
      without.remove();
    }

    const results = {
      date: new Date().toISOString(),
      machine: 'shared 2-core VM',
      trials: TRIALS,
      scored_rows: ROWS,
      hook_cached_invocation_ms: { median: Number(median(hookMs).toFixed(3)), max: Number(Math.max(...hookMs).toFixed(3)), calls: hookMs.length },
      nx_cached_run_ms: nx,
      record_run_ms: { median: Math.round(median(recordMs)), runs: RUNS },
      archive_stage_ms: { median: Math.round(median(stageMs)), runs: RUNS },
      report_bytes: reportBytes,
    };
    console.log(`postTasksExecution, fully cached invocation (2 pipelines × 7 stages): median ${results.hook_cached_invocation_ms.median} ms, max ${results.hook_cached_invocation_ms.max} ms`);
    console.log(`cached nx run of demo:archive: ${nx?.with_hooks_ms} ms with the hooks, ${nx?.without_hooks_ms} ms without (median of ${RUNS})`);
    console.log(`record one run (${TRIALS} trials, summary from disk): median ${results.record_run_ms.median} ms`);
    console.log(`archive stage (summary + report, ${ROWS} scored rows): median ${results.archive_stage_ms.median} ms, report ${(reportBytes / 1024).toFixed(0)} KiB`);
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results/archive.json'), JSON.stringify(results, null, 2) + '\n');
  } finally {
    ws.remove();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
