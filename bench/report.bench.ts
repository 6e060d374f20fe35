/**
 * Report benchmark (not a test): the archive stage with the trial viewer on a
 * pipeline of 20,000 trials (each with result.json, verifier output and a
 * raw-call-free job dir) and 20,000 scored IM rows (one per trial, ~6 kB of
 * conversation with tool calls). Measures the stage's time, the report's total
 * size, and what a browser loads first: index.html (+ history.js), the trials
 * list (trials.html + trials/index.js) and one trial page (trial.html + its file).
 * Anchor, in the same run: reading and JSON.parse of the scored IM file, the
 * floor any per-trial page needs.
 *
 *   npm run bench -- report [--trials=20000] [--runs=3]
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as archive from '../libs/archive/src';
import { loadPipeline } from '../libs/config/src';
import { seedPipelineOutputs } from '../libs/archive/src/__fixtures__/seed';
import { pipelineWorkspace } from '../test/support/pipeline-workspace';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const TRIALS = Number(args.trials ?? 20000);
const RUNS = Number(args.runs ?? 3);
const JOB = 'big-claude-code-job';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function imRow(i: number, trial: string): string {
  const messages: unknown[] = [{ role: 'system', content: 'You are a coding agent. '.repeat(20) }, { role: 'user', content: `Fix task ${i % 500}: the function returns the wrong value.` }];
  for (let k = 0; k < 6; k++) {
    messages.push({ role: 'assistant', content: `Step ${k}: looking at the code.`, reasoning_content: 'Reasoning about the next step. '.repeat(4), tool_calls: [{ id: `call_${i}_${k}`, type: 'function', function: { name: 'Bash', arguments: JSON.stringify({ command: `sed -n 1,40p src/file_${k}.py` }) } }] });
    messages.push({ role: 'tool', tool_call_id: `call_${i}_${k}`, content: 'def f(x):\n    return x + 1\n'.repeat(20) });
  }
  messages.push({ role: 'assistant', content: 'Done: the tests pass.', reasoning_content: '' });
  const unique_info = { _instance_id: `task-${i % 500}`, _agent_type: 'main', _score: { composite: (i % 100) / 100, components: { SUB: 1, STP: 0.8, TVR: 0.7 } }, _flags: { hack: 'none', pathology: [] }, _lf: { included: i % 7 !== 0, reason: i % 7 ? undefined : 'min_score' }, _job: JOB, _trial: trial };
  return JSON.stringify({ version: '2.0.0', meta_info: { unique_info }, tools: [], messages });
}

function bigPipeline(root: string): void {
  seedPipelineOutputs(root, 'big');
  const a = join(root, 'artifacts/big');
  const trials = Array.from({ length: TRIALS }, (_, i) => ({ job: JOB, trial: `task-${i % 500}__t${i}`, task_id: `task-${i % 500}`, agent: 'claude-code', reward: i % 3 ? 1 : 0, exception_type: null }));
  writeFileSync(join(a, 'rollout/trials.json'), JSON.stringify({ schema_version: 1, trials }));
  const stdout = Array.from({ length: 120 }, (_, k) => `test_${k} ... ok`).join('\n') + '\n';
  for (const t of trials) {
    mkdirSync(join(a, 'jobs', JOB, t.trial, 'verifier'), { recursive: true });
    writeFileSync(join(a, 'jobs', JOB, t.trial, 'result.json'), JSON.stringify({ agent_info: { name: 'claude-code', version: '2.1.197' }, agent_result: { n_input_tokens: 12000, n_output_tokens: 900, n_cache_tokens: 4000, cost_usd: 0.05 }, started_at: '2026-12-07T03:33:13Z', finished_at: '2026-12-07T03:34:13Z' }));
    writeFileSync(join(a, 'jobs', JOB, t.trial, 'verifier', 'test-stdout.txt'), stdout);
  }
  writeFileSync(join(a, 'data/im_data/big.scored.jsonl'), trials.map((t, i) => imRow(i, t.trial)).join('\n') + '\n');
}

function sizeOf(path: string): number {
  const st = statSync(path);
  return st.isDirectory() ? readdirSync(path).reduce((n, e) => n + sizeOf(join(path, e)), 0) : st.size;
}

async function main() {
  const ws = pipelineWorkspace({ prefix: 'report-bench-', name: 'big', config: 'training:\n  model_name_or_path: m\n  output_dir: o\nconversion:\n  instance_status: all\n' });
  const root = ws.root;
  try {
    const t0 = Date.now();
    bigPipeline(root);
    const scored = join(root, 'artifacts/big/data/im_data/big.scored.jsonl');
    console.log(`seeded ${TRIALS} trials and ${TRIALS} scored rows (${(statSync(scored).size / 1e6).toFixed(0)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const pipeline = loadPipeline(root, 'big');
    const quiet = { log: () => {}, warn: () => {} };
    const stageMs: number[] = [];
    const anchorMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let s = performance.now();
      for (const line of readFileSync(scored, 'utf8').split('\n')) if (line) JSON.parse(line);
      anchorMs.push(performance.now() - s);
      s = performance.now();
      await archive.archivePipeline(pipeline, quiet);
      stageMs.push(performance.now() - s);
    }
    const report = join(root, 'artifacts/big/report');
    writeFileSync(join(report, 'history.js'), 'window.TRAJGEN_HISTORY = [];\nwindow.TRAJGEN_RUNS = [];\n');
    const trialFile = readdirSync(join(report, 'trials')).find((f) => f !== 'index.js')!;
    const results = {
      trials: TRIALS,
      rows: TRIALS,
      scored_im_mb: Math.round(statSync(scored).size / 1e5) / 10,
      archive_stage_ms: { median: Math.round(median(stageMs)), runs: stageMs.map(Math.round) },
      anchor_parse_scored_im_ms: { median: Math.round(median(anchorMs)), runs: anchorMs.map(Math.round) },
      ratio_stage_to_anchor: Math.round((median(stageMs) / median(anchorMs)) * 10) / 10,
      report_total_mb: Math.round(sizeOf(report) / 1e5) / 10,
      files: readdirSync(join(report, 'trials')).length + readdirSync(report).length - 1,
      first_page_kb: Math.round((sizeOf(join(report, 'index.html')) + sizeOf(join(report, 'history.js'))) / 102.4) / 10,
      trials_list_kb: Math.round((sizeOf(join(report, 'trials.html')) + sizeOf(join(report, 'trials/index.js'))) / 102.4) / 10,
      trial_page_kb: Math.round((sizeOf(join(report, 'trial.html')) + sizeOf(join(report, 'trials', trialFile))) / 102.4) / 10,
    };
    console.log(`archive stage with trial pages (${TRIALS} trials, ${TRIALS} rows, ${results.scored_im_mb} MB scored IM): median ${results.archive_stage_ms.median} ms`);
    console.log(`anchor: read + JSON.parse of the scored IM: median ${results.anchor_parse_scored_im_ms.median} ms → ratio ${results.ratio_stage_to_anchor}`);
    console.log(`report: ${results.report_total_mb} MB in ${results.files} files; first page ${results.first_page_kb} kB, trials list ${results.trials_list_kb} kB, one trial page ${results.trial_page_kb} kB`);
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results/report.json'), JSON.stringify(results, null, 2) + '\n');
  } finally {
    ws.remove();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
