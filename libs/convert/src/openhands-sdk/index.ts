import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolPropertyOrders, type ImMessage } from '@trajgen/im';
import { reconstructFromLog } from '../reconstruct';
import { assistantToIm, wireToIm, trimTrailingTools, reasoningOfWire } from '../messages';
import { addUsage, emptyUsage, readUsage, type GenParams, type WireMessage } from '../raw/call';
import { countsOf } from '../proxy-conversations';
import { ConvertRejection, type Conversation, type ScaffoldOutput } from '../types';
import { isTextToolMode, textModeToToolCalls } from './nonfc';

/**
 * OpenHands SDK: the SDK keeps its whole history in every request, so the
 * prior art (LegoFlow-Trace-Crafter) takes the LAST successful
 * record — from the proxy log, or (the older "chaofan" source) from the
 * per-call LiteLLM completion logs `agent/completions/*.json`. Text-mode
 * (non-function-calling) runs are turned back into native tool calls.
 */

type Json = Record<string, any>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function finish(messages: ImMessage[], tools: unknown[]): { messages: ImMessage[]; tools: unknown[]; textMode: boolean } {
  if (!isTextToolMode(messages)) return { messages: trimTrailingTools(messages), tools, textMode: false };
  const converted = textModeToToolCalls(messages, tools);
  return { messages: trimTrailingTools(converted.messages), tools: converted.tools, textMode: true };
}

/** From `agent/litellm-trajectory.jsonl`: the last successful record with a response. */
export function convertOpenHandsProxyLog(path: string, source: string): ScaffoldOutput {
  const rec = reconstructFromLog(path, { lastRecordOnly: true, source });
  const s = rec.survivors[0];
  if (!s) throw new ConvertRejection('empty_trajectory', `${source} has no successful call with a response (${rec.counts.lines} lines, ${rec.counts.failed_calls} failed)`);
  const { messages, tools, textMode } = finish(s.messages, s.call.tools);
  const conversation: Conversation = {
    messages,
    tools,
    agentType: 'main',
    genParams: s.call.params,
    usage: rec.totalUsage,
    extra: textMode ? { _tool_mode: 'text' } : undefined,
    timestamp: s.call.timestamp,
  };
  return { conversations: [conversation], source, counts: countsOf(rec) };
}

/** Timestamp of a per-call log: the `timestamp` field, else the number at the end of its file name. */
function callTime(name: string, log: Json): number {
  if (typeof log.timestamp === 'number') return log.timestamp;
  const m = /-(\d+(?:\.\d+)?)\.json$/.exec(name);
  return m ? Number(m[1]) : 0;
}

export interface PerCallLog {
  name: string;
  /** The parsed log, or a loader: files are parsed one at a time and only the latest is kept. */
  log?: Json;
  load?: () => unknown;
}

/** Is this JSON a LiteLLM per-call completion log (OpenHands `LLM_LOG_COMPLETIONS`)? */
export function isPerCallLog(value: unknown): value is Json {
  return isObject(value) && Array.isArray(value.messages) && isObject(value.response) && !('request_body' in value);
}

interface CallSummary {
  name: string;
  t: number;
  reasoning?: string;
}

const later = (a: { t: number; name: string }, b: { t: number; name: string }) => a.t > b.t || (a.t === b.t && a.name > b.name);

/**
 * The last call's request (`raw_messages`, the native form, when the log has
 * it) plus its response; each call's reasoning attached to the i-th assistant
 * turn where the history lost it. One pass over the files, keeping only the
 * latest parsed log (every log repeats the whole history).
 */
