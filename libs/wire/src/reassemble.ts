import { AnthropicAssembler, OpenAIAssembler, type StreamAssembler } from './assemble';

/**
 * Streamed responses stored by a logger (a list of SSE events / chunks, or the
 * raw `event: …\ndata: …` text) reassembled, by the proxy's own assemblers,
 * into the non-streaming shape of the same protocol: an Anthropic message with `content` blocks, an OpenAI
 * `chat.completion`, or a Responses API `response`. Lenient on purpose: a
 * logger may have kept only the `data` payloads.
 */

type Json = Record<string, any>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `event:`/`data:` SSE text → the JSON payloads of its data lines (`[DONE]` skipped). */
export function parseSseText(text: string): Json[] {
  const events: Json[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data: string[] = [];
    let eventName: string | undefined;
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      else if (line.startsWith('event:')) eventName = line.slice(6).trim();
    }
    if (!data.length) continue;
    const payload = data.join('\n');
    if (payload === '[DONE]') continue;
    try {
      const value = JSON.parse(payload);
      if (isObject(value)) {
        if (eventName && value.type === undefined) value.type = eventName;
        events.push(value);
      }
    } catch {
      // A torn or non-JSON data line carries nothing we can use.
    }
  }
  return events;
}

function eventsOf(body: unknown): Json[] | undefined {
  if (typeof body === 'string') {
    const t = body.trimStart();
    return t.startsWith('event:') || t.startsWith('data:') ? parseSseText(body) : undefined;
  }
  if (Array.isArray(body)) {
    const out: Json[] = [];
    for (const item of body) {
      if (typeof item === 'string') out.push(...parseSseText(item.includes('data:') ? item : `data: ${item}`));
      else if (isObject(item)) out.push(isObject(item.data) ? { type: item.event ?? item.data.type, ...item.data } : item);
    }
    return out;
  }
  return undefined;
}

/** A `chat.completion` message's `reasoning` (some servers' name for it) joins `reasoning_content`, the name readers use. */
function reasoningAsContent(body: Json): Json {
  for (const c of Array.isArray(body.choices) ? body.choices : []) {
    const m = c?.message;
    if (!isObject(m) || typeof m.reasoning !== 'string') continue;
    m.reasoning_content = (typeof m.reasoning_content === 'string' ? m.reasoning_content : '') + m.reasoning;
    delete m.reasoning;
  }
  return body;
}

function assembled(asm: StreamAssembler, events: Json[]): Json | undefined {
  for (const e of events) asm.pushJson(e);
  return asm.result().body ?? undefined;
}

/**
 * The response body in non-streaming form: unchanged when it already is,
 * reassembled when it is a list of events/chunks or SSE text.
 */
export function reassembleResponse(body: unknown): unknown {
  const events = eventsOf(body);
  if (!events) return body;
  if (!events.length) return undefined;
  const completed = events.find((e) => e.type === 'response.completed' && isObject(e.response));
  if (completed) return completed.response;
  if (events.some((e) => typeof e.type === 'string' && (e.type.startsWith('message_') || e.type.startsWith('content_block_')))) return assembled(new AnthropicAssembler(), events);
  if (events.some((e) => Array.isArray(e.choices))) {
    const body = assembled(new OpenAIAssembler(), events);
    return body && reasoningAsContent(body);
  }
  return undefined;
}
