import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pipelinePaths } from '@trajgen/config';
import type { TrialDetail } from '@trajgen/report';
import { seedPipelineOutputs } from './__fixtures__/seed';
import { textScrubber } from './redact';
import { shardCount, shardOf, trialFileId, writeTrialViewerData } from './trials';
import { rawConversations } from './viewer-convert';

const JOB = 'demo-claude-code-2.1.197-trajgen-oracle-20261121T101500';
const KEY = 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345';

/** Run every data file as the trial page does and keep the trial asked for. */
function load(dir: string, id: string): TrialDetail {
  const found: TrialDetail[] = [];
  for (const f of readdirSync(dir).filter((f) => /^s[0-9a-f]*\.js$/.test(f)))
    runInNewContext(readFileSync(join(dir, f), 'utf8'), { TRAJGEN_TRIAL: (d: TrialDetail) => d.id === id && found.push(d) });
  expect(found).toHaveLength(1);
  return found[0];
}

/** An IM row of a trial, in the shape convert writes (unique_info: _job, _trial, _agent_type, …). */
function imRow(trial: string, agentType: 'main' | 'subagent', extra: Record<string, unknown>, messages: unknown[]) {
  return { version: '2.0.0', meta_info: { unique_info: { _instance_id: trial.split('__')[0], _agent_type: agentType, _score: null, _job: JOB, _trial: trial, ...extra } }, tools: [], messages };
}

