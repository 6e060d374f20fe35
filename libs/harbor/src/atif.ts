/** ATIF (Agent Trajectory Interchange Format) v1.x, as Harbor writes `agent/trajectory.json`. */

export type AtifContent = string | { type: 'text' | 'image'; text?: string; source?: { media_type: string; path: string } }[];

export interface AtifToolCall {
  tool_call_id: string;
  function_name: string;
  arguments: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

export interface AtifObservationResult {
  source_call_id?: string | null;
  content: AtifContent | null;
  subagent_trajectory_ref?: { trajectory_id?: string; trajectory_path?: string; session_id?: string; extra?: Record<string, unknown> }[];
  extra?: Record<string, unknown>;
}

export interface AtifStep {
  step_id: number;
  timestamp?: string;
  source: 'system' | 'user' | 'agent';
  model_name?: string;
  reasoning_effort?: string | number;
  reasoning_content?: string;
  message: AtifContent;
  tool_calls?: AtifToolCall[];
  observation?: { results: AtifObservationResult[] };
  metrics?: { prompt_tokens?: number; completion_tokens?: number; cached_tokens?: number; cost_usd?: number; [k: string]: unknown };
  is_copied_context?: boolean;
  llm_call_count?: number;
  extra?: Record<string, unknown>;
}

export interface AtifTrajectory {
  schema_version: string;
  session_id?: string;
  trajectory_id?: string;
  agent: { name: string; version: string; model_name?: string; tool_definitions?: unknown[] | null; extra?: Record<string, unknown> };
  steps: AtifStep[];
  notes?: string;
  final_metrics?: { total_prompt_tokens?: number; total_completion_tokens?: number; total_cached_tokens?: number; total_cost_usd?: number; total_steps?: number; extra?: Record<string, unknown> };
  continued_trajectory_ref?: string;
  extra?: Record<string, unknown>;
  subagent_trajectories?: AtifTrajectory[];
}

/** Text of ATIF content (text parts joined; images noted). */
export function atifText(content: AtifContent | null | undefined): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => (p.type === 'text' ? (p.text ?? '') : `[image: ${p.source?.path ?? ''}]`)).join('\n');
}
