import { TrajgenError, closestMatch } from '@trajgen/core';
import { taskIdProblem } from './task-id';
import {
  ENTRY_FIELDS,
  HISTORY_FIELDS,
  LEDGER_SCHEMA_VERSION,
  LEDGER_STATUSES,
  emptyEntry,
  type HistoryItem,
  type LedgerEntry,
  type LedgerStatus,
} from './types';

/**
 * consumption_ledger.yaml: the canonical, human-readable view of the ledger.
 *
 * trajgen writes it in one fixed block layout (2-space indent, sorted ids,
 * fixed field order, null fields omitted) so that
 *  - the bytes are a pure function of the ledger's logical state (the Nx
 *    fingerprint hashes them), and
 *  - it can be read back by a fast line reader: a general YAML parser needs
 *    ~20 s for 100k entries; the line reader needs a fraction of a second.
 * Anything outside that layout (a hand edit with flow style, anchors, other
 * indentation, inline comments…) is still read, by the full YAML parser.
 * Every problem names its line.
 */

export class LedgerFormatError extends TrajgenError {
  constructor(file: string, problems: { line: number; message: string }[]) {
    const shown = problems.slice(0, 20);
    super(
      problems.length === 1
        ? `${file}:${problems[0].line}: ${problems[0].message}`
        : `${file}: ${problems.length} problems in the ledger`,
      {
        details: problems.length === 1 ? [] : [...shown.map((p) => `line ${p.line}: ${p.message}`), ...(problems.length > 20 ? [`… and ${problems.length - 20} more`] : [])],
        hint: 'The ledger was left exactly as it is. Fix the line(s) above by hand (or restore the file from a backup), then run again. Nothing resets or overwrites a malformed ledger.',
      },
    );
    this.name = 'LedgerFormatError';
  }
}

// ------------------------------------------------------------------ writing

const PLAIN_VALUE = /^[A-Za-z_][A-Za-z0-9_./@+-]*(?::[A-Za-z0-9_./@+-]+)*$/;
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.@+-]*$/;
const RESERVED = /^(?:null|true|false|yes|no|on|off|y|n)$/i;
// Characters YAML wants escaped inside double quotes that JSON.stringify leaves raw.
const YAML_UNSAFE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

export function yamlString(s: string): string {
  if (PLAIN_VALUE.test(s) && !RESERVED.test(s)) return s;
  return quote(s);
}

