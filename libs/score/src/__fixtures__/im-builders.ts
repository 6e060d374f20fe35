/**
 * Test helpers (not a converter): build IM v2 rows by hand, and rebuild the
 * real fixtures in test/fixtures/real as IM the way the convert stage's
 * rules describe (the prior art's per-scaffold converter rules), so the score stage can be
 * tested before libs/convert exists. Simplified on purpose: text parts are
 * joined, metadata is minimal.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImAssistantMessage, ImMessage, ImRow, ImTool } from '@trajgen/im';
import { imRow, type RowOptions } from '../../../../test/support/im-rows';

export const REAL_FIXTURES = join(__dirname, '../../../../test/fixtures/real');
export const readReal = (path: string) => JSON.parse(readFileSync(join(REAL_FIXTURES, path), 'utf8'));

export { imRow, type RowOptions } from '../../../../test/support/im-rows';

export const tool = (name: string, properties: Record<string, unknown> = {}): ImTool => ({
  type: 'function',
  function: { name, description: `${name} tool`, parameters: { type: 'object', properties } },
});

/** Claude Code's main tools (names as Claude Code sends them; schemas reduced to their properties). */
export const CC_TOOLS = [
  tool('Bash', { command: { type: 'string' }, description: { type: 'string' }, timeout: { type: 'number' } }),
  tool('Read', { file_path: { type: 'string' }, offset: { type: 'number' }, limit: { type: 'number' } }),
  tool('Edit', { file_path: { type: 'string' }, old_string: { type: 'string' }, new_string: { type: 'string' }, replace_all: { type: 'boolean' } }),
  tool('Write', { file_path: { type: 'string' }, content: { type: 'string' } }),
  tool('Grep', { pattern: { type: 'string' }, path: { type: 'string' } }),
  tool('Task', { description: { type: 'string' }, prompt: { type: 'string' }, subagent_type: { type: 'string' } }),
];

let nextId = 0;
export type Call = [name: string, args: Record<string, unknown>];
export const user = (content: string): ImMessage => ({ role: 'user', content });
export const system = (content: string): ImMessage => ({ role: 'system', content });
export const say = (content: string, reasoning = ''): ImMessage => ({ role: 'assistant', content, reasoning_content: reasoning });

/** An assistant turn with calls, followed by one tool result per call. */
export function step(calls: Call[], results: string[], content = ''): ImMessage[] {
  const ids = calls.map(() => `call_${++nextId}`);
  const a: ImAssistantMessage = {
    role: 'assistant',
    content,
    reasoning_content: '',
    tool_calls: calls.map(([name, args], i) => ({ id: ids[i], type: 'function', function: { name, arguments: JSON.stringify(args) } })),
  };
  return [a, ...results.map((r, i): ImMessage => ({ role: 'tool', tool_call_id: ids[i], content: r }))];
}

const text = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p) => (p?.type === 'text' ? p.text : '')).join('\n') : '';

/** An OpenHands SDK per-call LiteLLM log → IM: request messages + the response (the last call holds the whole history). */
export function fromOpenHandsLog(log: { messages: any[]; tools: any[]; response: any }, o: RowOptions = {}): ImRow {
  const messages: ImMessage[] = [];
  const toMessage = (m: any): ImMessage => {
    if (m.role === 'assistant') {
      return {
        role: 'assistant',
        content: text(m.content),
        reasoning_content: m.reasoning_content ?? '',
        ...(m.tool_calls?.length
          ? { tool_calls: m.tool_calls.map((c: any) => ({ id: c.id, type: 'function' as const, function: { name: c.function.name, arguments: c.function.arguments } })) }
          : {}),
      };
    }
    if (m.role === 'tool') return { role: 'tool', tool_call_id: m.tool_call_id, content: text(m.content) };
    return { role: m.role, content: text(m.content) } as ImMessage;
  };
  for (const m of log.messages) messages.push(toMessage(m));
  messages.push(toMessage(log.response.choices[0].message));
  return imRow(messages, { tools: log.tools.map((t: any) => ({ type: 'function', function: t.function })), ...o });
}

/** A Claude Code ATIF trajectory (Harbor's agent/trajectory.json) → IM (provenance scaffold claude-code). */
export function fromClaudeCodeAtif(traj: { steps: any[] }, o: RowOptions = {}): ImRow {
  const messages: ImMessage[] = [];
  for (const s of traj.steps) {
    if (s.source === 'user') messages.push(user(text(s.message)));
    if (s.source !== 'agent') continue;
    const calls = s.tool_calls ?? [];
    messages.push({
      role: 'assistant',
      content: text(s.message),
      reasoning_content: s.reasoning_content ?? '',
      ...(calls.length
        ? { tool_calls: calls.map((c: any) => ({ id: c.tool_call_id, type: 'function' as const, function: { name: c.function_name, arguments: JSON.stringify(c.arguments) } })) }
        : {}),
    });
    for (const r of s.observation?.results ?? []) messages.push({ role: 'tool', tool_call_id: r.source_call_id, content: text(r.content) });
  }
  return imRow(messages, { scaffold: 'claude-code', tools: CC_TOOLS, ...o });
}

/**
 * A Terminus-2 ATIF trajectory → IM as the prior art's terminus2 converter does: text only, no tools;
 * each reply rebuilt as JSON {analysis, plan, commands, task_complete?}
 * (a reply without calls keeps its raw text in analysis); the observation
 * becomes the next user message; a trailing observation is dropped.
 */
export function fromTerminusAtif(traj: { steps: any[] }, o: RowOptions = {}): ImRow {
  const messages: ImMessage[] = [];
  for (const s of traj.steps) {
    if (s.source === 'user') {
      messages.push(user(text(s.message)));
      continue;
    }
    if (s.source !== 'agent') continue;
    const message = text(s.message);
    const m = /^Analysis:\s*([\s\S]*?)\nPlan:\s*([\s\S]*)$/.exec(message);
    const calls = s.tool_calls ?? [];
    const reply: Record<string, unknown> = {
      analysis: calls.length && m ? m[1] : message,
      plan: calls.length && m ? m[2] : '',
      commands: calls.filter((c: any) => c.function_name === 'bash_command').map((c: any) => ({ keystrokes: c.arguments.keystrokes, duration: c.arguments.duration })),
    };
    if (calls.some((c: any) => c.function_name === 'mark_task_complete')) reply.task_complete = true;
    messages.push({ role: 'assistant', content: JSON.stringify(reply, null, 2), reasoning_content: s.reasoning_content ?? '' });
    const obs = (s.observation?.results ?? []).map((r: any) => text(r.content)).join('\n');
    messages.push(user(obs));
  }
  if (messages[messages.length - 1]?.role === 'user') messages.pop();
  return imRow(messages, { tools: [], ...o });
}
