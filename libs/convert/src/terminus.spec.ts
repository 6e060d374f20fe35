import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImAssistantMessage } from '@trajgen/im';
import { buildRows } from './rows';
import { convertTerminusTrial } from './terminus-2';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

/**
 * Terminus-2 as Harbor 0.26 writes it with a summarisation and linear history
 * (shapes from harbor/agents/terminus_2/terminus_2.py: `_split_trajectory_on_summarization`
 * copies the new chat into `trajectory.cont-N.json` marked `is_copied_context`,
 * `continued_trajectory_ref` chains the files, `_summarize` writes
 * `trajectory.summarization-N-{summary,questions,answers}.json`).
 */

const agent = { name: 'terminus-2', version: '2.0.0', model_name: 'openai/gpt-4o', extra: { parser: 'json' } };
const answer = (episode: number, analysis: string, keystrokes: string[], complete = false) => ({
  source: 'agent',
  message: `Analysis: ${analysis}\nPlan: go on.`,
  reasoning_content: `thinking ${episode}`,
  tool_calls: [
    ...keystrokes.map((k, i) => ({ tool_call_id: `call_${episode}_${i + 1}`, function_name: 'bash_command', arguments: { keystrokes: k, duration: 0.1 } })),
    ...(complete ? [{ tool_call_id: `call_${episode}_task_complete`, function_name: 'mark_task_complete', arguments: {} }] : []),
  ],
  observation: { results: [{ content: `screen after ${episode}` }] },
});
const atif = (steps: object[], extra: object = {}) => ({ schema_version: 'ATIF-v1.7', session_id: 's', agent, steps: steps.map((s, i) => ({ step_id: i + 1, ...s })), final_metrics: { total_prompt_tokens: 100, total_completion_tokens: 10 }, ...extra });

function trial(files: Record<string, unknown>): string {
  const dir = tempDir(join(tmpdir(), 'tg-t2-'));
  mkdirSync(join(dir, 'agent'));
  for (const [name, v] of Object.entries(files)) writeFileSync(join(dir, 'agent', name), typeof v === 'string' ? v : JSON.stringify(v, null, 2));
  return dir;
}

const ref = (kind: string) => ({ trajectory_path: `trajectory.summarization-1-${kind}.json`, session_id: `s-summarization-1-${kind}` });
const MAIN = atif(
  [
    { source: 'user', message: 'Task Description: make hello.txt' },
    answer(1, 'Empty dir.', ['ls\n']),
    answer(2, 'Still empty.', ['echo hi > hello.txt\n', 'cat hello.txt\n']),
    { source: 'system', message: 'Performed context summarization and handoff to continue task.', observation: { results: [{ subagent_trajectory_ref: ['summary', 'questions', 'answers'].map(ref) }] } },
  ],
  { continued_trajectory_ref: 'trajectory.cont-1.json' },
);
const CONT = atif([
  { source: 'user', message: 'Task Description: make hello.txt', is_copied_context: true },
  { source: 'user', message: 'Here are the answers the other agent provided: hello.txt holds hi.', is_copied_context: true },
  answer(3, 'The file is there.', [], true),
  answer(4, 'Confirmed.', [], true),
]);
const SUB = (kind: string) => atif([{ source: 'user', message: `summarize (${kind})`, is_copied_context: kind === 'answers' }, { source: 'agent', message: `${kind}: hello.txt written` }]);

