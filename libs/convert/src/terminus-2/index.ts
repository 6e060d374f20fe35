import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atifText, type AtifStep, type AtifTrajectory } from '@trajgen/harbor';
import type { ImMessage } from '@trajgen/im';
import { emptyUsage } from '../raw/call';
import { convertProxyLog } from '../proxy-conversations';
import { ConvertRejection, type Conversation, type ScaffoldOutput } from '../types';

/**
 * Terminus-2 (reference/trajectories.md §2.4, §6.5 Option A): plain
 * user/assistant text, no tools. From the proxy log when there is one (the
 * raw model text, exact), else from Harbor's ATIF `agent/trajectory.json`:
 * each agent step rebuilt as the JSON the agent answers with —
 * `{analysis, plan, commands[{keystrokes, duration}], task_complete?}` —
 * and each observation as the next user message.
 */

type Json = Record<string, any>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** "Analysis: …\nPlan: …" → fields (the ATIF message of a parsed turn). */
export function splitAnalysisPlan(message: string): { analysis: string; plan: string } {
  const text = (message ?? '').trim();
  if (!text) return { analysis: '', plan: '' };
  if (text.startsWith('Analysis:')) {
    const body = text.slice('Analysis:'.length).trim();
    const nl = body.indexOf('\nPlan:');
    if (nl >= 0) return { analysis: body.slice(0, nl).trim(), plan: body.slice(nl + '\nPlan:'.length).trim() };
    const inline = body.indexOf('Plan:');
    if (inline >= 0) return { analysis: body.slice(0, inline).trim(), plan: body.slice(inline + 'Plan:'.length).trim() };
    return { analysis: body, plan: '' };
  }
  if (text.startsWith('Plan:')) return { analysis: '', plan: text.slice('Plan:'.length).trim() };
  return { analysis: text, plan: '' };
}

/** The JSON answer an agent step stands for (pretty-printed, 2 spaces, as the reference writes it). */
export function rebuildAgentJson(step: AtifStep): string {
  const { analysis, plan } = splitAnalysisPlan(atifText(step.message));
  const commands: Json[] = [];
  let taskComplete = false;
  for (const call of step.tool_calls ?? []) {
    if (!isObject(call)) continue;
    if (call.function_name === 'mark_task_complete') {
      taskComplete = true;
      continue;
    }
    const args = isObject(call.arguments) ? call.arguments : {};
    let keystrokes = args.keystrokes;
    if (!keystrokes && args.command) keystrokes = String(args.command).endsWith('\n') ? String(args.command) : `${args.command}\n`;
    if (!keystrokes) continue;
    const command: Json = { keystrokes };
    if (args.duration !== undefined && args.duration !== null) command.duration = args.duration;
    commands.push(command);
  }
  const payload: Json = { analysis, plan, commands };
  if (taskComplete) payload.task_complete = true;
  return JSON.stringify(payload, null, 2);
}

function observationText(step: AtifStep): string {
  const first = step.observation?.results?.[0];
  if (!first) return '';
  return atifText(first.content);
}

/** One ATIF trajectory → one conversation (Option A). */
export function atifToConversation(traj: AtifTrajectory, agentType: 'main' | 'subagent', file: string): Conversation {
  const messages: ImMessage[] = [];
  let lastTimestamp: string | undefined;
  for (const step of traj.steps ?? []) {
    if (step.timestamp) lastTimestamp = step.timestamp;
    if (step.source === 'user') {
      const text = atifText(step.message);
      if (text) messages.push({ role: 'user', content: text });
      continue;
    }
    if (step.source !== 'agent') continue; // system steps: summarisation refs, context-management markers
    if (atifText(step.message) || step.tool_calls?.length) {
      messages.push({ role: 'assistant', content: rebuildAgentJson(step), reasoning_content: (step.reasoning_content ?? '').trim() });
    }
    const obs = observationText(step);
    if (obs) messages.push({ role: 'user', content: obs });
  }
  if (messages.length && messages[messages.length - 1].role === 'user') messages.pop();
  const usage = emptyUsage();
  const fm = traj.final_metrics;
  if (fm) {
    usage.prompt_tokens = fm.total_prompt_tokens ?? 0;
    usage.completion_tokens = fm.total_completion_tokens ?? 0;
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    usage.cache_read_tokens = fm.total_cached_tokens ?? 0;
    usage.cost_usd = fm.total_cost_usd ?? 0;
    usage.calls = traj.steps.filter((s) => s.source === 'agent').length;
  }
  const extra = isObject(traj.agent?.extra) ? traj.agent.extra : {};
  const genParams: Conversation['genParams'] = {};
  if (traj.agent?.model_name) genParams.model = traj.agent.model_name;
  if (typeof extra.temperature === 'number') genParams.temperature = extra.temperature;
  return {
    messages,
    tools: [],
    agentType,
    genParams,
    usage,
    textProtocol: 'terminus-json',
    extra: { _source_file: file },
    timestamp: lastTimestamp,
  };
}

