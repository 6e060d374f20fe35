import { pyRepr } from './pyrepr';

/**
 * A validator equivalent to LLaMA-Factory's ShareGPT path (v0.9.3 – v0.9.5):
 * `SharegptDatasetConverter.__call__` (system extraction, role alternation,
 * message count), the supervised processor's keep filter, the loader's "Cannot
 * find valid samples", and the errors that abort a run while rendering (bad
 * `function_call` or `tools` JSON). The kept/dropped cases are the spec's table of
 * role sequences (validate.spec.ts).
 *
 * Per row it reports whether LLaMA-Factory trains on it (`kept`), the warning
 * lines LLaMA-Factory would log for it (`logs`), errors that would abort the
 * whole run (`errors`), and lints: legal data that is probably not what was
 * meant (`lints`). Log payloads are Python reprs like LLaMA-Factory's, cut at
 * `logLimit` characters.
 */

export interface ShareGptTags {
  role_tag: string;
  content_tag: string;
  user_tag: string;
  assistant_tag: string;
  observation_tag: string;
  function_tag: string;
  system_tag: string;
}

/** LLaMA-Factory's `DatasetAttr` defaults for ShareGPT tags (`from`/`value`, human/gpt/observation/function_call/system). */
export const DEFAULT_SHAREGPT_TAGS: ShareGptTags = {
  role_tag: 'from',
  content_tag: 'value',
  user_tag: 'human',
  assistant_tag: 'gpt',
  observation_tag: 'observation',
  function_tag: 'function_call',
  system_tag: 'system',
};

export interface ShareGptColumns {
  /** Default `conversations`. */
  messages: string;
  /** Not read unless declared (LLaMA-Factory default). */
  system?: string;
  /** Not read unless declared: tools are ignored without it. */
  tools?: string;
}

export interface ShareGptValidateOptions {
  tags?: Partial<ShareGptTags>;
  columns?: Partial<ShareGptColumns>;
  /** Template thought words (default `<think>\n` … `\n</think>\n\n`). */
  thoughtWords?: [string, string];
  /** Template tool-call wrapper (default `<tool_call>` … `</tool_call>`). */
  toolCallWords?: [string, string];
  /** With `estimateTokens`: lint rows longer than this (LLaMA-Factory silently drops later turns). */
  cutoffLen?: number;
  estimateTokens?: (row: Record<string, unknown>) => number;
  /** Characters of a repr payload kept in a log line (default 300). */
  logLimit?: number;
  /** Keep every row's result in the summary (default true; false keeps only problem rows, up to 50). */
  keepRows?: boolean;
}

/** The parts of a dataset_info.json entry the converter reads. */
export interface DatasetInfoEntryLike {
  formatting?: string;
  ranking?: boolean;
  columns?: Record<string, string>;
  tags?: Record<string, string>;
}

/** Validator options from a dataset_info.json entry (unknown keys ignored, as LLaMA-Factory does). */
export function optionsFromDatasetInfo(entry: DatasetInfoEntryLike): ShareGptValidateOptions {
  const columns: Partial<ShareGptColumns> = {};
  if (entry.columns?.messages) columns.messages = entry.columns.messages;
  if (entry.columns?.system) columns.system = entry.columns.system;
  if (entry.columns?.tools) columns.tools = entry.columns.tools;
  const tags: Partial<ShareGptTags> = {};
  for (const key of Object.keys(DEFAULT_SHAREGPT_TAGS) as (keyof ShareGptTags)[]) {
    if (typeof entry.tags?.[key] === 'string') tags[key] = entry.tags[key];
  }
  return { columns, tags };
}

export interface ShareGptRowResult {
  index: number;
  /** LLaMA-Factory trains on this row. */
  kept: boolean;
  /** Warning lines LLaMA-Factory would log for this row. */
  logs: string[];
  /** Errors that would abort the whole LLaMA-Factory run. */
  errors: string[];
  /** Legal, but probably not what was meant. */
  lints: string[];
  /** The system prompt LLaMA-Factory would use (leading system message, else the system column). */
  system?: unknown;
  tokens?: number;
}

export type ShareGptOutcome = 'trains' | 'aborts' | 'no_valid_samples';

export interface ShareGptValidation {
  total: number;
  kept: number;
  dropped: number;
  /** Run-aborting errors: file-wide ones and each row's hard errors (prefixed with the row index). */
  fatal: string[];
  /** What LLaMA-Factory does with the file. */
  outcome: ShareGptOutcome;
  /** The final line LLaMA-Factory prints when every row was dropped. */
  message?: string;
  /** Rows with at least one lint. */
  linted: number;
  /** Every row kept, nothing fatal, at least one row: our bar for files we write. */
  ok: boolean;
  rows: ShareGptRowResult[];
}

