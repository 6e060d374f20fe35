import { existsSync, readFileSync } from 'node:fs';
import { TrajgenError, atomicWriteFileSync, closestMatch, stableStringify, withLock } from '@trajgen/core';
import type { LfLayout } from './lf-file';

/**
 * One entry of LLaMA-Factory's `dataset_info.json` (its data/README.md).
 * LLaMA-Factory silently ignores unknown keys, so we validate them ourselves.
 */
export interface DatasetEntry {
  file_name?: string;
  hf_hub_url?: string;
  ms_hub_url?: string;
  om_hub_url?: string;
  script_url?: string;
  cloud_file_name?: string;
  formatting?: 'alpaca' | 'sharegpt' | 'openai';
  ranking?: boolean;
  subset?: string;
  split?: string;
  folder?: string;
  num_samples?: number;
  columns?: Record<string, string>;
  tags?: Record<string, string>;
}

export const ENTRY_KEYS = [
  'file_name',
  'hf_hub_url',
  'ms_hub_url',
  'om_hub_url',
  'script_url',
  'cloud_file_name',
  'formatting',
  'ranking',
  'subset',
  'split',
  'folder',
  'num_samples',
  'columns',
  'tags',
] as const;

/** `columns` keys LLaMA-Factory reads (its `DatasetAttr`). */
export const COLUMN_KEYS = ['prompt', 'query', 'response', 'history', 'messages', 'system', 'tools', 'images', 'videos', 'audios', 'chosen', 'rejected', 'kto_tag'] as const;
/** `tags` keys LLaMA-Factory reads (ShareGPT only, its `DatasetAttr`). */
export const TAG_KEYS = ['role_tag', 'content_tag', 'user_tag', 'assistant_tag', 'observation_tag', 'function_tag', 'system_tag'] as const;

/** The entry for an LF file whose rows have `layout` (detected from the file). */
export function entryForLayout(fileName: string, layout: LfLayout, extra: { num_samples?: number } = {}): DatasetEntry {
  const columns: Record<string, string> = { messages: layout.messagesColumn };
  if (layout.hasSystem) columns.system = 'system';
  if (layout.hasTools) columns.tools = 'tools';
  const entry: DatasetEntry = { file_name: fileName, formatting: 'sharegpt', columns };
  if (layout.variant === 'rendered') {
    // LLaMA-Factory's data README, "OpenAI format": sharegpt formatting with role/content tags.
    const tags: Record<string, string> = {
      role_tag: 'role',
      content_tag: 'content',
      user_tag: 'user',
      assistant_tag: 'assistant',
      system_tag: 'system',
    };
    if (layout.roles.includes('tool')) tags.observation_tag = 'tool';
    entry.tags = tags;
  }
  if (extra.num_samples !== undefined) entry.num_samples = extra.num_samples;
  return entry;
}

/**
 * The entry for a Hugging Face dataset (registered by
 * `hf_hub_url`, as LLaMA-Factory's own dataset_info.json does): `split` only when not
 * `train` (LLaMA-Factory's default). Columns default to the layout of
 * LLaMA-Factory's own tool-call sets (`conversations` + `tools`).
 */
export function entryForHub(options: {
  hf_hub_url: string;
  subset?: string;
  split?: string;
  num_samples?: number;
  columns?: Record<string, string>;
  tags?: Record<string, string>;
}): DatasetEntry {
  const entry: DatasetEntry = { hf_hub_url: options.hf_hub_url, formatting: 'sharegpt' };
  if (options.subset) entry.subset = options.subset;
  if (options.split && options.split !== 'train') entry.split = options.split;
  if (options.num_samples !== undefined) entry.num_samples = options.num_samples;
  entry.columns = options.columns ?? { messages: 'conversations', tools: 'tools' };
  if (options.tags && Object.keys(options.tags).length) entry.tags = options.tags;
  return entry;
}

