import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { convertRawFile } from './inspect';
import { reconstructFromLog } from './reconstruct';
import { reassembleResponse, parseSseText } from '@trajgen/wire';
import { readCall } from './raw/call';
import { wireToIm, removeToolUseErrorTurns, trimTrailingTools, emptyHarnessCounts } from './messages';
import { classifyStreams } from './proxy-conversations';
import { buildImRow, validateImRow } from '@trajgen/im';
import { SYNTHETIC, shuffled } from './__fixtures__/workspace';
import { claudeCodeRecords, openCodeRecords, toLiteLlmShape, T0 } from './__fixtures__/synthetic/build';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

const CC = join(SYNTHETIC, 'claude-code.synthetic.litellm-trajectory.jsonl');
const OC = join(SYNTHETIC, 'opencode.synthetic.litellm-trajectory.jsonl');
const tmp = () => tempDir(join(tmpdir(), 'tg-rec-'));

function rowsOf(path: string) {
  const v = convertRawFile(path, { instanceId: 'x' });
  if (v.kind !== 'converted') throw new Error(`${path}: ${v.reason} ${v.message}`);
  return v.rows;
}

describe('reconstruction from proxy logs', () => {
  it('property: shuffling the lines of a log never changes the result', () => {
    for (const file of [CC, OC]) {
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      const expected = rowsOf(file);
      for (let seed = 1; seed <= 12; seed++) {
        const p = join(tmp(), basename(file));
        writeFileSync(p, shuffled(lines, seed).join('\n') + '\n');
        expect(rowsOf(p), `${file} seed ${seed}`).toEqual(expected);
      }
    }
  });

  it('property: without request times (all equal) the order of the lines still does not matter', () => {
    const lines = readFileSync(CC, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => {
        const { request_time: _t, timestamp: _ts, ...rest } = JSON.parse(l);
        return JSON.stringify(rest);
      });
    const results = [1, 2, 3, 4, 5, 6].map((seed) => {
      const p = join(tmp(), basename(CC));
      writeFileSync(p, shuffled(lines, seed).join('\n') + '\n');
      return rowsOf(p);
    });
    for (const r of results) expect(r).toEqual(results[0]);
    expect(results[0].map((r) => r.meta_info.unique_info._agent_type).sort()).toEqual(['main', 'main', 'subagent']);
  });

  it('keeps each stream (main, sub-agent, post-compaction) and drops and counts the rest', () => {
    const rec = reconstructFromLog(CC, { sideCall: (r) => r.nInput <= 2 || r.auxiliary === 'compaction' });
    expect(rec.counts).toEqual({ lines: 14, bad_lines: 0, failed_calls: 1, no_response: 0, prefix_records: 7, side_calls: 3 });
    expect(rec.survivors.map((s) => s.facts.requestTime - T0)).toEqual([3200, 6000, 9000]);
    expect(classifyStreams(rec.survivors.map((s) => s.facts.tools))).toEqual(['subagent', 'main', 'main']);
  });

  it('restores reasoning the client dropped from older turns, from the matching response', () => {
    const main = rowsOf(CC).find((r) => r.meta_info.unique_info._conversation === 1)!;
    const assistants = main.messages.filter((m) => m.role === 'assistant');
    expect(assistants.map((a) => (a as { reasoning_content: string }).reasoning_content)).toEqual([
      'I should look at the file before changing it.',
      'A typo. Let an explorer find the tests meanwhile.',
      '',
      '',
    ]);
  });

  it('restores reasoning by tool-call ids when the client resends a call normalised (Edit + replace_all: false), and strips the billing header', () => {
    const tools = [{ name: 'Edit', input_schema: { type: 'object', properties: { file_path: {}, old_string: {}, new_string: {}, replace_all: {} } } }];
    const system = (hash: string) => [{ type: 'text', text: `x-anthropic-billing-header: cc_version=2.1.197.${hash}; cc_entrypoint=sdk-cli;` }, { type: 'text', text: 'You are an agent.' }];
    const edit = { file_path: 'f', old_string: 'a', new_string: 'b' };
    const first = { success: true, request_time: 1, request_body: { system: system('aaa'), tools, messages: [{ role: 'user', content: 'fix f' }] }, response_body: { content: [{ type: 'thinking', thinking: 'Replace a by b.', signature: 's' }, { type: 'tool_use', id: 'toolu_E', name: 'Edit', input: edit }] } };
    const resent = [{ type: 'tool_use', id: 'toolu_E', name: 'Edit', input: { ...edit, replace_all: false } }];
    const second = { success: true, request_time: 2, request_body: { system: system('bbb'), tools, messages: [...first.request_body.messages, { role: 'assistant', content: resent }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_E', content: 'ok' }] }] }, response_body: { content: [{ type: 'thinking', thinking: 'Done.', signature: 's' }, { type: 'text', text: 'Fixed.' }] } };
    const p = join(tmp(), 'normalised.jsonl');
    writeFileSync(p, [first, second].map((l) => JSON.stringify(l)).join('\n') + '\n');
    const v = convertRawFile(p);
    if (v.kind !== 'converted') throw new Error(v.message);
    expect(v.rows).toHaveLength(1);
    const [sys, , call] = v.rows[0].messages;
    expect(sys.content).toBe('You are an agent.');
    expect(call).toMatchObject({ role: 'assistant', reasoning_content: 'Replace a by b.', tool_calls: [{ id: 'toolu_E' }] });
    expect(v.counts.billing_headers_removed).toBe(1);
  });

  it('reads the LiteLLM-logger (OpenAI-shaped) variant of the same calls into the same messages', () => {
    const p = join(tmp(), basename(CC));
    writeFileSync(p, claudeCodeRecords().map((l) => JSON.stringify(toLiteLlmShape(l))).join('\n') + '\n');
    const native = rowsOf(CC).map((r) => r.messages);
    expect(rowsOf(p).map((r) => r.messages)).toEqual(native);
  });

  it('removes exact duplicate rows (streams that differ only in what IM does not keep) and counts them', () => {
    const line = (t: number, isError: boolean) =>
      JSON.stringify({
        success: true,
        request_time: t,
        request_body: {
          system: 'sys',
          tools: [{ name: 'Bash', input_schema: { type: 'object', properties: { command: {} } } }],
          messages: [
            { role: 'user', content: 'go' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } }] },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'a.txt', is_error: isError }] },
          ],
        },
        response_body: { content: [{ type: 'text', text: 'done' }] },
      });
    const p = join(tmp(), 'dup.jsonl');
    writeFileSync(p, [line(1, false), line(2, true)].join('\n'));
    const v = convertRawFile(p);
    expect(v).toMatchObject({ kind: 'converted', counts: { conversations: 2, duplicate_rows: 1 } });
    expect(v.kind === 'converted' && v.rows).toHaveLength(1);
  });

  it('a damaged log is never converted as if complete: damaged_trajectory naming the file and the line', () => {
    const good = openCodeRecords().map((l) => JSON.stringify(l));
    const cases: [string, string[], RegExp][] = [
      ['torn last line', [...good, '{"success": true, "request_bo'], /log\.jsonl line \d+ \(the last\): not JSON .*cut off mid-write/],
      ['non-JSON line in the middle', [good[0], 'not json', ...good.slice(1)], /log\.jsonl line 2: not JSON/],
      ['a line that is not a model call', [...good.slice(0, 2), '{"no_request": 1}', ...good.slice(2)], /log\.jsonl line 3: not a model call \(no request_body\)/],
      ['a successful call without a response', [...good, JSON.stringify({ ...openCodeRecords()[0], response_body: {} })], /line \d+: a successful call without a response message/],
    ];
    for (const [what, lines, message] of cases) {
      const p = join(tmp(), 'log.jsonl');
      writeFileSync(p, lines.join('\n') + '\n');
      expect(() => reconstructFromLog(p, { source: 'log.jsonl' }), what).toThrow(message);
      const v = convertRawFile(p);
      expect(v, what).toMatchObject({ kind: 'rejected', reason: 'damaged_trajectory' });
    }
  });
});

