import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readScoreStatsFile } from '@trajgen/contracts';
import { createStageIO } from '@trajgen/core';
import { loadPipeline } from '@trajgen/config';
import type { ImRow } from '@trajgen/im';
import { validateShareGpt, optionsFromDatasetInfo } from '@trajgen/lf';
import { CC_TOOLS, fromClaudeCodeAtif, fromOpenHandsLog, fromTerminusAtif, imRow, readReal, say, step, system, user } from './__fixtures__/im-builders';
import { scorePipeline, formatScoreSummary } from './pipeline';
import { pipelineWorkspace } from '../../../test/support/pipeline-workspace';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

const LF_FIXTURE_TEMPLATE = join(__dirname, '../../../test/fixtures/tokenizer_config.json');

/** Every workspace this file makes, removed after its tests. */
const tempDir = trackedTempDirs();

function workspace(scoring: string, rows: ImRow[], name = 'p'): { root: string; imFile: string } {
  const ws = pipelineWorkspace({
    prefix: 'score-ws-',
    name,
    config: `meta_info:\n  name: ${name}\nconversion:\n  data_name: ${name}-data\nscoring:\n${scoring}\ntraining:\n  model_name_or_path: base\n  output_dir: out\n`,
    tempDir,
  });
  const imFile = ws.write(`artifacts/${name}/data/im_data/${name}-data.jsonl`, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { root: ws.root, imFile };
}

const readJsonl = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

const good = (instance: string, trial: string) =>
  imRow(
    [
      system('You are Claude Code.'),
      user('Fix the bug.'),
      ...step([['Read', { file_path: '/repo/src/a.py' }]], ['1→x = 1']),
      ...step([['Edit', { file_path: '/repo/src/a.py', old_string: 'x = 1', new_string: 'x = 2' }]], ['updated']),
      ...step([['Bash', { command: 'pytest -q' }]], ['3 passed in 0.1s']),
      ...step([['Read', { file_path: '/repo/src/b.py' }]], ['1→y']),
      say('Fixed.'),
    ],
    { instance, trial, tools: CC_TOOLS, scaffold: 'claude-code' },
  );
const subagent = (instance: string, trial: string) =>
  imRow([system('You are a search agent.'), user('Find x.'), ...step([['Grep', { pattern: 'x' }]], ['src/a.py:1']), say('In src/a.py.')], {
    instance,
    trial,
    agent: 'subagent',
    tools: CC_TOOLS.filter((t) => ['Read', 'Grep'].includes(t.function.name)),
  });

describe('scorePipeline end to end (temp workspace)', () => {
  const rows: ImRow[] = [
    good('owner__repo-1', 't1'),
    subagent('owner__repo-1', 't1'),
    good('owner__repo-1', 't2'),
    fromClaudeCodeAtif(readReal('harbor/trajectory_pass.json'), { instance: 'owner__repo-2', trial: 't3' }),
    fromOpenHandsLog(readReal('openhands-sdk/litellm_proxy__anthropic__claude-sonnet-4-20250514-1757015029.090.json'), { instance: 'hello-1' }),
    fromTerminusAtif(readReal('harbor/hello-world-invalid-json.trajectory.json'), { instance: 'hello-2' }),
    fromTerminusAtif(readReal('harbor/hello-world-timeout.trajectory.json'), { instance: 'hello-3' }),
  ];
  let ws: { root: string; imFile: string };
  const lfDir = () => join(ws.root, 'artifacts/p/data/lf_data');
  const logs: string[] = [];

  beforeAll(async () => {
    ws = workspace('  filters:\n    min_score: 0.2\n    max_per_instance: 1\n    bundle_by_best_main: true\n  stats_cutoff_tokens: 1000', rows);
    mkdirSync(lfDir(), { recursive: true });
    // Files that are not ours must survive; an earlier data name's outputs must go.
    writeFileSync(join(lfDir(), 'dataset_info.json'), '{"keep": "me"}');
    writeFileSync(join(lfDir(), 'someone-else.json'), '[]');
    writeFileSync(join(lfDir(), 'old.json'), '[]');
    writeFileSync(join(lfDir(), 'old.stats.json'), JSON.stringify({ producer: 'trajgen score' }));
    writeFileSync(join(lfDir(), 'old.scores.svg'), '<svg/>');
    writeFileSync(join(ws.root, 'artifacts/p/data/im_data/old.scored.jsonl'), '');
    const io = createStageIO({ log: (l) => logs.push(l), warn: (l) => logs.push(`warning: ${l}`), progressEveryMs: 0 });
    const result = await scorePipeline(loadPipeline(ws.root, 'p'), io);
    logs.push(formatScoreSummary(result));
  });

  it('writes the scored IM: every input row, _score on main rows, null on sub-agents, filter decisions as flags', () => {
    const scored = readJsonl(join(ws.root, 'artifacts/p/data/im_data/p-data.scored.jsonl'));
    expect(scored).toHaveLength(rows.length);
    const ui = scored.map((r) => r.meta_info.unique_info);
    expect(ui[1]._score).toBeNull();
    expect(ui[0]._score).toMatchObject({ version: 'tqs-v2', scaffold: 'claudecode', components: { SUB: 1, TVR: 0.7 } });
    expect(ui[3]._score.composite).toBeCloseTo(0.797325, 6);
    // Hand-computed above for the two fixtures: 0.716 and 0.180622 (< 0.2 → excluded with its whole bundle).
    expect(ui[5]._score.composite).toBeCloseTo(0.716, 6);
    expect(ui[6]._lf).toMatchObject({ included: false, reason: 'min_score_bundle' });
    // Two identical trajectories of repo-1: the first (file order) is kept, its sub-agent with it.
    expect(ui.map((u) => u._lf.reason ?? null)).toEqual([null, null, 'max_per_instance', null, null, null, 'min_score_bundle']);
    expect(ui[0]._flags).toMatchObject({ hack: null, pathology: [] });
    // The input IM is not modified.
    expect(readJsonl(ws.imFile)[0].meta_info.unique_info._score).toBeNull();
  });

  it('writes LF ShareGPT that passes the validator, as LLaMA-Factory would load it from disk', () => {
    const lf = JSON.parse(readFileSync(join(lfDir(), 'p-data.json'), 'utf8'));
    expect(lf).toHaveLength(5);
    const stats = JSON.parse(readFileSync(join(lfDir(), 'p-data.stats.json'), 'utf8'));
    const v = validateShareGpt(lf, optionsFromDatasetInfo(stats.dataset_info_entry));
    expect(v.ok).toBe(true);
    expect(lf.map((r: { _agent_type: string }) => r._agent_type)).toEqual(['main', 'subagent', 'main', 'main', 'main']);
    expect(lf[1]._score).toBeNull();
    expect(stats.dataset_info_entry).toEqual({ file_name: 'p-data.json', formatting: 'sharegpt', columns: { messages: 'conversations', system: 'system', tools: 'tools' } });
  });

  it('writes stats: rows, exclusions by reason, tokens (sorted lengths), turns, scores, tool-call error rate', () => {
    const stats = JSON.parse(readFileSync(join(lfDir(), 'p-data.stats.json'), 'utf8'));
    // What train and archive read, through the contract, is all of what score wrote.
    expect(readScoreStatsFile(join(lfDir(), 'p-data.stats.json'))).toEqual(stats);
    expect(stats).toMatchObject({
      schema_version: 1,
      producer: 'trajgen score',
      data_name: 'p-data',
      rows: { in: 7, main: 6, subagent: 1, scored: 6, lf: 5, excluded: 2 },
      exclusions: { min_score_bundle: 1, max_per_instance: 1 },
      files: { lf: 'artifacts/p/data/lf_data/p-data.json', scored_im: 'artifacts/p/data/im_data/p-data.scored.jsonl' },
    });
    expect(stats.token_lengths).toHaveLength(5);
    expect([...stats.token_lengths].sort((a: number, b: number) => a - b)).toEqual(stats.token_lengths);
    expect(stats.tokens.max).toBe(stats.token_lengths[4]);
    expect(stats.tokens.over_cutoff).toBe(stats.token_lengths.filter((t: number) => t > 1000).length);
    expect(stats.turns.min).toBe(2);
    expect(stats.scores.all.count).toBe(6);
    // One errored observation (the Terminus parse error) in 7 trajectories.
    expect(stats.tool_errors).toMatchObject({ errored: 1, trajectories: 7, trajectories_with_error: 1 });
  });

  it('writes the SVG plots and a summary; warns about rows over stats_cutoff_tokens', () => {
    for (const p of ['scores', 'turns', 'tokens', 'exclusions']) expect(readFileSync(join(lfDir(), `p-data.${p}.svg`), 'utf8')).toMatch(/^<svg/);
    expect(logs.join('\n')).toMatch(/scored 7 rows \(6 main, 1 sub-agent\)/);
    // Progress through the stage's IO (unthrottled here): rows scored in pass 1, rows written of all in pass 2.
    expect(logs).toContainEqual(expect.stringMatching(/^ {2}7 rows scored \(\d+s\)$/));
    expect(logs.filter((l) => /^ {2}\d\/7 rows written/.test(l))).toHaveLength(7);
    expect(logs.join('\n')).toMatch(/LF: 5 rows kept, 2 excluded \(min_score_bundle 1, max_per_instance 1\)/);
    expect(logs.join('\n')).toMatch(/warning: \d+ LF rows? exceeds? scoring.stats_cutoff_tokens \(1000/);
    expect(logs[logs.length - 1]).toMatch(/^7 rows scored \(mean 0\.\d+\), 5 in LF, excluded: min_score_bundle 1, max_per_instance 1$/);
  });

  it('replaces only its own outputs: dataset_info.json and foreign files stay, stale ones of another data name go', () => {
    expect(readFileSync(join(lfDir(), 'dataset_info.json'), 'utf8')).toBe('{"keep": "me"}');
    expect(readdirSync(lfDir()).sort()).toEqual(
      ['dataset_info.json', 'p-data.exclusions.svg', 'p-data.json', 'p-data.scores.svg', 'p-data.stats.json', 'p-data.tokens.svg', 'p-data.turns.svg', 'someone-else.json'].sort(),
    );
    expect(readdirSync(join(ws.root, 'artifacts/p/data/im_data')).sort()).toEqual(['p-data.jsonl', 'p-data.scored.jsonl']);
  });
});

describe('scorePipeline: options and failures', () => {

  it('drop_tool_errors removes error exchanges from the LF row (the scored IM keeps them)', async () => {
    const row = imRow(
      [user('Fix.'), ...step([['Read', { file_path: 'x.py' }]], ['<tool_use_error>File does not exist.</tool_use_error>']), ...step([['Read', { file_path: 'a.py' }]], ['ok']), say('Done.')],
      { tools: CC_TOOLS },
    );
    const ws = workspace('  filters:\n    drop_tool_errors: true', [row]);
    await scorePipeline(loadPipeline(ws.root, 'p'));
    const lf = JSON.parse(readFileSync(join(ws.root, 'artifacts/p/data/lf_data/p-data.json'), 'utf8'));
    expect(lf[0].conversations.map((c: { from: string }) => c.from)).toEqual(['human', 'function_call', 'observation', 'gpt']);
    expect(lf[0].conversations[1].value).toContain('a.py');
    const scored = readJsonl(join(ws.root, 'artifacts/p/data/im_data/p-data.scored.jsonl'));
    expect(scored[0].messages).toHaveLength(6);
    expect(scored[0].meta_info.unique_info._lf).toMatchObject({ included: true, removed_error_exchanges: 1 });
  });

  it('lf_format: rendered renders through the chat template into role/content messages', async () => {
    const ws = workspace(`  lf_format: rendered\n  tokenizer_config: ${LF_FIXTURE_TEMPLATE}`, [good('i', 't'), subagent('i', 't')]);
    const result = await scorePipeline(loadPipeline(ws.root, 'p'));
    expect(result.rows.lf).toBe(2);
    const lf = JSON.parse(readFileSync(result.files.lf, 'utf8'));
    expect(lf[0].messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(lf[0].messages[2].content).toMatch(/^\n<tool_call>\n\{"name": "Read"/);
    const stats = JSON.parse(readFileSync(result.files.stats, 'utf8'));
    expect(stats.dataset_info_entry).toEqual({
      file_name: 'p-data.json',
      formatting: 'sharegpt',
      columns: { messages: 'messages' },
      tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' },
    });
    expect(validateShareGpt(lf, optionsFromDatasetInfo(stats.dataset_info_entry)).ok).toBe(true);
  });

  it('a malformed IM row fails with its line number and nothing is written', async () => {
    const ws = workspace('  lf_format: sharegpt', [good('i', 't')]);
    writeFileSync(ws.imFile, JSON.stringify(good('i', 't')) + '\n' + JSON.stringify({ messages: [] }) + '\n');
    await expect(scorePipeline(loadPipeline(ws.root, 'p'))).rejects.toThrow(/1 row cannot be scored/);
    await expect(scorePipeline(loadPipeline(ws.root, 'p'))).rejects.toMatchObject({ details: [expect.stringMatching(/^line 2: .*unique_info" is missing/)] });
    expect(existsSync(join(ws.root, 'artifacts/p/data/lf_data'))).toBe(false);
    writeFileSync(ws.imFile, '{"version": ');
    await expect(scorePipeline(loadPipeline(ws.root, 'p'))).rejects.toThrow(/p-data\.jsonl:1: not valid JSON/);
  });

  it('no IM file: says to run convert; every row filtered out: fails with the reasons after writing stats', async () => {
    const ws = workspace('  filters:\n    min_score: 0.99', [good('i', 't')]);
    await expect(scorePipeline(loadPipeline(ws.root, 'p'))).rejects.toThrow(/No row of "p-data" reached the LF file .*min_score 1/);
    expect(JSON.parse(readFileSync(join(ws.root, 'artifacts/p/data/lf_data/p-data.json'), 'utf8'))).toEqual([]);
    rmSync(ws.imFile);
    await expect(scorePipeline(loadPipeline(ws.root, 'p'))).rejects.toMatchObject({ message: expect.stringMatching(/No IM data to score/), hint: expect.stringMatching(/convert/) });
  });
});