type Kind = 'string' | 'number' | 'boolean' | 'array' | 'object';
const kindOf = (v: unknown): Kind | null =>
  v === null || v === undefined ? null : Array.isArray(v) ? 'array' : (typeof v as Kind) === 'object' ? 'object' : (typeof v as Kind);

const MAX_KEPT_PROBLEM_ROWS = 50;
const NO_VALID_SAMPLES = 'RuntimeError: Cannot find valid samples, check `data/README.md` for the data format.';

interface ParsedCall {
  name: string;
  arguments: Record<string, unknown>;
}

/**
 * Parse a function_call value the way LLaMA-Factory's FunctionFormatter does
 * (v0.9.4+): drop the first thought span, take the first `<tool_call>…</tool_call>`
 * span if there is one, parse JSON; a non-list is wrapped into a list.
 */
export function parseFunctionCallValue(
  value: unknown,
  thoughtWords: [string, string] = ['<think>\n', '\n</think>\n\n'],
  toolCallWords: [string, string] = ['<tool_call>', '</tool_call>'],
): { calls?: ParsedCall[]; error?: string } {
  if (typeof value !== 'string') return { error: `TypeError: function_call content must be a string, found ${kindOf(value) ?? 'null'}` };
  let text = value;
  const t0 = text.indexOf(thoughtWords[0]);
  if (t0 >= 0) {
    const t1 = text.indexOf(thoughtWords[1], t0 + thoughtWords[0].length);
    if (t1 >= 0) text = text.slice(0, t0) + text.slice(t1 + thoughtWords[1].length);
  }
  const c0 = text.indexOf(toolCallWords[0]);
  if (c0 >= 0) {
    const c1 = text.indexOf(toolCallWords[1], c0 + toolCallWords[0].length);
    if (c1 >= 0) text = text.slice(c0 + toolCallWords[0].length, c1);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { error: `RuntimeError: Invalid JSON format in function message: ${pyRepr([value], 300)}.` };
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length === 0) return { error: 'function_call value is an empty list: no call to train on' };
  const calls: ParsedCall[] = [];
  for (const item of list) {
    if (kindOf(item) !== 'object') return { error: `function_call entries must be objects, found ${kindOf(item) ?? 'null'}` };
    const call = item as Record<string, unknown>;
    if (!('name' in call)) return { error: "KeyError: 'name' (a function_call entry has no name)" };
    if (!('arguments' in call)) return { error: "KeyError: 'arguments' (a function_call entry has no arguments)" };
    if (typeof call.name !== 'string') return { error: `function_call name must be a string, found ${kindOf(call.name) ?? 'null'}` };
    if (kindOf(call.arguments) !== 'object') {
      return {
        error: `function_call "${call.name}": arguments must be a JSON object, found ${kindOf(call.arguments) ?? 'null'} (a string is double-encoded by qwen and crashes qwen3_5/minimax2/glm4_moe/seed_oss/lfm2)`,
      };
    }
    calls.push({ name: call.name, arguments: call.arguments as Record<string, unknown> });
  }
  return { calls };
}

/** Check a `tools` column value: null, "" or a JSON string of an array of tool schemas with `parameters.properties`. */
export function checkToolsValue(value: unknown): { error?: string; lint?: string; count: number } {
  if (value === null || value === undefined || value === '') return { count: 0 };
  if (typeof value !== 'string') return { error: `TypeError: the JSON object must be str, bytes or bytearray, not ${kindOf(value)} (tools must be a JSON string)`, count: 0 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { error: `RuntimeError: Invalid JSON format in tool description: ${pyRepr([value], 200)}.`, count: 0 };
  }
  if (!Array.isArray(parsed)) return { error: `tools must be a JSON array of tool schemas, found ${kindOf(parsed) ?? 'null'}`, count: 0 };
  if (parsed.length === 0) {
    return { lint: 'tools is "[]": templates without a default system prompt render an empty system block; write "" or null', count: 0 };
  }
  for (const [i, raw] of parsed.entries()) {
    if (kindOf(raw) !== 'object') return { error: `tools[${i}] must be an object, found ${kindOf(raw) ?? 'null'}`, count: 0 };
    let tool = raw as Record<string, unknown>;
    // The OpenAI wrapper {"type": "function", "function": {...}} is accepted by every tool formatter.
    if (kindOf(tool.function) === 'object') tool = tool.function as Record<string, unknown>;
    if (typeof tool.name !== 'string') return { error: `tools[${i}] has no string "name" (KeyError: 'name')`, count: 0 };
    const params = tool.parameters as Record<string, unknown> | undefined;
    if (kindOf(params) !== 'object' || kindOf(params!.properties) !== 'object') {
      return { error: `tools[${i}] "${tool.name}" has no parameters.properties object (KeyError: 'properties' in the default tool format)`, count: 0 };
    }
  }
  return { count: parsed.length };
}

