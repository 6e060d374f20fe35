/**
 * IM v2 (PanGuML v2, the prior art's intermediate format): one JSONL row per conversation —
 * main agent, each sub-agent, each post-compaction segment.
 */
export const IM_VERSION = '2.0.0';

export interface ImToolCall {
  id: string;
  type: 'function';
  /** `arguments` is a JSON string, keys in the tool schema's `properties` order. */
  function: { name: string; arguments: string };
}

export interface ImSystemMessage {
  role: 'system' | 'developer';
  content: string;
}
export interface ImUserMessage {
  role: 'user';
  content: string;
}
export interface ImAssistantMessage {
  role: 'assistant';
  /** Always present; "" when the turn only calls tools. */
  content: string;
  /** Always present; "" when there is none. */
  reasoning_content: string;
  tool_calls?: ImToolCall[];
  /** Optional 0/1 loss mask. */
  weight?: 0 | 1;
}
export interface ImToolMessage {
  role: 'tool';
  content: string;
  tool_call_id: string;
}
export type ImMessage = ImSystemMessage | ImUserMessage | ImAssistantMessage | ImToolMessage;

export interface ImTool {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

export type AgentType = 'main' | 'subagent';

/** Filled by the score stage; null for sub-agent rows. */
export interface ImScore {
  composite: number;
  components: Record<string, number | null>;
  [k: string]: unknown;
}

export interface ImUniqueInfo {
  _instance_id: string;
  _agent_type: AgentType;
  _score: ImScore | null;
  _gen_params: { model?: string; max_tokens?: number; top_p?: number; temperature?: number; [k: string]: unknown };
  _usage: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number; cost_usd?: number; [k: string]: unknown };
  /** Task metadata from task.toml [metadata] and provenance (job, trial, scaffold, …). */
  [k: string]: unknown;
}

export interface ImMetaInfo {
  teacher: string;
  query_source: string;
  response_generate_time: string;
  response_update_time: string;
  owner: string;
  language: string;
  category: string;
  rounds: number;
  unique_info: ImUniqueInfo;
}

export interface ImRow {
  version: typeof IM_VERSION;
  meta_info: ImMetaInfo;
  tools: ImTool[];
  messages: ImMessage[];
}
