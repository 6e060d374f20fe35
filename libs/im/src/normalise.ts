import { IM_VERSION, type ImMessage, type ImMetaInfo, type ImRow, type ImTool, type ImToolCall, type ImUniqueInfo } from './types';

/**
 * IM v2 normalisation (the PanGuML v2 intermediate format of LegoFlow-Trace-Crafter):
 * what that pipeline does "on save", so every row this project writes has exactly the
 * documented shape whatever converter produced it.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Text parts joined the way LegoFlow-Trace-Crafter joins them: each part trimmed, empty parts
 * dropped, the rest joined by a blank line.
 */
export function joinTextParts(parts: readonly unknown[]): string {
  const kept: string[] = [];
  for (const p of parts) {
    if (typeof p !== 'string') continue;
    const t = p.trim();
    if (t) kept.push(t);
  }
  return kept.join('\n\n');
}

/**
 * Any message content as a string: strings as they are, a list of parts as
 * its non-empty `text` parts joined by a blank line (a list without text
 * parts, or any other object, as JSON), null as "".
 */
export function flattenContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) {
    const texts: string[] = [];
    for (const item of content) if (isObject(item) && typeof item.text === 'string') texts.push(item.text);
    if (texts.length) return texts.filter((t) => t).join('\n\n');
    return JSON.stringify(content);
  }
  if (typeof content === 'object') return JSON.stringify(content);
  return String(content);
}

/** A leading `<think>…</think>` block split off: [reasoning, rest]; ["", content] when there is none. */
export function splitLeadingThink(content: string): [string, string] {
  const stripped = content.trim();
  if (!stripped.startsWith('<think>')) return ['', content];
  const end = stripped.indexOf('</think>');
  if (end < 0) return ['', content];
  return [stripped.slice('<think>'.length, end).trim(), stripped.slice(end + '</think>'.length).trim()];
}

/** Tool definitions as `{type:"function", function:{name, description, parameters}}`; `input_schema` accepted. */
export function normaliseTools(tools: unknown): ImTool[] {
  if (!Array.isArray(tools)) return [];
  const out: ImTool[] = [];
  for (const tool of tools) {
    if (!isObject(tool)) continue;
    const fn = isObject(tool.function) ? tool.function : tool;
    const parameters = (isObject(fn.parameters) && fn.parameters) || (isObject(fn.input_schema) && fn.input_schema) || {};
    out.push({
      type: 'function',
      function: {
        name: typeof fn.name === 'string' ? fn.name : '',
        description: typeof fn.description === 'string' ? fn.description : '',
        parameters: parameters as Record<string, unknown>,
      },
    });
  }
  return out;
}

/** For each tool name, the order of its schema's `properties` keys. */
export function toolPropertyOrders(tools: unknown): Map<string, string[]> {
  const orders = new Map<string, string[]>();
  if (!Array.isArray(tools)) return orders;
  for (const tool of tools) {
    if (!isObject(tool)) continue;
    const fn = isObject(tool.function) ? tool.function : tool;
    const params = (isObject(fn.parameters) && fn.parameters) || (isObject(fn.input_schema) && fn.input_schema) || undefined;
    if (typeof fn.name === 'string' && fn.name && params && isObject(params.properties)) orders.set(fn.name, Object.keys(params.properties));
  }
  return orders;
}

/**
 * Tool-call arguments as LegoFlow-Trace-Crafter writes them: a JSON string, compact
 * (`,` and `:` without spaces), top-level keys in the schema's `properties`
 * order, then any others in their original order. A string is parsed first;
 * one that is not JSON is kept as a JSON string value.
 */
export function stringifyToolArguments(args: unknown, order?: readonly string[]): string {
  let parsed: unknown = args;
  if (typeof args === 'string') {
    try {
      parsed = JSON.parse(args);
    } catch {
      parsed = args;
    }
  } else if (args === null || args === undefined) {
    parsed = {};
  }
  if (order && order.length && isObject(parsed)) {
    const reordered: Json = {};
    for (const key of order) if (key in parsed) reordered[key] = parsed[key];
    for (const key of Object.keys(parsed)) if (!(key in reordered)) reordered[key] = parsed[key];
    parsed = reordered;
  }
  return JSON.stringify(parsed);
}

