import { createHash } from 'node:crypto';
import { stableStringify } from '@trajgen/core';
import { joinTextParts } from '@trajgen/im';
import type { WireMessage } from './raw/call';
import { stripBillingHeader } from './messages';

/**
 * Canonical forms of request messages for the prefix dedup of a proxy log
 * (a request whose input is a prefix of a later one is dropped): `cache_control`, `signature`,
 * `generation` and thinking/reasoning are ignored; text compares the way it
 * is converted (blocks trimmed and joined, so a first user message sent as a
 * string or as blocks compares equal); the volatile `cch=<hex>;` token of the
 * system prompt is blanked; tool arguments compare as parsed values with
 * sorted keys; `""` and `null` content are the same.
 *
 * A message becomes a short list of "pieces" (tags and the original strings,
 * no copies of the large texts), and two messages are equal when their piece
 * lists are element-wise equal. That is LegoFlow-Trace-Crafter's sorted-key string
 * comparison without building the strings: comparing an input with the
 * previous record of its stream costs a memcmp of the shared prefix.
 */

export type Pieces = string[];

const CCH = /cch=[0-9a-fA-F]+;/g;
type Json = Record<string, any>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Tool-call arguments as a canonical string: compact JSON, so an `input`
 * sent as an object and the same input sent as a JSON string (with spaces)
 * compare equal. Key order is kept: a client resends a call as it stored it.
 * The same call recurs in every later request of its stream, so string forms
 * are remembered (bounded; cleared when full).
 */
const argsCache = new Map<string, string>();
function canonicalArgs(args: unknown): string {
  if (typeof args !== 'string') return JSON.stringify(args ?? {}) ?? 'null';
  let canonical = argsCache.get(args);
  if (canonical === undefined) {
    try {
      canonical = JSON.stringify(JSON.parse(args));
    } catch {
      canonical = args;
    }
    if (argsCache.size > 50_000) argsCache.clear();
    argsCache.set(args, canonical);
  }
  return canonical;
}

function imageSignature(b: Json): string {
  const data = b.source?.data ?? b.image_url?.url ?? b.source?.url ?? '';
  return `[image ${b.source?.media_type ?? ''} ${typeof data === 'string' ? `${data.length}:${data.slice(0, 64)}` : ''}]`;
}

/** Text of a tool result's content: a string, or its text blocks joined; images by a short signature. */
export function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === null || content === undefined ? '' : JSON.stringify(content);
  // The usual case, one text block: no array, no copy.
  if (content.length === 1 && isObject(content[0]) && typeof content[0].text === 'string') return content[0].text.trim();
  const parts: string[] = [];
  for (const b of content) {
    if (!isObject(b)) continue;
    if (typeof b.text === 'string') parts.push(b.text);
    else if (b.type === 'image' || b.type === 'image_url') parts.push(imageSignature(b));
  }
  return joinTextParts(parts);
}

function withoutVolatile(b: Json): Json {
  const { cache_control: _c, signature: _s, generation: _g, ...rest } = b;
  return rest;
}

class PieceBuilder {
  readonly out: Pieces;
  private texts: string[] = [];
  constructor(
    role: string,
    private readonly system: boolean,
  ) {
    this.out = [role];
  }
  text(t: unknown): void {
    if (typeof t === 'string') this.texts.push(t);
  }
  flush(): void {
    if (!this.texts.length) return;
    // One text block: trimmed (a substring, no copy); several: joined as the converter joins them.
    let joined = this.texts.length === 1 ? this.texts[0].trim() : joinTextParts(this.texts);
    this.texts = [];
    if (!joined) return;
    if (this.system && joined.includes('cch=')) joined = joined.replace(CCH, 'cch=;');
    // Claude Code's per-request billing hash line is not part of the prompt (see stripBillingHeader).
    if (this.system && joined.startsWith('x-anthropic-billing-header:')) joined = stripBillingHeader(joined).text;
    this.out.push('T', joined);
  }
  call(id: unknown, name: unknown, args: unknown): void {
    this.flush();
    this.out.push('U', String(id ?? ''), String(name ?? ''), canonicalArgs(args));
  }
  result(id: unknown, isError: unknown, content: unknown): void {
    this.flush();
    this.out.push('X', String(id ?? ''), isError ? '1' : '0', toolResultText(content));
  }
  other(b: Json): void {
    this.flush();
    this.out.push('O', b.type === 'image' || b.type === 'image_url' ? imageSignature(b) : stableStringify(withoutVolatile(b)));
  }
}

export function messagePieces(m: WireMessage): Pieces {
  const role = m.role === 'function' ? 'tool' : m.role;
  const p = new PieceBuilder(role, role === 'system');
  if (role === 'tool') {
    p.result(m.tool_call_id, false, m.content);
    return p.out;
  }
  const c = m.content;
  if (typeof c === 'string') p.text(c);
  else if (Array.isArray(c)) {
    for (const b of c) {
      if (typeof b === 'string') p.text(b);
      else if (!isObject(b)) continue;
      else if (b.type === 'text' || b.type === 'input_text' || b.type === 'output_text') p.text(b.text);
      else if (b.type === 'thinking' || b.type === 'redacted_thinking' || b.type === 'reasoning') continue;
      else if (b.type === 'tool_use' || b.type === 'server_tool_use') p.call(b.id, b.name, b.input);
      else if (b.type === 'tool_result') p.result(b.tool_use_id, b.is_error, b.content);
      else p.other(b);
    }
  }
  if (Array.isArray(m.tool_calls)) {
    for (const t of m.tool_calls) if (isObject(t)) p.call(t.id, t.function?.name, t.function?.arguments);
  }
  p.flush();
  return p.out;
}

