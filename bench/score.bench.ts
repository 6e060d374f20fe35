/**
 * Benchmark of the score stage: TQS V2 scoring + LF writing (ShareGPT,
 * validated row by row) over a large synthetic IM file built by replicating
 * realistic rows — the real fixtures (Claude Code ATIF, OpenHands SDK log,
 * Terminus-2 goldens) rebuilt as IM, plus long synthetic Claude Code
 * trajectories (~40 turns, a few KB per tool result, like a SWE run) and
 * sub-agent rows — until the file is ≥ 50 MB.
 *
 *   node -r @swc-node/register bench/score.bench.ts [targetMB]
 *
 * Prints the figures and writes bench/results/score.json. `benchmarkScore`
 * is exported for the convert benchmark (it can pass its own IM file).
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { ImRow } from '@trajgen/im';
import { scoringSchema } from '@trajgen/config';
import { analyseRow, scoreImFile } from '@trajgen/score';
import { imToShareGpt, ShareGptValidator, SHAREGPT_COLUMNS } from '@trajgen/lf';
import { CC_TOOLS, fromClaudeCodeAtif, fromOpenHandsLog, fromTerminusAtif, imRow, readReal, say, step, system, user } from '../libs/score/src/__fixtures__/im-builders';

export interface ScoreBenchResult {
  input: { path: string; bytes: number; rows: number };
  stage: { seconds: number; rows_per_s: number; mb_per_s: number; pass1_s: number; pass2_s: number; lf_rows: number; lf_bytes: number; scored_bytes: number };
  scoring_only: { seconds: number; rows_per_s: number; mb_per_s: number };
  lf_only: { seconds: number; rows_per_s: number; mb_per_s: number };
  node: string;
  cpus: number;
  date: string;
}

const MB = 1024 * 1024;

/** A long, realistic Claude Code main-agent trajectory (deterministic from `seed`). */
function longClaudeCodeRow(seed: number, instance: string): ImRow {
  const file = (i: number) => `/repo/src/pkg${seed % 7}/module_${i % 5}.py`;
  const source = (i: number) => Array.from({ length: 60 }, (_, l) => `${l + 1}→    value_${i}_${l} = compute(${l}, seed=${seed})  # line ${l}`).join('\n');
  const messages = [system("You are Claude Code, Anthropic's official CLI for Claude.\n" + 'Follow the repository conventions. '.repeat(200)), user(`Fix issue #${seed}: values are off by one.`)];
  for (let t = 0; t < 38; t++) {
    const k = t % 6;
    if (k === 0) messages.push(...step([['Read', { file_path: file(t) }]], [source(t)], t === 0 ? 'Let me look at the module first.' : ''));
    else if (k === 1) messages.push(...step([['Grep', { pattern: `value_${t}`, path: '/repo/src' }], ['Read', { file_path: file(t + 1) }]], [`src/pkg/module_${t % 5}.py:${t}: value_${t}`, source(t + 1)]));
    else if (k === 2) messages.push(...step([['Edit', { file_path: file(t), old_string: `value_${t}_3 = compute(3`, new_string: `value_${t}_3 = compute(4` }]], ['The file has been updated successfully.']));
    else if (k === 3)
      messages.push(
        ...step(
          [['Bash', { command: 'cd /repo && python -m pytest tests/test_module.py -q' }]],
          [t % 12 === 3 ? `${'.'.repeat(40)}F\nFAILED tests/test_module.py::test_${t} - assert 1 == 2\n1 failed, 40 passed in 0.52s` : `${'.'.repeat(41)}\n41 passed in 0.50s`],
        ),
      );
    else if (k === 4) messages.push(...step([['Bash', { command: `python -c "import pkg; print(pkg.value_${t})"` }]], [t % 8 === 4 ? 'Traceback (most recent call last):\n  File "<string>", line 1\nNameError: name x' : `${t}`]));
    else messages.push(...step([['Write', { file_path: `/repo/tests/test_regression_${t}.py`, content: `def test_${t}():\n    assert compute(${t}) == ${t + 1}\n` }]], ['File created successfully']));
  }
  messages.push(say('Fixed the off-by-one in compute() and added regression tests; the suite passes.', 'All tests pass now.'));
  return imRow(messages, { instance, trial: `t${seed}`, tools: CC_TOOLS, scaffold: 'claude-code' });
}

function subagentRow(seed: number, instance: string): ImRow {
  return imRow(
    [system('You are a file search specialist.'), user(`Find where value_${seed} is defined.`), ...step([['Grep', { pattern: `value_${seed}` }]], [`src/pkg/module.py:${seed}`]), say(`It is in src/pkg/module.py line ${seed}.`)],
    { instance, trial: `t${seed}`, agent: 'subagent', tools: CC_TOOLS.filter((t) => ['Read', 'Grep'].includes(t.function.name)) },
  );
}