function quote(s: string): string {
  return JSON.stringify(s).replace(YAML_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function yamlKey(s: string): string {
  return PLAIN_KEY.test(s) && !RESERVED.test(s) ? s : quote(s);
}

function yamlNumber(n: number, asFloat: boolean): string {
  if (Number.isNaN(n)) return '.nan';
  if (!Number.isFinite(n)) return n > 0 ? '.inf' : '-.inf';
  // Rewards read like Harbor's (1.0, 0.0); String(1e21) = "1e+21" is valid YAML too.
  return asFloat && Number.isInteger(n) && Math.abs(n) < 1e21 ? n.toFixed(1) : String(n);
}

/** The YAML lines of one entry, starting with its key at indent 2. */
export function emitEntry(id: string, e: LedgerEntry): string {
  let out = `  ${yamlKey(id)}:\n    status: ${e.status}\n    attempts: ${e.attempts}\n`;
  if (e.job !== null) out += `    job: ${yamlString(e.job)}\n`;
  if (e.trial !== null) out += `    trial: ${yamlString(e.trial)}\n`;
  if (e.reward !== null) out += `    reward: ${yamlNumber(e.reward, true)}\n`;
  if (e.trajectory_path !== null) out += `    trajectory_path: ${yamlString(e.trajectory_path)}\n`;
  if (e.trajectory_digest !== null) out += `    trajectory_digest: ${yamlString(e.trajectory_digest)}\n`;
  if (e.started_at !== null) out += `    started_at: ${yamlString(e.started_at)}\n`;
  if (e.finished_at !== null) out += `    finished_at: ${yamlString(e.finished_at)}\n`;
  if (e.exception_type !== null) out += `    exception_type: ${yamlString(e.exception_type)}\n`;
  if (e.note !== null) out += `    note: ${yamlString(e.note)}\n`;
  if (e.history.length > 0) {
    out += '    history:\n';
    for (const h of e.history) {
      out += `      - at: ${yamlString(h.at)}\n        change: ${yamlString(h.change)}\n        by: ${yamlString(h.by)}\n        note: ${yamlString(h.note)}\n`;
    }
  }
  return out;
}

export function ledgerHeader(pipeline: string): string {
  return [
    `# Consumption ledger of pipeline ${pipeline}: one entry per task id, written by trajgen.`,
    '# status: pending → running → done | failed; skipped by a person or excluded_tasks.txt.',
    '# done, failed and skipped tasks are never handed to a rollout again.',
    `# Inspect and edit with \`nx run ${pipeline}:ledger\` (--resetFailed, --reset=ID, --skip=ID, --note="why").`,
    '# Hand edits are read as well, but never edit while a run holds .ledger/lock.',
    `schema_version: ${LEDGER_SCHEMA_VERSION}`,
    `pipeline: ${yamlString(pipeline)}`,
  ].join('\n') + '\n';
}

// ------------------------------------------------------------------ reading

export interface ParsedLedger {
  schemaVersion: number;
  pipeline: string | null;
  entries: Map<string, LedgerEntry>;
  /** True when the file was not in the canonical layout and the full YAML parser read it. */
  slow: boolean;
}

interface RawField {
  value: unknown;
  line: number;
}
interface RawHistoryItem {
  line: number;
  fields: Record<string, RawField>;
}
interface RawEntry {
  id: string;
  line: number;
  fields: Record<string, RawField>;
  history?: { line: number; items: RawHistoryItem[] | null; bad?: string };
}
interface RawLedger {
  top: Record<string, RawField>;
  tasksLine: number;
  entries: RawEntry[];
  /** A problem found while reading the structure (not a YAML syntax error). */
  problems: { line: number; message: string }[];
}

const FALLBACK = Symbol('fallback');
type Scalar = string | number | boolean | null;

const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const PLAIN_START_BAD = new Set('-?:,[]{}#&*!|>\'"%@`'.split(''));

/** A scalar exactly as YAML 1.2's core schema would read it, or FALLBACK when unsure. */
function scalar(text: string): Scalar | typeof FALLBACK {
  if (text === '') return null;
  const c = text[0];
  if (c === '"') {
    try {
      const v = JSON.parse(text);
      return typeof v === 'string' ? v : FALLBACK;
    } catch {
      return FALLBACK;
    }
  }
  if (c === "'") {
    const m = /^'((?:[^']|'')*)'$/.exec(text);
    return m ? m[1].replace(/''/g, "'") : FALLBACK;
  }
  if (text === 'null' || text === 'Null' || text === 'NULL' || text === '~') return null;
  if (text === 'true' || text === 'True' || text === 'TRUE') return true;
  if (text === 'false' || text === 'False' || text === 'FALSE') return false;
  if (INT.test(text) || FLOAT.test(text)) return Number(text);
  if (PLAIN_START_BAD.has(c) || text.includes(': ') || text.includes(' #') || text.endsWith(':') || text.includes('\t')) return FALLBACK;
  if (/^0[ox]/.test(text) || /^[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)$/.test(text)) return FALLBACK;
  return text;
}

/** `key: value` (value may be empty); FALLBACK when the line is not that shape. */
function keyValue(rest: string): { key: string; value: string } | typeof FALLBACK {
  const i = rest.indexOf(':');
  if (i <= 0) return FALLBACK;
  const key = rest.slice(0, i);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return FALLBACK;
  if (i === rest.length - 1) return { key, value: '' };
  if (rest[i + 1] !== ' ') return FALLBACK;
  return { key, value: rest.slice(i + 2).trim() };
}

const STATUS_SET: ReadonlySet<string> = new Set(LEDGER_STATUSES);
/** Shared by every entry read without history (most of them): entries are replaced, never mutated. */
const NO_HISTORY = Object.freeze([]) as unknown as HistoryItem[];
const DIGITS = /^[0-9]{1,9}$/;

/** A string value of the canonical layout, fast; else the general scalar rules. */
function stringValue(v: string): Scalar | typeof FALLBACK {
  if (v.charCodeAt(0) === 34) {
    // "…" without escapes: the text between the quotes (JSON.parse for anything else).
    if (v.length >= 2 && v.charCodeAt(v.length - 1) === 34 && v.indexOf('\\') === -1 && v.indexOf('"', 1) === v.length - 1) return v.slice(1, -1);
  } else if (PLAIN_VALUE.test(v) && (v.length > 5 || !RESERVED.test(v))) return v;
  return scalar(v);
}

/** The field name of a line `    <field>: …` without allocating for the known ones. */
function fieldAt(line: string, colon: number): string {
  let f: string | undefined;
  switch (colon - 4) {
    case 3: f = 'job'; break;
    case 4: f = 'note'; break;
    case 5: f = 'trial'; break;
    case 6: f = line.charCodeAt(4) === 115 ? 'status' : 'reward'; break;
    case 7: f = 'history'; break;
    case 8: f = 'attempts'; break;
    case 10: f = 'started_at'; break;
    case 11: f = 'finished_at'; break;
    case 14: f = 'exception_type'; break;
    case 15: f = 'trajectory_path'; break;
    case 17: f = 'trajectory_digest'; break;
  }
  return f !== undefined && line.startsWith(f, 4) ? f : line.slice(4, colon);
}

