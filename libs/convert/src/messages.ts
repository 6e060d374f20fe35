import { joinTextParts, stringifyToolArguments, type ImAssistantMessage, type ImMessage, type ImToolCall } from '@trajgen/im';
import { toolResultText } from './fingerprint';
import type { WireMessage } from './raw/call';

/**
 * Wire messages (Anthropic blocks or OpenAI chat, mixed freely) → IM
 * messages, by the rules of the prior art's Claude Code / OpenCode converter
 * (LegoFlow-Trace-Crafter's convert_cc_to_im):
 *  - system text blocks joined into one system message;
 *  - assistant: thinking → `reasoning_content`, non-empty text blocks joined →
 *    `content`, each `tool_use` → a `tool_calls` entry with the same id and
 *    the arguments as a JSON string in the tool schema's key order (a string
 *    `input` is parsed first);
 *  - user: each `tool_result` → a `role:"tool"` message; all of them come
 *    before the same turn's text, so assistant(tool_calls) → tool… stays
 *    contiguous; the text blocks of the turn become one user message after them;
 *  - `cache_control`, `signature` are never copied.
 */

type Json = Record<string, any>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ConvertContext {
  /** Schema key order per tool name, for tool-call arguments. */
  orders: Map<string, string[]>;
  /** Reasoning restored from the matching response, by wire-message index. */
  restoredReasoning?: Map<number, string>;
  /**
   * Reasoning of the responses of this stream, by their tool-call ids
   * (`callIdsKey`): Claude Code resends earlier turns without thinking and
   * with some inputs normalised (Edit gains `replace_all: false`), so a
   * resent turn is matched to the response that produced it by its ids.
   */
  reasoningByCallIds?: Map<string, string>;
  /** What was removed from the conversation's text, counted for the stats. */
  removed?: HarnessCounts;
}

export interface HarnessCounts {
  /** `x-anthropic-billing-header: …` lines stripped from system prompts. */
  billing_headers_removed: number;
  /** `<system-reminder>` blocks sent in the same user turn as tool results (never glued onto an observation). */
  system_reminders_dropped: number;
}

export function emptyHarnessCounts(): HarnessCounts {
  return { billing_headers_removed: 0, system_reminders_dropped: 0 };
}

/** The key of a response or resent turn by its tool-call ids, in order. */
export function callIdsKey(ids: readonly string[]): string {
  return ids.join('\u0000');
}

/**
 * Claude Code 2.1 starts its system prompt with
 * `x-anthropic-billing-header: cc_version=…; cc_entrypoint=…; [cc_is_subagent=true;]`
 * — a per-build hash for Anthropic's billing, not an instruction: a random
 * token the model would learn. The line is removed; `cc_is_subagent=true`
 * is the CLI's own statement that this request is a sub-agent's.
 */
const BILLING_HEADER = /^\s*x-anthropic-billing-header:[^\n]*(\n|$)/;

export function stripBillingHeader(text: string): { text: string; removed: boolean; subagent: boolean } {
  const m = BILLING_HEADER.exec(text);
  if (!m) return { text, removed: false, subagent: false };
  return { text: text.slice(m[0].length).replace(/^\s+/, ''), removed: true, subagent: /cc_is_subagent=true/.test(m[0]) };
}

const REMINDER_BLOCK = /<system-reminder>[\s\S]*?<\/system-reminder>/g;

function textOfParts(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const b of content) {
    if (typeof b === 'string') parts.push(b);
    else if (isObject(b) && typeof b.text === 'string' && (b.type === undefined || b.type === 'text' || b.type === 'input_text' || b.type === 'output_text')) parts.push(b.text);
  }
  return joinTextParts(parts);
}

function toolCall(id: unknown, name: unknown, args: unknown, ctx: ConvertContext): ImToolCall {
  const n = typeof name === 'string' ? name : '';
  return { id: typeof id === 'string' ? id : '', type: 'function', function: { name: n, arguments: stringifyToolArguments(args, ctx.orders.get(n)) } };
}

function reasoningOf(m: WireMessage): string {
  if (typeof m.reasoning_content === 'string' && m.reasoning_content.trim()) return m.reasoning_content;
  if (Array.isArray(m.thinking_blocks)) {
    return joinTextParts(m.thinking_blocks.map((b) => (isObject(b) && typeof b.thinking === 'string' ? b.thinking : '')));
  }
  return '';
}

