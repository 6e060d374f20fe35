import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ContractError, type ReadOptions } from '@trajgen/contracts';

/** What a tolerant reader got: the value, or why there is none (missing, unreadable, wrong shape). */
export type Read<T> = { value: T; problem?: undefined } | { value?: undefined; problem: string };

/**
 * Read a JSON file that another stage owns. Never throws: the archive reads
 * outputs of stages that may not have run, may be older or half-written, and
 * reports "not available" instead of failing the run it records.
 */
export function readJson<T = unknown>(path: string, display = path): Read<T> {
  if (!existsSync(path)) return { problem: `${display} does not exist` };
  try {
    return { value: JSON.parse(readFileSync(path, 'utf8')) as T };
  } catch (error) {
    return { problem: `${display} is not valid JSON (${(error as Error).message.split('\n')[0]})` };
  }
}

/**
 * Read a file another stage hands over through its contract (libs/contracts):
 * the value as its producer typed it, or why there is none — the contract's
 * message with the first key path that broke it. The archive reports "not
 * available" instead of failing the run it records.
 */
export function readContract<T>(read: (path: string, options?: ReadOptions) => T, path: string, root: string): Read<T> {
  try {
    return { value: read(path, { root }) };
  } catch (error) {
    if (!(error instanceof ContractError)) throw error;
    const more = error.details.length > 1 ? ` (and ${error.details.length - 1} more)` : '';
    return { problem: error.details.length ? `${error.message}: ${error.details[0]}${more}` : error.message };
  }
}

export function readYaml<T = unknown>(path: string, display = path): Read<T> {
  if (!existsSync(path)) return { problem: `${display} does not exist` };
  try {
    return { value: parseYaml(readFileSync(path, 'utf8')) as T };
  } catch (error) {
    return { problem: `${display} is not valid YAML (${(error as Error).message.split('\n')[0]})` };
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

export function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