const ATIF_MAIN = /^trajectory(\.cont-\d+)?\.json$/;
const ATIF_SUB = /^trajectory\.summarization-\d+-[a-z]+\.json$/;

/** Is this JSON an ATIF trajectory? */
export function isAtif(value: unknown): value is AtifTrajectory {
  return isObject(value) && Array.isArray(value.steps) && isObject(value.agent) && typeof value.schema_version === 'string' && value.schema_version.startsWith('ATIF');
}

/** Agents whose ATIF lacks what an SFT row needs, with the reason stated. */
export function atifRejection(traj: AtifTrajectory): ConvertRejection | undefined {
  const name = traj.agent?.name ?? 'unknown';
  if (name === 'terminus-2' || name === 'terminus') return undefined;
  if (name === 'claude-code') {
    return new ConvertRejection('unsupported_format', 'ATIF from claude-code lacks system prompt and tool definitions (Harbor issue #3333); convert its proxy log (agent/litellm-trajectory.jsonl) instead');
  }
  return new ConvertRejection('unsupported_format', `ATIF from ${name} is not converted: only terminus-2 trajectories are (reference §6.5); record this agent's calls through the proxy`);
}

export function convertAtifFiles(files: { name: string; traj: unknown }[]): ScaffoldOutput {
  const conversations: Conversation[] = [];
  let skipped = 0;
  for (const { name, traj } of files) {
    if (!isAtif(traj)) {
      skipped++;
      continue;
    }
    const rejection = atifRejection(traj);
    if (rejection) throw rejection;
    conversations.push(atifToConversation(traj, ATIF_SUB.test(name) ? 'subagent' : 'main', name));
  }
  if (!conversations.length) throw new ConvertRejection('empty_trajectory', 'no ATIF trajectory with steps');
  conversations.forEach((c, i) => (c.extra = { ...c.extra, _conversation: i }));
  return { conversations, source: 'agent/trajectory*.json', counts: { files: files.length, bad_lines: skipped, conversations: conversations.length } };
}

/** A trial's Terminus-2 input: the proxy log if present, else the ATIF files (main, continuations, summarisation sub-agents). */
export function convertTerminusTrial(trialDir: string): ScaffoldOutput {
  const proxyLog = join(trialDir, 'agent', 'litellm-trajectory.jsonl');
  if (existsSync(proxyLog)) return convertProxyLog(proxyLog, 'agent/litellm-trajectory.jsonl', { textProtocol: 'terminus-json' });
  const agentDir = join(trialDir, 'agent');
  const names = existsSync(agentDir) ? readdirSync(agentDir).filter((n) => ATIF_MAIN.test(n) || ATIF_SUB.test(n)) : [];
  if (!names.length) throw new ConvertRejection('no_trajectory', 'no agent/litellm-trajectory.jsonl and no agent/trajectory.json');
  // trajectory.json, then its continuations in order, then the summarisation sub-agents.
  const rank = (n: string) => (n === 'trajectory.json' ? [0, 0] : ATIF_MAIN.test(n) ? [1, Number(/cont-(\d+)/.exec(n)![1])] : [2, Number(/summarization-(\d+)/.exec(n)![1])]);
  names.sort((a, b) => {
    const [ra, na] = rank(a);
    const [rb, nb] = rank(b);
    return ra - rb || na - nb || (a < b ? -1 : a > b ? 1 : 0);
  });
  const files = names.map((name) => {
    try {
      return { name, traj: JSON.parse(readFileSync(join(agentDir, name), 'utf8')) as unknown };
    } catch (e) {
      throw new ConvertRejection('damaged_trajectory', `agent/${name} is not JSON (${(e as Error).message}); a cut-off write? The trial is dropped rather than converted from the other files`);
    }
  });
  return convertAtifFiles(files);
}
