import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normaliseTools, type ImMessage } from '@trajgen/im';
import { convertPerCallLogs, convertOpenHandsProxyLog } from './openhands-sdk';
import { textModeToToolCalls, toolsFromSystemPrompt, isTextToolMode } from './openhands-sdk/nonfc';
import { REAL_FIXTURES } from './__fixtures__/workspace';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

const NONFC = join(REAL_FIXTURES, 'openhands-sdk/litellm_proxy__deepseek__deepseek-chat-1757015054.055.json');
const FC1 = join(REAL_FIXTURES, 'openhands-sdk/litellm_proxy__anthropic__claude-sonnet-4-20250514-1757015025.972.json');
const FC2 = join(REAL_FIXTURES, 'openhands-sdk/litellm_proxy__anthropic__claude-sonnet-4-20250514-1757015029.090.json');
const load = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('OpenHands non-function-calling mode (real deepseek log)', () => {
  const log = load(NONFC);
  const text: ImMessage[] = log.messages;

  it('recognises the text form and recovers the native form the SDK logged as raw_messages', () => {
    expect(isTextToolMode(text)).toBe(true);
    expect(isTextToolMode(log.raw_messages)).toBe(false);
    const { messages } = textModeToToolCalls(text, []);
    expect(messages[0]).toEqual({ role: 'system', content: log.raw_messages[0].content });
    expect(messages[1]).toEqual({ role: 'user', content: log.raw_messages[1].content });
  });

  it('recovers the tool definitions from the system prompt, parameters in schema order', () => {
    const recovered = normaliseTools(toolsFromSystemPrompt(text[0].content));
    const real = normaliseTools(log.tools);
    expect(recovered.map((t) => t.function.name)).toEqual(real.map((t) => t.function.name));
    recovered.forEach((t, i) => {
      expect(Object.keys(t.function.parameters.properties as object)).toEqual(Object.keys(real[i].function.parameters.properties as object));
      expect(t.function.parameters.required).toEqual(real[i].function.parameters.required);
    });
    const cmd = (recovered[1].function.parameters.properties as Record<string, { enum?: string[] }>).command;
    expect(cmd.enum).toEqual(['view', 'create', 'str_replace', 'insert', 'undo_edit']);
  });

  it('parses <function=…> blocks (closing tag cut by the stop word) and EXECUTION RESULT observations', () => {
    const messages: ImMessage[] = [
      ...text,
      {
        role: 'assistant',
        content: "I'll check the directory first.\n<function=terminal>\n<parameter=command>pwd && ls -la</parameter>\n<parameter=security_risk>LOW</parameter>\n",
        reasoning_content: '',
      },
      { role: 'user', content: 'EXECUTION RESULT of [terminal]:\n/workspace\ntotal 0' },
      {
        role: 'assistant',
        content: '<function=str_replace_editor>\n<parameter=command>create</parameter>\n<parameter=path>/workspace/hello.py</parameter>\n<parameter=file_text>\nprint("Hello, World!")\n</parameter>\n<parameter=security_risk>LOW</parameter>\n</function>',
        reasoning_content: '',
      },
    ];
    const out = textModeToToolCalls(messages, log.tools);
    expect(out.messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: "I'll check the directory first.",
        reasoning_content: '',
        tool_calls: [{ id: 'toolu_01', type: 'function', function: { name: 'terminal', arguments: '{"command":"pwd && ls -la","security_risk":"LOW"}' } }],
      },
      { role: 'tool', content: '/workspace\ntotal 0', tool_call_id: 'toolu_01' },
      {
        role: 'assistant',
        content: '',
        reasoning_content: '',
        tool_calls: [{ id: 'toolu_02', type: 'function', function: { name: 'str_replace_editor', arguments: '{"command":"create","path":"/workspace/hello.py","file_text":"print(\\"Hello, World!\\")","security_risk":"LOW"}' } }],
      },
    ]);
    // The parsed call matches what the SDK itself parsed from the real reply.
    expect(JSON.parse(out.messages[2].role === 'assistant' ? out.messages[2].tool_calls![0].function.arguments : '')).toEqual(
      JSON.parse(log.response.choices[0].message.tool_calls[0].function.arguments),
    );
  });

  it('a proxy log in text mode converts to native tool calls end to end', () => {
    const dir = tempDir(join(tmpdir(), 'tg-oh-'));
    const p = join(dir, 'litellm-trajectory.jsonl');
    const line = (t: number, messages: unknown[], content: string) =>
      JSON.stringify({ success: true, request_time: t, request_body: { model: 'deepseek-chat', messages, stop: ['</function'] }, response_body: { choices: [{ message: { role: 'assistant', content } }] } });
    const first = text.slice(0, 2);
    const reply1 = "Let me look.\n<function=terminal>\n<parameter=command>ls</parameter>\n<parameter=security_risk>LOW</parameter>\n";
    const second = [...first, { role: 'assistant', content: reply1 }, { role: 'user', content: 'EXECUTION RESULT of [terminal]:\nhello.py' }];
    writeFileSync(p, [line(1, first, reply1), line(2, second, '<function=finish>\n<parameter=message>Done.</parameter>\n'), JSON.stringify({ success: false, request_time: 3, request_body: { messages: second } })].join('\n'));
    const out = convertOpenHandsProxyLog(p, 'agent/litellm-trajectory.jsonl');
    const c = out.conversations[0];
    expect(c.extra).toEqual({ _tool_mode: 'text' });
    expect(c.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant']);
    expect(normaliseTools(c.tools).map((t) => t.function.name)).toEqual(['terminal', 'str_replace_editor', 'finish']);
    expect(out.counts.failed_calls).toBe(1);
  });
});

describe('OpenHands per-call completion logs (the "chaofan" source)', () => {
  it('takes the latest call, in timestamp order whatever the listing order', () => {
    const a = convertPerCallLogs([{ name: 'b-1757015029.090.json', log: load(FC2) }, { name: 'a-1757015025.972.json', log: load(FC1) }], 'x');
    expect(a.conversations[0].messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant']);
    expect(a.conversations[0].usage.calls).toBe(2);
  });

  it('gives each assistant turn back the reasoning its own call returned', () => {
    const one = load(FC1);
    const two = load(FC2);
    one.response.choices[0].message.reasoning_content = 'first thought';
    two.response.choices[0].message.reasoning_content = 'second thought';
    const out = convertPerCallLogs([{ name: '1.json', log: one }, { name: '2.json', log: two }], 'x');
    const reasoning = out.conversations[0].messages.filter((m) => m.role === 'assistant').map((m) => (m as { reasoning_content: string }).reasoning_content);
    expect(reasoning).toEqual(['first thought', 'second thought']);
  });
});
