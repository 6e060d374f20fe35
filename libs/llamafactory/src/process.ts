import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
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
  const { io } = options;
  const echo = options.echo ?? defaultEcho;
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const shownEnv = Object.entries(options.env).map(([k, v]) => `${k}=${v}`).join(' ');
  log.write(`# ${new Date().toISOString()} cwd=${options.cwd}\n# ${shownEnv ? shownEnv + ' ' : ''}${[options.command, ...options.args].join(' ')}\n`);
  const tail = new TrainerLogTail(options.trainerLog);
  const outputTail: string[] = [];
  let lastEntry: TrainerLogEntry | undefined;
  const started = Date.now();

  // Plain lines (logs and CI read them): at most one every `progressEveryMs`,
  // but always the first, the last and every eval line.
  const every = options.progressEveryMs ?? 2000;
  let shownAt = 0;
  let held: TrainerLogEntry | undefined;
  const show = (entry: TrainerLogEntry) => {
    io.log(`  ${formatProgress(entry)}`);
    shownAt = Date.now();
    held = undefined;
  };
  const drainProgress = (final = false) => {
    for (const entry of tail.poll()) {
      lastEntry = entry;
      const important = shownAt === 0 || entry.current_steps >= entry.total_steps || entry.eval_loss !== undefined;
      if (important || Date.now() - shownAt >= every) show(entry);
      else held = entry;
      options.onEntry?.(entry);
    }
    if (final && held) show(held);
  };

  return new Promise((resolve, reject) => {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pending: Record<'out' | 'err', string> = { out: '', err: '' };
    const onData = (which: 'out' | 'err') => (chunk: Buffer) => {
      log.write(chunk);
      const text = pending[which] + chunk.toString('utf8');
      const lines = text.split(/\r?\n|\r/);
      pending[which] = lines.pop() ?? '';
      if (lines.length) drainProgress(); // keep progress and output lines in order
      for (const line of lines) {
        if (line.trim()) {
          outputTail.push(line);
          if (outputTail.length > 80) outputTail.shift();
        }
        if (echo(line)) io.log(`  │ ${line}`);
      }
    };
    child.stdout!.on('data', onData('out'));
    child.stderr!.on('data', onData('err'));
    const timer = setInterval(() => drainProgress(), options.pollMs ?? 1000);
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
      for (const which of ['out', 'err'] as const) {
        if (pending[which].trim()) {
          outputTail.push(pending[which]);
          if (echo(pending[which])) io.log(`  │ ${pending[which]}`);
        }
      }
      drainProgress(true);
      log.end(() => resolve({ exitCode, signal, durationMs: Date.now() - started, lastEntry, outputTail }));
    });
  });
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
