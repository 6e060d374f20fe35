import type { AgentType } from '@trajgen/im';
import { reconstructFromLog, type Reconstruction, type Survivor } from './reconstruct';
import type { Conversation, ScaffoldOutput } from './types';
import { ConvertRejection } from './types';

/**
 * Claude Code / OpenCode (and Terminus-2 proxy logs): every stream of the
 * log becomes a row — the main agent, each sub-agent, each post-compaction
 * segment.
 */

const CONTINUATION = /^This session is being continued from a previous conversation/;
const SPAWN_TOOLS = new Set(['task', 'agent']);
const WRITE_TOOLS = new Set(['edit', 'write', 'multiedit', 'apply_patch', 'notebookedit']);

/**
 * Main or sub-agent, per stream. When some stream can spawn sub-agents (a
 * Task/Agent tool), the streams that cannot are sub-agents — Claude Code and
 * OpenCode never give sub-agents that tool. Otherwise LegoFlow-Trace-Crafter's rule
 * (TC utils.py detect_agent_type): tools but none that writes → sub-agent; no
 * tools → main.
 */
export function classifyStreams(toolSets: readonly string[][]): AgentType[] {
  const sets = toolSets.map((names) => new Set(names.map((n) => n.toLowerCase())));
  const spawns = (s: Set<string>) => [...SPAWN_TOOLS].some((t) => s.has(t));
  if (sets.some(spawns)) return sets.map((s) => (spawns(s) ? 'main' : 'subagent'));
  return sets.map((s) => (s.size === 0 || [...WRITE_TOOLS].some((t) => s.has(t)) ? 'main' : 'subagent'));
}

function firstUserText(s: Survivor): string {
  return s.messages.find((m) => m.role === 'user')?.content ?? '';
}

/** A spawn call (Agent/Task/task) of some stream: its id and the prompt it gave the sub-agent. */
interface SpawnCall {
  stream: number;
  id: string;
  prompt: string;
}

function spawnCalls(survivors: readonly Survivor[]): SpawnCall[] {
  const out: SpawnCall[] = [];
  survivors.forEach((s, stream) => {
    for (const m of s.messages) {
      if (m.role !== 'assistant') continue;
      for (const c of m.tool_calls ?? []) {
        if (!SPAWN_TOOLS.has(c.function.name.toLowerCase())) continue;
        let prompt = '';
        try {
          const args = JSON.parse(c.function.arguments) as { prompt?: unknown };
          if (typeof args.prompt === 'string') prompt = args.prompt.trim();
        } catch {
          // Unparseable arguments: this call links nothing.
        }
        if (prompt) out.push({ stream, id: c.id, prompt });
      }
    }
  });
  return out;
}

/**
 * Main or sub-agent, and the parent's tool call, per stream. Claude Code 2.1
 * offers its general-purpose sub-agent the same tools as the main agent
 * (Agent, Edit, Write …), so the tool list alone cannot tell them apart.
 * The evidence, strongest first:
 *  1. the stream's first user message holds the `prompt` of a spawn call
 *     (Agent/Task/task) made in another stream → a sub-agent of that call
 *     (`_parent_tool_call_id`);
 *  2. the client says so (Claude Code's `cc_is_subagent=true`);
 *  3. else the tool-list rule of classifyStreams.
 */
export function linkStreams(survivors: readonly Survivor[]): { kind: AgentType; parent?: string }[] {
  const byTools = classifyStreams(survivors.map((s) => s.facts.tools));
  const spawns = spawnCalls(survivors);
  const used = new Set<string>();
  return survivors.map((s, i) => {
    const first = firstUserText(s);
    const parent = spawns.find((c) => c.stream !== i && !used.has(c.id) && first.includes(c.prompt));
    if (parent) {
      used.add(parent.id);
      return { kind: 'subagent', parent: parent.id };
    }
    if (s.facts.claimsSubagent) return { kind: 'subagent' };
    return { kind: byTools[i] };
  });
}

export function survivorsToConversations(rec: Reconstruction, textProtocol?: 'terminus-json'): Conversation[] {
  const links = linkStreams(rec.survivors);
  return rec.survivors.map((s, i) => {
    const extra: Record<string, unknown> = { _conversation: i };
    if (links[i].parent) extra._parent_tool_call_id = links[i].parent;
    if (CONTINUATION.test(firstUserText(s).trimStart())) extra._segment = 'post-compaction';
    if (s.errorTurnsRemoved) extra._error_turns_removed = s.errorTurnsRemoved;
    return {
      messages: s.messages,
      tools: s.call.tools,
      agentType: textProtocol ? 'main' : links[i].kind,
      genParams: s.call.params,
      usage: s.usage,
      textProtocol,
      extra,
      timestamp: s.call.timestamp,
    };
  });
}

export function countsOf(rec: Reconstruction): Record<string, number> {
  return {
    ...rec.counts,
    conversations: rec.survivors.length,
    error_turns_removed: rec.survivors.reduce((n, s) => n + s.errorTurnsRemoved, 0),
    billing_headers_removed: rec.survivors.reduce((n, s) => n + s.removed.billing_headers_removed, 0),
    system_reminders_dropped: rec.survivors.reduce((n, s) => n + s.removed.system_reminders_dropped, 0),
  };
}

/** Claude Code and OpenCode: all streams of `agent/litellm-trajectory.jsonl`. */
export function convertProxyLog(
  path: string,
  source: string,
  options: { titleGenerators?: boolean; textProtocol?: 'terminus-json' } = {},
): ScaffoldOutput {
  const rec = reconstructFromLog(path, {
    source,
    sideCall: (r) => r.nInput <= 2 || r.auxiliary === 'compaction' || (Boolean(options.titleGenerators) && r.auxiliary === 'title'),
  });
  if (rec.counts.lines === 0) throw new ConvertRejection('empty_trajectory', `${source} is empty`);
  if (!rec.survivors.length) {
    throw new ConvertRejection(
      'empty_trajectory',
      `${source} holds no conversation: ${rec.counts.lines} lines, ${rec.counts.failed_calls} failed calls, ${rec.counts.bad_lines} unreadable, ${rec.counts.side_calls} side calls`,
    );
  }
  return { conversations: survivorsToConversations(rec, options.textProtocol), source, counts: countsOf(rec) };
}