/** The reasoning an assistant wire message carries (thinking blocks, `reasoning_content`, `thinking_blocks`). */
export function reasoningOfWire(m: WireMessage): string {
  if (Array.isArray(m.content)) {
    const thoughts = joinTextParts(m.content.map((b) => (isObject(b) && b.type === 'thinking' && typeof b.thinking === 'string' ? b.thinking : '')));
    if (thoughts) return thoughts;
  }
  return reasoningOf(m);
}

/** An assistant wire message → IM assistant message, or undefined when it carries nothing. */
export function assistantToIm(m: WireMessage, ctx: ConvertContext, restored?: string): ImAssistantMessage | undefined {
  const texts: string[] = [];
  const thoughts: string[] = [];
  const calls: ImToolCall[] = [];
  let content = '';
  if (typeof m.content === 'string') content = m.content;
  else if (Array.isArray(m.content)) {
    for (const b of m.content) {
      if (typeof b === 'string') texts.push(b);
      else if (!isObject(b)) continue;
      else if (b.type === 'thinking') thoughts.push(b.thinking);
      else if (b.type === 'text' || b.type === 'output_text') texts.push(b.text);
      else if (b.type === 'tool_use' || b.type === 'server_tool_use') calls.push(toolCall(b.id, b.name, b.input, ctx));
    }
    content = joinTextParts(texts);
  }
  if (Array.isArray(m.tool_calls)) {
    for (const t of m.tool_calls) if (isObject(t)) calls.push(toolCall(t.id, t.function?.name, t.function?.arguments, ctx));
  }
  let reasoning = joinTextParts(thoughts) || reasoningOf(m);
  if (!reasoning && restored) reasoning = restored;
  if (!reasoning && calls.length && ctx.reasoningByCallIds) reasoning = ctx.reasoningByCallIds.get(callIdsKey(calls.map((c) => c.id))) ?? '';
  if (content.trim() === '(empty)') content = '';
  if (!content && !reasoning && !calls.length) return undefined;
  const out: ImAssistantMessage = { role: 'assistant', content, reasoning_content: reasoning };
  if (calls.length) out.tool_calls = calls;
  return out;
}

/**
 * A user wire message → tool messages (its tool results, in order) then one
 * user message (its text). Text sent in the same turn as tool results:
 *  - `<system-reminder>` blocks (Claude Code's harness nudges: "the task tools
 *    haven't been used recently", file-change notices) are dropped and
 *    counted (`system_reminders_dropped`): they are not what the tool
 *    returned, and `tool → user` breaks the IM role order (tool →
 *    tool|assistant), which LegoFlow-Trace-Crafter answers by dropping the
 *    whole trajectory;
 *  - any other text (a person typing while tools ran) is appended to the
 *    last tool result, the one place the model saw it before answering.
 */
function userToIm(m: WireMessage, removed?: HarnessCounts): ImMessage[] {
  if (typeof m.content === 'string') return m.content.trim() ? [{ role: 'user', content: m.content }] : [];
  if (!Array.isArray(m.content)) return [];
  const tools: ImMessage[] = [];
  const texts: string[] = [];
  for (const b of m.content) {
    if (typeof b === 'string') texts.push(b);
    else if (!isObject(b)) continue;
    else if (b.type === 'tool_result') tools.push({ role: 'tool', content: toolResultContent(b.content), tool_call_id: typeof b.tool_use_id === 'string' ? b.tool_use_id : '' });
    else if (typeof b.text === 'string') texts.push(b.text);
    else if (typeof b.content === 'string') texts.push(b.content);
  }
  let text = joinTextParts(texts);
  if (!text) return tools;
  if (!tools.length) return [{ role: 'user', content: text }];
  text = text.replace(REMINDER_BLOCK, () => {
    if (removed) removed.system_reminders_dropped++;
    return '';
  }).trim();
  if (!text) return tools;
  const last = tools[tools.length - 1];
  last.content = joinTextParts([last.content, text]);
  return tools;
}

/**
 * Tool result content: a string as it is unless it is a JSON-encoded list of
 * blocks (some loggers store it that way), blocks as their text joined.
 */