/** Streaming form: `add` each row, then `finish`. `validateShareGpt` wraps it. */
export class ShareGptValidator {
  private readonly tags: ShareGptTags;
  private readonly columns: ShareGptColumns;
  private readonly thoughtWords: [string, string];
  private readonly toolCallWords: [string, string];
  private readonly logLimit: number;
  private readonly keepRows: boolean;
  /** Roles allowed at even positions (user, observation) and odd ones (assistant, function), and their names. */
  private readonly evenRoles: Set<string>;
  private readonly oddRoles: Set<string>;
  private readonly roleNames: Map<unknown, string>;
  private readonly columnKinds = new Map<string, { kind: Kind; row: number }>();
  private readonly reportedConflicts = new Set<string>();
  /** Rows of one dataset mostly share a few tool lists: check each distinct string once. */
  private readonly toolsChecks = new Map<string, ReturnType<typeof checkToolsValue>>();
  private readonly seenColumns = new Set<string>();
  private readonly fatal: string[] = [];
  private readonly rows: ShareGptRowResult[] = [];
  private total = 0;
  private kept = 0;
  private linted = 0;

  constructor(private readonly options: ShareGptValidateOptions = {}) {
    this.tags = { ...DEFAULT_SHAREGPT_TAGS, ...options.tags };
    this.columns = { messages: 'conversations', ...options.columns };
    this.thoughtWords = options.thoughtWords ?? ['<think>\n', '\n</think>\n\n'];
    this.toolCallWords = options.toolCallWords ?? ['<tool_call>', '</tool_call>'];
    this.logLimit = options.logLimit ?? 300;
    this.keepRows = options.keepRows ?? true;
    this.evenRoles = new Set([this.tags.user_tag, this.tags.observation_tag]);
    this.oddRoles = new Set([this.tags.assistant_tag, this.tags.function_tag]);
    this.roleNames = new Map<unknown, string>([
      [this.tags.user_tag, 'user'],
      [this.tags.assistant_tag, 'assistant'],
      [this.tags.observation_tag, 'observation'],
      [this.tags.function_tag, 'function'],
    ]);
  }

  /** Arrow infers one type per column over the whole file; a change aborts the load. */
  private trackKind(column: string, value: unknown, row: number): void {
    const kind = kindOf(value);
    if (!kind) return;
    const seen = this.columnKinds.get(column);
    if (!seen) this.columnKinds.set(column, { kind, row });
    else if (seen.kind !== kind) {
      const key = `${column}:${seen.kind}:${kind}`;
      if (!this.reportedConflicts.has(key)) {
        this.reportedConflicts.add(key);
        this.fatal.push(
          `ArrowInvalid: JSON parse error: Column(/${column}) changed from ${seen.kind} to ${kind} in row ${row} (row ${seen.row} has a ${seen.kind}): keep every row's field the same type`,
        );
      }
    }
  }

  add(row: unknown): ShareGptRowResult {
    const index = this.total++;
    const result: ShareGptRowResult = { index, kept: false, logs: [], errors: [], lints: [] };
    if (kindOf(row) !== 'object') {
      result.errors.push(`each row must be a JSON object, found ${kindOf(row) ?? 'null'}`);
      return this.record(result);
    }
    const ex = row as Record<string, unknown>;
    for (const [key, value] of Object.entries(ex)) {
      this.seenColumns.add(key);
      this.trackKind(key, value, index);
    }
    const messages = this.checkMessages(ex[this.columns.messages], result);
    if (!messages) return this.record(result);
    const { system, msgs } = this.splitSystem(ex, messages);
    result.system = system;
    result.kept = this.alignTurns(msgs, result);
    this.lintShape(msgs, result);
    const renderProblems = this.renderProblems(system, msgs);
    this.checkTools(ex, result, renderProblems);
    if (result.kept) result.errors.push(...renderProblems);
    else result.lints.push(...renderProblems.map((p) => `(dropped row; would abort if kept) ${p}`));
    if (this.options.estimateTokens) {
      result.tokens = this.options.estimateTokens(ex);
      if (this.options.cutoffLen && result.tokens > this.options.cutoffLen) {
        result.lints.push(`about ${result.tokens} tokens > cutoff_len ${this.options.cutoffLen}: LLaMA-Factory silently drops the later turns`);
      }
    }
    return this.record(result);
  }

