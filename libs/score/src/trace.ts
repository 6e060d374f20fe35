import type { ImAssistantMessage, ImRow, ImTool } from '@trajgen/im';
import { systemPrompt } from './im-io';
import {
  ERROR_SCAN_CHARS,
  EXPLICIT_ERROR_MARKERS,
  HARD_ERROR_PATTERNS,
  SOFT_ERROR_PATTERNS,
  isTestCommand,
  normalisePath,
  shellWrites,
  type ShellWrite,
} from './patterns';

/**
 * A trajectory reduced to what TQS V2 looks at: scaffold, assistant turns,
 * canonical actions (one per tool call; one per keystroke batch for
 * Terminus-2), and observations with their error verdicts.
 */

export type ScaffoldFamily = 'claudecode' | 'opencode' | 'openhands_sdk' | 'openhands' | 'terminus2';

export type ActionKind = 'exec' | 'edit' | 'view' | 'search' | 'think' | 'plan' | 'finish' | 'delegate' | 'other';

export interface EditInfo {
  /** Normalised path ("" when the target is unknown, e.g. `patch < x.diff`). */
  path: string;
  op: 'create' | 'write' | 'str_replace' | 'insert' | 'multi' | 'patch' | ShellWrite['op'];
  /** Text replaced / written, when the call says (for reward-hack checks). */
  oldText?: string;
  newText?: string;
  /** Through a shell command rather than an edit tool. */
  shell: boolean;
}

export interface Action {
  /** Index of the assistant turn (0-based, over assistant messages). */
  turn: number;
  /** Index of the assistant message in `row.messages`. */
  message: number;
  /** The IM tool-call id (Terminus-2 text replies have none). */
  callId?: string;
  /** Tool name as called. */
  tool: string;
  /** Canonical tool name (OpenHands-style renames mapped back; others lower-cased). */
  canon: string;
  kind: ActionKind;
  /** Shell command of an execution action. */
  command?: string;
  isTest: boolean;
  edits: EditInfo[];
  /** Normalised file the action targets ("" when none), for loop detection. */
  target: string;
  /** Index into `Trace.observations` of this action's result, if any. */
  observation?: number;
}

export type ErrorSeverity = 'explicit' | 'hard' | 'soft';

export interface ErrorVerdict {
  error: boolean;
  severity?: ErrorSeverity;
  pattern?: string;
}

export interface Observation {
  /** Index of the message in `row.messages`. */
  message: number;
  /** Index of the assistant message this observation answers (undefined for an orphan tool result). */
  assistantMessage?: number;
  /** Action indices this observation answers (Terminus-2: every command of the turn). */
  actions: number[];
  verdict: ErrorVerdict;
  text: string;
}

export interface Trace {
  scaffold: ScaffoldFamily;
  /** How the scaffold was decided: provenance in unique_info, or detection from tools/system prompt. */
  scaffoldSource: 'provenance' | 'detected';
  assistantTurns: number;
  actions: Action[];
  observations: Observation[];
  /** Role of the last message. */
  lastRole: string;
  /** The last assistant message, if any. */
  lastAssistant?: ImAssistantMessage;
  /** Terminus-2: number of keystroke commands (the error-rate denominator). */
  commands: number;
}

// ------------------------------------------------------------ scaffold detection
export const CC_OC_TOOL_NAMES = new Set(
  [
    // Claude Code 2.0.x / 2.1.x
    'bash', 'bashoutput', 'edit', 'enterplanmode', 'exitplanmode', 'glob', 'grep', 'killshell', 'notebookedit', 'read', 'skill',
    'slashcommand', 'task', 'todowrite', 'webfetch', 'websearch', 'write', 'taskoutput', 'taskstop', 'askuserquestion', 'enterworktree',
    'multiedit',
    // OpenCode
    'invalid', 'question', 'codesearch', 'apply_patch', 'lsp', 'batch', 'plan_exit', 'list', 'patch', 'todoread', 'list_tools', 'call_tool',
  ],
);
const OPENHANDS_SDK_TOOLS = new Set(['terminal', 'file_editor', 'task_tracker', 'finish', 'think']);

const PROVENANCE: Record<string, ScaffoldFamily> = {
  'claude-code': 'claudecode',
  claudecode: 'claudecode',
  opencode: 'opencode',
  'openhands-sdk': 'openhands_sdk',
  openhands_sdk: 'openhands_sdk',
  openhands: 'openhands',
  'terminus-2': 'terminus2',
  terminus2: 'terminus2',
};

const toolName = (t: ImTool): string => (t?.function?.name ?? (t as unknown as { name?: string })?.name ?? '').toString();

