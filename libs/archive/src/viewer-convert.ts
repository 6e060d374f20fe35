/**
 * Conversations for the trial viewer: IM rows and raw proxy records
 * (`litellm-trajectory.jsonl`, Anthropic Messages or OpenAI chat bodies)
 * turned into one shape (`ViewerConversation`): user turns, assistant turns
 * with their tool calls, each call holding its result. Every string passes
 * through `clip` (redaction + a size cap) before it is kept.
 */
import type { ViewerCall, ViewerConversation, ViewerTurn } from '@trajgen/report';
import { finite, isRecord, str } from './read';

export type Clip = (text: string) => string;

/** Text of a content value: a string, or blocks with `text` (tool results nest blocks too). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === null || content === undefined ? '' : JSON.stringify(content);
  const parts: string[] = [];
  for (const b of content) {
    if (typeof b === 'string') parts.push(b);
    else if (isRecord(b)) {
      if (typeof b.text === 'string') parts.push(b.text);
      else if (b.type === 'image' || b.type === 'image_url') parts.push('[image]');
      else if (b.type === 'tool_result') parts.push(textOf(b.content));
    }
  }
  return parts.join('\n');
}

/** JSON arguments pretty-printed when they parse (a person reads them), as given otherwise. */
function prettyArgs(args: unknown): string {
  if (typeof args === 'string') {
    try {
      return JSON.stringify(JSON.parse(args), null, 1);
    } catch {
      return args;
    }
  }
  return JSON.stringify(args ?? {}, null, 1);
}

// ------------------------------------------------------------------ IM rows

/** One IM row (main, sub-agent or segment) as a conversation. */
export function imConversation(row: Record<string, any>, key: string, title: string, clip: Clip): ViewerConversation {
  const ui: Record<string, any> = row?.meta_info?.unique_info ?? {};
  const turns: ViewerTurn[] = [];
  const calls = new Map<string, ViewerCall>();
  const system: string[] = [];
  for (const m of Array.isArray(row.messages) ? row.messages : []) {
    if (!isRecord(m)) continue;
    if (m.role === 'system' || m.role === 'developer') system.push(textOf(m.content));
    else if (m.role === 'user') turns.push(['u', clip(textOf(m.content))]);
    else if (m.role === 'assistant') {
      const list: ViewerCall[] = [];
      for (const c of Array.isArray(m.tool_calls) ? m.tool_calls : []) {
        const call: ViewerCall = { id: str(c?.id) ?? '', name: str(c?.function?.name) ?? '?', args: clip(prettyArgs(c?.function?.arguments)), result: null };
        calls.set(call.id, call);
        list.push(call);
      }
      turns.push(['a', clip(textOf(m.content)), clip(str(m.reasoning_content) ?? ''), list]);
    } else if (m.role === 'tool') {
      const call = calls.get(str(m.tool_call_id) ?? '');
      if (call) call.result = clip(textOf(m.content));
      else turns.push(['u', clip(`[tool result for unknown call ${m.tool_call_id}]\n${textOf(m.content)}`)]);
    }
  }
  const score = isRecord(ui._score) ? { composite: finite(ui._score.composite), components: isRecord(ui._score.components) ? (ui._score.components as Record<string, number | null>) : {} } : null;
  return {
    key,
    title,
    agent_type: ui._agent_type === 'subagent' ? 'subagent' : 'main',
    source: 'im',
    parent_call: str(ui._parent_tool_call_id),
    score,
    flags: isRecord(ui._flags) ? ui._flags : null,
    lf: isRecord(ui._lf) ? ui._lf : null,
    system: system.length ? clip(system.join('\n\n')) : undefined,
    tools: Array.isArray(row.tools) ? row.tools.map((t: any) => String(t?.function?.name ?? '?')) : undefined,
    turns,
  };
}

/** Link each sub-agent row to the parent's tool call that started it (`_parent_tool_call_id`). */
export function linkSubagents(conversations: ViewerConversation[]): void {
  const byCall = new Map<string, ViewerCall>();
  for (const c of conversations) for (const t of c.turns) if (t[0] === 'a') for (const call of t[3]) if (call.id) byCall.set(call.id, call);
  for (const c of conversations) {
    if (c.agent_type !== 'subagent' || !c.parent_call) continue;
    const parent = byCall.get(c.parent_call);
    if (parent) parent.sub = c.key;
  }
}

// ------------------------------------------------------------------ raw proxy records

interface Chain {
  firstKey: string;
  seen: number;
  calls: number;
  conv: ViewerConversation;
  byId: Map<string, ViewerCall>;
}

/** Assistant content (Anthropic blocks or an OpenAI message) → an 'a' turn, registering its calls. */
function assistantTurn(message: Record<string, unknown>, byId: Map<string, ViewerCall>, clip: Clip): ViewerTurn {
  const text: string[] = [];
  const reasoning: string[] = [];
  const calls: ViewerCall[] = [];
  const add = (id: unknown, name: unknown, args: unknown) => {
    const call: ViewerCall = { id: str(id) ?? '', name: str(name) ?? '?', args: clip(prettyArgs(args)), result: null };
    byId.set(call.id, call);
    calls.push(call);
  };
  if (Array.isArray(message.content)) {
    for (const b of message.content) {
      if (!isRecord(b)) continue;
      if (b.type === 'text') text.push(String(b.text ?? ''));
      else if (b.type === 'thinking' || b.type === 'redacted_thinking') reasoning.push(String(b.thinking ?? '[redacted thinking]'));
      else if (b.type === 'tool_use') add(b.id, b.name, b.input);
    }
  } else if (typeof message.content === 'string') text.push(message.content);
  if (typeof message.reasoning_content === 'string') reasoning.push(message.reasoning_content);
  for (const c of Array.isArray(message.tool_calls) ? message.tool_calls : []) if (isRecord(c) && isRecord(c.function)) add(c.id, c.function.name, c.function.arguments);
  return ['a', clip(text.join('\n')), clip(reasoning.join('\n')), calls];
}

