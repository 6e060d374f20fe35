import { parse, TomlError as SmolTomlError } from 'smol-toml';

/**
 * task.toml through smol-toml (TOML 1.0), with errors that name the file, the
 * line and the column. Dates and times come back as their ISO text, so a
 * parsed task.toml is plain JSON (it is hashed, staged and written into
 * batch.json).
 */

export class TomlError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = 'TomlError';
  }
}

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

export function parseToml(text: string, file = '<toml>'): TomlTable {
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (error) {
    if (error instanceof SmolTomlError) {
      // smol-toml's message is "Invalid TOML document: <reason>\n\n<code frame>"; keep the reason.
      const reason = error.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
      throw new TomlError(file, error.line, error.column, withSource(reason, text, error.line, error.column));
    }
    throw error;
  }
  return toPlain(parsed) as TomlTable;
}

/** The reason plus the text where it stands ("invalid value at `trajgen/x`"), so a user can find it without an editor. */
function withSource(reason: string, text: string, line: number, column: number): string {
  const at = (text.replace(/^\ufeff/, '').split(/\r?\n/)[line - 1] ?? '').slice(Math.max(0, column - 1)).trim().slice(0, 40);
  return at ? `${reason} at \`${at}\`` : reason;
}

function toPlain(value: unknown): TomlValue {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(toPlain);
  if (value && typeof value === 'object') {
    const out: TomlTable = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: toPlain(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value as TomlValue;
}
