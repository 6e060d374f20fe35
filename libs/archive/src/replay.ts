import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFileSync } from '@trajgen/core';
import type { RecordedRun } from './recorder';
import { textScrubber } from './redact';

/**
 * What a cache hit of a stage prints. Nx replays a cached task's whole
 * terminal output as if it ran again ("Successfully installed …", every
 * progress line, "done in 6m15s"), which tells a person the stage just did
 * the work. After a stage executes, its full output is kept in its run's
 * archive and the text Nx stores for that hash is replaced by a short note:
 * restored, from which run, the run's one-line result, where the full log is.
 */

/** Starts every replay note, so the hook can tell a rewritten replay from an original one (remote cache, older entries). */
export const REPLAY_MARK = '↺ ';

/** One stage that executed in this invocation, with what it printed. */
export interface ExecutedStageOutput {
  stage: string;
  /** Nx's hash of the task: the name of the replay file in the cache. */
  hash: string | null;
  /** success | failure | stopped: only a success is cached, so only its replay is rewritten. */
  status: string;
  terminalOutput: string;
}

const ANSI = /\u001b\[[0-9;]*m/g;

/** The stage's own last line: `✔ p:stage done in 6m15s — summary (finished …)`. */
export function stageResultLine(output: string, pipeline: string, stage: string): string | undefined {
  const prefix = `✔ ${pipeline}:${stage} done in `;
  return output
    .replace(ANSI, '')
    .split(/\r?\n/)
    .reverse()
    .find((line) => line.startsWith(prefix));
}

export function formatReplayNote(o: { pipeline: string; stage: string; run: string; resultLine?: string; log: string }): string {
  const result = o.resultLine ? o.resultLine.replace(/^✔ \S+ /, '') : 'done';
  return [
    `${REPLAY_MARK}${o.pipeline}:${o.stage} restored from the Nx cache, not run again.`,
    `  It ran in ${o.run}: ${result}`,
    `  The full log of that run: ${o.log}`,
    '',
  ].join('\n');
}

/**
 * Keep every executed stage's output (scrubbed) as `<run archive>/logs/<stage>.log`
 * and, for each that succeeded, replace its replay in `terminalOutputsDir`
 * (Nx's `<cacheDir>/terminalOutputs/`) by the note. Returns the log files written.
 * A replay file that is not there (caching off, --skip-nx-cache) is left alone.
 */
export function keepStageLogs(input: {
  workspaceRoot: string;
  run: RecordedRun;
  outputs: ExecutedStageOutput[];
  terminalOutputsDir: string | undefined;
}): string[] {
  const scrub = textScrubber();
  const written: string[] = [];
  for (const o of input.outputs) {
    if (!o.terminalOutput) continue;
    const log = join(input.run.archive, 'logs', `${o.stage}.log`);
    atomicWriteFileSync(join(input.workspaceRoot, log), scrub(o.terminalOutput.replace(ANSI, '')));
    written.push(log);
    if (o.status !== 'success' || !o.hash || !input.terminalOutputsDir) continue;
    const replay = join(input.terminalOutputsDir, o.hash);
    if (!existsSync(replay)) continue;
    const resultLine = stageResultLine(o.terminalOutput, input.run.pipeline, o.stage);
    atomicWriteFileSync(replay, formatReplayNote({ pipeline: input.run.pipeline, stage: o.stage, run: input.run.id, resultLine, log }));
  }
  return written;
}
