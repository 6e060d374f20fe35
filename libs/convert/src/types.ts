import type { AgentType, ImMessage } from '@trajgen/im';
import type { GenParams, Usage } from './raw/call';

export const SCAFFOLD_NAMES = ['claude-code', 'opencode', 'openhands-sdk', 'terminus-2'] as const;
export type ScaffoldName = (typeof SCAFFOLD_NAMES)[number];

/** One conversation a converter recovered: becomes one IM row. */
export interface Conversation {
  /** IM-shaped messages (string content); `buildImRow` normalises them. */
  messages: ImMessage[];
  /** Tool definitions as the request sent them (OpenAI or Anthropic shape). */
  tools: unknown[];
  agentType: AgentType;
  genParams: GenParams;
  usage: Usage;
  /** terminus-2 rows are checked as a JSON text protocol instead of tool calls. */
  textProtocol?: 'terminus-json' | 'terminus-summary';
  /** Extra `unique_info` keys (conversation index, segment kind, …). */
  extra?: Record<string, unknown>;
  /** The latest timestamp seen for this conversation (date fallback when the trial has none). */
  timestamp?: string;
}

/** What a scaffold converter returns for one trial. */
export interface ScaffoldOutput {
  conversations: Conversation[];
  /** Which raw file(s) it read, trial-relative. */
  source: string;
  /** Record-level counts (lines, failed calls, prefixes, side calls, …): nothing is dropped silently. */
  counts: Record<string, number>;
}

/** Why a trial (or a raw file) cannot be converted: a reason code for the stats and a sentence for people. */
export class ConvertRejection extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConvertRejection';
  }
}
