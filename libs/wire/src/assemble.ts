/** One parsed SSE event (the proxy's `SseEventLike` is one). */
export interface SseEventLike {
  event?: string;
  /** `data:` lines joined with "\n" ('' when the event has none). */
  data: string;
}

type Json = Record<string, any>;

/**
 * Reassembling a stream into the SAME protocol's non-streaming response, so a
 * log line always holds one complete response object whatever the stream
 * mode (Anthropic: a `message` with content blocks; OpenAI: a
 * `chat.completion` with choices). Lossless for the fields the protocols
 * define; unknown delta kinds are kept where they can be.
 */
export interface StreamAssembler {
  push(event: SseEventLike): void;
  /** One event's payload already parsed (a logger kept the JSON); `event` is the SSE event name if known. */
  pushJson(payload: Json, event?: string): void;
  /** The event that means "the response is complete" arrived (message_stop / [DONE]). */
  readonly sawTerminal: boolean;
  /** True when `event` is the terminal one (the proxy holds it back until the line is written). */
  isTerminal(event: SseEventLike): boolean;
  result(): AssembledResponse;
}

export interface AssembledResponse {
  body: Record<string, unknown> | null;
  /** The stream carried everything a complete response has. */
  complete: boolean;
  /** An error the stream itself reported (Anthropic `event: error`, an OpenAI `error` chunk). */
  error?: { type: string; message: string };
  usage: unknown;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ Anthropic

export class AnthropicAssembler implements StreamAssembler {
  private message: Record<string, unknown> | null = null;
  private blocks: Record<string, unknown>[] = [];
  private partialJson = new Map<number, string>();
  private stopped = false;
  private error?: { type: string; message: string };
  sawTerminal = false;

  isTerminal(e: SseEventLike): boolean {
    if (e.event === 'message_stop') return true;
    if (e.event === undefined && e.data.includes('"message_stop"')) return (tryJson(e.data) as { type?: string })?.type === 'message_stop';
    return false;
  }

  push(e: SseEventLike): void {
    if (!e.data) return;
    const d = tryJson(e.data) as Json | undefined;
    if (!d || typeof d !== 'object') return;
    this.pushJson(d, e.event, e.data);
  }

  /** `raw`: the event's data text (quoted by an error that has no message). */
  pushJson(d: Json, event?: string, raw?: string): void {
    const type = (d.type as string) ?? event;
    // A logger may have dropped `index`: a start opens the next block, a delta/stop goes to the last one.
    const index = typeof d.index === 'number' ? d.index : type === 'content_block_start' ? this.blocks.length : Math.max(0, this.blocks.length - 1);
    switch (type) {
      case 'message_start':
        this.message = { ...(d.message ?? {}), usage: { ...((d.message?.usage as object) ?? {}) } };
        this.blocks = Array.isArray(d.message?.content) ? d.message.content.map((b: unknown) => ({ ...(b as object) })) : [];
        break;
      case 'content_block_start':
        this.blocks[index] = { ...(d.content_block ?? {}) };
        break;
      case 'content_block_delta': {
        const delta = d.delta ?? {};
        // A delta whose start was lost: a text delta still makes a text block.
        const b = (this.blocks[index] ??= delta.type === 'text_delta' ? { type: 'text' } : {});
        switch (delta.type) {
          case 'text_delta':
            b.text = String(b.text ?? '') + delta.text;
            break;
          case 'thinking_delta':
            b.thinking = String(b.thinking ?? '') + delta.thinking;
            break;
          case 'signature_delta':
            b.signature = String(b.signature ?? '') + delta.signature;
            break;
          case 'input_json_delta':
            this.partialJson.set(index, (this.partialJson.get(index) ?? '') + (delta.partial_json ?? ''));
            break;
          case 'citations_delta':
            b.citations = [...((b.citations as unknown[]) ?? []), delta.citation];
            break;
          default:
            // A delta kind this proxy does not know: keep it rather than lose it.
            b._deltas = [...((b._deltas as unknown[]) ?? []), delta];
        }
        break;
      }
      case 'content_block_stop':
        this.closeBlock(index);
        break;
      case 'message_delta': {
        // A log that lost message_start still gets the stop reason and usage.
        const message = (this.message ??= { type: 'message', role: 'assistant', usage: {} });
        const { usage, ...rest } = (d.delta ?? {}) as Json;
        Object.assign(message, rest);
        if (usage && typeof usage === 'object') mergeDefined(message.usage as Json, usage);
        if (d.usage && typeof d.usage === 'object') mergeDefined(message.usage as Json, d.usage);
        break;
      }
      case 'message_stop':
        this.stopped = true;
        this.sawTerminal = true;
        break;
      case 'error':
        this.error = { type: String(d.error?.type ?? 'error'), message: String(d.error?.message ?? raw ?? JSON.stringify(d)) };
        break;
      default:
        break; // ping and future event types
    }
  }

  private closeBlock(index: number) {
    const partial = this.partialJson.get(index);
    if (partial === undefined) return;
    this.partialJson.delete(index);
    const b = (this.blocks[index] ??= {});
    const parsed = partial.trim() ? tryJson(partial) : {};
    // An unparseable tool input (a cut stream) is kept as the raw text.
    b.input = parsed === undefined ? partial : parsed;
  }

