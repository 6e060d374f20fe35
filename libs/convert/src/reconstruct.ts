import { toolPropertyOrders, type ImMessage } from '@trajgen/im';
import { readLines } from './jsonl';
import { addUsage, emptyUsage, readCall, systemText, toolNames, type Call, type Usage } from './raw/call';
import { isPrefixLazy, LazyInput, piecesDigest } from './fingerprint';
import { removeToolUseErrorTurns, trimTrailingTools, wireToIm, assistantToIm, reasoningOfWire, callIdsKey, emptyHarnessCounts, stripBillingHeader, type HarnessCounts } from './messages';
import type { WireMessage } from './raw/call';
import { ConvertRejection } from './types';

/**
 * Conversations from a proxy log (the prefix dedup of MiniMax-AI/mini-vela and
 * LegoFlow-Trace-Crafter):
 *  1. drop failed calls (`success:false`, or no response message);
 *  2. drop every record whose normalised input is a prefix of the input of a
 *     record made later (by request time; ties broken by content, so the
 *     order of the lines in the file never matters) — what remains is the
 *     final context of each independent stream: the main agent, each
 *     sub-agent, each post-compaction segment;
 *  3. drop side calls: ≤ 2 input messages (warm-ups, title/topic calls),
 *     compaction summary requests (a summariser system prompt or "Your task is
 *     to create a detailed summary…" as the last user turn: not agent
 *     behaviour, and their rows would fail validation and drop the whole
 *     instance) and, for OpenCode, title-generator calls;
 *  4. exact duplicates are removed at the row level by the caller.
 *
 * One streaming pass: each record is compared with the few streams still
 * open (a prefix test costs a comparison of the shared prefix, no hashing),
 * and a record another one extends is released at once, handing its usage
 * and its response's reasoning to the record that extends it. Memory: the
 * open streams' last records — at most the log itself, in practice one
 * record per stream.
 */

export interface RecordFacts {
  lineNo: number;
  requestTime: number;
  timestamp?: string;
  nInput: number;
  tools: string[];
  /** An auxiliary call recognised by its prompt: OpenCode's title generator, a compaction summary request. */
  auxiliary?: 'title' | 'compaction';
  /** The client said so itself (Claude Code's `cc_is_subagent=true` in the billing header line). */
  claimsSubagent?: boolean;
}

export interface LogCounts {
  /** Non-empty lines read. */
  lines: number;
  /** Lines that are not JSON or not a model call. */
  bad_lines: number;
  failed_calls: number;
  /** Successful calls whose response carried no assistant message. */
  no_response: number;
  /** Records whose input is a prefix of a later record's. */
  prefix_records: number;
  /** Warm-ups, title generators, compaction requests, calls with ≤ 2 input messages. */
  side_calls: number;
}

export interface Survivor {
  facts: RecordFacts;
  call: Call;
  /** IM messages of the whole conversation: the request's, then the response. */
  messages: ImMessage[];
  /** Tool-use error turns removed (with the assistant turn that caused them, as the prior art does). */
  errorTurnsRemoved: number;
  /** Usage summed over every call of this stream (the records it extends, itself included). */
  usage: Usage;
  /** Harness text removed while converting (billing header lines, reminders in tool turns). */
  removed: HarnessCounts;
}

export interface Reconstruction {
  counts: LogCounts;
  survivors: Survivor[];
  /** Usage of every successful call of the log. */
  totalUsage: Usage;
}

export interface ReconstructOptions {
  /** Which surviving records are side calls (default: ≤ 2 input messages or a compaction request). */
  sideCall?: (r: RecordFacts) => boolean;
  /** Keep only the last successful record (OpenHands SDK: each request carries the whole history). */
  lastRecordOnly?: boolean;
  /** How the file is named in a damaged_trajectory message (default: its path). */
  source?: string;
}

/**
 * A log with a line that is not a model call, a cut-off last line, or a
 * successful call without a response is not converted as if complete: the
 * calls it lost may be any turn of any stream (the prior art's dedup would
 * silently build a shorter conversation from the rest).
 */
function damaged(source: string, lineNo: number, what: string, last: boolean): ConvertRejection {
  const where = last ? `line ${lineNo} (the last)` : `line ${lineNo}`;
  const hint = last && what.startsWith('not JSON') ? ' — the file was cut off mid-write (a killed proxy or a full disk)' : '';
  return new ConvertRejection('damaged_trajectory', `${source} ${where}: ${what}${hint}; the trial is dropped rather than converted from what is left`);
}

