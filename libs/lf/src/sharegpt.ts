import type { ImAssistantMessage, ImMessage, ImRow, ImTool, ImToolCall } from '@trajgen/im';

/**
 * IM v2 → native LLaMA-Factory ShareGPT with tools (roles human/gpt/function_call/
 * observation and a `tools` column, as LLaMA-Factory's ShareGPT converter accepts them).
 *
 * - Leading system/developer messages → the `system` column (joined by a blank line).
 * - user → `human`; assistant without calls → `gpt`; assistant with calls →
 *   ONE `function_call` (a JSON object, or a JSON list for parallel calls);
 *   consecutive tool results → ONE `observation` joined with
 *   `\n</tool_response>\n<tool_response>\n`.
 * - Assistant text before a call goes inside the function_call value:
 *   `text\n<tool_call>{json}</tool_call>` (the only legal way to train
 *   "say something, then call"; a separate gpt turn breaks alternation).
 * - `reasoning_content` is carried as a leading `<think>\n…\n</think>\n\n`
 *   (LLaMA-Factory's default thought words, which its FunctionFormatter strips
 *   before parsing the call) or dropped (`reasoning: 'drop'`).
 * - Tool-call arguments (JSON strings in IM) → objects; tool schemas →
 *   a JSON string of `[{name, description, parameters}]`, `parameters.properties`
 *   always present; `""` when there are no tools (never `"[]"`).
 * - Repairs: trailing tool results are trimmed (the last call becomes the
 *   target), trailing user turns are trimmed, consecutive user messages are
 *   joined. Everything else that cannot be represented is a problem: the row is
 *   not written.
 *
 * Extra columns `_instance_id`, `_agent_type`, `_score` ride along (LLaMA-Factory
 * ignores undeclared columns); every column has one type in every row.
 */

export interface ShareGptTurn {
  from: 'human' | 'gpt' | 'function_call' | 'observation';
  value: string;
}

export interface ShareGptRow {
  conversations: ShareGptTurn[];
  system: string;
  tools: string;
  _instance_id: string;
  _agent_type: string;
  _score: number | null;
}

export type ReasoningMode = 'think' | 'drop';

export interface ToShareGptOptions {
  /** How `reasoning_content` is carried (default `think`). */
  reasoning?: ReasoningMode;
  /** `_score` column value (default: `meta_info.unique_info._score.composite`, else null). */
  score?: number | null;
}

export type ToShareGptResult = { ok: true; row: ShareGptRow; repairs: string[] } | { ok: false; problem: string };

export const OBSERVATION_SEPARATOR = '\n</tool_response>\n<tool_response>\n';
export const THINK_OPEN = '<think>\n';
export const THINK_CLOSE = '\n</think>\n\n';

/** Tool schemas as LLaMA-Factory's `tools` column: a JSON string, or "" when there are none. */
export function toolsColumn(tools: readonly ImTool[] | undefined): string {
  if (!tools?.length) return '';
  return JSON.stringify(
    tools.map((t) => {
      const fn = (t as { function?: ImTool['function'] }).function ?? (t as unknown as ImTool['function']);
      const parameters: Record<string, unknown> =
        fn.parameters && typeof fn.parameters === 'object' && !Array.isArray(fn.parameters) ? { ...fn.parameters } : {};
      if (parameters.type === undefined) parameters.type = 'object';
      if (!parameters.properties || typeof parameters.properties !== 'object' || Array.isArray(parameters.properties)) parameters.properties = {};
      return { name: fn.name, description: fn.description ?? '', parameters };
    }),
  );
}

function parseArguments(call: ImToolCall): Record<string, unknown> | string {
  const raw = call.function?.arguments as unknown;
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) return raw as Record<string, unknown>;
  if (typeof raw !== 'string') return `tool call "${call.function?.name}" has no arguments string`;
  if (raw.trim() === '') return {};
  try {
    const parsed = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
    return `tool call "${call.function.name}" arguments are not a JSON object`;
  } catch {
    return `tool call "${call.function.name}" arguments are not valid JSON`;
  }
}

function thinkPrefix(m: ImAssistantMessage, mode: ReasoningMode): string {
  const r = m.reasoning_content;
  return mode === 'think' && typeof r === 'string' && r.trim() !== '' ? `${THINK_OPEN}${r}${THINK_CLOSE}` : '';
}

