import { reassembleResponse } from '@trajgen/wire';

/**
 * One model call from a proxy/logger line, in a protocol-neutral form
 * (the proxy-log line formats): every line variant we accept —
 * LegoX/LiteLLM logger (OpenAI-shaped), mini-vela / builtin proxy
 * (Anthropic-native request and response), OpenAI chat requests, the
 * Responses API, streamed responses — becomes a list of messages whose
 * content is a string or a list of Anthropic/OpenAI blocks, plus the
 * assistant message of the response.
 */

type Json = Record<string, any>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A message as it appears in either protocol (content: string | blocks | null). */
export interface WireMessage {
  role: string;
  content?: unknown;
  tool_calls?: unknown[];
  tool_call_id?: string;
  reasoning_content?: unknown;
  thinking_blocks?: unknown;
  [k: string]: unknown;
}

export interface GenParams {
  model?: string;
  max_tokens?: number;
  top_p?: number;
  temperature?: number;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
  cost_usd: number;
  calls: number;
}

export interface Call {
  success: boolean;
  /** Epoch ms of the request; 0 when unknown. */
  requestTime: number;
  timestamp?: string;
  /** Messages sent, a leading system message included (Anthropic `system` becomes one). */
  messages: WireMessage[];
  /** Number of entries in the request's own message list (`request_body.messages` / Responses `input`). */
  nInput: number;
  tools: unknown[];
  params: GenParams;
  /** The assistant message of the response (undefined: failed call or no choices). */
  response?: WireMessage;
  responseModel?: string;
  usage?: Usage;
  /** Which protocol the request body used. */
  protocol: 'anthropic' | 'openai' | 'responses';
}

export function emptyUsage(): Usage {
  return { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cache_read_tokens: 0, cache_creation_tokens: 0, cost_usd: 0, calls: 0 };
}

export function addUsage(into: Usage, u: Usage | undefined): void {
  if (!u) return;
  into.prompt_tokens += u.prompt_tokens;
  into.completion_tokens += u.completion_tokens;
  into.total_tokens += u.total_tokens;
  into.cache_read_tokens += u.cache_read_tokens;
  into.cache_creation_tokens += u.cache_creation_tokens;
  into.cost_usd += u.cost_usd;
  into.calls += u.calls;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * Usage from whichever fields a logger wrote: OpenAI (`prompt_tokens`,
 * `completion_tokens`, `prompt_tokens_details.cached_tokens`) or Anthropic
 * (`input_tokens` + cache reads/creations = prompt tokens).
 */
export function readUsage(u: unknown, cost?: unknown): Usage | undefined {
  if (!isObject(u) && cost === undefined) return undefined;
  const usage = emptyUsage();
  usage.calls = 1;
  if (isObject(u)) {
    const cacheRead = num(u.cache_read_input_tokens) || num(u.prompt_tokens_details?.cached_tokens) || num(u.cache_read_tokens);
    const cacheCreation = num(u.cache_creation_input_tokens);
    if (u.prompt_tokens !== undefined || u.completion_tokens !== undefined) {
      usage.prompt_tokens = num(u.prompt_tokens);
      usage.completion_tokens = num(u.completion_tokens);
    } else {
      usage.prompt_tokens = num(u.input_tokens) + num(u.cache_read_input_tokens) + num(u.cache_creation_input_tokens);
      usage.completion_tokens = num(u.output_tokens);
    }
    usage.total_tokens = num(u.total_tokens) || usage.prompt_tokens + usage.completion_tokens;
    usage.cache_read_tokens = cacheRead;
    usage.cache_creation_tokens = cacheCreation;
    usage.cost_usd = num(u.cost) || num(u.cost_usd) || num(u.response_cost);
  }
  if (!usage.cost_usd) usage.cost_usd = num(cost);
  return usage;
}

function genParams(body: Json, responseModel?: string): GenParams {
  const p: GenParams = {};
  const model = typeof body.model === 'string' ? body.model : responseModel;
  if (model) p.model = model;
  const max = body.max_tokens ?? body.max_completion_tokens ?? body.max_output_tokens;
  if (typeof max === 'number') p.max_tokens = max;
  if (typeof body.top_p === 'number') p.top_p = body.top_p;
  if (typeof body.temperature === 'number') p.temperature = body.temperature;
  return p;
}

// ----------------------------------------------------------- Responses API

function responsesPartsText(content: unknown): string | unknown[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (isObject(p) && typeof p.text === 'string' ? { type: 'text', text: p.text } : p));
}