interface FastLedger {
  top: Record<string, RawField>;
  entries: Map<string, LedgerEntry>;
  problems: { line: number; message: string }[];
}

const FIELD_BITS: Record<string, number> = Object.fromEntries(ENTRY_FIELDS.map((f, i) => [f, 1 << i]));

/** A top-level `key: value` line into `top`; true when it opens a non-empty `tasks:` map, FALLBACK when unsure. */
function readTopLine(top: FastLedger['top'], line: string, lineNo: number): boolean | typeof FALLBACK {
  const kv = keyValue(line);
  if (kv === FALLBACK) return FALLBACK;
  if (Object.prototype.hasOwnProperty.call(top, kv.key)) return FALLBACK; // duplicate: let YAML report it
  if (kv.key === 'tasks') {
    if (kv.value !== '' && kv.value !== '{}') return FALLBACK;
    top.tasks = { value: kv.value === '{}' ? {} : null, line: lineNo };
    return kv.value === '';
  }
  const v = scalar(kv.value);
  if (v === FALLBACK) return FALLBACK;
  top[kv.key] = { value: v, line: lineNo };
  return false;
}

/** The task id of an entry line `  <id>:` (plain or double-quoted); FALLBACK for any other shape. */
function entryKey(line: string): string | typeof FALLBACK {
  if (line.charCodeAt(line.length - 1) !== 58) return FALLBACK; // ':'
  const keyText = line.slice(2, -1);
  if (keyText.charCodeAt(0) === 34) {
    const k = stringValue(keyText);
    return typeof k === 'string' ? k : FALLBACK;
  }
  if (!PLAIN_KEY.test(keyText) || RESERVED.test(keyText)) return FALLBACK;
  return keyText;
}

/**
 * One known entry field of the fast reader (not history): sets it on `e`, or
 * reports a problem with its line; FALLBACK when the value's YAML meaning is
 * not certain. Allocates nothing for the canonical values.
 */
function setEntryField(e: LedgerEntry, key: string, value: string, id: string, lineNo: number, problems: FastLedger['problems']): typeof FALLBACK | void {
  if (key === 'status') {
    if (STATUS_SET.has(value)) {
      e.status = value as LedgerStatus;
      return;
    }
    const s = stringValue(value);
    if (s === FALLBACK) return FALLBACK;
    if (typeof s === 'string' && STATUS_SET.has(s)) e.status = s as LedgerStatus;
    else if (s === null) problems.push({ line: lineNo, message: `entry "${id}" has no status (one of ${LEDGER_STATUSES.join(', ')})` });
    else {
      const guess = typeof s === 'string' ? closestMatch(s, LEDGER_STATUSES as unknown as string[]) : undefined;
      problems.push({ line: lineNo, message: `status of "${id}" is ${JSON.stringify(s)}; expected one of ${LEDGER_STATUSES.join(', ')}${guess ? `. Did you mean "${guess}"?` : ''}` });
    }
    return;
  }
  if (key === 'attempts') {
    if (DIGITS.test(value)) {
      e.attempts = Number(value);
      return;
    }
    const s = scalar(value);
    if (s === FALLBACK) return FALLBACK;
    if (s === null) return;
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0) problems.push({ line: lineNo, message: `attempts of "${id}" must be a whole number ≥ 0, found ${JSON.stringify(s)}` });
    else e.attempts = s;
    return;
  }
  if (key === 'reward') {
    const s = scalar(value);
    if (s === FALLBACK) return FALLBACK;
    if (s === null) return;
    if (typeof s !== 'number' || !Number.isFinite(s)) problems.push({ line: lineNo, message: `reward of "${id}" must be a number or null, found ${JSON.stringify(s)}` });
    else e.reward = s;
    return;
  }
  const s = stringValue(value);
  if (s === FALLBACK) return FALLBACK;
  if (s === null) return;
  if (key === 'note') {
    e.note = String(s);
    return;
  }
  if (typeof s !== 'string') {
    problems.push({ line: lineNo, message: `${key} of "${id}" must be ${key === 'job' || key === 'trial' ? 'a name' : 'a string'}, found ${JSON.stringify(s)}` });
    return;
  }
  if (key === 'job' || key === 'trial') {
    const p = taskIdProblem(s);
    if (p) {
      problems.push({ line: lineNo, message: `${key} of "${id}" (${JSON.stringify(s)}) ${p}` });
      return;
    }
  }
  (e as unknown as Record<string, unknown>)[key] = s;
}

/**
 * The fast reader: the canonical layout only, building entries directly
 * (no intermediate objects: a 100k-entry ledger is ~1M lines). Returns
 * FALLBACK at the first line whose YAML meaning it is not sure of, so the
 * full parser decides; problems with values are reported with their line.
 */
function readCanonical(text: string): FastLedger | typeof FALLBACK {
  return new CanonicalReader(text).read();
}

