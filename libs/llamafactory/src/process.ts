import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { TrajgenError, type StageIO } from '@trajgen/core';
import { TrainerLogTail, formatProgress, type TrainerLogEntry } from './trainer-log';

export interface TrainingProcessOptions {
  command: string;
  args: string[];
  /** Set over the process environment. */
  env: Record<string, string>;
  cwd: string;
  /** Everything the process prints is appended here. */
  logFile: string;
  /** The run's trainer_log.jsonl, followed for progress lines. */
  trainerLog: string;
  io: Pick<StageIO, 'log' | 'warn'>;
  pollMs?: number;
  /** Which output lines of the process reach the console (all reach the log file). */
  echo?: (line: string) => boolean;
  /** Called for each new trainer_log entry. */
  onEntry?: (entry: TrainerLogEntry) => void;
  /** Minimum time between two progress lines (default 2 s; 0 prints every logged step). */
  progressEveryMs?: number;
}

export interface TrainingProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  lastEntry?: TrainerLogEntry;
  /** The last lines the process printed (for error reports). */
  outputTail: string[];
}

/** A UTC timestamp for log file names: 20261121T101500Z. */
export function logStamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** tqdm bars and blank lines stay out of the console (they are in the log file). */
export function defaultEcho(line: string): boolean {
  if (!line.trim()) return false;
  if (/\d+%\|/.test(line) || /\|\s*\d+\/\d+\s*\[/.test(line)) return false;
  return true;
}

/**
 * Run a training process: output teed to `logFile` (and, filtered, to the
 * console), progress read from trainer_log.jsonl as it grows (step/total,
 * loss, lr, ETA), SIGTERM forwarded. Resolves when it exits.
 */
export function runTrainingProcess(options: TrainingProcessOptions): Promise<TrainingProcessResult> {
  const log = openProcessLog(options);
  const progress = new ThrottledProgress(new TrainerLogTail(options.trainerLog), options);
  const output = new OutputLines(options.echo ?? defaultEcho, options.io);
  const started = Date.now();

  return new Promise((resolve, reject) => {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (which: 'out' | 'err') => (chunk: Buffer) => {
      log.write(chunk);
      const lines = output.split(which, chunk);
      if (lines.length) progress.drain(); // keep progress and output lines in order
      output.show(lines);
    };
    child.stdout!.on('data', onData('out'));
    child.stderr!.on('data', onData('err'));
    const timer = setInterval(() => progress.drain(), options.pollMs ?? 1000);
    // Ctrl-C reaches the child through the terminal's process group; a SIGTERM aimed at us (Nx stopping
    // the task) is passed on so that training stops with us instead of running on orphaned.
    const onTerm = () => child.kill('SIGTERM');
    process.on('SIGTERM', onTerm);
    const cleanup = () => {
      clearInterval(timer);
      process.off('SIGTERM', onTerm);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      cleanup();
      log.end();
      reject(
        new TrajgenError(`Could not start ${options.command}: ${error.code === 'ENOENT' ? 'not found' : error.message}`, {
          hint: error.code === 'ENOENT' ? 'Install it, put it on PATH, or configure its path.' : undefined,
        }),
      );
    });
    child.on('close', (exitCode, signal) => {
      cleanup();
      output.flush();
      progress.drain(true);
      log.end(() => resolve({ exitCode, signal, durationMs: Date.now() - started, lastEntry: progress.lastEntry, outputTail: output.tail }));
    });
  });
}

/** The process's log file, opened for appending, with the command it is about to run written first. */
function openProcessLog(options: TrainingProcessOptions): WriteStream {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const shownEnv = Object.entries(options.env).map(([k, v]) => `${k}=${v}`).join(' ');
  log.write(`# ${new Date().toISOString()} cwd=${options.cwd}\n# ${shownEnv ? shownEnv + ' ' : ''}${[options.command, ...options.args].join(' ')}\n`);
  return log;
}

/**
 * Progress from trainer_log.jsonl as plain lines (logs and CI read them): at
 * most one every `progressEveryMs`, but always the first, the last and every eval line.
 */
class ThrottledProgress {
  lastEntry: TrainerLogEntry | undefined;
  private shownAt = 0;
  private held: TrainerLogEntry | undefined;
  private readonly every: number;

  constructor(
    private readonly tail: TrainerLogTail,
    private readonly options: Pick<TrainingProcessOptions, 'io' | 'onEntry' | 'progressEveryMs'>,
  ) {
    this.every = options.progressEveryMs ?? 2000;
  }

  /** Show what trainer_log.jsonl has gained; `final` also shows the last entry held back. */
  drain(final = false): void {
    for (const entry of this.tail.poll()) {
      this.lastEntry = entry;
      const important = this.shownAt === 0 || entry.current_steps >= entry.total_steps || entry.eval_loss !== undefined;
      if (important || Date.now() - this.shownAt >= this.every) this.show(entry);
      else this.held = entry;
      this.options.onEntry?.(entry);
    }
    if (final && this.held) this.show(this.held);
  }

