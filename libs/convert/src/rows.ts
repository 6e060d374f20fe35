import { buildImRow, validateImRow, type ImRow, type ReasoningCheck } from '@trajgen/im';
import type { Conversation } from './types';

/**
 * Conversations → IM rows of one instance: meta_info and unique_info filled,
 * exact duplicates removed, every row validated. One failing row fails the
 * instance (the prior art's rule: if any record of an instance fails
 * validation, the whole instance is dropped).
 */

export interface RowContext {
  instanceId: string;
  /** Teacher when the request named no model. */
  teacher?: string;
  date: (c: Conversation) => string;
  /** unique_info keys after the standard ones (task metadata, provenance). */
  extra: Record<string, unknown>;
  reasoningCheck: ReasoningCheck;
  reasoningRatio: number;
}

export interface BuiltRows {
  rows: ImRow[];
  duplicates: number;
  failure?: { reason: string; message: string };
}

const round = (n: number) => Math.round(n * 1e9) / 1e9;

/** Same tools and messages as a row already kept (exact dedup); compared in full only when cheap signs agree. */
function isDuplicate(row: ImRow, kept: readonly ImRow[]): boolean {
  const last = row.messages[row.messages.length - 1];
  for (const k of kept) {
    if (k.messages.length !== row.messages.length || k.tools.length !== row.tools.length) continue;
    const kl = k.messages[k.messages.length - 1];
    if (kl.role !== last.role || kl.content !== last.content) continue;
    if (JSON.stringify([k.tools, k.messages]) === JSON.stringify([row.tools, row.messages])) return true;
  }
  return false;
}

/**
 * Usage for `unique_info._usage`. When no call of the conversation reported
 * usage (a logger that stores none, an ATIF file without final_metrics) the
 * counts are unknown: `null`, never 0 — a 0 would read as "free".
 */
function usageOf(u: Conversation['usage']): Record<string, number | null> {
  if (u.calls === 0) return { prompt_tokens: null, completion_tokens: null, total_tokens: null, cache_read_tokens: null, cache_creation_tokens: null, cost_usd: null, calls: 0 };
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.total_tokens,
    cache_read_tokens: u.cache_read_tokens,
    cache_creation_tokens: u.cache_creation_tokens,
    cost_usd: round(u.cost_usd),
    calls: u.calls,
  };
}

export function buildRows(conversations: readonly Conversation[], ctx: RowContext): BuiltRows {
  const rows: ImRow[] = [];
  let duplicates = 0;
  for (const c of conversations) {
    const u = c.usage;
    const row = buildImRow({
      messages: c.messages,
      tools: c.tools,
      teacher: c.genParams.model ?? ctx.teacher,
      date: ctx.date(c),
      unique_info: {
        _instance_id: ctx.instanceId,
        _agent_type: c.agentType,
        _score: null,
        _gen_params: { ...c.genParams },
        _usage: usageOf(u),
        ...ctx.extra,
        ...c.extra,
      },
    });
    if (isDuplicate(row, rows)) {
      duplicates++;
      continue;
    }
    const problems = validateImRow(row, { reasoningCheck: ctx.reasoningCheck, reasoningRatio: ctx.reasoningRatio, textProtocol: c.textProtocol });
    if (problems.length) {
      const where = `${c.agentType}${c.extra?._conversation !== undefined ? ` conversation ${c.extra._conversation}` : ''}`;
      return { rows, duplicates, failure: { reason: problems[0].reason, message: `${where}: ${problems[0].message}` } };
    }
    rows.push(row);
  }
  return { rows, duplicates };
}
