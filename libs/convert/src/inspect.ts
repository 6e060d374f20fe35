import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { ImRow, ReasoningCheck } from '@trajgen/im';
import { scaffoldFromProxyLog } from './detect';
import { convertProxyLog } from './proxy-conversations';
import { convertOpenHandsProxyLog, convertPerCallLogs, isPerCallLog } from './openhands-sdk';
import { convertAtifFiles, isAtif } from './terminus-2';
import { buildRows } from './rows';
import { ConvertRejection, type ScaffoldName, type ScaffoldOutput } from './types';

/**
 * One raw file on its own (outside a job dir): what it is, and its IM rows
 * or the stated reason it cannot give any. Used to check every real fixture
 * and handy for looking at a single log.
 */

export type RawFileVerdict =
  | { kind: 'converted'; scaffold: ScaffoldName; format: string; rows: ImRow[]; counts: Record<string, number> }
  | { kind: 'rejected'; reason: string; message: string };

export interface RawFileOptions {
  instanceId?: string;
  reasoningCheck?: ReasoningCheck;
  reasoningRatio?: number;
}

type Json = Record<string, any>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function classify(path: string): { scaffold: ScaffoldName; format: string; run: () => ScaffoldOutput } | ConvertRejection {
  const text = readFileSync(path, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const scaffold = scaffoldFromProxyLog(path);
    if (!scaffold) return new ConvertRejection('not_a_trajectory', `${basename(path)} is neither JSON nor a JSONL proxy log (lines with request_body)`);
    const source = basename(path);
    if (scaffold === 'openhands-sdk') return { scaffold, format: 'proxy log', run: () => convertOpenHandsProxyLog(path, source) };
    return {
      scaffold,
      format: 'proxy log',
      run: () => convertProxyLog(path, source, { titleGenerators: scaffold === 'opencode', textProtocol: scaffold === 'terminus-2' ? 'terminus-json' : undefined }),
    };
  }
  if (isAtif(value)) return { scaffold: 'terminus-2', format: 'ATIF', run: () => convertAtifFiles([{ name: 'trajectory.json', traj: value }]) };
  if (isPerCallLog(value)) {
    return { scaffold: 'openhands-sdk', format: 'LiteLLM per-call completion log', run: () => convertPerCallLogs([{ name: basename(path), log: value as Json }], basename(path)) };
  }
  if (Array.isArray(value) && value.length && value.every((v) => isObject(v) && Array.isArray(v.conversations))) {
    return new ConvertRejection('not_a_trajectory', `${basename(path)} is a LLaMA-Factory ShareGPT dataset (already SFT data: conversations + tools), not a raw trajectory`);
  }
  if (isObject(value) && Object.values(value).length && Object.values(value).every((v) => isObject(v) && ('file_name' in v || 'hf_hub_url' in v || 'ms_hub_url' in v))) {
    return new ConvertRejection('not_a_trajectory', `${basename(path)} is a LLaMA-Factory dataset registry (dataset_info.json), not a trajectory`);
  }
  return new ConvertRejection('not_a_trajectory', `${basename(path)} is JSON but not a recognised trajectory (ATIF, proxy log, or LiteLLM completion log)`);
}

export function convertRawFile(path: string, options: RawFileOptions = {}): RawFileVerdict {
  const c = classify(path);
  if (c instanceof ConvertRejection) return { kind: 'rejected', reason: c.reason, message: c.message };
  let out: ScaffoldOutput;
  try {
    out = c.run();
  } catch (e) {
    if (e instanceof ConvertRejection) return { kind: 'rejected', reason: e.reason, message: e.message };
    throw e;
  }
  const built = buildRows(out.conversations, {
    instanceId: options.instanceId ?? basename(path, extname(path)),
    date: (conv) => (conv.timestamp && /^\d{4}-\d{2}-\d{2}/.test(conv.timestamp) ? conv.timestamp.slice(0, 10) : '1970-01-01'),
    extra: { _scaffold: c.scaffold, _source_file: basename(path) },
    reasoningCheck: options.reasoningCheck ?? 'adaptive',
    reasoningRatio: options.reasoningRatio ?? 0.2,
  });
  if (built.failure) return { kind: 'rejected', reason: built.failure.reason, message: built.failure.message };
  return { kind: 'converted', scaffold: c.scaffold, format: c.format, rows: built.rows, counts: { ...out.counts, duplicate_rows: built.duplicates } };
}
