import type { OracleTask } from './task';
import type { Conversation, Turn } from './policy';

/**
 * Terminus-2 (Harbor's own agent) has no tools: it asks for a JSON object
 * `{analysis, plan, commands: [{keystrokes, duration}], task_complete}` and
 * types the keystrokes into a tmux pane (Harbor's terminus-json-plain
 * template, read in harbor 0.26.0). The oracle answers in that format, one
 * plan step per turn, then `task_complete: true` — twice, as Terminus asks
 * "Are you sure…?" before it stops.
 *
 * Stateless like the rest of the oracle: the steps done are the assistant
 * turns that sent commands. Terminus's context summarisation replaces the
 * history with a summary the oracle itself wrote, so that summary carries the
 * count ("Oracle progress: N steps done"), read back from the handoff.
 */

export function isTerminusConversation(conv: Conversation): boolean {
  const first = conv.userTexts[0] ?? '';
  return conv.tools.length === 0 && /"keystrokes"/.test(first) && /Format your response as JSON/.test(first);
}

const PROGRESS = /Oracle progress: (\d+) steps? done/g;

function sentCommands(text: string): boolean {
  try {
    const o = JSON.parse(text) as { commands?: unknown[] };
    return Array.isArray(o.commands) && o.commands.length > 0;
  } catch {
    return false;
  }
}

/** Steps already run: the newest progress marker in the conversation, plus the command turns after it. */
export function terminusStepsDone(conv: Conversation): number {
  let base = 0;
  for (const t of [...conv.userTexts, ...conv.assistantTexts]) for (const m of t.matchAll(PROGRESS)) base = Math.max(base, Number(m[1]));
  return base + conv.assistantTexts.filter(sentCommands).length;
}

function json(analysis: string, plan: string, commands: { keystrokes: string; duration: number }[], taskComplete: boolean): string {
  return JSON.stringify({ analysis, plan, commands, task_complete: taskComplete }, null, 2);
}

export function terminusTurn(conv: Conversation, task: OracleTask | undefined, plan: { command: string; description: string }[] | undefined): Turn {
  const last = conv.userTexts[conv.userTexts.length - 1] ?? '';
  const done = terminusStepsDone(conv);
  const name = task?.name ?? 'this task';
  // Context summarisation (three sub-agent calls): summary, questions, answers — plain text.
  if (/You are about to hand off your work to another AI agent/.test(last)) {
    return { kind: 'side', reasoning: 'Terminus asks for a hand-off summary.', text: `Summary of the work on ${name}. Oracle progress: ${done} steps done. The remaining steps of the plan follow in order.` };
  }
  if (/You are picking up work from a previous AI agent/.test(last)) {
    return { kind: 'side', reasoning: 'Terminus asks the next agent for its questions.', text: '1. Which steps ran?\n2. Did any fail?\n3. What is left?\n4. Where are the files?\n5. How is the result checked?' };
  }
  if (/The next agent has a few questions for you/.test(last)) {
    return { kind: 'side', reasoning: 'Terminus asks for answers to the questions.', text: `Oracle progress: ${done} steps done. None failed; the rest of the plan is left; the files are in the working directory; the task's check verifies the result.` };
  }
  if (!task || !plan) {
    return { kind: 'unknown-task', reasoning: 'I cannot tell which task this conversation is about.', text: json('The oracle could not match this conversation to a task it knows.', 'Stop.', [], true) };
  }
  if (done < plan.length) {
    const step = plan[done];
    return {
      kind: 'step',
      step: done,
      steps: plan.length,
      reasoning: `Task "${task.name}", step ${done + 1} of ${plan.length}: ${step.description}.`,
      text: json(`Step ${done + 1} of ${plan.length} of the plan for ${task.name}.`, step.description, [{ keystrokes: `${step.command}\n`, duration: 1.0 }], false),
    };
  }
  // The plan has run: mark the task complete (and again when Terminus asks "Are you sure…?").
  return { kind: 'final', steps: plan.length, reasoning: `All ${plan.length} steps of the plan for "${task.name}" have run.`, text: json(`All ${plan.length} steps have run.`, 'The task is complete.', [], true) };
}
