import { IM_VERSION, type ImMessage } from './types';
import { splitLeadingThink } from './normalise';

/**
 * The prior art's validators (LegoFlow-Trace-Crafter's utils.py check_roles /
 * check_tool_calls / check_reasoning_content: role order, tool calls on every
 * assistant turn but the last, reasoning present) plus a structural
 * check of the documented row shape. A row that fails any of them is not
 * training data; the convert stage drops the whole instance it came from.
 */

export type ReasoningCheck = 'fast' | 'strict' | 'adaptive';

/** Why a row is invalid; the convert stage counts drops by these names. */
export type ValidationReason = 'format' | 'role_order' | 'missing_tool_calls' | 'reasoning' | 'terminus_json';

export interface ValidationProblem {
  reason: ValidationReason;
  message: string;
  /** Index into `messages`, when the problem is one message. */
  index?: number;
}

export interface ValidationOptions {
  reasoningCheck?: ReasoningCheck;
  /** adaptive: share of assistant turns that must carry reasoning (default 0.2). */
  reasoningRatio?: number;
  /**
   * terminus-2 rows are plain text: strict user/assistant alternation and
   * every assistant turn a JSON object, instead of the tool-call and
   * reasoning checks (as in LegoFlow-Trace-Crafter).
   */
  textProtocol?: 'terminus-json' | 'terminus-summary';
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

function formatProblems(row: unknown): ValidationProblem[] {
  const p: ValidationProblem[] = [];
  const bad = (message: string, index?: number) => p.push({ reason: 'format', message, index });
  if (!isObject(row)) return [{ reason: 'format', message: 'row is not an object' }];
  const keys = Object.keys(row);
  if (keys.join(',') !== 'version,meta_info,tools,messages') bad(`top-level keys must be version, meta_info, tools, messages (found ${keys.join(', ')})`);
  if (row.version !== IM_VERSION) bad(`version must be "${IM_VERSION}"`);
  const meta = row.meta_info;
  if (!isObject(meta)) bad('meta_info must be an object');
  else {
    for (const k of ['teacher', 'query_source', 'owner', 'language', 'category']) if (typeof meta[k] !== 'string') bad(`meta_info.${k} must be a string`);
    for (const k of ['response_generate_time', 'response_update_time']) if (typeof meta[k] !== 'string' || !DATE.test(meta[k] as string)) bad(`meta_info.${k} must be a YYYY-MM-DD date`);
    const ui = meta.unique_info;
    if (!isObject(ui)) bad('meta_info.unique_info must be an object');
    else {
      if (typeof ui._instance_id !== 'string' || !ui._instance_id) bad('unique_info._instance_id must be a non-empty string');
      if (ui._agent_type !== 'main' && ui._agent_type !== 'subagent') bad('unique_info._agent_type must be "main" or "subagent"');
      if (!(ui._score === null || isObject(ui._score))) bad('unique_info._score must be null or an object');
      if (!isObject(ui._gen_params)) bad('unique_info._gen_params must be an object');
      if (!isObject(ui._usage)) bad('unique_info._usage must be an object');
    }
  }
  if (!Array.isArray(row.tools)) bad('tools must be an array');
  else
    row.tools.forEach((t, i) => {
      const fn = isObject(t) ? t.function : undefined;
      if (!isObject(t) || t.type !== 'function' || !isObject(fn) || typeof fn.name !== 'string' || typeof fn.description !== 'string' || !isObject(fn.parameters)) {
        bad(`tools[${i}] must be {type:"function", function:{name, description, parameters}}`);
      }
    });
  if (!Array.isArray(row.messages) || row.messages.length === 0) {
    bad('messages must be a non-empty array');
    return p;
  }
  let assistants = 0;
  row.messages.forEach((m, i) => {
    if (!isObject(m)) return bad(`messages[${i}] is not an object`, i);
    if (!ROLES.has(m.role as string)) bad(`messages[${i}].role ${JSON.stringify(m.role)} is not one of system, developer, user, assistant, tool`, i);
    if (typeof m.content !== 'string') bad(`messages[${i}].content must be a string`, i);
    if (m.role === 'assistant') {
      assistants++;
      if (typeof m.reasoning_content !== 'string') bad(`messages[${i}].reasoning_content must be a string`, i);
      if (m.tool_calls !== undefined) {
        if (!Array.isArray(m.tool_calls)) return bad(`messages[${i}].tool_calls must be an array`, i);
        m.tool_calls.forEach((c, k) => {
          const fn = isObject(c) ? c.function : undefined;
          if (!isObject(c) || typeof c.id !== 'string' || !c.id || c.type !== 'function' || !isObject(fn) || typeof fn.name !== 'string' || typeof fn.arguments !== 'string') {
            return bad(`messages[${i}].tool_calls[${k}] must be {id, type:"function", function:{name, arguments}}`, i);
          }
          try {
            JSON.parse(fn.arguments);
          } catch {
            bad(`messages[${i}].tool_calls[${k}].function.arguments is not JSON`, i);
          }
        });
      }
    } else if (m.role === 'tool') {
      if (typeof m.tool_call_id !== 'string') bad(`messages[${i}].tool_call_id must be a string`, i);
    }
  });
  if (isObject(meta) && meta.rounds !== assistants) bad(`meta_info.rounds must be the number of assistant messages (${assistants})`);
  return p;
}

/** Role order: optional leading system; first user, last assistant; user→assistant, assistant→tool|user, tool→tool|assistant. */
export function checkRoles(messages: readonly { role: string }[]): ValidationProblem | undefined {
  const fail = (message: string, index?: number): ValidationProblem => ({ reason: 'role_order', message, index });
  if (!messages.length) return fail('no messages');
  const start = messages[0].role === 'system' || messages[0].role === 'developer' ? 1 : 0;
  if (start >= messages.length) return fail('nothing after the system message');
  if (messages[start].role !== 'user') return fail(`the first message after the system prompt must be user, found ${messages[start].role}`, start);
  const last = messages[messages.length - 1].role;
  if (last !== 'assistant') return fail(`the last message must be assistant, found ${last}`, messages.length - 1);
  for (let i = start + 1; i < messages.length; i++) {
    const prev = messages[i - 1].role;
    const role = messages[i].role;
    const ok =
      prev === 'user' ? role === 'assistant' : prev === 'assistant' ? role === 'tool' || role === 'user' : prev === 'tool' ? role === 'tool' || role === 'assistant' : false;
    if (!ok) return fail(`${prev} followed by ${role} at message ${i}`, i);
  }
  return undefined;
}

/** Every assistant turn except the last calls a tool. */
export function checkToolCalls(messages: readonly ImMessage[]): ValidationProblem | undefined {
  let lastAssistant = -1;
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'assistant') {
    lastAssistant = i;
    break;
  }
  for (let i = 0; i < lastAssistant; i++) {
    const m = messages[i];
    if (m.role === 'assistant' && !m.tool_calls?.length) return { reason: 'missing_tool_calls', message: `assistant message ${i} is not the last one and calls no tool`, index: i };
  }
  return undefined;
}