describe('trial viewer data', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'trajgen-viewer-'));
    seedPipelineOutputs(root, 'demo', { dataName: 'demo' });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes one file per trial and a list; links a sub-agent row to the parent call; says why a trial has no row', () => {
    const paths = pipelinePaths(root, 'demo');
    const main = imRow('add-greeting__Ab00xYz', 'main', { _score: { composite: 0.8, components: { SUB: 1 } }, _flags: { hack: 'none', pathology: [] }, _lf: { included: true } }, [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'Add a greeting' },
      { role: 'assistant', content: '', reasoning_content: 'think', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'Task', arguments: '{"prompt":"look"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: `found it, key ${KEY}` },
      { role: 'assistant', content: 'done', reasoning_content: '' },
    ]);
    const sub = imRow('add-greeting__Ab00xYz', 'subagent', { _parent_tool_call_id: 'call_1' }, [
      { role: 'user', content: 'look' },
      { role: 'assistant', content: 'found', reasoning_content: '' },
    ]);
    const filtered = imRow('rename-symbol__Ab30xYz', 'main', { _score: { composite: 0.2, components: {} }, _lf: { included: false, reason: 'min_score' } }, [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y', reasoning_content: '' }]);
    // Rows of one trial need not be next to each other.
    writeFileSync(join(paths.imData, 'demo.scored.jsonl'), [main, filtered, sub].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const verifier = join(paths.jobs, JOB, 'fix-off-by-one__Ab10xYz', 'verifier');
    mkdirSync(verifier, { recursive: true });
    writeFileSync(join(verifier, 'test-stdout.txt'), Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\nFAILED (failures=1)\n');

    const out = join(root, 'out');
    const result = writeTrialViewerData(paths, out, { dataName: 'demo', instanceStatus: 'resolved', scrub: textScrubber({}) });
    expect(result.trials).toBe(8);
    // Eight trials fit one data file (s.js) beside the list.
    expect(readdirSync(out).sort()).toEqual(['index.js', 's.js']);

    const window: { TRAJGEN_TRIALS?: { columns: string[]; rows: unknown[][] } } = {};
    runInNewContext(readFileSync(join(out, 'index.js'), 'utf8'), { window });
    const cols = window.TRAJGEN_TRIALS!.columns;
    const rows = window.TRAJGEN_TRIALS!.rows.map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]])));
    const byTrial = Object.fromEntries(rows.map((r) => [r.trial as string, r]));
    expect(byTrial['add-greeting__Ab00xYz']).toMatchObject({ outcome: 'resolved', status: 'in_lf', score: 0.8, subagents: 1 });
    expect(byTrial['rename-symbol__Ab30xYz']).toMatchObject({ status: 'filtered', reason: 'min_score', score: 0.2 });
    expect(byTrial['fix-off-by-one__Ab10xYz']).toMatchObject({ outcome: 'unresolved', status: 'not_selected', reason: 'unresolved', score: null });
    expect(byTrial['parse-csv__Ab21xYz']).toMatchObject({ outcome: 'error', status: 'not_selected', reason: 'no_reward', exception: 'EnvironmentStartTimeoutError' });

    const greeting = load(out, trialFileId(JOB, 'add-greeting__Ab00xYz'));
    expect(greeting.conversations.map((c) => [c.key, c.agent_type, c.title])).toEqual([
      ['c0', 'main', 'main agent'],
      ['c1', 'subagent', 'sub-agent 1'],
    ]);
    const turn = greeting.conversations[0].turns[1];
    expect(turn[0]).toBe('a');
    if (turn[0] !== 'a') return;
    expect(turn[2]).toBe('think');
    expect(turn[3][0]).toMatchObject({ id: 'call_1', name: 'Task', sub: 'c1', result: 'found it, key <redacted>' });
    expect(greeting.conversations[0].system).toBe('sys');
    expect(greeting.usage.input_tokens).toBe(1000);

    const failed = load(out, trialFileId(JOB, 'fix-off-by-one__Ab10xYz'));
    expect(failed.data.message).toMatch(/instance_status is "resolved"/);
    expect(failed.verifier[0]).toMatchObject({ file: 'verifier/test-stdout.txt', omitted_lines: 21 });
    expect(failed.verifier[0].text.endsWith('FAILED (failures=1)')).toBe(true);
    // No job dir for this trial's raw log here: the page says so rather than showing nothing silently.
    expect(failed.notes.join(' ')).toMatch(/No IM row and no raw model calls/);
    for (const f of readdirSync(out)) expect(readFileSync(join(out, f), 'utf8')).not.toContain(KEY);
    // Indexing the IM file in chunks that split rows anywhere finds the same rows.
    const small = join(root, 'small');
    writeTrialViewerData(paths, small, { dataName: 'demo', instanceStatus: 'resolved', scrub: textScrubber({}), chunkBytes: 7 });
    for (const f of readdirSync(out)) expect(readFileSync(join(small, f), 'utf8'), f).toBe(readFileSync(join(out, f), 'utf8'));
  });

  it("names a dropped trial's reason from convert's list of every drop", () => {
    const paths = pipelinePaths(root, 'demo');
    writeFileSync(join(paths.imData, 'demo.scored.jsonl'), '');
    const statsFile = join(paths.imData, 'demo.stats.json');
    const stats = JSON.parse(readFileSync(statsFile, 'utf8'));
    const message = 'agent/litellm-trajectory.jsonl:3: not JSON (a torn line)';
    writeFileSync(statsFile, JSON.stringify({ ...stats, examples: [], drops: [{ job: JOB, trial: 'add-greeting__Ab00xYz', reason: 'damaged_trajectory', message }] }));
    const out = join(root, 'out');
    writeTrialViewerData(paths, out, { dataName: 'demo', instanceStatus: 'resolved', scrub: textScrubber({}) });
    expect(load(out, trialFileId(JOB, 'add-greeting__Ab00xYz')).data).toMatchObject({ status: 'dropped', reason: 'damaged_trajectory', message });
  });

  it('rebuilds a conversation from raw Anthropic calls: only new messages per call, results beside their calls, side calls apart', () => {
    const first = { role: 'user', content: [{ type: 'text', text: 'Fix the bug' }] };
    const call1 = {
      request_body: { model: 'm', system: [{ type: 'text', text: 'You are Claude Code' }], messages: [first], tools: [{ name: 'Bash' }] },
      response_body: { content: [{ type: 'thinking', thinking: 'hmm' }, { type: 'text', text: 'Looking' }, { type: 'tool_use', id: 'tu1', name: 'Bash', input: { command: 'ls' } }] },
      usage: { prompt_tokens: 10, completion_tokens: 5 },
      duration_ms: 7,
    };
    const call2 = {
      request_body: { model: 'm', messages: [first, { role: 'assistant', content: call1.response_body.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu1', content: 'a.py', is_error: false }] }] },
      response_body: { content: [{ type: 'text', text: 'Done' }] },
    };
    const title = { request_body: { model: 'haiku', messages: [{ role: 'user', content: 'Title for: Fix the bug' }] }, response_body: { content: [{ type: 'text', text: 'Bug fix' }] } };
    const { conversations, calls } = rawConversations([call1, title, call2].map((c) => JSON.stringify(c)).concat(['{torn']), (t) => t);
    expect(calls).toBe(3);
    expect(conversations.map((c) => c.agent_type)).toEqual(['main', 'side']);
    const main = conversations[0];
    expect(main.system).toBe('You are Claude Code');
    expect(main.tools).toEqual(['Bash']);
    expect(main.turns.map((t) => t[0])).toEqual(['m', 'u', 'a', 'm', 'a']);
    const a = main.turns[2];
    if (a[0] !== 'a') throw new Error('expected an assistant turn');
    expect(a[1]).toBe('Looking');
    expect(a[2]).toBe('hmm');
    expect(a[3][0]).toMatchObject({ name: 'Bash', result: 'a.py' });
    expect(JSON.parse(a[3][0].args)).toEqual({ command: 'ls' });
  });

  it('shards trial data: one file for a small pipeline, ~48 trials per file at 20,000', () => {
    expect(shardCount(8)).toBe(1);
    expect(shardOf(trialFileId('j', 't'), 1)).toBe('s');
    expect(shardCount(20_000)).toBe(417);
    // Trials spread evenly over the files.
    const sizes = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const s = shardOf(trialFileId('job', `task__${i}`), 417);
      sizes.set(s, (sizes.get(s) ?? 0) + 1);
    }
    expect(sizes.size).toBe(417);
    expect(Math.max(...sizes.values())).toBeLessThan(48 * 2);
  });

  it('scrubs secret-looking tokens and secret env values from free text, not commit ids', () => {
    const scrub = textScrubber({ MY_API_KEY: 'plain-secret-value-123', PATH: '/usr/bin' });
    expect(scrub(`a ${KEY} b`)).toBe('a <redacted> b');
    expect(scrub('Authorization: Bearer abcdefghijkl')).toBe('Authorization: Bearer <redacted>');
    expect(scrub('https://user:hunter2@example.com/x')).toBe('https://user:<redacted>@example.com/x');
    expect(scrub('value plain-secret-value-123 here')).toBe('value <redacted> here');
    const sha = 'a'.repeat(40);
    expect(scrub(`commit ${sha}`)).toBe(`commit ${sha}`);
  });
});