const TITLE_GENERATOR = /title generator/i;
/** Claude Code's and OpenCode's compaction calls: a summariser system prompt, or the summary instruction as the last user turn. */
const SUMMARISER_SYSTEM = /^\s*You are a helpful AI assistant tasked with summarizing conversations/;
const SUMMARY_REQUEST = /^\s*Your task is to create a detailed summary of the conversation so far/;

function lastUserText(call: Call): string {
  for (let i = call.messages.length - 1; i >= 0; i--) {
    const m = call.messages[i];
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      for (let k = m.content.length - 1; k >= 0; k--) {
        const b = m.content[k] as { type?: string; text?: unknown };
        if (b && typeof b.text === 'string' && (b.type === 'text' || b.type === undefined)) return b.text;
      }
    }
    return '';
  }
  return '';
}

function auxiliaryKind(call: Call): RecordFacts['auxiliary'] {
  const system = systemText(call.messages).slice(0, 4000);
  if (TITLE_GENERATOR.test(system)) return 'title';
  if (SUMMARISER_SYSTEM.test(system) || SUMMARY_REQUEST.test(lastUserText(call))) return 'compaction';
  return undefined;
}

/** An open stream: its latest record, what that record carries forward. */
interface Open {
  facts: RecordFacts;
  call: Call;
  input: LazyInput;
  /** The response as a one-message input, to compare with the history of the records that extend this one. */
  response: LazyInput;
  reasoning: string;
  /** Reasoning of earlier turns, by message index, from the responses of the records this one extends. */
  restored: Map<number, string>;
  /** Reasoning of the responses this stream absorbed, by their tool-call ids. */
  byCallIds: Map<string, string>;
  usage: Usage;
  tie?: string;
}

/** Tool-call ids of an assistant wire message (Anthropic tool_use blocks or OpenAI tool_calls). */
function callIds(m: WireMessage): string[] {
  const ids: string[] = [];
  if (Array.isArray(m.content)) for (const b of m.content as { type?: string; id?: unknown }[]) if (b && (b.type === 'tool_use' || b.type === 'server_tool_use') && typeof b.id === 'string') ids.push(b.id);
  if (Array.isArray(m.tool_calls)) for (const t of m.tool_calls as { id?: unknown }[]) if (t && typeof t.id === 'string') ids.push(t.id);
  return ids;
}

function tieKey(o: Open): string {
  return (o.tie ??= piecesDigest(o.input.all(), o.response.at(0)));
}

/** Did `a` happen before `b`? Request time, then the shorter input, then content (never the file order). */
function earlier(a: Open, b: Open): boolean {
  if (a.facts.requestTime !== b.facts.requestTime) return a.facts.requestTime < b.facts.requestTime;
  if (a.input.length !== b.input.length) return a.input.length < b.input.length;
  return tieKey(a) < tieKey(b);
}

/** `later` extends `gone`: take over its usage, and the reasoning of its response where the history lost it. */
function absorb(later: Open, gone: Open): void {
  addUsage(later.usage, gone.usage);
  for (const [i, r] of gone.restored) if (!later.restored.has(i)) later.restored.set(i, r);
  for (const [k, r] of gone.byCallIds) if (!later.byCallIds.has(k)) later.byCallIds.set(k, r);
  const ids = gone.reasoning && gone.call.response ? callIds(gone.call.response) : [];
  if (ids.length && !later.byCallIds.has(callIdsKey(ids))) later.byCallIds.set(callIdsKey(ids), gone.reasoning);
  const at = gone.input.length;
  if (gone.reasoning && at < later.input.length && !later.restored.has(at) && gone.response.same(0, later.input, at)) later.restored.set(at, gone.reasoning);
}

/** A successful call as an open stream of its own. */
function openRecord(call: Call, response: NonNullable<Call['response']>, lineNo: number): Open {
  return {
    facts: { lineNo, requestTime: call.requestTime, timestamp: call.timestamp, nInput: call.nInput, tools: toolNames(call.tools) },
    call,
    input: new LazyInput(call.messages),
    response: new LazyInput([{ ...response, role: 'assistant' }]),
    reasoning: reasoningOfWire(response),
    restored: new Map(),
    byCallIds: new Map(),
    usage: { ...emptyUsage(), ...(call.usage ?? {}) },
  };
}