describe('terminus-2 from a proxy log (the raw model text)', () => {
  const prompt = 'You are an AI assistant tasked with solving command-line tasks…\n\nTask Description:\nCreate hello.txt\n\nCurrent terminal state:\n$ ';
  const answer1 = '{"analysis": "Empty dir.", "plan": "Write the file.", "commands": [{"keystrokes": "echo hi > hello.txt\\n", "duration": 0.1}]}';
  const answer2 = '{"analysis": "Written.", "plan": "Done.", "commands": [], "task_complete": true}';
  const line = (t: number, messages: unknown[], content: string) =>
    JSON.stringify({ success: true, request_time: t, request_body: { model: 'openai/gpt-4o', messages }, response_body: { choices: [{ message: { role: 'assistant', content } }] } });

  it('keeps the assistant text exactly and checks every turn parses as JSON', () => {
    const p = join(tmp(), 'litellm-trajectory.jsonl');
    const history = [{ role: 'user', content: prompt }, { role: 'assistant', content: answer1 }, { role: 'user', content: 'New Terminal Output:\n\n$ echo hi > hello.txt\n$ ' }];
    writeFileSync(p, [line(1, history.slice(0, 1), answer1), line(2, history, answer2)].join('\n'));
    const v = convertRawFile(p);
    if (v.kind !== 'converted') throw new Error(v.message);
    expect(v.scaffold).toBe('terminus-2');
    expect(v.rows[0].tools).toEqual([]);
    expect(v.rows[0].messages.map((m) => [m.role, m.content])).toEqual([
      ['system', ''],
      ['user', prompt],
      ['assistant', answer1],
      ['user', history[2].content],
      ['assistant', answer2],
    ]);
    // Extra text around the JSON (tolerated by Terminus-2 itself) fails LegoFlow-Trace-Crafter's JSON check.
    writeFileSync(p, [line(1, history.slice(0, 1), answer1), line(2, history, `Sure!\n${answer2}`)].join('\n'));
    expect(convertRawFile(p)).toMatchObject({ kind: 'rejected', reason: 'terminus_json' });
  });
});