/**
 * The fast reader's line-by-line state machine: the entry being read and its
 * history item live in fields, one method per kind of line (by its indent).
 * The per-line work with no state of its own is in plain functions
 * (readTopLine, entryKey, setEntryField, fieldAt, stringValue).
 */
class CanonicalReader {
  private readonly lines: string[];
  private readonly out: FastLedger = { top: {}, entries: new Map(), problems: [] };
  private inTasks = false;
  /** The entry being read: its id, its line, the fields seen (FIELD_BITS), and whether its history list is open. */
  private id = '';
  private entryLine = 0;
  private e: LedgerEntry | undefined;
  private seen = 0;
  private inHistory = false;
  /** The history item being read, its line and the fields seen (at 1, change 2, by 4, note 8). */
  private item: HistoryItem | undefined;
  private itemLine = 0;
  private itemSeen = 0;

  constructor(text: string) {
    this.lines = text.split('\n');
  }

  read(): FastLedger | typeof FALLBACK {
    const lines = this.lines;
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i];
      if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      if (line.length === 0) continue;
      let indent = 0;
      while (line.charCodeAt(indent) === 32) indent++;
      if (indent === line.length || line.charCodeAt(indent) === 35) continue; // blank or comment line
      if (this.readLine(line, indent, i + 1) === FALLBACK) return FALLBACK;
    }
    this.finishEntry();
    return this.out;
  }

  private readLine(line: string, indent: number, lineNo: number): typeof FALLBACK | void {
    if (indent === 0) return this.topLine(line, lineNo);
    if (!this.inTasks) return FALLBACK;
    if (indent === 4 && this.e) return this.fieldLine(this.e, line, lineNo);
    if (indent === 2) return this.startEntry(line, lineNo);
    // "      - key: value" starts a history item; "        key: value" continues it.
    if (indent === 6 && this.inHistory && line.charCodeAt(7) === 32 && line.charCodeAt(6) === 45) return this.historyLine(line, true, lineNo);
    if (indent === 8 && this.item) return this.historyLine(line, false, lineNo);
    return FALLBACK;
  }

  /** `key: value` at the top: schema_version, pipeline, or `tasks:` opening the entries. */
  private topLine(line: string, lineNo: number): typeof FALLBACK | void {
    this.finishEntry();
    this.inHistory = false;
    const opensTasks = readTopLine(this.out.top, line, lineNo);
    if (opensTasks === FALLBACK) return FALLBACK;
    this.inTasks = opensTasks;
  }

  /** `  <id>:` starts an entry. */
  private startEntry(line: string, lineNo: number): typeof FALLBACK | void {
    this.finishEntry();
    this.inHistory = false;
    const key = entryKey(line);
    if (key === FALLBACK) return FALLBACK;
    this.id = key;
    this.entryLine = lineNo;
    this.seen = 0;
    // Shares one frozen empty history until the entry gets one (the fast reader allocates little).
    this.e = { ...emptyEntry(), history: NO_HISTORY };
    const p = taskIdProblem(key);
    if (p) this.out.problems.push({ line: lineNo, message: `task id ${JSON.stringify(key)} ${p}` });
  }

  /** `    <field>: <value>` of the current entry; `history:` opens its list. */
  private fieldLine(e: LedgerEntry, line: string, lineNo: number): typeof FALLBACK | void {
    const colon = line.indexOf(':', 4);
    if (colon < 0) return FALLBACK;
    const key = fieldAt(line, colon);
    let value: string;
    if (colon === line.length - 1) value = '';
    else if (line.charCodeAt(colon + 1) !== 32) return FALLBACK;
    else {
      value = line.slice(colon + 2);
      if (value.charCodeAt(0) === 32 || value.charCodeAt(value.length - 1) === 32) value = value.trim();
    }
    this.finishItem();
    this.inHistory = false;
    const problems = this.out.problems;
    const bit = FIELD_BITS[key];
    if (bit === undefined) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return FALLBACK;
      const guess = closestMatch(key, ENTRY_FIELDS as unknown as string[]);
      problems.push({ line: lineNo, message: `unknown field "${key}" in entry "${this.id}"${guess ? `. Did you mean "${guess}"?` : ''}` });
      return;
    }
    if (this.seen & bit) {
      problems.push({ line: lineNo, message: `duplicate field "${key}" in entry "${this.id}"` });
      return;
    }
    this.seen |= bit;
    if (key === 'history') {
      if (value !== '' && value !== '[]') return FALLBACK;
      this.inHistory = value === '';
      return;
    }
    return setEntryField(e, key, value, this.id, lineNo, problems);
  }

  /** One `key: value` of a history item; `starts` when it is the `- ` line that opens the item. */
  private historyLine(line: string, starts: boolean, lineNo: number): typeof FALLBACK | void {
    const kv = keyValue(line.slice(8));
    if (kv === FALLBACK) return FALLBACK;
    const v = stringValue(kv.value);
    if (v === FALLBACK) return FALLBACK;
    if (starts) {
      this.finishItem();
      this.item = { at: '', change: '', by: '', note: '' };
      this.itemLine = lineNo;
      this.itemSeen = 0;
    }
    const hb = kv.key === 'at' ? 1 : kv.key === 'change' ? 2 : kv.key === 'by' ? 4 : kv.key === 'note' ? 8 : 0;
    if (hb === 0) this.out.problems.push({ line: lineNo, message: `unknown history field "${kv.key}" in entry "${this.id}" (expected ${HISTORY_FIELDS.join(', ')})` });
    else if (this.itemSeen & hb) return FALLBACK;
    else {
      this.itemSeen |= hb;
      this.item![kv.key as keyof HistoryItem] = v === null ? '' : String(v);
    }
  }

  private finishItem(): void {
    const { item, e } = this;
    if (item && e) {
      const problems = this.out.problems;
      if (!(this.itemSeen & 1)) problems.push({ line: this.itemLine, message: `history item of "${this.id}" has no at` });
      if (!(this.itemSeen & 2)) problems.push({ line: this.itemLine, message: `history item of "${this.id}" has no change` });
      e.history = e.history === NO_HISTORY ? [item] : [...e.history, item];
    }
    this.item = undefined;
  }

  private finishEntry(): void {
    this.finishItem();
    const { e, id, entryLine } = this;
    if (!e) return;
    const problems = this.out.problems;
    if (!(this.seen & FIELD_BITS.status)) problems.push({ line: entryLine, message: `entry "${id}" has no status (one of ${LEDGER_STATUSES.join(', ')})` });
    if (this.out.entries.has(id)) {
      // Rare: find where it first appeared (kept out of the hot path).
      const first = this.lines.findIndex((l, k) => k < entryLine - 1 && (l === `  ${yamlKey(id)}:` || l === `  ${JSON.stringify(id)}:` || l === `  ${id}:`)) + 1;
      problems.push({ line: entryLine, message: `task "${id}" appears twice (first on line ${first || '?'})` });
    } else this.out.entries.set(id, e);
    this.e = undefined;
  }
}

