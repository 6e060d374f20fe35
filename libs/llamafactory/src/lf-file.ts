import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { TrajgenError } from '@trajgen/core';

/** How the rows of an LF data file are laid out on disk. */
export type LfFileLayout = 'json-array' | 'jsonl';

export interface LfFileScan {
  layout: LfFileLayout;
  /** Number of top-level rows. */
  rows: number;
  /** The first rows, parsed (at most `sampleRows`). */
  sample: unknown[];
  bytes: number;
}

const CHUNK = 1 << 20;

/**
 * Count the rows of a JSON array or JSON Lines file and parse the first few,
 * in one streaming pass: multi-GB LF files are never held in memory. Both
 * layouts are what LLaMA-Factory's `json` loader accepts for `.json`/`.jsonl`.
 */
export function scanLfFile(path: string, options: { sampleRows?: number } = {}): LfFileScan {
  let bytes: number;
  try {
    bytes = statSync(path).size;
  } catch {
    throw new TrajgenError(`LF data file ${path} does not exist`, { hint: 'Run the stage that writes it first, or fix the path in config.yaml.' });
  }
  const scanner = new LfRowScanner(path, options.sampleRows ?? 64);
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(CHUNK);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, scanner.position);
      if (n === 0) break;
      scanner.scan(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return { ...scanner.finish(), bytes };
}

/**
 * The row splitter behind scanLfFile, fed one chunk at a time. The per-byte
 * state (depth, in a string, after a backslash) is copied into locals for the
 * chunk's loop; the per-row work (between rows, a row's end) is in methods.
 */
class LfRowScanner {
  readonly sample: unknown[] = [];
  layout: LfFileLayout | undefined;
  rows = 0;
  /** Bytes of the file scanned so far. */
  position = 0;
  private depth = 0; // nesting depth inside the current top-level row
  private inString = false;
  private escaped = false;
  private rowParts: Buffer[] | undefined; // bytes of the current row while it is being sampled
  private rowStart = -1; // start offset of the current row inside the current chunk
  private arrayClosed = false;

  constructor(
    private readonly path: string,
    private readonly sampleRows: number,
  ) {}

  scan(chunk: Buffer): void {
    const n = chunk.length;
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    for (let i = 0; i < n; i++) {
      const c = chunk[i];
      if (depth > 0) {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) inString = false;
          continue;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          depth--;
          if (depth === 0) this.finishRow(chunk, i + 1);
        }
        continue;
      }
      // Between rows.
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      const skip = this.betweenRows(c, i);
      if (skip < 0) depth = 1;
      else i += skip;
    }
    if (depth > 0 && this.rowParts) {
      this.rowParts.push(Buffer.from(chunk.subarray(this.rowStart, n)));
    }
    this.rowStart = 0;
    this.position += n;
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
  }

  /** A non-blank byte between rows: -1 when it opens a row, else how many more bytes to skip. */
  private betweenRows(c: number, i: number): number {
    if (this.layout === undefined) {
      if (c === 0xef && this.position + i === 0) return 2; // UTF-8 BOM
      if (c === 0x5b) {
        this.layout = 'json-array';
        return 0;
      }
      this.layout = 'jsonl';
    }
    if (this.arrayClosed) this.fail('content after the closing bracket');
    if (this.layout === 'json-array') {
      if (c === 0x2c) return 0;
      if (c === 0x5d) {
        this.arrayClosed = true;
        return 0;
      }
    }
    if (c !== 0x7b) this.fail(`expected an object, found ${JSON.stringify(String.fromCharCode(c))}`);
    this.rowStart = i;
    this.rowParts = this.sample.length < this.sampleRows ? [] : undefined;
    return -1;
  }

  private finishRow(chunk: Buffer, end: number): void {
    this.rows++;
    if (this.rowParts) {
      this.rowParts.push(chunk.subarray(this.rowStart, end));
      const text = Buffer.concat(this.rowParts).toString('utf8');
      try {
        this.sample.push(JSON.parse(text));
      } catch (error) {
        this.fail(`row ${this.rows} is not valid JSON (${(error as Error).message})`);
      }
    }
    this.rowParts = undefined;
    this.rowStart = -1;
  }

  /** The scan's result once the file has been read to its end. */
  finish(): Omit<LfFileScan, 'bytes'> {
    if (this.depth > 0) this.fail('the file ends inside a row (truncated?)');
    if (this.layout === 'json-array' && !this.arrayClosed) this.fail('the array is not closed (truncated?)');
    return { layout: this.layout ?? 'jsonl', rows: this.rows, sample: this.sample };
  }

  private fail(what: string): never {
    throw new TrajgenError(`${this.path} is not a JSON array or JSON Lines file of rows: ${what} (byte ${this.position})`, {
      hint: 'LLaMA-Factory reads .json/.jsonl files holding an array of objects or one object per line.',
    });
  }
}

