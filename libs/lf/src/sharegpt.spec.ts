import { mkdtempSync, readFileSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImMessage, ImRow, ImTool } from '@trajgen/im';
import { imRow } from '../../../test/support/im-rows';
import { imToShareGpt, SHAREGPT_COLUMNS, toolsColumn, type ShareGptRow } from './sharegpt';
import { validateShareGpt } from './validate';
import { JsonArrayFileWriter } from './atomic-writer';
import { estimateLfRowTokens } from './tokens';

const tool = (name: string, properties: Record<string, unknown> | null = { path: { type: 'string' } }): ImTool => ({
  type: 'function',
  function: { name, description: `${name} tool`, parameters: properties ? { type: 'object', properties } : { type: 'object' } },
});
const im = (messages: ImMessage[], tools: ImTool[] = [tool('read')], score: number | null = 0.5): ImRow => imRow(messages, { tools, score, instance: 'inst-1', teacher: 't' });
const sys = (content = 'You are an agent.'): ImMessage => ({ role: 'system', content });
const user = (content = 'Fix the bug.'): ImMessage => ({ role: 'user', content });
const asst = (content: string, calls: [string, string, Record<string, unknown>][] = [], reasoning = ''): ImMessage => ({
  role: 'assistant',
  content,
  reasoning_content: reasoning,
  ...(calls.length ? { tool_calls: calls.map(([id, name, args]) => ({ id, type: 'function' as const, function: { name, arguments: JSON.stringify(args) } })) } : {}),
});
const result = (id: string, content: string): ImMessage => ({ role: 'tool', tool_call_id: id, content });

const convert = (row: ImRow, opts = {}) => {
  const r = imToShareGpt(row, opts);
  if (!r.ok) throw new Error(r.problem);
  return r;
};
const validate = (rows: ShareGptRow[]) => validateShareGpt(rows, { columns: SHAREGPT_COLUMNS });

