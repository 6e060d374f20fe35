import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { optionsFromDatasetInfo, parseFunctionCallValue, validateShareGpt, formatValidation } from './validate';

const REAL = join(__dirname, '../../../test/fixtures/real/llama-factory');

const call = (name: string, args: Record<string, unknown> = {}) => JSON.stringify({ name, arguments: args });
const m = (from: string, value: unknown = from === 'function_call' ? call('f', { x: 1 }) : `${from} text`) => ({ from, value });
const row = (roles: string[], extra: Record<string, unknown> = {}) => ({ conversations: roles.map((r) => m(r)), ...extra });
const one = (r: unknown, opts = {}) => validateShareGpt([r], opts).rows[0];

describe("validateShareGpt: LLaMA-Factory's ShareGPT converter, kept and dropped role sequences", () => {
  const kept: [string, string[]][] = [
    ['human, gpt', ['human', 'gpt']],
    ['human, function_call, observation, gpt', ['human', 'function_call', 'observation', 'gpt']],
    ['human, function_call (the call is the target)', ['human', 'function_call']],
    ['chained calls', ['human', 'function_call', 'observation', 'function_call', 'observation', 'gpt']],
    ['observation, gpt (odd but legal)', ['observation', 'gpt']],
  ];
  for (const [name, roles] of kept) {
    it(`keeps ${name}`, () => {
      const r = one(row(roles));
      expect(r.kept).toBe(true);
      expect(r.logs).toEqual([]);
      expect(r.errors).toEqual([]);
    });
  }

  it('keeps human, gpt with empty strings', () => {
    const r = one({ conversations: [{ from: 'human', value: '' }, { from: 'gpt', value: '' }] });
    expect(r.kept).toBe(true);
  });

  it('keeps system, human, gpt; the system message wins over the system column', () => {
    const r = one(
      { conversations: [{ from: 'system', value: 'from the message' }, m('human'), m('gpt')], system: 'from the column' },
      { columns: { system: 'system' } },
    );
    expect(r.kept).toBe(true);
    expect(r.system).toBe('from the message');
    const column = one({ conversations: [m('human'), m('gpt')], system: 'from the column' }, { columns: { system: 'system' } });
    expect(column.system).toBe('from the column');
  });

  const dropped: [string, string[], string[]][] = [
    ['gpt, human, gpt', ['gpt', 'human', 'gpt'], ['Invalid role tag']],
    ['human, gpt, human', ['human', 'gpt', 'human'], ['Invalid message count']],
    ['human, gpt, system, human, gpt', ['human', 'gpt', 'system', 'human', 'gpt'], ['Invalid role tag']],
    ['system, system, human, gpt', ['system', 'system', 'human', 'gpt'], ['Invalid role tag']],
    ['human, function_call, observation, observation, gpt', ['human', 'function_call', 'observation', 'observation', 'gpt'], ['Invalid role tag', 'Invalid message count']],
    ['user, gpt (default tags)', ['user', 'gpt'], ['Invalid role tag']],
  ];
  for (const [name, roles, warnings] of dropped) {
    it(`drops ${name}: ${warnings.join(' + ')}`, () => {
      const r = one(row(roles));
      expect(r.kept).toBe(false);
      expect(r.errors).toEqual([]);
      expect(r.logs.map((l) => l.split(' in ')[0])).toEqual([...warnings, 'Skipping this abnormal example.', 'Dropped invalid example: []']);
    });
  }

  it('drops human, gpt("let me check"), function_call, observation, gpt and lints the split call', () => {
    const r = one({ conversations: [m('human'), { from: 'gpt', value: 'let me check' }, m('function_call'), m('observation'), m('gpt')] });
    expect(r.kept).toBe(false);
    expect(r.logs[0]).toMatch(/^Invalid role tag in \[\{'from': 'human'/);
    expect(r.lints.join('\n')).toMatch(/gpt turn directly followed by a function_call/);
  });

  it('drops [] and [system] in the processor ("Dropped invalid example")', () => {
    for (const conv of [[], [{ from: 'system', value: 's' }]]) {
      const r = one({ conversations: conv });
      expect(r.kept).toBe(false);
      expect(r.logs).toEqual(['Dropped invalid example: []']);
    }
  });

  it('aborts on a message missing the role key (KeyError)', () => {
    const v = validateShareGpt([{ conversations: [{ value: 'hi' }, m('gpt')] }]);
    expect(v.outcome).toBe('aborts');
    expect(v.fatal[0]).toMatch(/KeyError: 'from'/);
  });

  it('"Cannot find valid samples" when every row is dropped', () => {
    const v = validateShareGpt([row(['gpt', 'gpt']), row(['human'])]);
    expect(v.outcome).toBe('no_valid_samples');
    expect(v.message).toMatch(/Cannot find valid samples/);
    expect(v.ok).toBe(false);
  });

  it('honours custom tags (role/content with user/assistant)', () => {
    const tags = { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant' };
    const ok = validateShareGpt([{ messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'u' }, { role: 'assistant', content: 'a' }] }], {
      tags,
      columns: { messages: 'messages' },
    });
    expect(ok.ok).toBe(true);
    const bad = validateShareGpt([{ messages: [{ role: 'human', content: 'u' }, { role: 'assistant', content: 'a' }] }], { tags, columns: { messages: 'messages' } });
    expect(bad.rows[0].logs[0]).toMatch(/^Invalid role tag/);
  });

  it('prints payloads as Python reprs', () => {
    const r = one({ conversations: [{ from: 'gpt', value: "it's \"x\"\n" }] });
    expect(r.logs[0]).toBe(`Invalid role tag in [{'from': 'gpt', 'value': 'it\\'s "x"\\n'}].`);
  });
});

describe('validateShareGpt: errors that abort a run (treated as errors)', () => {
  const withCall = (value: unknown, extra: Record<string, unknown> = {}) => ({
    conversations: [m('human'), { from: 'function_call', value }, m('observation'), m('gpt')],
    ...extra,
  });

  it('invalid function_call JSON', () => {
    const v = validateShareGpt([withCall('{"name": "f", ')]);
    expect(v.outcome).toBe('aborts');
    expect(v.fatal[0]).toMatch(/RuntimeError: Invalid JSON format in function message/);
  });

  it('missing name or arguments', () => {
    expect(validateShareGpt([withCall('{"arguments": {}}')]).fatal[0]).toMatch(/KeyError: 'name'/);
    expect(validateShareGpt([withCall('{"name": "f"}')]).fatal[0]).toMatch(/KeyError: 'arguments'/);
  });

  it('string (double-encoded) arguments', () => {
    expect(validateShareGpt([withCall('{"name": "f", "arguments": "{\\"x\\": 1}"}')]).fatal[0]).toMatch(/arguments must be a JSON object/);
  });

  it('an empty list of calls', () => {
    expect(validateShareGpt([withCall('[]')]).fatal[0]).toMatch(/empty list/);
  });

  it('accepts a parallel list, text before <tool_call>, and a <think> prefix', () => {
    const list = JSON.stringify([{ name: 'a', arguments: {} }, { name: 'b', arguments: { y: [1] } }]);
    const v = validateShareGpt([
      withCall(list),
      withCall(`Let me check.\n<tool_call>${call('f', { x: 1 })}</tool_call>`),
      withCall(`<think>\nI should look first.\n</think>\n\n${call('f')}`),
      withCall(`<think>\nhmm\n</think>\n\nText<tool_call>${list}</tool_call>`),
    ]);
    expect(v.fatal).toEqual([]);
    expect(v.ok).toBe(true);
    expect(parseFunctionCallValue(`<think>\nx\n</think>\n\nT<tool_call>${list}</tool_call>`).calls?.map((c) => c.name)).toEqual(['a', 'b']);
  });

  it('a <think> span without the template thought words is not stripped', () => {
    expect(parseFunctionCallValue(`<think>x</think>${call('f')}`).error).toMatch(/Invalid JSON/);
  });

  it('tools: non-string, invalid JSON, whitespace, missing parameters.properties', () => {
    const opts = { columns: { tools: 'tools' } };
    const schema = { name: 'f', description: 'd', parameters: { type: 'object', properties: {} } };
    expect(validateShareGpt([row(['human', 'gpt'], { tools: [schema] })], opts).fatal[0]).toMatch(/TypeError: the JSON object must be str/);
    expect(validateShareGpt([row(['human', 'gpt'], { tools: '[{' })], opts).fatal[0]).toMatch(/Invalid JSON format in tool description/);
    expect(validateShareGpt([row(['human', 'gpt'], { tools: '  ' })], opts).fatal[0]).toMatch(/Invalid JSON format in tool description/);
    expect(validateShareGpt([row(['human', 'gpt'], { tools: JSON.stringify([{ name: 'f', parameters: { type: 'object' } }]) })], opts).fatal[0]).toMatch(
      /parameters.properties/,
    );
    const good = validateShareGpt(
      [row(['human', 'gpt'], { tools: JSON.stringify([schema]) }), row(['human', 'gpt'], { tools: JSON.stringify([{ type: 'function', function: schema }]) })],
      opts,
    );
    expect(good.ok).toBe(true);
  });

  it('tools "[]" and "" are legal; "[]" is linted', () => {
    const v = validateShareGpt([row(['human', 'gpt'], { tools: '[]' }), row(['human', 'gpt'], { tools: '' }), row(['human', 'gpt'], { tools: null })], {
      columns: { tools: 'tools' },
    });
    expect(v.ok).toBe(true);
    expect(v.rows.map((r) => r.lints.length)).toEqual([1, 0, 0]);
  });

  it('a row without the messages column (null after loading) aborts', () => {
    const v = validateShareGpt([row(['human', 'gpt']), { tools: '' }]);
    expect(v.fatal).toEqual([expect.stringMatching(/^row 1: TypeError: column "conversations" must be a list of messages, found null/)]);
  });

  it('a declared column missing from the whole file aborts (KeyError)', () => {
    const v = validateShareGpt([row(['human', 'gpt'])], { columns: { tools: 'tools' } });
    expect(v.fatal).toEqual([expect.stringMatching(/KeyError: 'tools'/)]);
  });

  it('mixed types in one column across rows abort the load (ArrowInvalid)', () => {
    const v = validateShareGpt([row(['human', 'gpt'], { tools: '' }), row(['human', 'gpt'], { tools: [] })]);
    expect(v.fatal.join('\n')).toMatch(/ArrowInvalid: JSON parse error: Column\(\/tools\) changed from string to array/);
    const values = validateShareGpt([{ conversations: [m('human'), m('gpt')] }, { conversations: [{ from: 'human', value: 3 }, m('gpt')] }]);
    expect(values.fatal.join('\n')).toMatch(/Column\(\/conversations\/\[\]\/value\) changed from string to number/);
  });

  it('only kept rows are rendered: a bad call in a dropped row is a lint', () => {
    const v = validateShareGpt([{ conversations: [m('gpt'), { from: 'function_call', value: 'nope' }] }, row(['human', 'gpt'])]);
    expect(v.fatal).toEqual([]);
    expect(v.rows[0].lints.join()).toMatch(/would abort if kept/);
    expect(v.outcome).toBe('trains');
  });

  it('lints rows over cutoff_len', () => {
    const v = validateShareGpt([row(['human', 'gpt'])], { cutoffLen: 2, estimateTokens: () => 3 });
    expect(v.rows[0].lints.join()).toMatch(/3 tokens > cutoff_len 2/);
  });
});

describe('golden: LLaMA-Factory\'s own demo tool-call data', () => {
  const rows = JSON.parse(readFileSync(join(REAL, 'glaive_toolcall_en_demo.json'), 'utf8')) as { conversations: { from: string }[]; tools: string }[];
  const info = JSON.parse(readFileSync(join(REAL, 'dataset_info.json'), 'utf8'));

  it('all 300 rows of glaive_toolcall_en_demo pass under its dataset_info.json entry', () => {
    const v = validateShareGpt(rows, optionsFromDatasetInfo(info.glaive_toolcall_en_demo));
    expect(v.total).toBe(300);
    expect(v.kept).toBe(300);
    expect(v.fatal).toEqual([]);
    expect(v.outcome).toBe('trains');
    expect(v.ok).toBe(true);
    // 109 rows carry tools "[]": a lint, not a failure.
    expect(v.rows.filter((r) => r.lints.some((l) => l.includes('"[]"'))).length).toBe(109);
    expect(v.linted).toBe(109);
    expect(formatValidation(v)[0]).toBe('300 rows: 300 kept, 0 dropped, 109 with lints → LLaMA-Factory trains');
  });

  it('a broken copy is caught: swapped turns and double-encoded arguments', () => {
    const copy = JSON.parse(JSON.stringify(rows.slice(0, 20)));
    copy[0].conversations.reverse();
    const withCall = copy.findIndex((r: { conversations: { from: string }[] }, i: number) => i > 0 && r.conversations.some((c) => c.from === 'function_call'));
    const fc = copy[withCall].conversations.find((c: { from: string }) => c.from === 'function_call');
    const parsed = JSON.parse(fc.value);
    fc.value = JSON.stringify({ name: parsed.name, arguments: JSON.stringify(parsed.arguments) });
    const v = validateShareGpt(copy, optionsFromDatasetInfo(info.glaive_toolcall_en_demo));
    expect(v.rows[0].kept).toBe(false);
    expect(v.fatal).toEqual([expect.stringMatching(new RegExp(`^row ${withCall}: .*arguments must be a JSON object`))]);
  });

  it('reads entry columns and tags from dataset_info.json, ignoring unknown keys', () => {
    expect(optionsFromDatasetInfo(info.glaive_toolcall_en_demo)).toEqual({ columns: { messages: 'conversations', tools: 'tools' }, tags: {} });
    expect(optionsFromDatasetInfo(info.mllm_demo).tags).toEqual({ role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant' });
  });
});