/**
 * Reasoning presence. A row without any reasoning is a "fast" (non-thinking)
 * trajectory and passes in every mode, as in LegoFlow-Trace-Crafter; `fast` checks
 * nothing; `strict` requires reasoning on every assistant turn of a thinking
 * row; `adaptive` requires it on at least `ratio` of them.
 */
export function checkReasoning(messages: readonly ImMessage[], mode: ReasoningCheck, ratio = 0.2): ValidationProblem | undefined {
  if (mode === 'fast') return undefined;
  let total = 0;
  let withReasoning = 0;
  let firstMissing = -1;
  messages.forEach((m, i) => {
    if (m.role !== 'assistant') return;
    total++;
    if (m.reasoning_content && m.reasoning_content.trim()) withReasoning++;
    else if (firstMissing < 0) firstMissing = i;
  });
  if (withReasoning === 0) return undefined;
  if (mode === 'strict' && withReasoning < total) {
    return { reason: 'reasoning', message: `strict: assistant message ${firstMissing} has no reasoning_content (${withReasoning}/${total} have it)`, index: firstMissing };
  }
  if (mode === 'adaptive' && withReasoning / total < ratio) {
    return { reason: 'reasoning', message: `adaptive: ${withReasoning}/${total} assistant turns have reasoning_content, below the threshold ${ratio}` };
  }
  return undefined;
}

/**
 * terminus-2 text protocol: strict user/assistant alternation, each assistant
 * turn a JSON object. `freeTextLast`: a context-summarisation sub-agent
 * (summary, questions, answers) ends with its free-text answer, not a command.
 */
export function checkTerminusJson(messages: readonly ImMessage[], freeTextLast = false): ValidationProblem | undefined {
  const start = messages[0]?.role === 'system' ? 1 : 0;
  for (let i = start; i < messages.length; i++) {
    const expected = (i - start) % 2 === 0 ? 'user' : 'assistant';
    if (messages[i].role !== expected) return { reason: 'role_order', message: `expected ${expected} at message ${i}, found ${messages[i].role}`, index: i };
  }
  if (messages[messages.length - 1]?.role !== 'assistant') return { reason: 'role_order', message: 'the last message must be assistant' };
  for (let i = start + 1; i < messages.length; i += 2) {
    const text = splitLeadingThink(messages[i].content)[1].trim();
    if (freeTextLast && i === messages.length - 1) {
      if (!text) return { reason: 'terminus_json', message: `the summarisation answer (message ${i}) is empty`, index: i };
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return { reason: 'terminus_json', message: `assistant message ${i} is not JSON (${(e as Error).message})`, index: i };
    }
    if (!isObject(value)) return { reason: 'terminus_json', message: `assistant message ${i} is JSON but not an object`, index: i };
  }
  return undefined;
}

/** All problems of a row: format first (a malformed row gets no further checks), then the content rules. */
export function validateImRow(row: unknown, options: ValidationOptions = {}): ValidationProblem[] {
  const format = formatProblems(row);
  if (format.length) return format;
  const messages = (row as { messages: ImMessage[] }).messages;
  const problems: ValidationProblem[] = [];
  if (options.textProtocol === 'terminus-json' || options.textProtocol === 'terminus-summary') {
    const t = checkTerminusJson(messages, options.textProtocol === 'terminus-summary');
    if (t) problems.push(t);
    return problems;
  }
  const roles = checkRoles(messages);
  if (roles) problems.push(roles);
  const calls = checkToolCalls(messages);
  if (calls) problems.push(calls);
  const reasoning = checkReasoning(messages, options.reasoningCheck ?? 'adaptive', options.reasoningRatio ?? 0.2);
  if (reasoning) problems.push(reasoning);
  return problems;
}