  /** Count the row, keep its fatal errors, and keep the row itself when asked to (or when it has problems, up to a limit). */
  private record(result: ShareGptRowResult): ShareGptRowResult {
    if (result.kept) this.kept++;
    if (result.lints.length) this.linted++;
    for (const e of result.errors) this.fatal.push(`row ${result.index}: ${e}`);
    if (this.keepRows || ((!result.kept || result.errors.length || result.lints.length) && this.rows.length < MAX_KEPT_PROBLEM_ROWS)) this.rows.push(result);
    return result;
  }

  /** 1. The messages column must be a list of message objects carrying the role and content tags; undefined when it is not. */
  private checkMessages(raw: unknown, result: ShareGptRowResult): Record<string, unknown>[] | undefined {
    const { role_tag: R, content_tag: C } = this.tags;
    if (!Array.isArray(raw)) {
      // A row without the column loads as null (Arrow fills missing fields), which crashes the converter.
      result.errors.push(`TypeError: column "${this.columns.messages}" must be a list of messages, found ${kindOf(raw) ?? 'null'}`);
      return undefined;
    }
    for (const [i, m] of raw.entries()) {
      if (kindOf(m) !== 'object') {
        result.errors.push(`TypeError: message ${i} must be an object, found ${kindOf(m) ?? 'null'}`);
        continue;
      }
      const msg = m as Record<string, unknown>;
      this.trackKind(`${this.columns.messages}/[]/${R}`, msg[R], result.index);
      this.trackKind(`${this.columns.messages}/[]/${C}`, msg[C], result.index);
      if (!(R in msg)) result.errors.push(`KeyError: '${R}' (message ${i} has no "${R}" key)`);
      if (!(C in msg)) result.errors.push(`KeyError: '${C}' (message ${i} has no "${C}" key)`);
    }
    return result.errors.length ? undefined : (raw as Record<string, unknown>[]);
  }

  /** 2. One leading system message wins over the system column. */
  private splitSystem(ex: Record<string, unknown>, msgs: Record<string, unknown>[]): { system: unknown; msgs: Record<string, unknown>[] } {
    const { role_tag: R, content_tag: C } = this.tags;
    if (this.tags.system_tag && msgs.length && msgs[0][R] === this.tags.system_tag) return { system: msgs[0][C], msgs: msgs.slice(1) };
    return { system: this.columns.system ? (ex[this.columns.system] ?? null) : '', msgs };
  }

  /** 3. alternation; 4. count; 5. broken → empty; 8. the supervised processor's filter. True when the row is kept. */
  private alignTurns(msgs: Record<string, unknown>[], result: ShareGptRowResult): boolean {
    const { role_tag: R, content_tag: C } = this.tags;
    const aligned: { role: string; content: unknown }[] = [];
    let broken = false;
    for (let i = 0; i < msgs.length; i++) {
      const role = msgs[i][R];
      if (!(i % 2 === 0 ? this.evenRoles : this.oddRoles).has(role as string)) {
        result.logs.push(`Invalid role tag in ${pyRepr(msgs, this.logLimit)}.`);
        broken = true;
        break;
      }
      aligned.push({ role: this.roleNames.get(role)!, content: msgs[i][C] });
    }
    if (aligned.length % 2 !== 0) {
      result.logs.push(`Invalid message count in ${pyRepr(msgs, this.logLimit)}.`);
      broken = true;
    }
    let prompt = aligned.slice(0, -1);
    let response = aligned.slice(-1);
    if (broken) {
      result.logs.push('Skipping this abnormal example.');
      prompt = [];
      response = [];
    }
    if (prompt.length % 2 !== 1 || response.length !== 1) {
      result.logs.push(`Dropped invalid example: ${pyRepr([...prompt, ...response], this.logLimit)}`);
      return false;
    }
    return true;
  }