/** Reading the nodes of one parsed document: their line, their scalar value, a pair's key name. */
interface YamlNodes {
  YAML: typeof import('yaml');
  lineAt(node: unknown): number;
  scalarOf(node: unknown): { ok: true; value: Scalar } | { ok: false };
  keyName(pair: { key: unknown }): string;
}

function yamlNodes(YAML: typeof import('yaml'), lineCounter: import('yaml').LineCounter): YamlNodes {
  const scalarOf: YamlNodes['scalarOf'] = (node) => {
    if (node === null || node === undefined) return { ok: true, value: null };
    if (YAML.isScalar(node)) {
      const v = node.value;
      if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return { ok: true, value: v };
      return { ok: true, value: String(v) };
    }
    return { ok: false };
  };
  return {
    YAML,
    lineAt: (node) => {
      const range = (node as { range?: [number, number, number] } | null)?.range;
      return range ? lineCounter.linePos(range[0]).line : 1;
    },
    scalarOf,
    keyName: (pair) => {
      const k = scalarOf(pair.key);
      return k.ok ? String(k.value) : '';
    },
  };
}

/** The full YAML parser, for files outside the canonical layout. Slow for very large files. */
function readWithYaml(text: string, file: string): RawLedger {
  // Loaded lazily: most runs never need it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const YAML = require('yaml') as typeof import('yaml');
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new LedgerFormatError(
      file,
      doc.errors.map((e) => ({ line: e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line, message: `not valid YAML: ${e.message.split('\n')[0]}` })),
    );
  }
  const nodes = yamlNodes(YAML, lineCounter);
  const raw: RawLedger = { top: {}, tasksLine: 0, entries: [], problems: [] };
  const contents = doc.contents;
  if (contents === null || contents === undefined) return raw;
  if (!YAML.isMap(contents)) {
    raw.problems.push({ line: nodes.lineAt(contents), message: 'the ledger must be a mapping with schema_version, pipeline and tasks' });
    return raw;
  }
  const seenTop = new Map<string, number>();
  for (const pair of contents.items) {
    const key = nodes.keyName(pair);
    const line = nodes.lineAt(pair.key);
    if (seenTop.has(key)) {
      raw.problems.push({ line, message: `duplicate key "${key}" (first on line ${seenTop.get(key)})` });
      continue;
    }
    seenTop.set(key, line);
    if (key !== 'tasks' && key !== 'schema_version' && key !== 'pipeline') {
      raw.top[key] = { value: null, line }; // reported as an unknown key below
      continue;
    }
    if (key === 'tasks') {
      readTasksWithYaml(nodes, pair.value, line, raw);
      continue;
    }
    const v = nodes.scalarOf(pair.value);
    if (!v.ok) {
      raw.problems.push({ line, message: `${key} must be a single value` });
      continue;
    }
    raw.top[key] = { value: v.value, line };
  }
  return raw;
}