function normaliseToolCall(call: unknown, orders?: Map<string, string[]>): ImToolCall | undefined {
  if (!isObject(call)) return undefined;
  const fn = isObject(call.function) ? call.function : {};
  const name = typeof fn.name === 'string' ? fn.name : '';
  const id = typeof call.id === 'string' ? call.id : '';
  return { id, type: 'function', function: { name, arguments: stringifyToolArguments(fn.arguments, orders?.get(name)) } };
}

/**
 * Fill missing tool-call ids from the tool messages that follow (in order),
 * else generate `call_000001`…; give id-less tool messages the ids of the
 * calls they answer, in order.
 */
function alignToolCallIds(messages: ImMessage[]): void {
  let next = 1;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (m.role !== 'assistant' || !m.tool_calls?.length) continue;
    const following: Extract<ImMessage, { role: 'tool' }>[] = [];
    for (let j = i + 1; j < messages.length && messages[j].role === 'tool'; j++) following.push(messages[j] as Extract<ImMessage, { role: 'tool' }>);
    const followingIds = following.map((t) => t.tool_call_id).filter((id) => id);
    const assigned: string[] = [];
    m.tool_calls.forEach((call, k) => {
      if (!call.id) call.id = k < followingIds.length ? followingIds[k] : `call_${String(next++).padStart(6, '0')}`;
      assigned.push(call.id);
    });
    let cursor = 0;
    for (const t of following) {
      if (t.tool_call_id) {
        while (cursor < assigned.length && assigned[cursor] !== t.tool_call_id) cursor++;
        if (cursor < assigned.length) cursor++;
        continue;
      }
      if (cursor < assigned.length) t.tool_call_id = assigned[cursor++];
    }
  }
}

/**
 * Messages in IM form: string content everywhere, `reasoning_content` always
 * present on assistant turns (a leading `<think>` block is split into it when
 * no separate reasoning exists), tool calls in function form with string
 * arguments, an empty system message first when the first message is not a
 * system message, tool-call ids aligned.
 */
export function normaliseMessages(raw: unknown, tools?: unknown): ImMessage[] {
  const orders = toolPropertyOrders(tools);
  const out: ImMessage[] = [];
  if (Array.isArray(raw)) {
    for (const m of raw) {
      if (!isObject(m) || typeof m.role !== 'string' || !m.role) continue;
      const role = m.role;
      if (role === 'assistant') {
        const content = flattenContent(m.content);
        const [thought, rest] = splitLeadingThink(content);
        const hasReasoning = m.reasoning_content !== undefined && m.reasoning_content !== null;
        const msg: Extract<ImMessage, { role: 'assistant' }> = {
          role: 'assistant',
          content: thought && !hasReasoning ? rest : content,
          reasoning_content: hasReasoning ? flattenContent(m.reasoning_content) : thought,
        };
        if (Array.isArray(m.tool_calls)) {
          const calls = m.tool_calls.map((c) => normaliseToolCall(c, orders)).filter((c): c is ImToolCall => c !== undefined);
          if (calls.length) msg.tool_calls = calls;
        }
        if (m.weight === 0 || m.weight === 1) msg.weight = m.weight;
        out.push(msg);
      } else if (role === 'tool') {
        out.push({ role: 'tool', content: flattenContent(m.content), tool_call_id: typeof m.tool_call_id === 'string' ? m.tool_call_id : '' });
      } else if (role === 'system' || role === 'developer' || role === 'user') {
        out.push({ role, content: flattenContent(m.content) } as ImMessage);
      } else {
        // Unknown roles are kept so the validator can name them.
        out.push({ role, content: flattenContent(m.content) } as unknown as ImMessage);
      }
    }
  }
  if (out.length && out[0].role !== 'system') out.unshift({ role: 'system', content: '' });
  alignToolCallIds(out);
  return out;
}

const CJK = /[\u3400-\u9fff]/;

/** "zh" when the first non-empty user message has CJK characters, else "en". */
export function detectLanguage(messages: readonly ImMessage[]): string {
  for (const m of messages) {
    if (m.role !== 'user' || !m.content.trim()) continue;
    return CJK.test(m.content) ? 'zh' : 'en';
  }
  return 'en';
}