/**
 * TQS V2's scaffold detection: no tools → terminus2; tool names ⊆ {terminal, file_editor, task_tracker,
 * finish, think} → openhands_sdk; a Claude Code/OpenCode tool name plus
 * "claude code" or "anthropic" in the first 500 characters of the system
 * prompt → claudecode, else opencode; anything else → openhands.
 */
export function detectScaffold(row: Pick<ImRow, 'tools' | 'messages'>): ScaffoldFamily {
  const names = (row.tools ?? []).map(toolName).filter(Boolean);
  if (names.length === 0) return 'terminus2';
  if (names.every((n) => OPENHANDS_SDK_TOOLS.has(n))) return 'openhands_sdk';
  if (names.some((n) => CC_OC_TOOL_NAMES.has(n.toLowerCase()))) {
    const head = systemPrompt(row).slice(0, 500).toLowerCase();
    return head.includes('claude code') || head.includes('anthropic') ? 'claudecode' : 'opencode';
  }
  return 'openhands';
}

/** The scaffold from the row's provenance (`unique_info._scaffold`, written by convert) when it names one, else detected. */
export function rowScaffold(row: ImRow): { scaffold: ScaffoldFamily; source: Trace['scaffoldSource'] } {
  const ui = row.meta_info?.unique_info;
  const p = ui?._scaffold ?? ui?.scaffold;
  if (typeof p === 'string' && PROVENANCE[p.toLowerCase()]) return { scaffold: PROVENANCE[p.toLowerCase()], source: 'provenance' };
  return { scaffold: detectScaffold(row), source: 'detected' };
}

// ------------------------------------------------------------ tool canonicalisation
const EDITOR_COMMANDS = new Set(['view', 'create', 'str_replace', 'insert', 'undo_edit']);

/**
 * Map renamed OpenHands-style tools back to execute_bash, str_replace_editor,
 * finish, think, task_tracker from their parameter schemas (as TQS V2 does); any other
 * name is lower-cased.
 */
export function canonicalToolNames(tools: readonly ImTool[] | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const t of tools ?? []) {
    const name = toolName(t);
    if (!name) continue;
    const props = Object.keys(((t.function?.parameters as { properties?: Record<string, unknown> })?.properties ?? {}) as Record<string, unknown>);
    const has = (k: string) => props.includes(k);
    let canon = name.toLowerCase();
    if (has('command') && has('path') && (has('old_str') || has('file_text') || has('new_str'))) canon = 'str_replace_editor';
    else if (has('command') && !has('path') && (has('is_input') || /bash|terminal|shell|cmd/.test(canon))) canon = 'execute_bash';
    else if (has('thought') && props.length <= 2) canon = 'think';
    else if (has('task_list') || (canon.includes('task_tracker') && has('command'))) canon = 'task_tracker';
    else if (/finish|submit/.test(canon) && (has('message') || props.length === 0 || has('summary') || has('outputs'))) canon = 'finish';
    map.set(name, canon);
  }
  return map;
}

const PATH_KEYS = ['file_path', 'filePath', 'path', 'notebook_path', 'filename', 'file'];
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function pathArg(args: Record<string, unknown>): string {
  for (const k of PATH_KEYS) {
    const v = str(args[k]);
    if (v) return v;
  }
  return '';
}

/** Files named in an apply_patch / patch text (`*** Update File: x`, `+++ b/x`). */
function patchTargets(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/^\*\*\* (?:Update|Add|Delete) File: (.+)$/gm)) out.add(m[1].trim());
  for (const m of text.matchAll(/^\+\+\+ (?:b\/)?(\S+)/gm)) if (m[1] !== '/dev/null') out.add(m[1]);
  return [...out];
}