describe('streamed responses', () => {
  it('reassembles Anthropic SSE text (event/data lines), tool input from partial JSON', () => {
    const sse = [
      'event: message_start\ndata: {"type":"message_start","message":{"id":"m","role":"assistant","content":[],"usage":{"input_tokens":5}}}',
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}',
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}',
      'event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_9","name":"Bash","input":{}}}',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"comm"}}',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"and\\": \\"ls\\"}"}}',
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}',
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":7}}',
      'event: message_stop\ndata: {"type":"message_stop"}',
    ].join('\n\n');
    expect(parseSseText(sse)).toHaveLength(10);
    expect(reassembleResponse(sse)).toMatchObject({
      stop_reason: 'tool_use',
      usage: { input_tokens: 5, output_tokens: 7 },
      content: [{ type: 'thinking', thinking: 'hm' }, { type: 'tool_use', id: 'toolu_9', name: 'Bash', input: { command: 'ls' } }],
    });
  });

  it('reassembles OpenAI chunks (content, reasoning, tool-call argument pieces) and Responses API events', () => {
    const chunks = [
      { choices: [{ delta: { role: 'assistant', reasoning_content: 'think ' } }] },
      { choices: [{ delta: { reasoning_content: 'more', content: 'Hi' } }] },
      { choices: [{ delta: { tool_calls: [{ index: 0, id: 'call_1', function: { name: 'bash', arguments: '{"com' } }] } }] },
      { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: 'mand":"ls"}' } }] }, finish_reason: 'tool_calls' }], usage: { prompt_tokens: 3 } },
    ];
    expect(reassembleResponse(chunks)).toMatchObject({
      choices: [{ finish_reason: 'tool_calls', message: { content: 'Hi', reasoning_content: 'think more', tool_calls: [{ id: 'call_1', function: { name: 'bash', arguments: '{"command":"ls"}' } }] } }],
      usage: { prompt_tokens: 3 },
    });
    const call = readCall({
      request_body: { input: [{ role: 'user', content: [{ type: 'input_text', text: 'go' }] }], instructions: 'sys', model: 'gpt' },
      response_body: [{ type: 'response.created' }, { type: 'response.completed', response: { output: [{ type: 'function_call', call_id: 'c1', name: 'bash', arguments: '{}' }] } }],
    });
    expect(call).toMatchObject({ protocol: 'responses', nInput: 1, response: { role: 'assistant', tool_calls: [{ id: 'c1', function: { name: 'bash' } }] } });
  });
});