/** Responses API `input`/`output` items → chat messages (function calls folded into the assistant turn). */
export function responsesItemsToMessages(items: unknown): WireMessage[] {
  if (typeof items === 'string') return [{ role: 'user', content: items }];
  if (!Array.isArray(items)) return [];
  const out: WireMessage[] = [];
  let pendingReasoning = '';
  const assistant = (): WireMessage => {
    const last = out[out.length - 1];
    if (last && last.role === 'assistant') return last;
    const m: WireMessage = { role: 'assistant', content: '' };
    if (pendingReasoning) m.reasoning_content = pendingReasoning;
    pendingReasoning = '';
    out.push(m);
    return m;
  };
  for (const item of items) {
    if (!isObject(item)) continue;
    const type = item.type ?? (item.role ? 'message' : undefined);
    if (type === 'reasoning') {
      const text = Array.isArray(item.summary) ? item.summary.map((s: Json) => s?.text ?? '').filter(Boolean).join('\n\n') : '';
      if (text) pendingReasoning = pendingReasoning ? `${pendingReasoning}\n\n${text}` : text;
    } else if (type === 'message') {
      if (item.role === 'assistant') {
        const m = assistant();
        const text = responsesPartsText(item.content);
        const flat = typeof text === 'string' ? text : text.map((p: any) => p?.text ?? '').join('');
        m.content = m.content ? `${m.content}${flat}` : flat;
      } else {
        out.push({ role: item.role === 'developer' ? 'system' : String(item.role), content: responsesPartsText(item.content) });
      }
    } else if (type === 'function_call') {
      const m = assistant();
      (m.tool_calls ??= []).push({ id: item.call_id ?? item.id, type: 'function', function: { name: item.name, arguments: item.arguments } });
    } else if (type === 'function_call_output') {
      out.push({ role: 'tool', tool_call_id: item.call_id, content: typeof item.output === 'string' ? item.output : JSON.stringify(item.output) });
    }
  }
  return out;
}

// ----------------------------------------------------------- lines

/** The assistant message of a response body in any accepted shape. */
export function responseMessageOf(body: unknown): { message?: WireMessage; model?: string; usage?: unknown } {
  const r = reassembleResponse(body);
  if (!isObject(r)) return {};
  const model = typeof r.model === 'string' ? r.model : undefined;
  if (Array.isArray(r.content)) return { message: { role: 'assistant', content: r.content }, model, usage: r.usage };
  if (Array.isArray(r.choices)) {
    const m = r.choices[0]?.message;
    if (isObject(m)) return { message: { ...m, role: 'assistant' } as WireMessage, model, usage: r.usage };
    return { model, usage: r.usage };
  }
  if (Array.isArray(r.output)) {
    const msgs = responsesItemsToMessages(r.output).filter((m) => m.role === 'assistant');
    return { message: msgs[0], model, usage: r.usage };
  }
  return { model, usage: r.usage };
}

function requestTimeOf(line: Json): number {
  const t = line.request_time ?? line.start_time ?? line.startTime ?? line.timestamp;
  if (typeof t === 'number' && Number.isFinite(t)) return t < 1e11 ? t * 1000 : t;
  if (typeof t === 'string') {
    const n = Number(t);
    if (Number.isFinite(n)) return n < 1e11 ? n * 1000 : n;
    const d = Date.parse(t);
    if (Number.isFinite(d)) return d;
  }
  return 0;
}

/**
 * One proxy/logger line as a Call, or a problem (the caller counts it).
 * `success: false` lines come back as calls with `success` false.
 */
export function readCall(line: unknown): Call | { problem: string } {
  if (!isObject(line)) return { problem: 'not a JSON object' };
  const body = isObject(line.request_body) ? line.request_body : isObject(line.request) ? line.request : undefined;
  if (!body) return { problem: 'no request_body' };
  let protocol: Call['protocol'] = 'openai';
  let messages: WireMessage[];
  let nInput: number;
  const input = body.input ?? body.extra_params?.input;
  if (!Array.isArray(body.messages) && input !== undefined) {
    protocol = 'responses';
    messages = responsesItemsToMessages(input);
    nInput = Array.isArray(input) ? input.length : 1;
    if (typeof body.instructions === 'string' && body.instructions) messages.unshift({ role: 'system', content: body.instructions });
  } else if (Array.isArray(body.messages)) {
    messages = body.messages.filter(isObject) as WireMessage[];
    nInput = body.messages.length;
    if (body.system !== undefined && body.system !== null) {
      protocol = 'anthropic';
      messages = [{ role: 'system', content: body.system }, ...messages];
    } else if (messages.some((m) => Array.isArray(m.content) && m.content.some((b: Json) => isObject(b) && ['tool_use', 'tool_result', 'thinking'].includes(b.type)))) {
      protocol = 'anthropic';
    }
  } else {
    return { problem: 'request_body has neither messages nor input' };
  }
  const success = line.success !== false && !line.failure;
  const resp = success ? responseMessageOf(line.response_body ?? line.response) : {};
  const usageSource = isObject(line.usage) ? line.usage : resp.usage;
  return {
    success,
    requestTime: requestTimeOf(line),
    timestamp: typeof line.timestamp === 'string' ? line.timestamp : undefined,
    messages,
    nInput,
    tools: Array.isArray(body.tools) ? body.tools : [],
    params: genParams(body, resp.model),
    response: resp.message,
    responseModel: resp.model,
    usage: readUsage(usageSource, line.cost ?? line.response_cost),
    protocol,
  };
}

/** Text of a system message's content (string or blocks), for detection rules. */
export function systemText(messages: readonly WireMessage[]): string {
  const first = messages[0];
  if (!first || first.role !== 'system') return '';
  const c = first.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((b) => (isObject(b) && typeof b.text === 'string' ? b.text : '')).join('\n');
  return '';
}

/** Tool names of a request (OpenAI `function.name` or Anthropic `name`). */
export function toolNames(tools: readonly unknown[]): string[] {
  const names: string[] = [];
  for (const t of tools) {
    if (!isObject(t)) continue;
    const name = isObject(t.function) ? t.function.name : t.name;
    if (typeof name === 'string') names.push(name);
  }
  return names;
}