describe('imToShareGpt', () => {
  it('single call: system column, arguments as objects, tools as a JSON string', () => {
    const { row } = convert(im([sys(), user(), asst('', [['c1', 'read', { path: 'a.py' }]]), result('c1', 'print(1)'), asst('Done.')]));
    expect(row.system).toBe('You are an agent.');
    expect(row.conversations).toEqual([
      { from: 'human', value: 'Fix the bug.' },
      { from: 'function_call', value: '{"name":"read","arguments":{"path":"a.py"}}' },
      { from: 'observation', value: 'print(1)' },
      { from: 'gpt', value: 'Done.' },
    ]);
    expect(JSON.parse(row.tools)).toEqual([{ name: 'read', description: 'read tool', parameters: { type: 'object', properties: { path: { type: 'string' } } } }]);
    expect(row).toMatchObject({ _instance_id: 'inst-1', _agent_type: 'main', _score: 0.5 });
    expect(validate([row]).ok).toBe(true);
  });

  it('parallel calls: one function_call with a list, one observation joined with the tool_response separator', () => {
    const { row } = convert(
      im([user(), asst('', [['a', 'read', { path: 'x' }], ['b', 'read', { path: 'y' }]]), result('a', 'X'), result('b', 'Y'), asst('ok')]),
    );
    expect(row.conversations.map((c) => c.from)).toEqual(['human', 'function_call', 'observation', 'gpt']);
    expect(JSON.parse(row.conversations[1].value)).toEqual([
      { name: 'read', arguments: { path: 'x' } },
      { name: 'read', arguments: { path: 'y' } },
    ]);
    expect(row.conversations[2].value).toBe('X\n</tool_response>\n<tool_response>\nY');
    expect(validate([row]).ok).toBe(true);
  });

  it('assistant text before a call goes inside the function_call value', () => {
    const { row } = convert(im([user(), asst('Let me check.', [['a', 'read', { path: 'x' }]]), result('a', 'X'), asst('ok')]));
    expect(row.conversations[1]).toEqual({ from: 'function_call', value: 'Let me check.\n<tool_call>{"name":"read","arguments":{"path":"x"}}</tool_call>' });
    expect(validate([row]).ok).toBe(true);
  });

  it('reasoning: a leading <think> block with the template thought words, or dropped', () => {
    const row = im([user(), asst('Look.', [['a', 'read', { path: 'x' }]], 'The bug is in x.'), result('a', 'X'), asst('ok', [], 'Fixed.')]);
    const think = convert(row).row;
    expect(think.conversations[1].value).toBe('<think>\nThe bug is in x.\n</think>\n\nLook.\n<tool_call>{"name":"read","arguments":{"path":"x"}}</tool_call>');
    expect(think.conversations[3].value).toBe('<think>\nFixed.\n</think>\n\nok');
    expect(validate([think]).ok).toBe(true);
    const drop = convert(row, { reasoning: 'drop' }).row;
    expect(drop.conversations[3].value).toBe('ok');
    expect(drop.conversations[1].value.startsWith('Look.')).toBe(true);
  });

  it('no tools → tools "" (never "[]"); no system → ""', () => {
    const { row } = convert(im([user(), asst('hello')], []));
    expect(row.tools).toBe('');
    expect(row.system).toBe('');
    expect(validate([row]).ok).toBe(true);
  });

  it('schemas without properties get an empty properties object (the default tool format needs it)', () => {
    expect(JSON.parse(toolsColumn([tool('mark_task_complete', null)]))[0].parameters).toEqual({ type: 'object', properties: {} });
  });

  it('repairs: trailing tool results trimmed (the call is the target), consecutive users joined', () => {
    const r = convert(im([user('a'), user('b'), asst('', [['a', 'read', { path: 'x' }]]), result('a', 'X')]));
    expect(r.row.conversations.map((c) => c.from)).toEqual(['human', 'function_call']);
    expect(r.row.conversations[0].value).toBe('a\n\nb');
    expect(r.repairs).toEqual(['joined consecutive user messages', 'trimmed trailing tool results (the last call is the target)']);
    expect(validate([r.row]).ok).toBe(true);
  });

  it('refuses what has no legal ShareGPT shape', () => {
    const bad: [ImMessage[], RegExp][] = [
      [[user(), asst('a'), asst('b')], /two assistant turns/],
      [[user(), result('x', 'orphan'), asst('a')], /without a preceding tool call/],
      [[user(), asst('', [['a', 'read', { path: 'x' }]]), result('a', 'X'), user('more'), asst('ok')], /user message directly after tool results/],
      [[sys(), asst('hi')], /starts with an assistant turn/],
      [[user(), asst('hi'), sys('late')], /system message at position/],
      [[user()], /no assistant turn/],
    ];
    for (const [messages, problem] of bad) {
      const r = imToShareGpt(im(messages));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problem).toMatch(problem);
    }
    const notJson = im([user(), { role: 'assistant', content: '', reasoning_content: '', tool_calls: [{ id: 'a', type: 'function', function: { name: 'read', arguments: '{oops' } }] }]);
    expect(imToShareGpt(notJson)).toMatchObject({ ok: false, problem: expect.stringMatching(/not valid JSON/) });
  });

  it('rows of mixed shapes keep one type per column (Arrow rule) and all pass together', () => {
    const rows = [
      convert(im([sys(), user(), asst('hello')], [], null)).row,
      convert(im([user(), asst('', [['a', 'read', { path: 'x' }]]), result('a', 'X'), asst('ok')])).row,
    ];
    const v = validate(rows);
    expect(v.fatal).toEqual([]);
    expect(v.ok).toBe(true);
    expect(rows.map((r) => typeof r.tools)).toEqual(['string', 'string']);
  });
});

describe('JsonArrayFileWriter and token estimate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lf-writer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a JSON array atomically (no temp files left) and an empty array when nothing was added', () => {
    const file = join(dir, 'x.json');
    const w = new JsonArrayFileWriter(file);
    w.add({ a: 1 });
    w.add({ b: 'two' });
    expect(existsSync(file)).toBe(false);
    w.commit();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([{ a: 1 }, { b: 'two' }]);
    const empty = new JsonArrayFileWriter(join(dir, 'empty.json'));
    empty.commit();
    expect(JSON.parse(readFileSync(join(dir, 'empty.json'), 'utf8'))).toEqual([]);
    const aborted = new JsonArrayFileWriter(join(dir, 'aborted.json'));
    aborted.add(1);
    aborted.abort();
    expect(readdirSync(dir).sort()).toEqual(['empty.json', 'x.json']);
  });

  it('estimates tokens as ceil(chars / 4) over values, system and tools', () => {
    expect(estimateLfRowTokens({ conversations: [{ from: 'human', value: '12345' }, { from: 'gpt', value: '123' }], system: 'ab', tools: '' })).toBe(3);
    expect(estimateLfRowTokens({ messages: [{ role: 'user', content: '1234' }] })).toBe(1);
  });
});