  private show(entry: TrainerLogEntry): void {
    this.options.io.log(`  ${formatProgress(entry)}`);
    this.shownAt = Date.now();
    this.held = undefined;
  }
}

/** The process's stdout and stderr cut into lines: the last 80 kept for error reports, the echoed ones shown. */
class OutputLines {
  readonly tail: string[] = [];
  private readonly pending: Record<'out' | 'err', string> = { out: '', err: '' };

  constructor(
    private readonly echo: (line: string) => boolean,
    private readonly io: Pick<StageIO, 'log' | 'warn'>,
  ) {}

  /** The complete lines `chunk` ends; a partial last line waits for the next chunk. */
  split(which: 'out' | 'err', chunk: Buffer): string[] {
    const lines = (this.pending[which] + chunk.toString('utf8')).split(/\r?\n|\r/);
    this.pending[which] = lines.pop() ?? '';
    return lines;
  }

  show(lines: string[]): void {
    for (const line of lines) {
      if (line.trim()) {
        this.tail.push(line);
        if (this.tail.length > 80) this.tail.shift();
      }
      if (this.echo(line)) this.io.log(`  │ ${line}`);
    }
  }

  /** The partial last lines, once the process has exited. */
  flush(): void {
    for (const which of ['out', 'err'] as const) {
      if (this.pending[which].trim()) {
        this.tail.push(this.pending[which]);
        if (this.echo(this.pending[which])) this.io.log(`  │ ${this.pending[which]}`);
      }
    }
  }
}

export interface RankError {
  rank: number | null;
  file: string;
  message: string;
  timestamp?: string;
  traceback?: string;
}

function findFiles(dir: string, name: string, depth = 6): string[] {
  if (!existsSync(dir) || depth < 0) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(p, name, depth - 1));
    else if (e.name === name) out.push(p);
  }
  return out;
}

/**
 * The per-rank error files torchrun's elastic agent wrote under `dir`
 * (`<dir>/<run_id>_*\/attempt_<n>/<rank>/error.json`, one per failed rank),
 * newest attempt first, then by rank.
 */
export function collectRankErrors(dir: string): RankError[] {
  const attempt = (file: string) => Number(/attempt_(\d+)/.exec(file)?.[1] ?? 0);
  const rankOf = (file: string) => Number(dirname(file).split(/[\\/]/).pop()) || 0;
  return findFiles(dir, 'error.json')
    .sort((a, b) => attempt(b) - attempt(a) || rankOf(a) - rankOf(b))
    .map((file) => {
      const rankName = dirname(file).split(/[\\/]/).pop() ?? '';
      let message = '(unreadable error file)';
      let timestamp: string | undefined;
      let traceback: string | undefined;
      try {
        const data = JSON.parse(readFileSync(file, 'utf8')) as { message?: unknown };
        const m = data.message;
        if (typeof m === 'string') message = m;
        else if (m && typeof m === 'object') {
          const mm = m as { message?: string; extraInfo?: { py_callstack?: string; timestamp?: string } };
          message = mm.message ?? JSON.stringify(m);
          traceback = mm.extraInfo?.py_callstack;
          timestamp = mm.extraInfo?.timestamp;
        }
      } catch {
        /* keep the placeholder */
      }
      return { rank: /^\d+$/.test(rankName) ? Number(rankName) : null, file, message, timestamp, traceback };
    });
}

/** The failure report of a training process: exit status, rank errors, the last output lines, where the log is. */
export function trainingFailure(options: {
  what: string;
  result: TrainingProcessResult;
  logFile: string;
  workspaceRoot: string;
  rankErrors?: RankError[];
  hint?: string;
}): TrajgenError {
  const { result } = options;
  const status = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
  const details: string[] = [];
  const rel = (p: string) => (relative(options.workspaceRoot, p).startsWith('..') ? p : relative(options.workspaceRoot, p));
  for (const e of options.rankErrors ?? []) {
    const tb = e.traceback ? e.traceback.trim().split('\n').slice(-4).join(' ⏎ ') : '';
    details.push(`rank ${e.rank ?? '?'}: ${e.message}${tb ? ` — ${tb}` : ''} (${rel(e.file)})`);
  }
  const tail = result.outputTail.slice(-15);
  if (tail.length) details.push(`last output lines:\n      ${tail.join('\n      ')}`);
  if (result.lastEntry) details.push(`last progress: step ${result.lastEntry.current_steps}/${result.lastEntry.total_steps}`);
  return new TrajgenError(`${options.what} ${status}`, {
    details,
    hint: `${options.hint ? options.hint + ' ' : ''}Full output: ${rel(options.logFile)}`,
  });
}