export function countRounds(messages: readonly ImMessage[]): number {
  let n = 0;
  for (const m of messages) if (m.role === 'assistant') n++;
  return n;
}

/** Defaults of `meta_info`, as the IM v2 spec gives them. */
export const META_DEFAULTS = {
  teacher: 'unknown',
  query_source: 'synthesized',
  owner: '00000000',
  category: 'code',
} as const;

export interface RowInput {
  messages: unknown;
  tools?: unknown;
  unique_info: Partial<ImUniqueInfo> & { _instance_id: string };
  teacher?: string;
  query_source?: string;
  /** YYYY-MM-DD. Required: no "today" default, so reconverting the same input gives the same bytes. */
  date: string;
  owner?: string;
  language?: string;
  category?: string;
}

/**
 * A complete IM row, keys in the documented order. `unique_info` always holds
 * `_instance_id`, `_agent_type`, `_score` (null: the score stage fills it),
 * `_gen_params` and `_usage`, then any extra keys as given.
 */
export function buildImRow(input: RowInput): ImRow {
  const messages = normaliseMessages(input.messages, input.tools);
  const { _instance_id, _agent_type, _score, _gen_params, _usage, ...extra } = input.unique_info;
  const unique_info: ImUniqueInfo = {
    _instance_id,
    _agent_type: _agent_type ?? 'main',
    _score: _score ?? null,
    _gen_params: _gen_params ?? {},
    _usage: _usage ?? {},
    ...extra,
  };
  const meta_info: ImMetaInfo = {
    teacher: input.teacher || META_DEFAULTS.teacher,
    query_source: input.query_source || META_DEFAULTS.query_source,
    response_generate_time: input.date,
    response_update_time: input.date,
    owner: input.owner || META_DEFAULTS.owner,
    language: input.language || detectLanguage(messages),
    category: input.category || META_DEFAULTS.category,
    rounds: countRounds(messages),
    unique_info,
  };
  return { version: IM_VERSION, meta_info, tools: normaliseTools(input.tools), messages };
}

/**
 * Re-normalise an existing row (e.g. one read back from a file): the same
 * shape rules, existing meta_info values kept. A row this project wrote comes
 * back byte-identical (the property tests check that).
 */
export function normaliseImRow(row: unknown): ImRow {
  const r = isObject(row) ? row : {};
  const meta = isObject(r.meta_info) ? r.meta_info : {};
  const ui = isObject(meta.unique_info) ? meta.unique_info : {};
  const messages = normaliseMessages(r.messages, r.tools);
  const { _instance_id, _agent_type, _score, _gen_params, _usage, ...extra } = ui;
  return {
    version: IM_VERSION,
    meta_info: {
      teacher: typeof meta.teacher === 'string' && meta.teacher ? meta.teacher : META_DEFAULTS.teacher,
      query_source: typeof meta.query_source === 'string' && meta.query_source ? meta.query_source : META_DEFAULTS.query_source,
      response_generate_time: typeof meta.response_generate_time === 'string' ? meta.response_generate_time : '',
      response_update_time: typeof meta.response_update_time === 'string' ? meta.response_update_time : '',
      owner: typeof meta.owner === 'string' && meta.owner ? meta.owner : META_DEFAULTS.owner,
      language: typeof meta.language === 'string' && meta.language ? meta.language : detectLanguage(messages),
      category: typeof meta.category === 'string' && meta.category ? meta.category : META_DEFAULTS.category,
      rounds: typeof meta.rounds === 'number' ? meta.rounds : countRounds(messages),
      unique_info: {
        _instance_id: typeof _instance_id === 'string' ? _instance_id : '',
        _agent_type: _agent_type === 'subagent' ? 'subagent' : 'main',
        _score: isObject(_score) ? (_score as ImUniqueInfo['_score']) : null,
        _gen_params: isObject(_gen_params) ? (_gen_params as ImUniqueInfo['_gen_params']) : {},
        _usage: isObject(_usage) ? (_usage as ImUniqueInfo['_usage']) : {},
        ...extra,
      },
    },
    tools: normaliseTools(r.tools),
    messages,
  };
}

/** One JSONL line (no newline). Keys are already in the documented order. */
export function serialiseImRow(row: ImRow): string {
  return JSON.stringify(row);
}