/** The open streams once `rec` has joined them: the ones it extends are absorbed into it, or it into the one that extends it. */
function mergeIntoOpen(open: Open[], rec: Open, counts: LogCounts): Open[] {
  // Open streams this record extends are released into it …
  const still: Open[] = [];
  for (const o of open) {
    if (o.input.length <= rec.input.length && earlier(o, rec) && isPrefixLazy(o.input, rec.input)) {
      absorb(rec, o);
      counts.prefix_records++;
    } else still.push(o);
  }
  // … and a record a later open stream extends is released into that one.
  const host = still.find((o) => o.input.length >= rec.input.length && earlier(rec, o) && isPrefixLazy(rec.input, o.input));
  if (host) {
    absorb(host, rec);
    counts.prefix_records++;
  } else still.push(rec);
  return still;
}

/** The streams that are not side calls (tiny inputs, compaction), counting the ones dropped. */
function withoutSideCalls(streams: Open[], options: ReconstructOptions, counts: LogCounts): Open[] {
  const isSide = options.sideCall ?? ((r: RecordFacts) => r.nInput <= 2 || r.auxiliary === 'compaction');
  return streams.filter((o) => {
    o.facts.auxiliary = auxiliaryKind(o.call);
    const side = isSide(o.facts);
    if (side) counts.side_calls++;
    return !side;
  });
}

/** A kept stream's conversation in IM form, with its reasoning restored and harness turns cleaned away. */
function survivorOf(o: Open, usage: Usage): Survivor {
  const call = o.call;
  const removed = emptyHarnessCounts();
  o.facts.claimsSubagent = stripBillingHeader(systemText(call.messages).slice(0, 2000)).subagent;
  const ctx = { orders: toolPropertyOrders(call.tools), restoredReasoning: o.restored, reasoningByCallIds: o.byCallIds, removed };
  let messages = wireToIm(call.messages, ctx);
  const final = call.response ? assistantToIm(call.response, ctx) : undefined;
  if (final) messages.push(final);
  const cleaned = removeToolUseErrorTurns(messages);
  messages = trimTrailingTools(cleaned.messages);
  return { facts: o.facts, call, messages, errorTurnsRemoved: cleaned.removed, usage, removed };
}

export function reconstructFromLog(path: string, options: ReconstructOptions = {}): Reconstruction {
  const counts: LogCounts = { lines: 0, bad_lines: 0, failed_calls: 0, no_response: 0, prefix_records: 0, side_calls: 0 };
  const totalUsage = emptyUsage();
  let open: Open[] = [];
  let last: Open | undefined;
  const source = options.source ?? path;
  let unreadable: { lineNo: number; what: string } | undefined;
  for (const line of readLines(path)) {
    counts.lines++;
    if (unreadable) throw damaged(source, unreadable.lineNo, unreadable.what, false);
    let parsed: unknown;
    try {
      parsed = JSON.parse(line.text);
    } catch (e) {
      counts.bad_lines++;
      unreadable = { lineNo: line.lineNo, what: `not JSON (${(e as Error).message})` };
      continue;
    }
    const call = readCall(parsed);
    if ('problem' in call) {
      counts.bad_lines++;
      unreadable = { lineNo: line.lineNo, what: `not a model call (${call.problem})` };
      continue;
    }
    if (!call.success) {
      counts.failed_calls++;
      continue;
    }
    if (!call.response) {
      counts.no_response++;
      throw damaged(source, line.lineNo, 'a successful call without a response message', false);
    }
    addUsage(totalUsage, call.usage);
    const rec = openRecord(call, call.response, line.lineNo);
    if (options.lastRecordOnly) {
      if (last && earlier(rec, last)) counts.prefix_records++;
      else {
        if (last) counts.prefix_records++;
        last = rec;
      }
      continue;
    }
    open = mergeIntoOpen(open, rec, counts);
  }

  if (unreadable) throw damaged(source, unreadable.lineNo, unreadable.what, true);
  const kept = options.lastRecordOnly ? (last ? [last] : []) : withoutSideCalls(open.sort((a, b) => (earlier(a, b) ? -1 : earlier(b, a) ? 1 : 0)), options, counts);
  const survivors = kept.map((o) => survivorOf(o, options.lastRecordOnly ? totalUsage : o.usage));
  return { counts, survivors, totalUsage };
}
