import { formatDuration } from './text';

/**
 * What a stage talks through: plain lines for people and CI logs, warnings,
 * and progress of long work. Every stage lib's `run<Stage>(pipeline, io,
 * options)` takes one; the plugin's runStage makes the console one, tests
 * make one that collects lines. Helpers that never report progress take
 * `Pick<StageIO, 'log' | 'warn'>`.
 */
export interface StageIO {
  log(line: string): void;
  warn(line: string): void;
  /**
   * `done` of `total` (null: not known up front) items of long work, e.g.
   * `progress(1200, 5000, 'rows scored')`. Call it as often as you like:
   * lines are throttled (at most one every few seconds off a TTY, so CI logs
   * move without flooding), and a run shorter than one interval prints none.
   */
  progress(done: number, total: number | null, label: string): void;
}

export interface StageIOOptions {
  log?: (line: string) => void;
  warn?: (line: string) => void;
  /** Minimum time between two progress lines (default: 2 s on a TTY, 5 s elsewhere; 0 prints every call). */
  progressEveryMs?: number;
  /** Whether the output is a terminal (default: process.stdout.isTTY); only picks the default interval. */
  tty?: boolean;
  now?: () => number;
}

/** `1200/5000 rows scored (24%, 12s, ~38s left)`: the one shape of a progress line. */
export function formatProgressLine(done: number, total: number | null, label: string, elapsedMs: number): string {
  if (total === null || total <= 0) return `${done} ${label} (${formatDuration(elapsedMs)})`;
  const share = Math.min(1, done / total);
  const left = done > 0 && done < total ? `, ~${formatDuration((elapsedMs / done) * (total - done))} left` : '';
  return `${done}/${total} ${label} (${Math.floor(share * 100)}%, ${formatDuration(elapsedMs)}${left})`;
}

/** A StageIO over two line sinks (default: nowhere) with throttled, indented progress lines through `log`. */
export function createStageIO(options: StageIOOptions = {}): StageIO {
  const log = options.log ?? (() => undefined);
  const now = options.now ?? Date.now;
  const every = options.progressEveryMs ?? ((options.tty ?? Boolean(process.stdout.isTTY)) ? 2000 : 5000);
  const started = now();
  let last = started;
  return {
    log,
    warn: options.warn ?? (() => undefined),
    progress(done, total, label) {
      const t = now();
      if (every > 0 && t - last < every) return;
      last = t;
      log(`  ${formatProgressLine(done, total, label, t - started)}`);
    },
  };
}

/** The console: lines to stdout, warnings to stderr prefixed `warning: ` (what every executor prints through). */
export function consoleStageIO(options: Pick<StageIOOptions, 'progressEveryMs' | 'tty'> = {}): StageIO {
  return createStageIO({ ...options, log: (line) => console.log(line), warn: (line) => console.warn(`warning: ${line}`) });
}

/** Prints nothing: for callers that only want the result. */
export const quietStageIO: StageIO = createStageIO();
