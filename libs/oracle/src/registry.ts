import type { Conversation } from './policy';
import type { OracleTask } from './task';

/** Harbor's trial-name prefix of a task: last path segment, first 32 chars, trailing `_`/`-` stripped. */
export function trialPrefix(taskId: string): string {
  const last = taskId.split('/').pop() ?? taskId;
  return last.slice(0, 32).replace(/[_-]+$/, '');
}

/**
 * Which task a request is about: first the trial name from the routing
 * header (`<task prefix>__<suffix>`, or the bare task id), then the
 * instruction text found in the user messages (the longest instruction that
 * appears wins). Undefined when neither identifies exactly one task.
 */
export function matchTask(tasks: Map<string, OracleTask>, trial: string | undefined, conv: Conversation): OracleTask | undefined {
  if (trial) {
    if (tasks.has(trial)) return tasks.get(trial);
    const cut = trial.lastIndexOf('__');
    const part = cut > 0 ? trial.slice(0, cut) : trial;
    if (tasks.has(part)) return tasks.get(part);
    const hits = [...tasks.values()].filter((t) => trialPrefix(t.id) === part);
    if (hits.length === 1) return hits[0];
  }
  const text = conv.userTexts.join('\n');
  // Without a routing header (proxy.backend: litellm forwards no client header) the instruction is all
  // there is; OpenCode's prompt arrives JSON-quoted (`\"` for each quote), so the unescaped text counts too.
  return longestInstructionIn(tasks, text) ?? longestInstructionIn(tasks, text.replace(/\\(["\\])/g, '$1'));
}

function longestInstructionIn(tasks: Map<string, OracleTask>, text: string): OracleTask | undefined {
  let best: OracleTask | undefined;
  let bestLength = 0;
  let tie = false;
  for (const t of tasks.values()) {
    if (!t.instruction) continue;
    if (text.includes(t.instruction)) {
      if (t.instruction.length > bestLength) {
        best = t;
        bestLength = t.instruction.length;
        tie = false;
      } else if (t.instruction.length === bestLength) tie = true;
    }
  }
  return tie ? undefined : best;
}