  result(): AssembledResponse {
    for (const index of [...this.partialJson.keys()]) this.closeBlock(index);
    const blocks = this.blocks.filter((b) => b !== undefined);
    // A tool call that streamed no input at all has an empty one.
    for (const b of blocks) if ((b.type === 'tool_use' || b.type === 'server_tool_use') && b.input === undefined) b.input = {};
    if (!this.message && !blocks.length) return { body: null, complete: false, error: this.error, usage: undefined };
    const body: Record<string, unknown> = { ...(this.message ?? { type: 'message', role: 'assistant' }), content: blocks };
    return { body, complete: this.stopped && !this.error, error: this.error, usage: body.usage };
  }
}

function mergeDefined(target: Record<string, unknown>, source: Record<string, unknown>) {
  for (const [k, v] of Object.entries(source)) if (v !== null && v !== undefined) target[k] = v;
}

// ------------------------------------------------------------------ OpenAI

interface ChoiceState {
  index: number;
  message: Record<string, unknown>;
  toolCalls: Map<number, { id?: string; type?: string; function: { name?: string; arguments: string } }>;
  finish_reason: unknown;
  logprobs: { content: unknown[] } | null;
}

const DELTA_SKIP = new Set(['role', 'tool_calls', 'function_call']);

export class OpenAIAssembler implements StreamAssembler {
  private base: Record<string, unknown> | null = null;
  private choices = new Map<number, ChoiceState>();
  private usage: unknown;
  private error?: { type: string; message: string };
  sawTerminal = false;

  isTerminal(e: SseEventLike): boolean {
    return e.data.trim() === '[DONE]';
  }

  push(e: SseEventLike): void {
    if (!e.data) return;
    if (e.data.trim() === '[DONE]') {
      this.sawTerminal = true;
      return;
    }
    const d = tryJson(e.data) as Json | undefined;
    if (!d || typeof d !== 'object') return;
    this.pushJson(d, undefined, e.data);
  }

  /** `raw`: the chunk's data text (quoted by an error that has no message). */
  pushJson(d: Json, _event?: string, raw?: string): void {
    if (d.error) {
      this.error = { type: String(d.error.type ?? d.error.code ?? 'error'), message: String(d.error.message ?? raw ?? JSON.stringify(d)) };
      return;
    }
    if (!this.base) {
      const { choices: _c, usage: _u, object: _o, ...rest } = d;
      this.base = rest;
    }
    if (d.usage) this.usage = d.usage;
    for (const c of (d.choices as Record<string, any>[]) ?? []) {
      const index = typeof c.index === 'number' ? c.index : 0;
      let st = this.choices.get(index);
      if (!st) {
        st = { index, message: {}, toolCalls: new Map(), finish_reason: null, logprobs: null };
        this.choices.set(index, st);
      }
      // `message`: a logger that stored a chunk in its final shape.
      const delta = (c.delta ?? c.message ?? {}) as Json;
      if (typeof delta.role === 'string') st.message.role = delta.role;
      for (const [k, v] of Object.entries(delta)) {
        if (DELTA_SKIP.has(k) || v === null || v === undefined) continue;
        if (typeof v === 'string') st.message[k] = String(st.message[k] ?? '') + v;
        else if (Array.isArray(v)) st.message[k] = [...((st.message[k] as unknown[]) ?? []), ...v];
        else st.message[k] = v;
      }
      for (const [pos, tc] of ((delta.tool_calls as Record<string, any>[]) ?? []).entries()) {
        const i = typeof tc.index === 'number' ? tc.index : pos;
        const cur = st.toolCalls.get(i) ?? { function: { arguments: '' } };
        if (tc.id) cur.id = tc.id;
        if (tc.type) cur.type = tc.type;
        // Some servers repeat the whole name in every chunk, others stream it in pieces.
        if (tc.function?.name && tc.function.name !== cur.function.name) cur.function.name = (cur.function.name ?? '') + tc.function.name;
        if (typeof tc.function?.arguments === 'string') cur.function.arguments += tc.function.arguments;
        st.toolCalls.set(i, cur);
      }
      if (c.finish_reason !== null && c.finish_reason !== undefined) st.finish_reason = c.finish_reason;
      if (c.logprobs?.content) st.logprobs = { content: [...(st.logprobs?.content ?? []), ...c.logprobs.content] };
    }
  }

  result(): AssembledResponse {
    if (!this.base) return { body: null, complete: false, error: this.error, usage: this.usage };
    const choices = [...this.choices.values()]
      .sort((a, b) => a.index - b.index)
      .map((st) => {
        const message: Record<string, unknown> = { role: 'assistant', content: null, ...st.message };
        if (st.toolCalls.size) {
          message.tool_calls = [...st.toolCalls.entries()]
            .sort((a, b) => a[0] - b[0])
            .map(([, tc]) => ({ id: tc.id, type: tc.type ?? 'function', function: { name: tc.function.name, arguments: tc.function.arguments } }));
        }
        return { index: st.index, message, logprobs: st.logprobs, finish_reason: st.finish_reason };
      });
    const body: Record<string, unknown> = { ...this.base, object: 'chat.completion', choices };
    if (this.usage !== undefined) body.usage = this.usage;
    const finished = choices.length > 0 && choices.every((c) => c.finish_reason !== null);
    return { body, complete: finished && !this.error, error: this.error, usage: this.usage };
  }
}

export function assemblerFor(protocol: 'anthropic' | 'openai'): StreamAssembler {
  return protocol === 'anthropic' ? new AnthropicAssembler() : new OpenAIAssembler();
}