/** Classify one tool call from its canonical name and, for execution, its arguments. */
export function classifyCall(name: string, canon: string, args: Record<string, unknown>, turn: number, message = -1): Action {
  const action: Action = { turn, message, tool: name, canon, kind: 'other', isTest: false, edits: [], target: '' };
  const command = str(args.command);
  const lower = canon.toLowerCase();

  // Editor-style tools: str_replace_editor / file_editor (command + path).
  if (command !== undefined && EDITOR_COMMANDS.has(command) && str(args.path) !== undefined) {
    const path = normalisePath(str(args.path)!);
    action.target = path;
    if (command === 'view') action.kind = 'view';
    else if (command === 'undo_edit') action.kind = 'edit';
    else {
      action.kind = 'edit';
      action.edits.push({
        path,
        op: command as EditInfo['op'],
        oldText: str(args.old_str),
        newText: str(args.new_str) ?? str(args.file_text),
        shell: false,
      });
    }
    return action;
  }

  // Execution is decided from the arguments (a shell command string), not the tool name.
  const shell = str(args.keystrokes) ?? (command !== undefined && !EDITOR_COMMANDS.has(command) && !['plan', 'view'].includes(command) ? command : undefined) ?? str(args.cmd) ?? (lower.includes('ipython') ? str(args.code) : undefined);
  if (shell !== undefined && !/task_tracker|todo/.test(lower)) {
    action.kind = 'exec';
    action.command = shell;
    action.isTest = isTestCommand(shell);
    for (const w of shellWrites(shell)) action.edits.push({ path: w.path, op: w.op, newText: shell, shell: true });
    action.target = action.edits[0]?.path ?? '';
    return action;
  }

  const path = pathArg(args);
  if (/^(?:edit|multiedit|write|notebookedit|edit_file|create_file|str_replace_based_edit_tool)$/.test(lower) && path) {
    const p = normalisePath(path);
    action.kind = 'edit';
    action.target = p;
    if (lower === 'write' || lower === 'create_file') action.edits.push({ path: p, op: 'write', newText: str(args.content), shell: false });
    else if (lower === 'multiedit' && Array.isArray(args.edits)) {
      for (const e of args.edits as Record<string, unknown>[]) {
        action.edits.push({ path: p, op: 'multi', oldText: str(e?.old_string) ?? str(e?.oldString), newText: str(e?.new_string) ?? str(e?.newString), shell: false });
      }
    } else if (lower === 'notebookedit') action.edits.push({ path: p, op: 'str_replace', newText: str(args.new_source), shell: false });
    else {
      action.edits.push({
        path: p,
        op: 'str_replace',
        oldText: str(args.old_string) ?? str(args.oldString) ?? str(args.old_str),
        newText: str(args.new_string) ?? str(args.newString) ?? str(args.new_str) ?? str(args.content),
        shell: false,
      });
    }
    return action;
  }
  if (/^(?:apply_patch|patch)$/.test(lower)) {
    const text = str(args.patchText) ?? str(args.patch) ?? str(args.input) ?? '';
    const targets = patchTargets(text);
    action.kind = 'edit';
    for (const t of targets.length ? targets : ['']) action.edits.push({ path: normalisePath(t), op: 'patch', newText: text, shell: false });
    action.target = action.edits[0].path;
    return action;
  }
  if (lower === 'finish' || lower === 'submit' || lower === 'mark_task_complete') action.kind = 'finish';
  else if (lower === 'think') action.kind = 'think';
  else if (/^(?:task_tracker|todowrite|todoread|exitplanmode|enterplanmode|plan_exit)$/.test(lower)) action.kind = 'plan';
  else if (lower === 'task' || lower === 'agent') action.kind = 'delegate';
  else if (/^(?:read|view|view_file|open_file|notebookread|bashoutput|taskoutput)$/.test(lower)) action.kind = 'view';
  else if (/^(?:glob|grep|search|find|list|ls|codesearch|websearch|webfetch|lsp)$/.test(lower)) action.kind = 'search';
  action.target = path ? normalisePath(path) : '';
  return action;
}

// ------------------------------------------------------------ error detection
/**
 * Is an observation an error (TQS V2's error detection)? Explicit markers on any tool; command-output
 * patterns only for execution actions — hard ones always, soft ones unless the
 * command is a test run. Only the first 3,000 characters are scanned.
 */
export function detectError(text: string, exec: { isExec: boolean; isTest: boolean }): ErrorVerdict {
  const head = text.length > ERROR_SCAN_CHARS ? text.slice(0, ERROR_SCAN_CHARS) : text;
  for (const m of EXPLICIT_ERROR_MARKERS) if (m.test(head)) return { error: true, severity: 'explicit', pattern: m.name };
  if (!exec.isExec) return { error: false };
  for (const p of HARD_ERROR_PATTERNS) if (p.re.test(head)) return { error: true, severity: 'hard', pattern: p.name };
  if (exec.isTest) return { error: false };
  for (const p of SOFT_ERROR_PATTERNS) if (p.re.test(head)) return { error: true, severity: 'soft', pattern: p.name };
  return { error: false };
}

// ------------------------------------------------------------ Terminus-2
export interface TerminusReply {
  commands: string[];
  taskComplete: boolean;
  parsed: boolean;
}

/**
 * Parse a Terminus-2 assistant reply: JSON with analysis, plan, commands and
 * an optional task_complete (after a <think> block or stray text), or the XML
 * form. A reply without analysis and plan ran no command.
 */