/**
 * The two LF variants the score stage writes:
 *  - `sharegpt`: native tool-call ShareGPT (`{from, value}` messages with human/gpt/function_call/observation roles)
 *  - `rendered`: role/content messages (text rendered with the student's chat template).
 */
export type LfVariant = 'sharegpt' | 'rendered';

export interface LfLayout {
  variant: LfVariant;
  /** The row key holding the message list. */
  messagesColumn: string;
  /** Row keys present in the sampled rows that LLaMA-Factory can map. */
  hasSystem: boolean;
  hasTools: boolean;
  /** Role values seen in the sampled rows. */
  roles: string[];
}

const MESSAGE_COLUMNS = ['conversations', 'messages'];

/** Detect which LF variant a file's rows are, from a sample of them. */
export function detectLfLayout(rows: unknown[], where: string): LfLayout {
  if (rows.length === 0) {
    throw new TrajgenError(`${where} holds no rows`, {
      hint: 'LLaMA-Factory would stop with "Cannot find valid samples"; check the filters of the score stage.',
    });
  }
  let layout: LfLayout | undefined;
  const roles = new Set<string>();
  rows.forEach((row, index) => {
    if (!row || typeof row !== 'object' || Array.isArray(row)) {
      throw new TrajgenError(`${where} row ${index + 1} is not an object`);
    }
    const r = row as Record<string, unknown>;
    const column = MESSAGE_COLUMNS.find((c) => Array.isArray(r[c]));
    if (!column) {
      throw new TrajgenError(`${where} row ${index + 1} has no message list`, {
        hint: `expected a "conversations" (ShareGPT) or "messages" (role/content) array; found keys ${Object.keys(r).join(', ') || '(none)'}`,
      });
    }
    const messages = r[column] as unknown[];
    let variant: LfVariant | undefined;
    for (const m of messages) {
      if (!m || typeof m !== 'object') throw new TrajgenError(`${where} row ${index + 1}: a message is not an object`);
      const msg = m as Record<string, unknown>;
      const v: LfVariant | undefined = 'from' in msg && 'value' in msg ? 'sharegpt' : 'role' in msg && 'content' in msg ? 'rendered' : undefined;
      if (!v) {
        throw new TrajgenError(`${where} row ${index + 1}: a message has neither from/value nor role/content keys`, {
          hint: `found keys ${Object.keys(msg).join(', ')}; LLaMA-Factory would abort with a KeyError`,
        });
      }
      if (variant && v !== variant) throw new TrajgenError(`${where} row ${index + 1} mixes from/value and role/content messages`);
      variant = v;
      roles.add(String(v === 'sharegpt' ? msg.from : msg.role));
    }
    variant ??= column === 'conversations' ? 'sharegpt' : 'rendered';
    const current: LfLayout = { variant, messagesColumn: column, hasSystem: 'system' in r, hasTools: 'tools' in r, roles: [] };
    if (!layout) layout = current;
    else {
      if (layout.variant !== current.variant || layout.messagesColumn !== current.messagesColumn) {
        throw new TrajgenError(`${where} mixes row layouts: row 1 is ${layout.variant} ("${layout.messagesColumn}"), row ${index + 1} is ${current.variant} ("${current.messagesColumn}")`, {
          hint: 'One file must use one layout; LLaMA-Factory maps columns per dataset entry.',
        });
      }
      layout.hasSystem ||= current.hasSystem;
      layout.hasTools ||= current.hasTools;
    }
  });
  layout!.roles = [...roles].sort();
  return layout!;
}