/** A request message that is new in this call: user text, tool results (attached to their calls), or an assistant turn. */
function requestMessage(m: Record<string, unknown>, chain: Chain, clip: Clip): void {
  const turns = chain.conv.turns;
  if (m.role === 'assistant') {
    turns.push(assistantTurn(m, chain.byId, clip));
    return;
  }
  if (m.role === 'tool') {
    const call = chain.byId.get(str(m.tool_call_id) ?? '');
    if (call) call.result = clip(textOf(m.content));
    return;
  }
  if (m.role === 'system') return;
  const text: string[] = [];
  if (Array.isArray(m.content)) {
    for (const b of m.content) {
      if (isRecord(b) && b.type === 'tool_result') {
        const call = chain.byId.get(str(b.tool_use_id) ?? '');
        const result = textOf(b.content);
        if (call) {
          call.result = clip(result);
          if (b.is_error === true) call.error = true;
        } else text.push(`[tool result]\n${result}`);
      } else if (isRecord(b) && typeof b.text === 'string') text.push(b.text);
    }
  } else text.push(textOf(m.content));
  const joined = text.join('\n').trim();
  if (joined) turns.push(['u', clip(joined)]);
}

function systemOf(body: Record<string, unknown>): string {
  if (body.system !== undefined) return textOf(body.system);
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  return msgs.filter((m) => isRecord(m) && m.role === 'system').map((m) => textOf((m as Record<string, unknown>).content)).join('\n\n');
}

function responseMessage(record: Record<string, unknown>): Record<string, unknown> | null {
  const r = record.response_body;
  if (!isRecord(r)) return null;
  if (Array.isArray(r.content)) return r;
  if (Array.isArray(r.choices) && isRecord(r.choices[0]) && isRecord(r.choices[0].message)) return r.choices[0].message;
  return null;
}

/**
 * Raw model calls → conversations. Calls whose first message is the same
 * form one chain (each request repeats the history): only the messages a
 * call adds are shown, then its response. The chain with the most calls is
 * the agent's main conversation; others (titles, summaries, sub-agents in a
 * raw log) are listed as side conversations.
 */
export function rawConversations(lines: Iterable<string>, clip: Clip): { conversations: ViewerConversation[]; calls: number; unreadable: number } {
  const chains: Chain[] = [];
  let calls = 0;
  let unreadable = 0;
  for (const line of lines) {
    if (!line.trim()) continue;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line);
    } catch {
      unreadable++;
      continue;
    }
    if (!isRecord(rec) || !isRecord(rec.request_body)) continue;
    calls++;
    const body = rec.request_body;
    const messages = (Array.isArray(body.messages) ? body.messages : []).filter(isRecord);
    const firstKey = JSON.stringify(messages.find((m) => m.role !== 'system') ?? null).slice(0, 400);
    let chain = chains.find((c) => c.firstKey === firstKey && c.seen <= messages.length);
    if (!chain) {
      const system = systemOf(body);
      chain = {
        firstKey,
        seen: 0,
        calls: 0,
        byId: new Map(),
        conv: { key: `raw${chains.length}`, title: '', agent_type: 'side', source: 'raw', system: system ? clip(system) : undefined, tools: Array.isArray(body.tools) ? body.tools.map((t: any) => String(t?.name ?? t?.function?.name ?? '?')) : undefined, turns: [] },
      };
      chains.push(chain);
    }
    chain.calls++;
    const usage = isRecord(rec.usage) ? rec.usage : {};
    const bits = [`model call ${calls}`, str(body.model), finite(usage.prompt_tokens) !== null ? `${usage.prompt_tokens} tokens in, ${usage.completion_tokens ?? '?'} out` : null, finite(rec.duration_ms) !== null ? `${rec.duration_ms} ms` : null, rec.success === false ? 'FAILED' : null];
    chain.conv.turns.push(['m', bits.filter(Boolean).join(' · ')]);
    for (const m of messages.slice(chain.seen)) requestMessage(m, chain, clip);
    const response = responseMessage(rec);
    if (response) chain.conv.turns.push(assistantTurn(response, chain.byId, clip));
    else chain.conv.turns.push(['m', clip(`no response recorded${isRecord(rec.error) || typeof rec.error === 'string' ? `: ${JSON.stringify(rec.error)}` : ''}`)]);
    // The next request repeats these messages and this response.
    chain.seen = messages.length + (response ? 1 : 0);
  }
  const main = chains.reduce<Chain | undefined>((best, c) => (!best || c.calls > best.calls ? c : best), undefined);
  const conversations = chains.map((c, i) => {
    c.conv.agent_type = c === main ? 'main' : 'side';
    c.conv.title = c === main ? `raw model calls (${c.calls})` : `side conversation ${i} (${c.calls} call${c.calls === 1 ? '' : 's'})`;
    return c.conv;
  });
  if (main) conversations.unshift(...conversations.splice(conversations.indexOf(main.conv), 1));
  return { conversations, calls, unreadable };
}