/** The `tasks:` mapping (on `line`) into raw.entries. */
function readTasksWithYaml(nodes: YamlNodes, tasks: unknown, line: number, raw: RawLedger): void {
  const { YAML } = nodes;
  raw.tasksLine = line;
  if (tasks === null || tasks === undefined || (YAML.isScalar(tasks) && tasks.value === null)) {
    raw.top.tasks = { value: null, line };
    return;
  }
  if (!YAML.isMap(tasks)) {
    raw.problems.push({ line: nodes.lineAt(tasks), message: 'tasks must be a mapping of task id → entry' });
    return;
  }
  raw.top.tasks = { value: {}, line };
  for (const tp of tasks.items) raw.entries.push(readEntryWithYaml(nodes, tp, raw.problems));
}

/** One `<id>: {fields}` pair of tasks, its fields kept raw with their lines. */
function readEntryWithYaml(nodes: YamlNodes, tp: { key: unknown; value: unknown }, problems: RawLedger['problems']): RawEntry {
  const id = nodes.keyName(tp);
  const e: RawEntry = { id, line: nodes.lineAt(tp.key), fields: {} };
  const body = tp.value;
  if (!nodes.YAML.isMap(body)) {
    problems.push({ line: e.line, message: `entry "${id}" must be a mapping with at least a status` });
    return e;
  }
  for (const fp of body.items) {
    const f = nodes.keyName(fp);
    const fl = nodes.lineAt(fp.key);
    if (Object.prototype.hasOwnProperty.call(e.fields, f) || (f === 'history' && e.history)) {
      problems.push({ line: fl, message: `duplicate field "${f}" in entry "${id}"` });
      continue;
    }
    if (f === 'history') {
      e.history = readHistoryWithYaml(nodes, fp.value, fl, id, problems);
      continue;
    }
    const v = nodes.scalarOf(fp.value);
    if (!v.ok) {
      problems.push({ line: nodes.lineAt(fp.value), message: `${f} of "${id}" must be a single value, not a list or mapping` });
      continue;
    }
    e.fields[f] = { value: v.value, line: fl };
  }
  return e;
}

/** An entry's `history:` (on line `fl`): empty, not a list, or a list of items kept raw. */
function readHistoryWithYaml(nodes: YamlNodes, seq: unknown, fl: number, id: string, problems: RawLedger['problems']): RawEntry['history'] {
  const { YAML } = nodes;
  if (seq === null || seq === undefined || (YAML.isScalar(seq) && seq.value === null)) return { line: fl, items: [] };
  if (!YAML.isSeq(seq)) return { line: fl, items: null, bad: 'history must be a list of {at, change, by, note}' };
  const items: RawHistoryItem[] = [];
  for (const it of seq.items) {
    if (!YAML.isMap(it)) {
      problems.push({ line: nodes.lineAt(it), message: `history of "${id}": each item must be a mapping {at, change, by, note}` });
      continue;
    }
    const hi: RawHistoryItem = { line: nodes.lineAt(it), fields: {} };
    for (const hp of it.items) {
      const hv = nodes.scalarOf(hp.value);
      if (!hv.ok) problems.push({ line: nodes.lineAt(hp.value), message: `history of "${id}": ${nodes.keyName(hp)} must be a single value` });
      else hi.fields[nodes.keyName(hp)] = { value: hv.value, line: nodes.lineAt(hp.key) };
    }
    items.push(hi);
  }
  return { line: fl, items };
}

const STRING_FIELDS = ['trajectory_path', 'trajectory_digest', 'started_at', 'finished_at', 'exception_type'] as const;
const SEGMENT_FIELDS = ['job', 'trial'] as const;

/**
 * Check one raw entry's fields and build the entry. Problems are pushed with
 * their line; returns undefined when the entry is unusable.
 */
