import { IM_VERSION, type ImMessage, type ImRow, type ImTool } from '@trajgen/im';

/**
 * One way for specs of any lib to build an IM v2 row by hand (score's
 * builders, LF rendering and ShareGPT specs). Metadata is minimal; what a
 * spec cares about is an option.
 */
export interface RowOptions {
  instance?: string;
  agent?: 'main' | 'subagent';
  scaffold?: string;
  trial?: string;
  tools?: ImTool[];
  /** The composite quality score, or null (not scored yet). */
  score?: number | null;
  teacher?: string;
}

export function imRow(messages: ImMessage[], o: RowOptions = {}): ImRow {
  return {
    version: IM_VERSION,
    meta_info: {
      teacher: o.teacher ?? 'test',
      query_source: 'synthesized',
      response_generate_time: '2026-01-01',
      response_update_time: '2026-01-01',
      owner: '00000000',
      language: 'en',
      category: 'code',
      rounds: messages.filter((m) => m.role === 'assistant').length,
      unique_info: {
        _instance_id: o.instance ?? 'owner__repo-1',
        _agent_type: o.agent ?? 'main',
        _score: o.score === undefined || o.score === null ? null : { composite: o.score, components: {} },
        _gen_params: {},
        _usage: {},
        ...(o.scaffold ? { _scaffold: o.scaffold } : {}),
        ...(o.trial ? { _trial: o.trial } : {}),
      },
    },
    tools: o.tools ?? [],
    messages,
  };
}