describe('terminus-2 from Harbor ATIF files', () => {
  it('joins trajectory.json with its continuation into one main row; each summarisation file is its own sub-agent row', () => {
    const dir = trial({
      'trajectory.json': MAIN,
      'trajectory.cont-1.json': CONT,
      'trajectory.summarization-1-summary.json': SUB('summary'),
      'trajectory.summarization-1-questions.json': SUB('questions'),
      'trajectory.summarization-1-answers.json': SUB('answers'),
    });
    const out = convertTerminusTrial(dir);
    expect(out.counts).toMatchObject({ files: 5, continuations_joined: 1, conversations: 4 });
    const [main, ...subs] = out.conversations;
    expect(main.agentType).toBe('main');
    expect(main.extra).toMatchObject({ _source_file: 'trajectory.json', _continuations: ['trajectory.cont-1.json'] });
    expect(main.messages.map((m) => m.role[0]).join('')).toBe('uauauaua');
    // The copied context is not repeated; the handoff the model read is kept with the screen before it.
    expect(main.messages.filter((m) => m.content.includes('Task Description')).length).toBe(1);
    const assistants = main.messages.filter((m): m is ImAssistantMessage => m.role === 'assistant');
    expect(assistants.map((a) => a.reasoning_content)).toEqual(['thinking 1', 'thinking 2', 'thinking 3', 'thinking 4']);
    // Commands come from the parsed tool calls, never as raw text inside analysis.
    expect(JSON.parse(assistants[1].content)).toEqual({ analysis: 'Still empty.', plan: 'go on.', commands: [{ keystrokes: 'echo hi > hello.txt\n', duration: 0.1 }, { keystrokes: 'cat hello.txt\n', duration: 0.1 }] });
    expect(JSON.parse(assistants[3].content)).toMatchObject({ commands: [], task_complete: true });
    expect(main.usage).toMatchObject({ prompt_tokens: 200, completion_tokens: 20, calls: 4 });
    expect(subs.map((s) => [s.agentType, s.extra?._subagent_kind, s.extra?._summarization])).toEqual([
      ['subagent', 'summarization-summary', 1],
      ['subagent', 'summarization-questions', 1],
      ['subagent', 'summarization-answers', 1],
    ]);
    const rows = buildRows(out.conversations, { instanceId: 'hello', date: () => '2026-01-01', extra: {}, reasoningCheck: 'fast', reasoningRatio: 0.2 });
    expect(rows.failure).toBeUndefined();
    expect(rows.rows).toHaveLength(4);
  });

  it('keeps a raw JSON answer (raw_content) exactly and removes an unparsed answer with its error feedback', () => {
    const raw = '{"analysis": "a", "plan": "p", "commands": [{"keystrokes": "ls\\n", "duration": 0.1}]}';
    const dir = trial({
      'trajectory.json': atif([
        { source: 'user', message: 'Task Description: x' },
        { source: 'agent', message: 'Sure! {"commands": [{"keystrokes": "ls\\n"}]} done', observation: { results: [{ content: 'Previous response had parsing errors:\nERROR: Missing required fields: analysis, plan' }] } },
        { source: 'agent', message: raw, tool_calls: [{ tool_call_id: 'call_2_1', function_name: 'bash_command', arguments: { keystrokes: 'ls\n', duration: 0.1 } }], observation: { results: [{ content: 'a.txt' }] } },
        answer(3, 'Done.', [], true),
      ]),
    });
    const out = convertTerminusTrial(dir);
    const m = out.conversations[0].messages;
    expect(m.map((x) => x.role[0]).join('')).toBe('uaua');
    expect(m[1].content).toBe(raw);
    expect(out.counts.error_turns_removed).toBe(1);
    expect(JSON.stringify(m)).not.toContain('Sure!');
  });

  it('an unsupported or damaged file names the real reason', () => {
    expect(() => convertTerminusTrial(trial({ 'trajectory.json': { steps: [], note: 'not atif' } }))).toThrow(/agent\/trajectory\.json is not an ATIF trajectory \(expected schema_version "ATIF-v…", agent and steps; found keys steps, note\)/);
    expect(() => convertTerminusTrial(trial({ 'trajectory.json': MAIN, 'trajectory.cont-1.json': '{"schema_version": "ATIF-v1.7", "st' }))).toThrow(/agent\/trajectory\.cont-1\.json is not JSON/);
    expect(() => convertTerminusTrial(trial({ 'trajectory.json': { ...MAIN, agent: { ...agent, name: 'codex' } } }))).toThrow(/ATIF from codex is not converted/);
  });
});