/** Problems with an entry that LLaMA-Factory would silently ignore or fail on later. */
export function validateDatasetEntry(entry: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const check = (keys: readonly string[], value: unknown, where: string) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${where}: expected a mapping`);
      return;
    }
    for (const [k, v] of Object.entries(value)) {
      if (!keys.includes(k)) {
        const s = closestMatch(k, keys);
        problems.push(`${where}.${k}: unknown key (LLaMA-Factory ignores it)${s ? `. Did you mean "${s}"?` : ''}`);
      } else if (where !== 'entry' && typeof v !== 'string') problems.push(`${where}.${k}: expected a string`);
    }
  };
  check(ENTRY_KEYS, entry, 'entry');
  if (entry.columns !== undefined) check(COLUMN_KEYS, entry.columns, 'columns');
  if (entry.tags !== undefined) check(TAG_KEYS, entry.tags, 'tags');
  const sources = ['hf_hub_url', 'ms_hub_url', 'om_hub_url', 'script_url', 'cloud_file_name', 'file_name'].filter((k) => entry[k] !== undefined);
  if (sources.length === 0) problems.push('entry: needs file_name or hf_hub_url');
  if (entry.formatting !== undefined && !['alpaca', 'sharegpt', 'openai'].includes(entry.formatting as string)) {
    problems.push(`formatting: expected alpaca, sharegpt or openai, found ${JSON.stringify(entry.formatting)}`);
  }
  if (entry.ranking === true) problems.push('ranking: true is preference data, not applicable to SFT');
  if (entry.num_samples !== undefined && !(Number.isInteger(entry.num_samples) && (entry.num_samples as number) > 0)) {
    problems.push('num_samples: expected a positive integer');
  }
  return problems;
}

export type RegisterAction = 'registered' | 'updated' | 'unchanged';

export interface RegistryWrite {
  action: RegisterAction;
  /** The entry that was there before an update. */
  previous?: DatasetEntry;
  /** What changed, one line per key path ("file_name: a.json → b.json"). */
  changes: string[];
  /** Number of entries in the file after the write. */
  entries: number;
}

/** Read a dataset_info.json; a missing file is an empty registry. */
export function readDatasetInfo(path: string): Record<string, DatasetEntry> {
  if (!existsSync(path)) return {};
  const text = readFileSync(path, 'utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TrajgenError(`${path} is not valid JSON: ${(error as Error).message}`, {
      hint: 'Fix or remove the file by hand; trajgen never overwrites a registry it cannot read (other entries would be lost).',
    });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TrajgenError(`${path} is not a JSON object of dataset entries`, { hint: 'LLaMA-Factory expects {"name": {...entry}}.' });
  }
  return parsed as Record<string, DatasetEntry>;
}

function flatten(value: unknown, prefix: string, out: Map<string, string>): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) out.set(prefix, JSON.stringify(value));
}

/** Key-path differences between two entries, e.g. `file_name: "a.json" → "b.json"`. */
export function diffEntries(before: unknown, after: unknown): string[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(before, '', a);
  flatten(after, '', b);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.get(k) ?? '(none)'} → ${b.get(k) ?? '(none)'}`);
}

/**
 * Put `entry` under `name` in the registry at `path`: under an exclusive lock
 * on `<path>.lock`, atomically, preserving every other entry and their order.
 * An identical entry (any key order) is not rewritten.
 */
export function writeDatasetEntry(path: string, name: string, entry: DatasetEntry, options: { waitMs?: number } = {}): RegistryWrite {
  const problems = validateDatasetEntry(entry as Record<string, unknown>);
  if (problems.length) throw new TrajgenError(`Refusing to register "${name}": invalid dataset_info.json entry`, { details: problems });
  return withLock(`${path}.lock`, { purpose: `register dataset "${name}"`, waitMs: options.waitMs ?? 30_000 }, () => {
    const registry = readDatasetInfo(path);
    const previous = Object.prototype.hasOwnProperty.call(registry, name) ? registry[name] : undefined;
    const count = Object.keys(registry).length;
    if (previous !== undefined && stableStringify(previous) === stableStringify(entry)) {
      return { action: 'unchanged', changes: [], entries: count };
    }
    const next: Record<string, DatasetEntry> = {};
    for (const [k, v] of Object.entries(registry)) next[k] = k === name ? entry : v;
    if (previous === undefined) next[name] = entry;
    atomicWriteFileSync(path, JSON.stringify(next, null, 2) + '\n');
    return previous === undefined
      ? { action: 'registered', changes: [], entries: count + 1 }
      : { action: 'updated', previous, changes: diffEntries(previous, entry), entries: count };
  });
}
