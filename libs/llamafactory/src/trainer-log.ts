import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

/**
 * One line of LLaMA-Factory's `trainer_log.jsonl` (written by its LogCallback):
 * progress fields on every line; `loss`/`lr`/`epoch` on training lines,
 * `eval_loss` on eval lines; null-valued keys are absent.
 */
export interface TrainerLogEntry {
  current_steps: number;
  total_steps: number;
  loss?: number;
  eval_loss?: number;
  predict_loss?: number;
  reward?: number;
  accuracy?: number;
  lr?: number;
  epoch?: number;
  percentage?: number;
  elapsed_time?: string;
  remaining_time?: string;
  throughput?: number;
  total_tokens?: number;
  [key: string]: unknown;
}

export type TrainerLogKind = 'train' | 'eval' | 'predict' | 'progress';

export function entryKind(e: TrainerLogEntry): TrainerLogKind {
  if (e.loss !== undefined) return 'train';
  if (e.eval_loss !== undefined) return 'eval';
  if (e.predict_loss !== undefined) return 'predict';
  return 'progress';
}

export interface ParsedTrainerLog {
  /** One entry per (step, kind), the last occurrence winning, in step order. */
  entries: TrainerLogEntry[];
  /** Training-loss points (step, loss), one per step. */
  loss: [number, number][];
  evalLoss: [number, number][];
  /** Lines replaced by a later line for the same step and kind (steps replayed after a resume). */
  duplicates: number;
  /** Lines that were not JSON objects with a numeric current_steps (e.g. a torn last line). */
  invalid: number;
  /** The line read last (current progress). */
  last?: TrainerLogEntry;
}

function isEntry(v: unknown): v is TrainerLogEntry {
  return !!v && typeof v === 'object' && typeof (v as TrainerLogEntry).current_steps === 'number';
}

/** Parse one line; undefined for blank or invalid lines. */
export function parseTrainerLogLine(line: string): TrainerLogEntry | undefined {
  const s = line.trim();
  if (!s) return undefined;
  try {
    const v = JSON.parse(s);
    return isEntry(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Parse a whole trainer_log.jsonl. The file is appended across runs unless
 * overwrite_output_dir deletes it, so after a resume the steps between the
 * last checkpoint and the crash appear twice: lines are keyed by step (and
 * kind, because an eval line and the final summary share a step with a
 * training line) and the last occurrence wins.
 */
export function parseTrainerLog(text: string): ParsedTrainerLog {
  const byKey = new Map<string, TrainerLogEntry>();
  let duplicates = 0;
  let invalid = 0;
  let last: TrainerLogEntry | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const e = parseTrainerLogLine(line);
    if (!e) {
      invalid++;
      continue;
    }
    const key = `${e.current_steps}:${entryKind(e)}`;
    if (byKey.has(key)) {
      duplicates++;
      byKey.delete(key); // re-insert so iteration order follows the latest write
    }
    byKey.set(key, e);
    last = e;
  }
  const order: Record<TrainerLogKind, number> = { train: 0, eval: 1, predict: 2, progress: 3 };
  const entries = [...byKey.values()].sort((a, b) => a.current_steps - b.current_steps || order[entryKind(a)] - order[entryKind(b)]);
  return {
    entries,
    loss: entries.filter((e) => entryKind(e) === 'train').map((e) => [e.current_steps, e.loss!]),
    evalLoss: entries.filter((e) => entryKind(e) === 'eval').map((e) => [e.current_steps, e.eval_loss!]),
    duplicates,
    invalid,
    last,
  };
}

/**
 * Follows a trainer_log.jsonl while training writes it: returns complete new
 * lines on each poll; survives the file not existing yet and being deleted
 * and recreated (overwrite_output_dir removes it at trainer start).
 */
export class TrainerLogTail {
  private offset = 0;
  private partial = '';
  private ino = -1;

  constructor(readonly path: string) {}

  poll(): TrainerLogEntry[] {
    if (!existsSync(this.path)) return [];
    const st = statSync(this.path);
    if (st.ino !== this.ino || st.size < this.offset) {
      this.ino = st.ino;
      this.offset = 0;
      this.partial = '';
    }
    if (st.size === this.offset) return [];
    const fd = openSync(this.path, 'r');
    let text: string;
    try {
      const buf = Buffer.alloc(st.size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      text = this.partial + buf.subarray(0, n).toString('utf8');
    } finally {
      closeSync(fd);
    }
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    return lines.map(parseTrainerLogLine).filter((e): e is TrainerLogEntry => e !== undefined);
  }
}

function fmtLoss(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4);
}

function fmtLr(v: number): string {
  return v === 0 ? '0' : v.toExponential(2);
}

/** One progress line: `step 12/32 (37.5%)  loss 7.1234  lr 4.52e-3  epoch 1.50  elapsed 0:00:12  eta 0:00:20`. */
export function formatProgress(e: TrainerLogEntry): string {
  const pct = e.percentage ?? (e.total_steps ? (100 * e.current_steps) / e.total_steps : 0);
  const parts = [`step ${e.current_steps}/${e.total_steps} (${Number(pct.toFixed(1))}%)`];
  if (e.loss !== undefined) parts.push(`loss ${fmtLoss(e.loss)}`);
  if (e.eval_loss !== undefined) parts.push(`eval_loss ${fmtLoss(e.eval_loss)}`);
  if (e.lr !== undefined) parts.push(`lr ${fmtLr(e.lr)}`);
  if (e.epoch !== undefined) parts.push(`epoch ${e.epoch.toFixed(2)}`);
  if (e.elapsed_time) parts.push(`elapsed ${e.elapsed_time}`);
  if (e.remaining_time) parts.push(`eta ${e.remaining_time}`);
  return parts.join('  ');
}