/** The function_call value of an assistant turn with calls (see the module comment). */
export function functionCallValue(m: ImAssistantMessage, mode: ReasoningMode = 'think'): string | { problem: string } {
  const calls: { name: string; arguments: Record<string, unknown> }[] = [];
  for (const call of m.tool_calls ?? []) {
    const args = parseArguments(call);
    if (typeof args === 'string') return { problem: args };
    calls.push({ name: call.function.name, arguments: args });
  }
  const json = JSON.stringify(calls.length === 1 ? calls[0] : calls);
  const text = typeof m.content === 'string' ? m.content : '';
  const body = text.trim() === '' ? json : `${text}${text.endsWith('\n') ? '' : '\n'}<tool_call>${json}</tool_call>`;
  return thinkPrefix(m, mode) + body;
}

function scoreOf(row: ImRow): number | null {
  const s = row.meta_info?.unique_info?._score as { composite?: unknown } | null | undefined;
  return s && typeof s.composite === 'number' ? s.composite : null;
}

/** Convert one IM row; never throws on bad content (returns the problem instead). */
export function imToShareGpt(row: ImRow, options: ToShareGptOptions = {}): ToShareGptResult {
  const mode = options.reasoning ?? 'think';
  const messages: ImMessage[] = Array.isArray(row.messages) ? row.messages : [];
  const repairs: string[] = [];
  const systemParts: string[] = [];
  let i = 0;
  while (i < messages.length && (messages[i].role === 'system' || messages[i].role === 'developer')) {
    const c = messages[i].content;
    if (typeof c === 'string' && c !== '') systemParts.push(c);
    i++;
  }
  const turns: ShareGptTurn[] = [];
  for (; i < messages.length; i++) {
    const m = messages[i];
    const last = turns[turns.length - 1];
    const content = typeof m.content === 'string' ? m.content : '';
    switch (m.role) {
      case 'system':
      case 'developer':
        return { ok: false, problem: `a ${m.role} message at position ${i}: LLaMA-Factory allows one only at the start` };
      case 'user':
        if (last?.from === 'human') {
          last.value += `\n\n${content}`;
          if (!repairs.includes('joined consecutive user messages')) repairs.push('joined consecutive user messages');
        } else if (last?.from === 'observation') {
          return { ok: false, problem: `a user message directly after tool results (message ${i}): no legal ShareGPT position` };
        } else turns.push({ from: 'human', value: content });
        break;
      case 'assistant': {
        if (last && (last.from === 'gpt' || last.from === 'function_call')) {
          return { ok: false, problem: `two assistant turns in a row (message ${i})` };
        }
        const a = m as ImAssistantMessage;
        if (a.tool_calls && a.tool_calls.length > 0) {
          const value = functionCallValue(a, mode);
          if (typeof value !== 'string') return { ok: false, problem: `message ${i}: ${value.problem}` };
          turns.push({ from: 'function_call', value });
        } else {
          turns.push({ from: 'gpt', value: thinkPrefix(a, mode) + content });
        }
        break;
      }
      case 'tool':
        if (last?.from === 'observation') last.value += OBSERVATION_SEPARATOR + content;
        else if (last?.from === 'function_call') turns.push({ from: 'observation', value: content });
        else return { ok: false, problem: `a tool result without a preceding tool call (message ${i})` };
        break;
      default:
        return { ok: false, problem: `unknown role ${JSON.stringify((m as { role?: unknown }).role)} at message ${i}` };
    }
  }
  while (turns.length && (turns[turns.length - 1].from === 'observation' || turns[turns.length - 1].from === 'human')) {
    const dropped = turns.pop()!;
    repairs.push(dropped.from === 'observation' ? 'trimmed trailing tool results (the last call is the target)' : 'trimmed a trailing user turn');
  }
  if (turns.length === 0) return { ok: false, problem: 'no assistant turn to train on' };
  if (turns[0].from !== 'human' && turns[0].from !== 'observation') {
    return { ok: false, problem: 'the conversation starts with an assistant turn (no user message)' };
  }
  const ui = row.meta_info?.unique_info;
  return {
    ok: true,
    repairs,
    row: {
      conversations: turns,
      system: systemParts.join('\n\n'),
      tools: toolsColumn(row.tools),
      _instance_id: String(ui?._instance_id ?? ''),
      _agent_type: String(ui?._agent_type ?? 'main'),
      _score: options.score !== undefined ? options.score : scoreOf(row),
    },
  };
}

/** The dataset_info.json entry for a ShareGPT file written by `imToShareGpt`. */
export function shareGptDatasetInfoEntry(fileName: string) {
  return {
    file_name: fileName,
    formatting: 'sharegpt' as const,
    columns: { messages: 'conversations', system: 'system', tools: 'tools' },
  };
}

/** The validator columns matching `shareGptDatasetInfoEntry`. */
export const SHAREGPT_COLUMNS = { messages: 'conversations', system: 'system', tools: 'tools' } as const;
