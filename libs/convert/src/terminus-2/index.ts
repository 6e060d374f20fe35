import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atifText, type AtifStep, type AtifTrajectory } from '@trajgen/harbor';
import type { ImMessage } from '@trajgen/im';
import { emptyUsage } from '../raw/call';
import { convertProxyLog } from '../proxy-conversations';
import { ConvertRejection, type Conversation, type ScaffoldOutput } from '../types';

/**
 * Terminus-2 (Harbor's JSON-reply agent; rebuilt as LegoFlow-Trace-Crafter's
 * terminus2 converter does, its "option A"): plain
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

/** The JSON answer an agent step stands for (pretty-printed, 2 spaces, as LegoFlow-Trace-Crafter's terminus2 converter writes it). */
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

/** The raw JSON answer, when Harbor stored it (`trajectory_config.raw_content=true`): kept exactly. */
function rawJsonAnswer(message: string): string | undefined {
  const t = message.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    return isObject(v) && ('commands' in v || 'analysis' in v || 'plan' in v) ? t : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A step Harbor could not parse: no tool calls and a message that is neither
 * "Analysis: …/Plan: …" nor a JSON answer — the raw model output, which Harbor
 * answered with "Previous response had parsing errors" and ran nothing for.
 * Rebuilding it would nest the raw text (JSON included) in `analysis` and
 * teach a "valid" answer that never happened; it is removed with the error
 * feedback that followed it (the prior art's rule for tool-use errors),
 * counted as `error_turns_removed`.
 */
function isUnparsedStep(step: AtifStep, message: string): boolean {
  if (step.tool_calls?.length) return false;
  const t = message.trim();
  return !t.startsWith('Analysis:') && !t.startsWith('Plan:') && rawJsonAnswer(t) === undefined;
}

interface StepMessages {
  messages: ImMessage[];
  errorTurnsRemoved: number;
  lastTimestamp?: string;
}

/** ATIF steps → alternating user/assistant messages (Option A). Copied-context steps are skipped when asked. */
function stepsToMessages(steps: readonly AtifStep[], skipCopied: boolean, summarisation = false): StepMessages {
  const messages: ImMessage[] = [];
  let errorTurnsRemoved = 0;
  let lastTimestamp: string | undefined;
  const pushUser = (text: string) => {
    const prev = messages[messages.length - 1];
    // Two user texts in a row (an observation, then a handoff prompt): the model read both before answering.
    if (prev?.role === 'user') prev.content = `${prev.content}\n\n${text}`;
    else messages.push({ role: 'user', content: text });
  };
  for (const step of steps) {
    if (skipCopied && step.is_copied_context) continue;
    if (step.timestamp) lastTimestamp = step.timestamp;
    if (step.source === 'user') {
      const text = atifText(step.message);
      if (text) pushUser(text);
      continue;
    }
    if (step.source !== 'agent') continue; // system steps: summarisation refs, context-management markers
    const message = atifText(step.message);
    if (!message && !step.tool_calls?.length) continue;
    if (summarisation && !step.is_copied_context && !step.tool_calls?.length && rawJsonAnswer(message) === undefined && !/^(Analysis|Plan):/.test(message.trim())) {
      // The summarisation sub-agent's own answer: free text (a summary, questions, answers), kept exactly.
      if (messages[messages.length - 1]?.role === 'assistant') pushUser('');
      messages.push({ role: 'assistant', content: message, reasoning_content: (step.reasoning_content ?? '').trim() });
      continue;
    }
    if (isUnparsedStep(step, message)) {
      errorTurnsRemoved++;
      continue; // its observation (the parse-error feedback) goes with it
    }
    const prev = messages[messages.length - 1];
    if (prev?.role === 'assistant') pushUser(''); // never happens in Harbor's files; keeps alternation if it does
    messages.push({ role: 'assistant', content: rawJsonAnswer(message) ?? rebuildAgentJson(step), reasoning_content: (step.reasoning_content ?? '').trim() });
    const obs = observationText(step);
    if (obs) pushUser(obs);
  }
  return { messages, errorTurnsRemoved, lastTimestamp };
}

/** One ATIF trajectory → one conversation (Option A); `continuations` are joined after it (linear history). */
export function atifToConversation(traj: AtifTrajectory, agentType: 'main' | 'subagent', file: string, continuations: { name: string; traj: AtifTrajectory }[] = []): Conversation {
  const first = stepsToMessages(traj.steps ?? [], false, agentType === 'subagent');
  const messages = first.messages;
  let errorTurnsRemoved = first.errorTurnsRemoved;
  let lastTimestamp = first.lastTimestamp;
  for (const cont of continuations) {
    // A continuation repeats the context it starts from (is_copied_context); only its new steps are added.
    const more = stepsToMessages(cont.traj.steps ?? [], true);
    for (const m of more.messages) {
      const prev = messages[messages.length - 1];
      if (m.role === 'user' && prev?.role === 'user') prev.content = `${prev.content}\n\n${m.content}`;
      else messages.push(m);
    }
    errorTurnsRemoved += more.errorTurnsRemoved;
    lastTimestamp = more.lastTimestamp ?? lastTimestamp;
  }
  while (messages.length && messages[messages.length - 1].role === 'user') messages.pop();
  for (const m of messages) if (m.role === 'user' && !m.content.trim()) m.content = '(no output)';
  // Usage: each file's final_metrics covers its own segment (copied steps carry none).
  const usage = emptyUsage();
  for (const t of [traj, ...continuations.map((c) => c.traj)]) {
    const fm = t.final_metrics;
    if (!fm) continue;
    usage.prompt_tokens += fm.total_prompt_tokens ?? 0;
    usage.completion_tokens += fm.total_completion_tokens ?? 0;
    usage.cache_read_tokens += fm.total_cached_tokens ?? 0;
    usage.cost_usd += fm.total_cost_usd ?? 0;
    usage.calls += (t.steps ?? []).filter((s) => s.source === 'agent' && !s.is_copied_context).length;
  }
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const extra = isObject(traj.agent?.extra) ? traj.agent.extra : {};
  const genParams: Conversation['genParams'] = {};
  if (traj.agent?.model_name) genParams.model = traj.agent.model_name;
  if (typeof extra.temperature === 'number') genParams.temperature = extra.temperature;
  const rowExtra: Record<string, unknown> = { _source_file: file };
  if (continuations.length) rowExtra._continuations = continuations.map((c) => c.name);
  if (errorTurnsRemoved) rowExtra._error_turns_removed = errorTurnsRemoved;
  return { messages, tools: [], agentType, genParams, usage, textProtocol: agentType === 'subagent' ? 'terminus-summary' : 'terminus-json', extra: rowExtra, timestamp: lastTimestamp };
}

const ATIF_MAIN = /^trajectory(\.cont-\d+)?\.json$/;

/** Is this JSON an ATIF trajectory? */
export function isAtif(value: unknown): value is AtifTrajectory {
  return isObject(value) && Array.isArray(value.steps) && isObject(value.agent) && typeof value.schema_version === 'string' && value.schema_version.startsWith('ATIF');
}

/** Agents whose ATIF lacks what an SFT row needs, with the reason stated. */
export function atifRejection(traj: AtifTrajectory): ConvertRejection | undefined {
  const name = traj.agent?.name ?? 'unknown';
  // Harbor 0.26 names the agent of each summarisation sub-trajectory `terminus-2-summarization-<kind>`
  // (the main file names it plain `terminus-2`): the real tool wins.
  if (/^terminus(-2)?(-summarization-[a-z]+)?$/.test(name)) return undefined;
  if (name === 'claude-code') {
    return new ConvertRejection('unsupported_format', 'ATIF from claude-code lacks system prompt and tool definitions (Harbor issue #3333); convert its proxy log (agent/litellm-trajectory.jsonl) instead');
  }
  return new ConvertRejection('unsupported_format', `ATIF from ${name} is not converted: only terminus-2 trajectories are; record this agent's calls through the proxy`);
}

const SUMMARIZATION = /^trajectory\.summarization-(\d+)-([a-z]+)\.json$/;

/**
 * Harbor's files of one Terminus-2 trial → conversations: `trajectory.json`
 * with its `trajectory.cont-N.json` continuations (linear history, chained by
 * `continued_trajectory_ref`) joined into ONE main conversation, and each
 * `trajectory.summarization-N-{summary,questions,answers}.json` as its own
 * sub-agent row (as `harbor traces export` treats them), labelled
 * `_subagent_kind: "summarization-<kind>"`, `_summarization: N`.
 * A file that is JSON but not ATIF names the real reason.
 */
export function convertAtifFiles(files: { name: string; traj: unknown }[]): ScaffoldOutput {
  for (const { name, traj } of files) {
    if (!isAtif(traj)) {
      const what = isObject(traj) ? `keys ${Object.keys(traj).slice(0, 6).join(', ') || '(none)'}` : Array.isArray(traj) ? 'a JSON array' : `a JSON ${typeof traj}`;
      throw new ConvertRejection('unsupported_format', `agent/${name} is not an ATIF trajectory (expected schema_version "ATIF-v…", agent and steps; found ${what})`);
    }
    const rejection = atifRejection(traj);
    if (rejection) throw rejection;
  }
  const atif = files as { name: string; traj: AtifTrajectory }[];
  const byName = new Map(atif.map((f) => [f.name, f]));
  const mains = atif.filter((f) => ATIF_MAIN.test(f.name));
  const conversations: Conversation[] = [];
  let continuationsJoined = 0;
  const root = byName.get('trajectory.json') ?? mains[0];
  if (root) {
    // Follow the chain; continuation files nobody refers to are joined in index order after it.
    const chain: { name: string; traj: AtifTrajectory }[] = [];
    const seen = new Set([root.name]);
    for (let at = root.traj.continued_trajectory_ref; at && byName.has(at) && !seen.has(at); at = byName.get(at)!.traj.continued_trajectory_ref) {
      seen.add(at);
      chain.push(byName.get(at)!);
    }
    for (const m of mains) if (!seen.has(m.name)) chain.push(m);
    continuationsJoined = chain.length;
    conversations.push(atifToConversation(root.traj, 'main', root.name, chain));
  }
  for (const f of atif) {
    const m = SUMMARIZATION.exec(f.name);
    if (!m) continue;
    const c = atifToConversation(f.traj, 'subagent', f.name);
    c.extra = { ...c.extra, _subagent_kind: `summarization-${m[2]}`, _summarization: Number(m[1]) };
    conversations.push(c);
  }
  const usable = conversations.filter((c) => c.messages.length);
  if (!usable.length) throw new ConvertRejection('empty_trajectory', `no ATIF trajectory with steps (${files.map((f) => f.name).join(', ')})`);
  usable.forEach((c, i) => (c.extra = { ...c.extra, _conversation: i }));
  const errorTurns = usable.reduce((n, c) => n + Number(c.extra?._error_turns_removed ?? 0), 0);
  return { conversations: usable, source: 'agent/trajectory*.json', counts: { files: files.length, continuations_joined: continuationsJoined, conversations: usable.length, error_turns_removed: errorTurns } };
}

/** A trial's Terminus-2 input: the proxy log if present, else the ATIF files (main, continuations, summarisation sub-agents). */
export function convertTerminusTrial(trialDir: string): ScaffoldOutput {
  const proxyLog = join(trialDir, 'agent', 'litellm-trajectory.jsonl');
  if (existsSync(proxyLog)) return convertProxyLog(proxyLog, 'agent/litellm-trajectory.jsonl', { textProtocol: 'terminus-json' });
  const agentDir = join(trialDir, 'agent');
  const names = existsSync(agentDir) ? readdirSync(agentDir).filter((n) => ATIF_MAIN.test(n) || SUMMARIZATION.test(n)) : [];
  if (!names.length) throw new ConvertRejection('no_trajectory', 'no agent/litellm-trajectory.jsonl and no agent/trajectory.json');
  // trajectory.json, then its continuations in order, then the summarisation sub-agents.
  const rank = (n: string) => (n === 'trajectory.json' ? [0, 0] : ATIF_MAIN.test(n) ? [1, Number(/cont-(\d+)/.exec(n)![1])] : [2, Number(/summarization-(\d+)/.exec(n)![1])]);
  // Within one summarisation, Harbor's order: summary, questions, answers.
  const kind = (n: string) => ['summary', 'questions', 'answers'].indexOf(SUMMARIZATION.exec(n)?.[2] ?? '');
  names.sort((a, b) => {
    const [ra, na] = rank(a);
    const [rb, nb] = rank(b);
    return ra - rb || na - nb || kind(a) - kind(b) || (a < b ? -1 : a > b ? 1 : 0);
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