export function parseTerminusReply(content: string): TerminusReply {
  const text = content.replace(/^\s*<think>[\s\S]*?<\/think>\s*/, '');
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start >= 0 && end > start) {
    try {
      const obj = JSON.parse(text.slice(start, end + 1)) as { analysis?: unknown; plan?: unknown; commands?: unknown; task_complete?: unknown };
      // Terminus-2 runs nothing from a reply missing its required fields (it answers with a parsing error).
      if (obj === null || typeof obj !== 'object' || !('analysis' in obj) || !('plan' in obj)) return { commands: [], taskComplete: false, parsed: false };
      const commands = Array.isArray(obj.commands)
        ? obj.commands.map((c) => (typeof c === 'string' ? c : typeof (c as { keystrokes?: unknown })?.keystrokes === 'string' ? (c as { keystrokes: string }).keystrokes : '')).filter((c) => c !== '')
        : [];
      return { commands, taskComplete: obj.task_complete === true || obj.task_complete === 'true', parsed: true };
    } catch {
      // fall through to the XML form / text heuristics
    }
  }
  const xml = [...text.matchAll(/<keystrokes[^>]*>([\s\S]*?)<\/keystrokes>/g)].map((m) => m[1]);
  const xmlComplete = /<task_complete>\s*true\s*<\/task_complete>/i.test(text);
  if (xml.length || xmlComplete) return { commands: xml, taskComplete: xmlComplete, parsed: true };
  return { commands: [], taskComplete: /"task_complete"\s*:\s*true/.test(text), parsed: false };
}

// ------------------------------------------------------------ building the trace
function parseArgs(raw: unknown): Record<string, unknown> {
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) return raw as Record<string, unknown>;
  if (typeof raw !== 'string' || raw.trim() === '') return {};
  try {
    const v = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

export function buildTrace(row: ImRow): Trace {
  const { scaffold, source } = rowScaffold(row);
  const canon = canonicalToolNames(row.tools);
  const actions: Action[] = [];
  const observations: Observation[] = [];
  const byCallId = new Map<string, number>();
  let turn = -1;
  let lastAssistant: ImAssistantMessage | undefined;
  let commands = 0;
  /** Terminus-2: actions of the previous assistant reply, answered by the next user message. */
  let pendingTerminus: number[] | null = null;
  let pendingTerminusMessage = -1;
  /** Tool results without a known id are matched in call order. */
  let unanswered: number[] = [];

  row.messages.forEach((m, index) => {
    if (m.role === 'assistant') {
      turn++;
      lastAssistant = m;
      unanswered = [];
      if (scaffold === 'terminus2' && !m.tool_calls?.length) {
        const reply = parseTerminusReply(typeof m.content === 'string' ? m.content : '');
        const ids: number[] = [];
        for (const keystrokes of reply.commands) {
          const a = classifyCall('bash_command', 'bash_command', { keystrokes }, turn, index);
          ids.push(actions.push(a) - 1);
        }
        if (reply.taskComplete) ids.push(actions.push(classifyCall('mark_task_complete', 'mark_task_complete', {}, turn, index)) - 1);
        commands += reply.commands.length;
        pendingTerminus = ids;
        pendingTerminusMessage = index;
        return;
      }
      for (const call of m.tool_calls ?? []) {
        const name = call.function?.name ?? '';
        const a = classifyCall(name, canon.get(name) ?? name.toLowerCase(), parseArgs(call.function?.arguments), turn, index);
        a.callId = call.id;
        if (scaffold === 'terminus2' && a.kind === 'exec') commands++;
        const idx = actions.push(a) - 1;
        if (call.id) byCallId.set(call.id, idx);
        unanswered.push(idx);
      }
      return;
    }
    if (m.role === 'tool') {
      let idx = m.tool_call_id !== undefined ? byCallId.get(m.tool_call_id) : undefined;
      if (idx === undefined) idx = unanswered.find((i) => actions[i].observation === undefined);
      const text = typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? '');
      const a = idx !== undefined ? actions[idx] : undefined;
      const verdict = detectError(text, { isExec: a?.kind === 'exec', isTest: a?.isTest ?? false });
      const o = observations.push({ message: index, assistantMessage: a?.message, actions: idx !== undefined ? [idx] : [], verdict, text }) - 1;
      if (a) a.observation = o;
      return;
    }
    if (m.role === 'user' && scaffold === 'terminus2' && pendingTerminus) {
      const text = typeof m.content === 'string' ? m.content : '';
      const ids = pendingTerminus.filter((i) => actions[i].kind === 'exec');
      const verdict = detectError(text, { isExec: ids.length > 0, isTest: ids.some((i) => actions[i].isTest) });
      const o = observations.push({ message: index, assistantMessage: pendingTerminusMessage, actions: pendingTerminus, verdict, text }) - 1;
      for (const i of pendingTerminus) actions[i].observation = o;
      pendingTerminus = null;
    }
  });

  return {
    scaffold,
    scaffoldSource: source,
    assistantTurns: turn + 1,
    actions,
    observations,
    lastRole: row.messages.length ? row.messages[row.messages.length - 1].role : '',
    lastAssistant,
    commands,
  };
}