export function entryFromFields(
  id: string,
  entryLine: number,
  get: (field: string) => RawField | undefined,
  fieldNames: Iterable<string>,
  history: { line: number; items: RawHistoryItem[] | null; bad?: string } | undefined,
  problems: { line: number; message: string }[],
): LedgerEntry | undefined {
  const before = problems.length;
  const idProblem = taskIdProblem(id);
  if (idProblem) problems.push({ line: entryLine, message: `task id ${JSON.stringify(id)} ${idProblem}` });
  for (const f of fieldNames) {
    if (!(ENTRY_FIELDS as readonly string[]).includes(f)) {
      const guess = closestMatch(f, ENTRY_FIELDS as unknown as string[]);
      problems.push({ line: get(f)!.line, message: `unknown field "${f}" in entry "${id}"${guess ? `. Did you mean "${guess}"?` : ''}` });
    }
  }
  const status = get('status');
  let st: LedgerStatus = 'pending';
  if (!status || status.value === null) problems.push({ line: status?.line ?? entryLine, message: `entry "${id}" has no status (one of ${LEDGER_STATUSES.join(', ')})` });
  else if (typeof status.value !== 'string' || !(LEDGER_STATUSES as readonly string[]).includes(status.value)) {
    const guess = typeof status.value === 'string' ? closestMatch(status.value, LEDGER_STATUSES as unknown as string[]) : undefined;
    problems.push({ line: status.line, message: `status of "${id}" is ${JSON.stringify(status.value)}; expected one of ${LEDGER_STATUSES.join(', ')}${guess ? `. Did you mean "${guess}"?` : ''}` });
  } else st = status.value as LedgerStatus;
  const e: LedgerEntry = emptyEntry(st);
  const attempts = get('attempts');
  if (attempts && attempts.value !== null) {
    if (typeof attempts.value !== 'number' || !Number.isInteger(attempts.value) || attempts.value < 0) {
      problems.push({ line: attempts.line, message: `attempts of "${id}" must be a whole number ≥ 0, found ${JSON.stringify(attempts.value)}` });
    } else e.attempts = attempts.value;
  }
  const reward = get('reward');
  if (reward && reward.value !== null) {
    if (typeof reward.value !== 'number' || !Number.isFinite(reward.value)) problems.push({ line: reward.line, message: `reward of "${id}" must be a number or null, found ${JSON.stringify(reward.value)}` });
    else e.reward = reward.value;
  }
  for (const f of SEGMENT_FIELDS) {
    const v = get(f);
    if (!v || v.value === null) continue;
    if (typeof v.value !== 'string') problems.push({ line: v.line, message: `${f} of "${id}" must be a name, found ${JSON.stringify(v.value)}` });
    else {
      const p = taskIdProblem(v.value);
      if (p) problems.push({ line: v.line, message: `${f} of "${id}" (${JSON.stringify(v.value)}) ${p}` });
      else e[f] = v.value;
    }
  }
  for (const f of STRING_FIELDS) {
    const v = get(f);
    if (!v || v.value === null) continue;
    if (typeof v.value !== 'string') problems.push({ line: v.line, message: `${f} of "${id}" must be a string, found ${JSON.stringify(v.value)}` });
    else e[f] = v.value;
  }
  const note = get('note');
  if (note && note.value !== null) e.note = String(note.value);
  if (history) {
    if (history.bad) problems.push({ line: history.line, message: `${history.bad} (entry "${id}")` });
    for (const it of history.items ?? []) {
      const h: Partial<HistoryItem> = {};
      for (const [k, v] of Object.entries(it.fields)) {
        if (!(HISTORY_FIELDS as readonly string[]).includes(k)) {
          problems.push({ line: v.line, message: `unknown history field "${k}" in entry "${id}" (expected ${HISTORY_FIELDS.join(', ')})` });
          continue;
        }
        h[k as keyof HistoryItem] = v.value === null ? '' : String(v.value);
      }
      for (const k of ['at', 'change'] as const) {
        if (!h[k]) problems.push({ line: it.line, message: `history item of "${id}" has no ${k}` });
      }
      e.history.push({ at: h.at ?? '', change: h.change ?? '', by: h.by ?? '', note: h.note ?? '' });
    }
  }
  return problems.length === before ? e : undefined;
}

/**
 * Read consumption_ledger.yaml text. Throws LedgerFormatError naming every
 * bad line; never returns a partially read ledger.
 */