/** Write a synthetic IM file of at least `targetBytes`; returns its row count. */
export async function buildSyntheticIm(path: string, targetBytes: number): Promise<number> {
  const fixtures = [
    fromClaudeCodeAtif(readReal('harbor/trajectory_pass.json')),
    fromOpenHandsLog(readReal('openhands-sdk/litellm_proxy__anthropic__claude-sonnet-4-20250514-1757015029.090.json')),
    fromOpenHandsLog(readReal('openhands-sdk/litellm_proxy__anthropic__claude-sonnet-4-20250514-1757015025.972.json')),
    fromTerminusAtif(readReal('harbor/hello-world-invalid-json.trajectory.json')),
    fromTerminusAtif(readReal('harbor/hello-world-timeout.trajectory.json')),
  ];
  const out = createWriteStream(path);
  let bytes = 0;
  let rows = 0;
  const write = async (row: ImRow) => {
    const line = JSON.stringify(row) + '\n';
    bytes += Buffer.byteLength(line);
    rows++;
    if (!out.write(line)) await once(out, 'drain');
  };
  for (let i = 0; bytes < targetBytes; i++) {
    const instance = `owner__repo-${Math.floor(i / 3)}`;
    const f = structuredClone(fixtures[i % fixtures.length]);
    f.meta_info.unique_info._instance_id = instance;
    f.meta_info.unique_info.trial = `f${i}`;
    await write(f);
    await write(longClaudeCodeRow(i, instance));
    await write(subagentRow(i, instance));
  }
  out.end();
  await once(out, 'finish');
  return rows;
}

export async function benchmarkScore(options: { targetMB?: number; input?: string } = {}): Promise<ScoreBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'score-bench-'));
  try {
    const imDir = join(dir, 'im_data');
    const lfDir = join(dir, 'lf_data');
    mkdirSync(imDir, { recursive: true });
    const input = options.input ?? join(imDir, 'bench.jsonl');
    const rows = options.input ? 0 : await buildSyntheticIm(input, (options.targetMB ?? 50) * MB);
    const bytes = statSync(input).size;
    const scoring = scoringSchema.parse({ filters: { max_per_instance: 3 } });

    const t0 = performance.now();
    const result = await scoreImFile({ workspaceRoot: dir, input, imDataDir: imDir, lfDataDir: lfDir, dataName: 'bench', scoring });
    const stageS = (performance.now() - t0) / 1000;
    const inRows = result.rows.in;

    // Components in isolation, over rows held in memory (parse time excluded).
    const { readFileSync } = await import('node:fs');
    const parsed: ImRow[] = readFileSync(input, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    let t = performance.now();
    for (const row of parsed) analyseRow(row);
    const scoringS = (performance.now() - t) / 1000;
    t = performance.now();
    const v = new ShareGptValidator({ columns: SHAREGPT_COLUMNS, keepRows: false });
    let lfBytes = 0;
    for (const row of parsed) {
      const r = imToShareGpt(row, { score: 0.5 });
      if (r.ok) {
        v.add(r.row);
        lfBytes += JSON.stringify(r.row).length;
      }
    }
    const lfS = (performance.now() - t) / 1000;
    if (!v.finish().ok) throw new Error('LF rows of the benchmark do not validate');

    const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
    return {
      input: { path: options.input ?? '(synthetic)', bytes, rows: rows || inRows },
      stage: {
        seconds: round(stageS, 2),
        rows_per_s: round(inRows / stageS),
        mb_per_s: round(bytes / MB / stageS, 2),
        pass1_s: round(result.seconds.pass1, 2),
        pass2_s: round(result.seconds.pass2, 2),
        lf_rows: result.rows.lf,
        lf_bytes: result.bytes.lf,
        scored_bytes: result.bytes.scored,
      },
      scoring_only: { seconds: round(scoringS, 2), rows_per_s: round(inRows / scoringS), mb_per_s: round(bytes / MB / scoringS, 2) },
      lf_only: { seconds: round(lfS, 2), rows_per_s: round(inRows / lfS), mb_per_s: round(lfBytes / MB / lfS, 2) },
      node: process.version,
      cpus: cpus().length,
      date: new Date().toISOString(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const targetMB = Number(process.argv[2] ?? 50);
  benchmarkScore({ targetMB })
    .then((r) => {
      console.log(`score stage: ${r.input.rows} IM rows, ${(r.input.bytes / MB).toFixed(1)} MB`);
      console.log(`  whole stage (score + filters + scored IM + LF + validation + stats/plots): ${r.stage.seconds}s = ${r.stage.rows_per_s} rows/s, ${r.stage.mb_per_s} MB/s (pass 1 ${r.stage.pass1_s}s, pass 2 ${r.stage.pass2_s}s)`);
      console.log(`  LF rows ${r.stage.lf_rows} (${(r.stage.lf_bytes / MB).toFixed(1)} MB), scored IM ${(r.stage.scored_bytes / MB).toFixed(1)} MB`);
      console.log(`  scoring only (in memory): ${r.scoring_only.rows_per_s} rows/s, ${r.scoring_only.mb_per_s} MB/s of IM`);
      console.log(`  LF conversion + validation only (in memory): ${r.lf_only.rows_per_s} rows/s, ${r.lf_only.mb_per_s} MB/s of LF`);
      const dir = join(__dirname, 'results');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'score.json'), JSON.stringify(r, null, 2) + '\n');
      console.log(`→ bench/results/score.json`);
    })
    .catch((error) => {
      console.error(error);
      process.exitCode = 1;
    });
}