  /** 10. What aborts the run while rendering (only kept rows are rendered). */
  private renderProblems(system: unknown, msgs: Record<string, unknown>[]): string[] {
    const { role_tag: R, content_tag: C } = this.tags;
    const problems: string[] = [];
    if (system !== null && system !== undefined && typeof system !== 'string') {
      problems.push(`TypeError: the system prompt must be a string, found ${kindOf(system)}`);
    }
    for (const [i, m] of msgs.entries()) {
      const role = m[R];
      if (role === this.tags.function_tag) {
        const parsed = parseFunctionCallValue(m[C], this.thoughtWords, this.toolCallWords);
        if (parsed.error) problems.push(`message ${i} (${role}): ${parsed.error}`);
      } else if ((this.evenRoles.has(role as string) || this.oddRoles.has(role as string)) && typeof m[C] !== 'string') {
        problems.push(`TypeError: message ${i} (${String(role)}) content must be a string, found ${kindOf(m[C]) ?? 'null'}`);
      }
    }
    return problems;
  }

  /** The tools column: an error aborts rendering (added to renderProblems), a lint goes to the row. */
  private checkTools(ex: Record<string, unknown>, result: ShareGptRowResult, renderProblems: string[]): void {
    if (!this.columns.tools) return;
    const value = ex[this.columns.tools];
    let tools = typeof value === 'string' ? this.toolsChecks.get(value) : undefined;
    if (!tools) {
      tools = checkToolsValue(value);
      if (typeof value === 'string') {
        if (this.toolsChecks.size >= 256) this.toolsChecks.clear();
        this.toolsChecks.set(value, tools);
      }
    }
    if (tools.error) renderProblems.push(tools.error);
    if (tools.lint) result.lints.push(tools.lint);
  }

  private lintShape(msgs: Record<string, unknown>[], result: ShareGptRowResult): void {
    const R = this.tags.role_tag;
    for (let i = 1; i < msgs.length; i++) {
      const a = msgs[i - 1][R];
      const b = msgs[i][R];
      if (a === this.tags.observation_tag && b === this.tags.observation_tag) {
        result.lints.push(`two ${b} turns in a row (messages ${i - 1}, ${i}): join parallel results into one with "\\n</tool_response>\\n<tool_response>\\n"`);
      } else if (a === this.tags.assistant_tag && b === this.tags.function_tag) {
        result.lints.push(`a ${a} turn directly followed by a ${b} turn (messages ${i - 1}, ${i}): put the text inside the ${b} value, before <tool_call>…</tool_call>`);
      } else if (b === this.tags.system_tag) {
        result.lints.push(`a ${b} message at position ${i}: only a leading one is allowed`);
      }
    }
    if (msgs.length && msgs[msgs.length - 1][R] === this.tags.observation_tag) {
      result.lints.push(`the conversation ends on ${this.tags.observation_tag}: there is no target to train on`);
    }
  }

  finish(): ShareGptValidation {
    const fatal = [...this.fatal];
    if (this.total > 0) {
      for (const col of [this.columns.messages, this.columns.system, this.columns.tools]) {
        if (col && !this.seenColumns.has(col)) fatal.unshift(`KeyError: '${col}' (no row has the declared column "${col}")`);
      }
    }
    const outcome: ShareGptOutcome = fatal.length ? 'aborts' : this.kept === 0 ? 'no_valid_samples' : 'trains';
    return {
      total: this.total,
      kept: this.kept,
      dropped: this.total - this.kept,
      fatal,
      outcome,
      message: outcome === 'no_valid_samples' ? NO_VALID_SAMPLES : undefined,
      linted: this.linted,
      ok: outcome === 'trains' && this.kept === this.total,
      rows: this.rows,
    };
  }
}

/** Validate ShareGPT rows as LLaMA-Factory would load them (see the module comment). */
export function validateShareGpt(rows: readonly unknown[], options: ShareGptValidateOptions = {}): ShareGptValidation {
  const v = new ShareGptValidator(options);
  for (const row of rows) v.add(row);
  return v.finish();
}

/** A short human report of a validation: counts, fatal errors, the first problem rows. */
export function formatValidation(v: ShareGptValidation, maxRows = 5): string[] {
  const lines = [`${v.total} rows: ${v.kept} kept, ${v.dropped} dropped, ${v.linted} with lints → LLaMA-Factory ${v.outcome.replace(/_/g, ' ')}`];
  for (const f of v.fatal.slice(0, maxRows)) lines.push(`fatal: ${f}`);
  if (v.fatal.length > maxRows) lines.push(`… ${v.fatal.length - maxRows} more fatal errors`);
  const problems = v.rows.filter((r) => !r.kept);
  for (const r of problems.slice(0, maxRows)) lines.push(`row ${r.index}: ${r.logs[0] ?? 'dropped'}`);
  if (v.message) lines.push(v.message);
  return lines;
}