export function convertPerCallLogs(logs: PerCallLog[], source: string): ScaffoldOutput {
  const usage = emptyUsage();
  const answered: CallSummary[] = [];
  let best: { t: number; name: string; log: Json } | undefined;
  let bad = 0;
  let valid = 0;
  for (const entry of logs) {
    let log: unknown;
    try {
      log = entry.log ?? entry.load?.();
    } catch (e) {
      // A cut-off call log: the call it held may be any turn (its reasoning, or the last one).
      throw new ConvertRejection('damaged_trajectory', `agent/completions/${entry.name} is not JSON (${(e as Error).message}); the trial is dropped rather than converted from what is left`);
    }
    if (!isPerCallLog(log)) {
      bad++;
      continue;
    }
    valid++;
    const t = callTime(entry.name, log);
    addUsage(usage, readUsage(log.response?.usage, log.cost));
    const message = Array.isArray(log.response?.choices) ? log.response.choices[0]?.message : undefined;
    if (!isObject(message)) continue;
    answered.push({ name: entry.name, t, reasoning: reasoningOfWire({ ...message, role: 'assistant' } as WireMessage) });
    if (!best || later({ t, name: entry.name }, best)) best = { t, name: entry.name, log };
  }
  if (!best) throw new ConvertRejection('empty_trajectory', `${source}: no completion log with a response choice (${logs.length} files)`);
  const log = best.log;
  const wire: WireMessage[] = (Array.isArray(log.raw_messages) && log.raw_messages.length ? log.raw_messages : log.messages).filter(isObject) as WireMessage[];
  const tools: unknown[] = Array.isArray(log.tools) ? log.tools : Array.isArray(log.kwargs?.tools) ? log.kwargs.tools : [];
  const ctx = { orders: toolPropertyOrders(tools) };
  const response = { ...(log.response.choices[0].message as Json), role: 'assistant' } as WireMessage;
  const messages = wireToIm(wire, ctx);
  const final = assistantToIm(response, ctx);
  if (final) messages.push(final);
  // Call i produced the i-th assistant turn: give it back its reasoning.
  answered.sort((a, b) => (later(a, b) ? 1 : later(b, a) ? -1 : 0));
  let turn = 0;
  for (const m of messages) {
    if (m.role !== 'assistant') continue;
    const r = answered[turn]?.reasoning;
    if (!m.reasoning_content && r) m.reasoning_content = r;
    turn++;
  }
  const result = finish(messages, tools);
  const kwargs = isObject(log.kwargs) ? log.kwargs : {};
  const genParams: GenParams = {};
  const model = typeof kwargs.model === 'string' ? kwargs.model : log.response?.model;
  if (typeof model === 'string') genParams.model = model;
  const max = kwargs.max_tokens ?? kwargs.max_completion_tokens;
  if (typeof max === 'number') genParams.max_tokens = max;
  if (typeof kwargs.top_p === 'number') genParams.top_p = kwargs.top_p;
  if (typeof kwargs.temperature === 'number') genParams.temperature = kwargs.temperature;
  const ts = typeof log.timestamp === 'number' ? new Date(log.timestamp * 1000).toISOString() : undefined;
  return {
    conversations: [
      {
        messages: result.messages,
        tools: result.tools,
        agentType: 'main',
        genParams,
        usage,
        extra: result.textMode ? { _tool_mode: 'text' } : undefined,
        timestamp: ts,
      },
    ],
    source,
    counts: { lines: logs.length, bad_lines: bad, no_response: valid - answered.length, conversations: 1 },
  };
}

/** A trial's OpenHands SDK input: the proxy log if present, else `agent/completions/*.json`. */
export function convertOpenHandsTrial(trialDir: string): ScaffoldOutput {
  const proxyLog = join(trialDir, 'agent', 'litellm-trajectory.jsonl');
  if (existsSync(proxyLog)) return convertOpenHandsProxyLog(proxyLog, 'agent/litellm-trajectory.jsonl');
  const dir = join(trialDir, 'agent', 'completions');
  if (existsSync(dir)) {
    const logs: PerCallLog[] = readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort()
      .map((name) => ({ name, load: () => JSON.parse(readFileSync(join(dir, name), 'utf8')) }));
    return convertPerCallLogs(logs, 'agent/completions/*.json');
  }
  throw new ConvertRejection('no_trajectory', 'no agent/litellm-trajectory.jsonl and no agent/completions/*.json');
}
