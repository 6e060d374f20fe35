import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { TrajgenError } from '@trajgen/core';
import { parse as parseToml } from 'smol-toml';

type TomlTable = Record<string, unknown>;

/** One shell command the oracle runs through the agent's shell tool. */
export interface ScriptStep {
  /** The command text, passed verbatim (heredocs and continuations intact). */
  command: string;
  /** A short description: the comment above the block, else the first line. */
  description: string;
}

/** What the oracle knows about one task. */
export interface OracleTask {
  id: string;
  dir: string;
  /** `[task].name` of task.toml, else the id. */
  name: string;
  instruction: string;
  /** solution/solve.sh split into steps. */
  steps: ScriptStep[];
  /** `[metadata].oracle_check`: the command the oracle runs after solving (optional). */
  check?: string;
  /** solution/wrong.sh split into steps (used by the wrong_answer fault), when the task has one. */
  wrongSteps?: ScriptStep[];
}

/**
 * Read a Harbor task dir for the oracle: instruction.md, solution/solve.sh,
 * optional solution/wrong.sh and `[metadata] oracle_check` of task.toml.
 */
export function loadOracleTask(id: string, dir: string): OracleTask {
  const where = (f: string) => join(dir, f);
  if (!existsSync(where('instruction.md'))) {
    throw new TrajgenError(`Task ${id}: ${where('instruction.md')} does not exist`, {
      hint: 'The oracle needs a Harbor task dir (task.toml, instruction.md, solution/solve.sh).',
    });
  }
  if (!existsSync(where('solution/solve.sh'))) {
    throw new TrajgenError(`Task ${id}: ${where('solution/solve.sh')} does not exist`, {
      hint: 'The oracle replays solution/solve.sh; give the task a reference solution or do not use the oracle for it.',
    });
  }
  let toml: TomlTable = {};
  if (existsSync(where('task.toml'))) {
    try {
      toml = parseToml(readFileSync(where('task.toml'), 'utf8'));
    } catch (error) {
      throw new TrajgenError(`Task ${id}: ${where('task.toml')} is not valid TOML: ${(error as Error).message}`);
    }
  }
  const task = (toml.task ?? {}) as TomlTable;
  const metadata = (toml.metadata ?? {}) as TomlTable;
  const check = typeof metadata.oracle_check === 'string' && metadata.oracle_check.trim() ? metadata.oracle_check.trim() : undefined;
  const wrong = where('solution/wrong.sh');
  return {
    id,
    dir,
    name: typeof task.name === 'string' ? task.name : id,
    instruction: stripCanary(readFileSync(where('instruction.md'), 'utf8')).trim(),
    steps: splitShellScript(readFileSync(where('solution/solve.sh'), 'utf8')),
    check,
    wrongSteps: existsSync(wrong) ? splitShellScript(readFileSync(wrong, 'utf8')) : undefined,
  };
}

/** Load every task of a `{id → dir}` map (ids default to dir basenames when given a list). */
export function loadOracleTasks(tasks: Record<string, string> | string[]): Map<string, OracleTask> {
  const entries = Array.isArray(tasks) ? tasks.map((d) => [basename(d), d] as const) : Object.entries(tasks);
  return new Map(entries.map(([id, dir]) => [id, loadOracleTask(id, dir)]));
}

function stripCanary(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/canary/i.test(l) || !/^\s*(<!--|#)/.test(l))
    .join('\n');
}

const HEREDOC = /(?<!<)<<(?!<)(-?)\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

/**
 * Split a shell script into steps. Blank lines and comment lines separate
 * steps; the comment lines above a block describe it. Heredoc bodies and
 * backslash continuations stay inside their step (even when they contain
 * blank or `#` lines). The shebang and `set -e…` lines are dropped: every
 * step runs in its own tool call, where they would mean nothing.
 */
export function splitShellScript(text: string): ScriptStep[] {
  const steps: ScriptStep[] = [];
  let comment: string[] = [];
  let block: string[] = [];
  const pending: { delim: string; tabs: boolean }[] = [];
  let continued = false;

  const flush = () => {
    if (block.length) {
      const command = block.join('\n');
      const first = block[0].trim();
      steps.push({ command, description: comment.length ? comment.join(' ') : describe(first) });
    }
    block = [];
    comment = [];
  };

  const lines = text.replace(/\r\n/g, '\n').split('\n');
  lines.forEach((line, i) => {
    if (pending.length) {
      block.push(line);
      const head = pending[0];
      const candidate = head.tabs ? line.replace(/^\t+/, '') : line;
      if (candidate === head.delim) pending.shift();
      return;
    }
    if (continued) {
      block.push(line);
      continued = /\\$/.test(line);
      scanHeredocs(line, pending);
      return;
    }
    const trimmed = line.trim();
    if (i === 0 && trimmed.startsWith('#!')) return;
    if (/^set\s+[-+][A-Za-z]+(\s+[-+]?[A-Za-z]+)*\s*$/.test(trimmed) || /^set\s+-o\s+\w+$/.test(trimmed)) return;
    if (!trimmed) {
      flush();
      return;
    }
    if (trimmed.startsWith('#')) {
      if (block.length) flush();
      const c = trimmed.replace(/^#+\s*/, '').trim();
      if (c) comment.push(c);
      return;
    }
    block.push(line);
    continued = /\\$/.test(line);
    scanHeredocs(line, pending);
  });
  flush();
  return steps;
}

function scanHeredocs(line: string, pending: { delim: string; tabs: boolean }[]): void {
  // Ignore `<<` inside quotes well enough for solution scripts: strip quoted strings first,
  // but keep the quoted delimiter forms (<<'EOF', <<"EOF") the regex needs.
  const unquoted = line.replace(/(?<!<)<<(?!<)(-?)\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\2/g, '<<$1$3').replace(/'[^']*'|"(?:\\.|[^"\\])*"/g, '""');
  for (const m of unquoted.matchAll(HEREDOC)) pending.push({ delim: m[3], tabs: m[1] === '-' });
}

function describe(firstLine: string): string {
  const short = firstLine.length > 60 ? `${firstLine.slice(0, 57)}...` : firstLine;
  return `Run ${short}`;
}