export function parseLedgerYaml(text: string, file: string): ParsedLedger {
  const fast = readCanonical(text);
  let top: Record<string, RawField>;
  let problems: { line: number; message: string }[];
  let entries: Map<string, LedgerEntry>;
  if (fast !== FALLBACK) {
    top = fast.top;
    problems = fast.problems;
    entries = fast.entries;
  } else {
    const raw = readWithYaml(text, file);
    top = raw.top;
    problems = [...raw.problems];
    entries = new Map<string, LedgerEntry>();
    const firstLine = new Map<string, number>();
    for (const r of raw.entries) {
      const prev = firstLine.get(r.id);
      if (prev !== undefined) {
        problems.push({ line: r.line, message: `task "${r.id}" appears twice (first on line ${prev})` });
        continue;
      }
      firstLine.set(r.id, r.line);
      const fields = r.fields;
      const e = entryFromFields(r.id, r.line, (f) => fields[f], Object.keys(fields), r.history, problems);
      if (e) entries.set(r.id, e);
    }
  }
  for (const key of Object.keys(top)) {
    if (!['schema_version', 'pipeline', 'tasks'].includes(key)) {
      const guess = closestMatch(key, ['schema_version', 'pipeline', 'tasks']);
      problems.push({ line: top[key].line, message: `unknown top-level key "${key}"${guess ? `. Did you mean "${guess}"?` : ''}` });
    }
  }
  const sv = top.schema_version;
  let schemaVersion = LEDGER_SCHEMA_VERSION;
  const empty = Object.keys(top).length === 0 && entries.size === 0 && problems.length === 0;
  if (!empty) {
    if (!sv) problems.push({ line: 1, message: `schema_version is missing (expected ${LEDGER_SCHEMA_VERSION})` });
    else if (sv.value !== LEDGER_SCHEMA_VERSION) {
      problems.push({
        line: sv.line,
        message:
          typeof sv.value === 'number' && sv.value > LEDGER_SCHEMA_VERSION
            ? `schema_version ${sv.value} was written by a newer trajgen (this one reads ${LEDGER_SCHEMA_VERSION})`
            : `schema_version must be ${LEDGER_SCHEMA_VERSION}, found ${JSON.stringify(sv.value)}`,
      });
    } else schemaVersion = sv.value;
  }
  const pipelineField = top.pipeline;
  const pipeline = pipelineField && typeof pipelineField.value === 'string' ? pipelineField.value : null;
  if (problems.length > 0) throw new LedgerFormatError(file, problems.sort((a, b) => a.line - b.line));
  return { schemaVersion, pipeline, entries, slow: fast === FALLBACK };
}

/** The whole canonical file for a set of entries (ids sorted). */
export function emitLedgerYaml(pipeline: string, sortedIds: readonly string[], fragment: (id: string) => string): string {
  if (sortedIds.length === 0) return ledgerHeader(pipeline) + 'tasks: {}\n';
  const parts: string[] = [ledgerHeader(pipeline), 'tasks:\n'];
  for (const id of sortedIds) parts.push(fragment(id));
  return parts.join('');
}

// ------------------------------------------------------------------ trusted files

/**
 * A file trajgen wrote itself (its size and sha256 match what compaction
 * recorded in `.ledger/yaml.sha256`) is valid by construction, so it is not
 * parsed up front: one pass finds each entry's key line and status, and an
 * entry's other fields are read only when it is used. Prepare on a 100k-entry
 * ledger needs only statuses. Any other file gets the full, validating read.
 */
export interface TrustedScan {
  pipeline: string | null;
  text: string;
  ids: string[];
  /** Offset of each entry's key line; starts[i + 1] (or the end) closes it. */
  starts: number[];
  status: LedgerStatus[];
}

const STATUS_PREFIX = '    status: ';

export function scanTrustedLedger(text: string): TrustedScan | undefined {
  const tasksAt = text.indexOf('\ntasks:\n');
  const headerEnd = tasksAt === -1 ? text.indexOf('\ntasks: {}\n') : tasksAt;
  if (headerEnd === -1) return undefined;
  const header = readCanonical(text.slice(0, headerEnd + 1));
  if (header === FALLBACK || header.problems.length) return undefined;
  const pipeline = typeof header.top.pipeline?.value === 'string' ? header.top.pipeline.value : null;
  const scan: TrustedScan = { pipeline, text, ids: [], starts: [], status: [] };
  if (tasksAt === -1) return scan;
  let pos = tasksAt + '\ntasks:\n'.length;
  const len = text.length;
  while (pos < len) {
    let nl = text.indexOf('\n', pos);
    if (nl === -1) nl = len;
    if (text.charCodeAt(pos + 2) !== 32) {
      // "  <key>:" then, always, "    status: <status>"
      const keyText = text.slice(pos + 2, nl - 1);
      const id = keyText.charCodeAt(0) === 34 ? (JSON.parse(keyText) as string) : keyText;
      const st = nl + 1 + STATUS_PREFIX.length;
      const stEnd = text.indexOf('\n', st);
      const status = text.slice(st, stEnd === -1 ? len : stEnd);
      if (!STATUS_SET.has(status) || !text.startsWith(STATUS_PREFIX, nl + 1)) return undefined;
      scan.ids.push(id);
      scan.starts.push(pos);
      scan.status.push(status as LedgerStatus);
    }
    pos = nl + 1;
  }
  return scan;
}

/** Read one entry's lines (as emitEntry writes them) from a trusted file. */
export function parseEntryFragment(id: string, fragment: string): LedgerEntry {
  const parsed = readCanonical(`schema_version: ${LEDGER_SCHEMA_VERSION}\ntasks:\n${fragment}`);
  const e = parsed === FALLBACK || parsed.problems.length ? undefined : parsed.entries.get(id);
  if (!e) throw new TrajgenError(`The ledger entry of ${JSON.stringify(id)} could not be read back`, { hint: 'Delete .ledger/yaml.sha256 to have the whole file checked line by line.' });
  return e;
}