function toolResultContent(content: unknown): string {
  if (typeof content === 'string') {
    const t = content.trimStart();
    if (t.startsWith('[{')) {
      try {
        const parsed = JSON.parse(content);
        if (Array.isArray(parsed)) return toolResultText(parsed);
      } catch {
        // Not JSON: plain text that happens to start with "[{".
      }
    }
    return content;
  }
  return toolResultText(content);
}

/** How a system message in the middle of a conversation is carried in a user turn. */
export function systemReminder(text: string): string {
  return `<system-reminder>\n${text}\n</system-reminder>`;
}

/**
 * Wire messages (system first if any) → IM messages. A system message in the
 * middle of the conversation (Claude Code 2.1 sends one after the first user
 * turn) is context for the following turns: it becomes a `<system-reminder>`
 * in the user turn it follows (or the next one), never a system message out of
 * place, which would break the IM role order.
 */
export function wireToIm(messages: readonly WireMessage[], ctx: ConvertContext): ImMessage[] {
  const out: ImMessage[] = [];
  let pendingReminders: string[] = [];
  const leading = () => out.every((m) => m.role === 'system');
  messages.forEach((m, i) => {
    switch (m.role) {
      case 'system':
      case 'developer': {
        const stripped = stripBillingHeader(textOfParts(m.content));
        if (stripped.removed && ctx.removed) ctx.removed.billing_headers_removed++;
        const text = stripped.text;
        if (!text) break;
        const prev = out[out.length - 1];
        if (leading()) {
          // Several leading system messages (or system blocks) make one system prompt.
          if (prev && prev.role === 'system') prev.content = joinTextParts([prev.content, text]);
          else out.push({ role: 'system', content: text });
        } else if (prev && prev.role === 'user') prev.content = joinTextParts([prev.content, systemReminder(text)]);
        else pendingReminders.push(systemReminder(text));
        break;
      }
      case 'user': {
        const converted = userToIm(m, ctx.removed);
        if (pendingReminders.length) {
          const target = converted.find((x) => x.role === 'user');
          if (target) target.content = joinTextParts([...pendingReminders, target.content]);
          // A turn of tool results only: the reminder is never glued onto an observation.
          else if (ctx.removed) ctx.removed.system_reminders_dropped += pendingReminders.length;
          if (target || converted.length) pendingReminders = [];
        }
        out.push(...converted);
        break;
      }
      case 'assistant': {
        const a = assistantToIm(m, ctx, ctx.restoredReasoning?.get(i));
        if (a) out.push(a);
        break;
      }
      case 'tool':
      case 'function':
        out.push({ role: 'tool', content: toolResultContent(m.content), tool_call_id: typeof m.tool_call_id === 'string' ? m.tool_call_id : '' });
        break;
      default:
        break;
    }
  });
  if (pendingReminders.length) {
    // Nothing followed: keep the context with the system prompt rather than lose it.
    const sys = out[0]?.role === 'system' ? out[0] : undefined;
    if (sys) sys.content = joinTextParts([sys.content, ...pendingReminders]);
    else out.unshift({ role: 'system', content: joinTextParts(pendingReminders) });
  }
  return out;
}

const TOOL_ERROR_PREFIXES = ['<tool_use_error>', 'The arguments provided to the tool are invalid'];

/**
 * Remove each tool result that is a tool-use error together with the
 * assistant turn that caused it and that turn's other results (as the prior
 * art does). Returns the number of turns removed.
 */
export function removeToolUseErrorTurns(messages: ImMessage[]): { messages: ImMessage[]; removed: number } {
  const out: ImMessage[] = [];
  let skipping = false;
  let removed = 0;
  for (const m of messages) {
    if (skipping) {
      if (m.role === 'tool') continue;
      skipping = false;
    }
    if (m.role === 'tool' && TOOL_ERROR_PREFIXES.some((p) => m.content.startsWith(p))) {
      while (out.length && out[out.length - 1].role === 'tool') out.pop();
      if (out.length && out[out.length - 1].role === 'assistant') out.pop();
      removed++;
      skipping = true;
      continue;
    }
    out.push(m);
  }
  return { messages: out, removed };
}

/** Drop trailing tool messages: a row ends with the assistant's last turn. */
export function trimTrailingTools(messages: ImMessage[]): ImMessage[] {
  let end = messages.length;
  while (end > 0 && messages[end - 1].role === 'tool') end--;
  return end === messages.length ? messages : messages.slice(0, end);
}