export function samePieces(a: Pieces, b: Pieces): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Is `a` (a list of messages' pieces) a prefix of `b`? Equal lists count. */
export function isPrefix(a: readonly Pieces[], b: readonly Pieces[]): boolean {
  if (a.length > b.length) return false;
  // Last message first: inputs of different streams usually differ there, so mismatches exit early.
  for (let i = a.length - 1; i >= 0; i--) if (!samePieces(a[i], b[i])) return false;
  return true;
}

/** A digest of message pieces: only to order records deterministically when their request times tie. */
export function piecesDigest(messages: readonly Pieces[], response?: Pieces): string {
  const h = createHash('sha256');
  for (const m of [...messages, ...(response ? [response] : [])]) {
    h.update('\u0002');
    for (const piece of m) {
      h.update(`${piece.length}:`);
      h.update(piece);
    }
  }
  return h.digest('hex');
}

// ------------------------------------------------------------------ lazy comparison

const isEmpty = (c: unknown) => c === undefined || c === null || c === '';

/** Same JSON value with the same key order (what the compact-JSON pieces compare), without building strings. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i] || !sameJson((a as Json)[ka[i]], (b as Json)[kb[i]])) return false;
  return true;
}

function sameResultContent(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return isEmpty(a) && isEmpty(b);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (!isObject(x) || !isObject(y) || x.type !== y.type || typeof x.text !== 'string' || x.text !== y.text) return false;
  }
  return true;
}

function sameBlock(x: unknown, y: unknown): boolean {
  if (!isObject(x) || !isObject(y) || x.type !== y.type) return false;
  switch (x.type) {
    case 'text':
    case 'input_text':
    case 'output_text':
      return typeof x.text === 'string' && x.text === y.text;
    case 'thinking':
    case 'redacted_thinking':
    case 'reasoning':
      return true;
    case 'tool_use':
    case 'server_tool_use':
      return x.id === y.id && x.name === y.name && sameJson(x.input, y.input);
    case 'tool_result':
      return x.tool_use_id === y.tool_use_id && Boolean(x.is_error) === Boolean(y.is_error) && sameResultContent(x.content, y.content);
    default:
      return false;
  }
}

/**
 * True only when two messages are certainly equal under the pieces rules —
 * the usual case, a message resent unchanged — without computing pieces;
 * false means "compare the pieces".
 */
export function surelySame(a: WireMessage, b: WireMessage): boolean {
  if (a === b) return true;
  const ra = a.role === 'function' ? 'tool' : a.role;
  const rb = b.role === 'function' ? 'tool' : b.role;
  if (ra !== rb) return false;
  if (ra === 'tool') return a.tool_call_id === b.tool_call_id && sameResultContent(a.content, b.content);
  const ca = a.content;
  const cb = b.content;
  if (!(isEmpty(ca) && isEmpty(cb))) {
    if (typeof ca === 'string' || typeof cb === 'string') {
      if (ca !== cb) return false;
    } else {
      if (!Array.isArray(ca) || !Array.isArray(cb) || ca.length !== cb.length) return false;
      for (let i = 0; i < ca.length; i++) if (!sameBlock(ca[i], cb[i])) return false;
    }
  }
  const ta = a.tool_calls;
  const tb = b.tool_calls;
  const na = Array.isArray(ta) ? ta.length : 0;
  const nb = Array.isArray(tb) ? tb.length : 0;
  if (na !== nb) return false;
  for (let i = 0; i < na; i++) {
    const x = ta![i] as Json;
    const y = tb![i] as Json;
    if (!isObject(x) || !isObject(y) || x.id !== y.id || x.function?.name !== y.function?.name || !sameJson(x.function?.arguments, y.function?.arguments)) return false;
  }
  return true;
}

/** A request's messages with their pieces computed only when a comparison needs them. */
export class LazyInput {
  private readonly pieces: (Pieces | undefined)[];
  constructor(readonly messages: readonly WireMessage[]) {
    this.pieces = new Array(messages.length);
  }
  get length(): number {
    return this.messages.length;
  }
  at(i: number): Pieces {
    return (this.pieces[i] ??= messagePieces(this.messages[i]));
  }
  all(): Pieces[] {
    return this.messages.map((_, i) => this.at(i));
  }
  same(i: number, other: LazyInput, j = i): boolean {
    return surelySame(this.messages[i], other.messages[j]) || samePieces(this.at(i), other.at(j));
  }
}

/** Is `a` a prefix of `b` (equal counts)? The last message first: different streams differ there, so mismatches exit early. */
export function isPrefixLazy(a: LazyInput, b: LazyInput): boolean {
  if (a.length > b.length) return false;
  for (let i = a.length - 1; i >= 0; i--) if (!a.same(i, b)) return false;
  return true;
}
