import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLines } from './jsonl';
import { readCall, systemText, toolNames } from './raw/call';
import type { ScaffoldName } from './types';

/**
 * Which converter a trial needs: the agent name Harbor (or the local engine)
 * recorded, else the content of its logs (TQS V2's scaffold detection: tool
 * names and the system prompt); `conversion.scaffold` overrides both.
 */

const AGENT_NAMES: Record<string, ScaffoldName> = {
  'claude-code': 'claude-code',
  claude_code: 'claude-code',
  opencode: 'opencode',
  'openhands-sdk': 'openhands-sdk',
  openhands_sdk: 'openhands-sdk',
  openhands: 'openhands-sdk',
  'terminus-2': 'terminus-2',
  terminus_2: 'terminus-2',
  terminus: 'terminus-2',
};

export function scaffoldFromAgentName(name: unknown): ScaffoldName | undefined {
  return typeof name === 'string' ? AGENT_NAMES[name.toLowerCase()] : undefined;
}

const OPENHANDS_TOOLS = new Set(['terminal', 'file_editor', 'task_tracker', 'finish', 'think', 'str_replace_editor', 'execute_bash', 'execute_ipython_cell']);
const CC_OC_TOOLS = new Set([
  'bash', 'bashoutput', 'edit', 'enterplanmode', 'exitplanmode', 'glob', 'grep', 'killshell', 'notebookedit', 'read', 'skill', 'slashcommand', 'task',
  'todowrite', 'webfetch', 'websearch', 'write', 'taskoutput', 'taskstop', 'askuserquestion', 'enterworktree', 'agent',
  'invalid', 'question', 'codesearch', 'apply_patch', 'lsp', 'batch', 'plan_exit', 'list', 'patch', 'todoread', 'multiedit',
]);

/** TQS V2's scaffold-detection rules on one request's tools and system prompt. */
export function scaffoldFromRequest(tools: readonly string[], system: string): ScaffoldName {
  if (!tools.length) return 'terminus-2';
  const lower = tools.map((t) => t.toLowerCase());
  if (lower.every((t) => OPENHANDS_TOOLS.has(t))) return 'openhands-sdk';
  if (lower.some((t) => CC_OC_TOOLS.has(t))) return /claude code|anthropic/i.test(system.slice(0, 500)) ? 'claude-code' : 'opencode';
  return 'openhands-sdk';
}

/**
 * Look at the first calls of a proxy log (warm-ups have no tools: take the
 * first call that has some); calls without any tools are Terminus-2's. Damaged
 * lines are read past: the converter names the damage.
 */
export function scaffoldFromProxyLog(path: string): ScaffoldName | undefined {
  let seen = 0;
  let firstSystem: string | undefined;
  for (const line of readLines(path)) {
    if (++seen > 64) break;
    let call;
    try {
      call = readCall(JSON.parse(line.text));
    } catch {
      continue;
    }
    if ('problem' in call) continue;
    const system = systemText(call.messages);
    firstSystem ??= system;
    const names = toolNames(call.tools);
    if (names.length) return scaffoldFromRequest(names, system);
  }
  return firstSystem === undefined ? undefined : 'terminus-2';
}

export function scaffoldFromContent(trialDir: string): ScaffoldName | undefined {
  const agent = join(trialDir, 'agent');
  const log = join(agent, 'litellm-trajectory.jsonl');
  if (existsSync(log)) {
    const s = scaffoldFromProxyLog(log);
    if (s) return s;
  }
  const completions = join(agent, 'completions');
  if (existsSync(completions) && readdirSync(completions).some((n) => n.endsWith('.json'))) return 'openhands-sdk';
  const atif = join(agent, 'trajectory.json');
  if (existsSync(atif)) {
    try {
      return scaffoldFromAgentName(JSON.parse(readFileSync(atif, 'utf8'))?.agent?.name);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