describe('message conversion rules', () => {
  const ctx = { orders: new Map([['Edit', ['file_path', 'old_string', 'new_string']]]) };

  it('drops and counts a system reminder sent with tool results: never glued onto the observation; other text is', () => {
    const removed = emptyHarnessCounts();
    const msgs = wireToIm(
      [
        { role: 'user', content: 'task' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Edit', input: '{"new_string":"b","file_path":"f","old_string":"a"}' }] },
        { role: 'user', content: [{ type: 'text', text: '<system-reminder>r</system-reminder>', cache_control: {} }, { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'ok' }] }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't2', name: 'Bash', input: { command: 'ls' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't2', content: 'a' }, { type: 'text', text: 'also check b' }] },
      ],
      { ...ctx, removed },
    );
    expect(msgs).toEqual([
      { role: 'user', content: 'task' },
      { role: 'assistant', content: '', reasoning_content: '', tool_calls: [{ id: 't1', type: 'function', function: { name: 'Edit', arguments: '{"file_path":"f","old_string":"a","new_string":"b"}' } }] },
      { role: 'tool', content: 'ok', tool_call_id: 't1' },
      { role: 'assistant', content: '', reasoning_content: '', tool_calls: [{ id: 't2', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }] },
      { role: 'tool', content: 'a\n\nalso check b', tool_call_id: 't2' },
    ]);
    expect(removed.system_reminders_dropped).toBe(1);
  });

  it('carries a system message from the middle of the conversation as a reminder in a user turn', () => {
    const msgs = wireToIm(
      [
        { role: 'system', content: 'You are an agent.' },
        { role: 'user', content: [{ type: 'text', text: 'task' }] },
        { role: 'system', content: 'Available agent types: general' },
        { role: 'assistant', content: [{ type: 'text', text: 'done' }] },
      ],
      ctx,
    );
    expect(msgs).toEqual([
      { role: 'system', content: 'You are an agent.' },
      { role: 'user', content: 'task\n\n<system-reminder>\nAvailable agent types: general\n</system-reminder>' },
      { role: 'assistant', content: 'done', reasoning_content: '' },
    ]);
    expect(validateImRow(buildImRow({ messages: msgs, tools: [], unique_info: { _instance_id: 'i' }, date: '2026-01-01' } as never), { reasoningCheck: 'fast', reasoningRatio: 0.2 })).toEqual([]);
  });

  it('trims trailing tool messages: a row ends with the assistant', () => {
    const call = { id: 'a', type: 'function' as const, function: { name: 'x', arguments: '{}' } };
    expect(
      trimTrailingTools([
        { role: 'user', content: 'u' },
        { role: 'assistant', content: '', reasoning_content: '', tool_calls: [call] },
        { role: 'tool', content: 'r', tool_call_id: 'a' },
      ]).map((m) => m.role),
    ).toEqual(['user', 'assistant']);
  });

  it('removes a tool-use error together with the turn that caused it', () => {
    const { messages, removed } = removeToolUseErrorTurns([
      { role: 'user', content: 'u' },
      { role: 'assistant', content: '', reasoning_content: '', tool_calls: [{ id: 'a', type: 'function', function: { name: 'x', arguments: '{}' } }, { id: 'b', type: 'function', function: { name: 'x', arguments: '{}' } }] },
      { role: 'tool', content: 'fine', tool_call_id: 'a' },
      { role: 'tool', content: 'The arguments provided to the tool are invalid: …', tool_call_id: 'b' },
      { role: 'assistant', content: 'done', reasoning_content: '' },
    ]);
    expect(removed).toBe(1);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
  });
});
