import type { OracleTask, ScriptStep } from './task';
import { isTerminusConversation, terminusTurn } from './terminus';
import { findShellTool, shellToolInput, toolSpecs, type ToolSpec } from './tools';

export type WireProtocol = 'anthropic' | 'openai';

/** What the oracle says on one turn, independent of the wire protocol. */
export interface Turn {
  kind: 'step' | 'final' | 'side' | 'unknown-task';
  reasoning: string;
  text: string;
  toolCall?: { name: string; input: Record<string, unknown> };
  /** 0-based index of the step this turn runs (kind "step"). */
  step?: number;
  steps?: number;
}

/** The protocol-independent view of a request the policy needs. */
export interface Conversation {
  system: string;
  /** Every user-authored text, in order (tool results excluded). */
  userTexts: string[];
  tools: ToolSpec[];
  /** Names of the tools the assistant already called, in order. */
  priorToolCalls: string[];
  /** Text of the most recent tool result, if any. */
  lastToolResult?: string;
  /** Every assistant message's text, in order (Terminus-2 answers in JSON text). */
  assistantTexts: string[];
}

export const LOOK_AROUND: ScriptStep = { command: 'ls -la', description: 'List the files in the working directory' };

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((b) => {
        if (typeof b === 'string') return b;
        if (b && typeof b === 'object') {
          const o = b as Record<string, unknown>;
          if (typeof o.text === 'string') return o.text;
          if (o.type === 'tool_result') return textOf(o.content);
        }
        return '';
      })
      .filter(Boolean)
      .join('\n');
  }
  return '';
}

/** Read a request body of either protocol into a Conversation. */
export function readConversation(protocol: WireProtocol, body: Record<string, unknown>): Conversation {
  const messages = Array.isArray(body.messages) ? (body.messages as Record<string, unknown>[]) : [];
  const conv: Conversation = { system: '', userTexts: [], tools: toolSpecs(body.tools), priorToolCalls: [], assistantTexts: [] };
  const systemParts: string[] = [];
  if (protocol === 'anthropic' && body.system !== undefined) systemParts.push(textOf(body.system));
  for (const m of messages) {
    const role = m.role;
    const content = m.content;
    if (role === 'system' || role === 'developer') {
      systemParts.push(textOf(content));
      continue;
    }
    if (role === 'user') {
      if (Array.isArray(content)) {
        const results = content.filter((b) => b && typeof b === 'object' && (b as { type?: string }).type === 'tool_result');
        if (results.length) conv.lastToolResult = textOf([results[results.length - 1]]);
        const texts = content.filter((b) => !(b && typeof b === 'object' && (b as { type?: string }).type === 'tool_result'));
        const t = textOf(texts);
        if (t) conv.userTexts.push(t);
      } else if (typeof content === 'string') conv.userTexts.push(content);
      continue;
    }
    if (role === 'tool') {
      conv.lastToolResult = textOf(content);
      continue;
    }
    if (role === 'assistant') {
      const text = textOf(content);
      if (text) conv.assistantTexts.push(text);
      if (Array.isArray(content)) {
        for (const b of content) {
          const o = b as Record<string, unknown>;
          if (o && o.type === 'tool_use' && typeof o.name === 'string') conv.priorToolCalls.push(o.name);
        }
      }
      if (Array.isArray(m.tool_calls)) {
        for (const c of m.tool_calls as Record<string, unknown>[]) {
          const fn = c.function as Record<string, unknown> | undefined;
          if (fn && typeof fn.name === 'string') conv.priorToolCalls.push(fn.name);
        }
      }
    }
  }
  conv.system = systemParts.filter(Boolean).join('\n');
  return conv;
}

/** The scripted plan: look around, the solution's steps (or the wrong ones), the task's check. */
export function planFor(task: OracleTask, wrongAnswer: boolean): ScriptStep[] {
  const body = wrongAnswer ? (task.wrongSteps ?? []) : task.steps;
  const plan = [LOOK_AROUND, ...body];
  if (task.check) plan.push({ command: task.check, description: "Run the task's checks" });
  return plan;
}

export function titleFor(task: OracleTask | undefined): string {
  if (!task) return 'Coding task';
  const first = task.instruction.split('\n').find((l) => l.trim())?.replace(/^#+\s*/, '').trim() ?? task.id;
  return first.length > 50 ? `${first.slice(0, 47)}...` : first;
}

/**
 * Decide the next turn. Stateless: the step is the number of shell-tool calls
 * already in the conversation. Requests without the shell tool are side calls
 * (warm-ups, titles, topic detection) and get short plain text.
 */
export function decideTurn(conv: Conversation, task: OracleTask | undefined, options: { wrongAnswer?: boolean } = {}): Turn {
  if (isTerminusConversation(conv)) return terminusTurn(conv, task, task ? planFor(task, !!options.wrongAnswer) : undefined);
  const shell = findShellTool(conv.tools);
  if (!shell) return sideTurn(conv, task);
  if (!task) {
    return {
      kind: 'unknown-task',
      reasoning: 'I cannot tell which task this conversation is about, so I have no script to follow.',
      text:
        'The oracle could not match this conversation to a task it knows (no known trial header and no known instruction text). ' +
        'Nothing was changed.',
    };
  }
  const plan = planFor(task, !!options.wrongAnswer);
  const done = conv.priorToolCalls.filter((n) => n === shell.name).length;
  if (done < plan.length) {
    const step = plan[done];
    return {
      kind: 'step',
      step: done,
      steps: plan.length,
      reasoning: `Task "${task.name}", step ${done + 1} of ${plan.length}: ${step.description}. I will run it with the ${shell.name} tool.`,
      text: `${step.description}.`,
      toolCall: { name: shell.name, input: shellToolInput(shell, step.command, step.description) },
    };
  }
  const last = (conv.lastToolResult ?? '').trim().split('\n').filter((l) => l.trim()).pop();
  return {
    kind: 'final',
    steps: plan.length,
    reasoning: `All ${plan.length} steps of the plan for "${task.name}" have run. I will summarise what was done.`,
    text:
      `I completed the task "${titleFor(task)}".\n\n` +
      plan.map((s, i) => `${i + 1}. ${s.description}`).join('\n') +
      (last ? `\n\nLast output: ${last.length > 200 ? `${last.slice(0, 197)}...` : last}` : ''),
  };
}

function sideTurn(conv: Conversation, task: OracleTask | undefined): Turn {
  const everything = `${conv.system}\n${conv.userTexts.join('\n')}`;
  const title = titleFor(task);
  if (/isNewTopic/.test(everything)) {
    return { kind: 'side', reasoning: 'The client asks whether this is a new topic.', text: JSON.stringify({ isNewTopic: true, title }) };
  }
  if (/title generator|generate a (?:brief |short |concise )?title|a title for this conversation/i.test(everything)) {
    return { kind: 'side', reasoning: 'The client asks for a conversation title.', text: title };
  }
  if (/^\s*warmup\s*$/i.test(conv.userTexts[conv.userTexts.length - 1] ?? '')) {
    return { kind: 'side', reasoning: 'A warm-up request.', text: 'Ready.' };
  }
  if (/summar/i.test(conv.system) || /summar/i.test(conv.userTexts[conv.userTexts.length - 1] ?? '')) {
    return { kind: 'side', reasoning: 'The client asks for a summary.', text: task ? `Working on: ${title}.` : 'No work was done yet.' };
  }
  return {
    kind: 'side',
    reasoning: 'This request offers no shell tool, so it is a side call; a short answer is enough.',
    text: 'OK.',
  };
}
