import type { ImAssistantMessage, ImMessage, ImToolCall } from '@trajgen/im';
import { stringifyToolArguments, toolPropertyOrders } from '@trajgen/im';

/**
 * OpenHands non-function-calling mode: the
 * SDK appends the tool descriptions to the system prompt, wraps the first user
 * message in an in-context example, the model writes
 * `<function=NAME><parameter=K>V</parameter></function>` (generation stops at
 * `</function`, so the closing tag is often missing), and results come back as
 * user messages `EXECUTION RESULT of [NAME]:`. This turns such a conversation
 * back into native tool calls — the form the SDK itself logs as
 * `raw_messages` — so every scaffold's rows share one shape.
 */

const TOOLS_SUFFIX = '\nYou have access to the following functions:';
const TASK_START = '--------------------- NEW TASK DESCRIPTION ---------------------\n';
const TASK_END = '\n--------------------- END OF NEW TASK DESCRIPTION ---------------------';
const EXECUTION_RESULT = /^EXECUTION RESULT of \[([^\]]*)\]:\r?\n?/;
const FUNCTION_BLOCK = /<function=([^>\s]+)>([\s\S]*?)(?:<\/function>|$)/g;
const PARAMETER = /<parameter=([^>\s]+)>([\s\S]*?)<\/parameter>/g;

export function isTextToolMode(messages: readonly ImMessage[]): boolean {
  return messages.some(
    (m) =>
      (m.role === 'system' && m.content.includes(TOOLS_SUFFIX.trimStart())) ||
      (m.role === 'assistant' && /<function=[^>\s]+>/.test(m.content)) ||
      (m.role === 'user' && EXECUTION_RESULT.test(m.content)),
  );
}

interface ParsedParam {
  name: string;
  type?: string;
  required: boolean;
  description: string;
  enum?: string[];
}

/** Tool definitions recovered from the `---- BEGIN FUNCTION #n: name ----` blocks of a text-mode system prompt. */
export function toolsFromSystemPrompt(system: string): unknown[] {
  const tools: unknown[] = [];
  const block = /---- BEGIN FUNCTION #\d+: ([^\s]+) ----\n([\s\S]*?)---- END FUNCTION #\d+ ----/g;
  for (const m of system.matchAll(block)) {
    const [, name, body] = m;
    const paramsAt = body.indexOf('\nParameters:\n');
    const descriptionPart = paramsAt >= 0 ? body.slice(0, paramsAt) : body;
    const description = descriptionPart.replace(/^Description:\s*/, '').trim();
    const params: ParsedParam[] = [];
    if (paramsAt >= 0) {
      for (const line of body.slice(paramsAt + '\nParameters:\n'.length).split('\n')) {
        const p = /^\s*\(\d+\) ([^\s]+) \(([^,)]+), (required|optional)\): ?(.*)$/.exec(line);
        if (p) {
          params.push({ name: p[1], type: p[2], required: p[3] === 'required', description: p[4] });
          continue;
        }
        const allowed = /^Allowed values: \[(.*)\]$/.exec(line.trim());
        if (allowed && params.length) params[params.length - 1].enum = allowed[1].split(',').map((v) => v.trim().replace(/^`|`$/g, ''));
        else if (params.length && line.trim() && !line.startsWith('---')) params[params.length - 1].description += `\n${line}`;
      }
    }
    const properties: Record<string, unknown> = {};
    for (const p of params) {
      const schema: Record<string, unknown> = { type: p.type, description: p.description.trim() };
      if (p.enum) schema.enum = p.enum;
      properties[p.name] = schema;
    }
    tools.push({
      type: 'function',
      function: { name, description, parameters: { type: 'object', properties, required: params.filter((p) => p.required).map((p) => p.name) } },
    });
  }
  return tools;
}

function typedValue(raw: string, type: unknown): unknown {
  if (type === 'integer' || type === 'number') {
    const n = Number(raw.trim());
    return Number.isFinite(n) ? n : raw;
  }
  if (type === 'boolean') {
    const t = raw.trim().toLowerCase();
    return t === 'true' ? true : t === 'false' ? false : raw;
  }
  if (type === 'array' || type === 'object') {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

function schemaTypes(tools: readonly unknown[]): Map<string, Map<string, unknown>> {
  const out = new Map<string, Map<string, unknown>>();
  for (const t of tools as any[]) {
    const fn = t?.function ?? t;
    const props = (fn?.parameters ?? fn?.input_schema)?.properties;
    if (typeof fn?.name === 'string' && props && typeof props === 'object') {
      out.set(fn.name, new Map(Object.entries(props).map(([k, v]) => [k, (v as any)?.type])));
    }
  }
  return out;
}

/**
 * Text-mode messages → native tool calls. `tools` are the definitions to use
 * (from the request; else recovered from the system prompt).
 */
export function textModeToToolCalls(messages: readonly ImMessage[], tools: unknown[]): { messages: ImMessage[]; tools: unknown[] } {
  let defs = tools;
  const system = messages[0]?.role === 'system' ? messages[0].content : '';
  if (!defs.length && system) defs = toolsFromSystemPrompt(system);
  const orders = toolPropertyOrders(defs);
  const types = schemaTypes(defs);
  const out: ImMessage[] = [];
  let nextId = 1;
  let pending: ImToolCall[] = [];
  let firstUser = true;
  for (const m of messages) {
    if (m.role === 'system') {
      const cut = m.content.indexOf(TOOLS_SUFFIX);
      out.push({ role: 'system', content: cut >= 0 ? m.content.slice(0, cut) : m.content });
    } else if (m.role === 'user') {
      const result = EXECUTION_RESULT.exec(m.content);
      if (result) {
        const call = pending.shift();
        out.push({ role: 'tool', content: m.content.slice(result[0].length), tool_call_id: call?.id ?? '' });
        continue;
      }
      pending = [];
      let content = m.content;
      if (firstUser) {
        const start = content.indexOf(TASK_START);
        const end = content.indexOf(TASK_END, start);
        if (start >= 0 && end > start) content = content.slice(start + TASK_START.length, end);
        firstUser = false;
      }
      out.push({ role: 'user', content });
    } else if (m.role === 'assistant') {
      const calls: ImToolCall[] = [];
      const first = m.content.search(/<function=[^>\s]+>/);
      for (const f of m.content.matchAll(FUNCTION_BLOCK)) {
        const name = f[1];
        const args: Record<string, unknown> = {};
        for (const p of f[2].matchAll(PARAMETER)) {
          let value = p[2];
          // Multi-line values sit on their own lines between the tags.
          if (value.startsWith('\n')) value = value.slice(1);
          if (value.endsWith('\n')) value = value.slice(0, -1);
          args[p[1]] = typedValue(value, types.get(name)?.get(p[1]));
        }
        calls.push({ id: `toolu_${String(nextId++).padStart(2, '0')}`, type: 'function', function: { name, arguments: stringifyToolArguments(args, orders.get(name)) } });
      }
      const a: ImAssistantMessage = {
        ...(m as ImAssistantMessage),
        content: first >= 0 ? m.content.slice(0, first).trim() : m.content,
      };
      if (calls.length) a.tool_calls = [...(a.tool_calls ?? []), ...calls];
      pending = [...(a.tool_calls ?? [])];
      out.push(a);
    } else {
      out.push(m);
    }
  }
  return { messages: out, tools: defs };
}
