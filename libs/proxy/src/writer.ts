import { closeSync, fdatasync, fdatasyncSync, fstatSync, mkdirSync, openSync, statSync, writevSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

interface OpenLog {
  fd: number;
  /** The inode the descriptor points at (a trial dir removed and recreated gets a fresh file). */
  ino: number;
  dev: number;
  /** The directory entry of the file is durable (synced once per opened file: it may be new). */
  dirSynced: boolean;
}

interface FileQueue {
  pending: { data: Buffer[]; done: (error?: Error) => void }[];
  flushing: boolean;
}

/**
 * Appends whole lines durably with one open descriptor per file and group
 * commit: every line queued while the previous batch of that file is being
 * written and synced goes out in the next batch, as one `writev` on an
 * O_APPEND descriptor followed by ONE `fdatasync`. A line's promise resolves
 * only after the fdatasync that covers it, so "durable before the response
 * completes" holds per line; under load one sync covers many lines instead of
 * each line paying its own. A single line never waits for a timer: with
 * nothing in flight it is written at once.
 *
 * Lines of one file are written in append order and never interleave (one
 * batch at a time per file). A crash leaves at most missing last lines, never
 * a torn line in the middle. Before each batch the path is stat'ed: when the
 * file was deleted or replaced (e.g. a trial dir recreated), the stale
 * descriptor is closed and the path opened again, so no line is swallowed by
 * an unlinked file.
 */
export class DurableAppender {
  private readonly files = new Map<string, OpenLog>();
  private readonly queues = new Map<string, FileQueue>();
  private readonly idle = new Set<() => void>();
  /** Batches written (each one write + one fdatasync): lines / batches is the group-commit factor. */
  batches = 0;

  /**
   * @param syncInline asked before each sync: true when nothing else is waiting on the event loop (one call in
   *   flight), so the fdatasync runs on it directly instead of going to libuv's thread pool and back, two thread
   *   wake-ups on the path between the last event and the client; with other calls in flight it goes to the pool,
   *   so that their events keep flowing while the disk works.
   */
  constructor(
    private readonly fsync = true,
    private readonly syncInline: () => boolean = () => false,
  ) {}

  /** Append one line (given whole, or as parts written back to back without being copied together). */
  append(path: string, line: string | Buffer | Buffer[]): Promise<void> {
    const parts = typeof line === 'string' ? [Buffer.from(line)] : Buffer.isBuffer(line) ? [line] : line;
    const last = parts[parts.length - 1];
    const data = last && last[last.length - 1] === 0x0a ? parts : [...parts, NEWLINE];
    let q = this.queues.get(path);
    if (!q) {
      q = { pending: [], flushing: false };
      this.queues.set(path, q);
    }
    const queue = q;
    return new Promise<void>((resolve, reject) => {
      queue.pending.push({ data, done: (e) => (e ? reject(e) : resolve()) });
      if (!queue.flushing) void this.flush(path, queue);
    });
  }

  /** Resolves when every append started so far has finished. */
  drain(): Promise<void> {
    if (![...this.queues.values()].some((q) => q.flushing || q.pending.length)) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if ([...this.queues.values()].some((q) => q.flushing || q.pending.length)) return;
        this.idle.delete(check);
        resolve();
      };
      this.idle.add(check);
    });
  }

  /** Drain, then close every descriptor. */
  async close(): Promise<void> {
    await this.drain();
    for (const path of [...this.files.keys()]) this.dropHandle(path);
  }

  private async flush(path: string, queue: FileQueue): Promise<void> {
    queue.flushing = true;
    while (queue.pending.length) {
      const batch = queue.pending.splice(0, queue.pending.length);
      try {
        await this.writeBatch(path, batch.flatMap((b) => b.data));
        for (const b of batch) b.done();
      } catch (error) {
        // The descriptor may be unusable: reopen on the next batch.
        this.dropHandle(path);
        for (const b of batch) b.done(error as Error);
      }
    }
    queue.flushing = false;
    for (const check of [...this.idle]) check();
  }

  /**
   * The write goes to the page cache synchronously (a memcpy: cheaper than a
   * hand-off to libuv's thread pool on a busy machine); the fdatasync, which
   * waits for the disk, runs off the event loop unless `syncInline` says
   * nothing else needs it.
   */
  private async writeBatch(path: string, buffers: Buffer[]): Promise<void> {
    const log = this.handle(path);
    let total = 0;
    for (const b of buffers) total += b.length;
    let written = writevSync(log.fd, buffers);
    while (written < total) written += writevSync(log.fd, [Buffer.concat(buffers).subarray(written)]);
    if (this.fsync) {
      if (this.syncInline()) fdatasyncSync(log.fd);
      else await new Promise<void>((resolve, reject) => fdatasync(log.fd, (e) => (e ? reject(e) : resolve())));
      if (!log.dirSynced) {
        await syncDir(dirname(path));
        log.dirSynced = true;
      }
    }
    this.batches += 1;
  }

  private dropHandle(path: string) {
    const log = this.files.get(path);
    this.files.delete(path);
    if (log) {
      try {
        closeSync(log.fd);
      } catch {
        /* already unusable */
      }
    }
  }

  private handle(path: string): OpenLog {
    const existing = this.files.get(path);
    if (existing) {
      let st: { ino: number; dev: number } | undefined;
      try {
        st = statSync(path);
      } catch {
        st = undefined;
      }
      if (st && st.ino === existing.ino && st.dev === existing.dev) return existing;
      this.dropHandle(path); // deleted or replaced under us: never write into an unlinked file
    }
    const dir = dirname(path);
    mkdirSync(dir, { recursive: true });
    const fd = openSync(path, 'a', 0o644);
    const st = fstatSync(fd);
    const log = { fd, ino: st.ino, dev: st.dev, dirSynced: false };
    this.files.set(path, log);
    return log;
  }
}

const NEWLINE = Buffer.from('\n');
const ESCAPED_ASCII = Buffer.from('\\u00');

async function syncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the data itself is synced.
  }
}

export const REDACTED = '[REDACTED]';

/**
 * Replace every occurrence of the given secrets in serialised text (keys are
 * matched as they appear in JSON, i.e. escaped). Empty and very short values
 * are ignored: they would blank out ordinary text.
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (!s || s.length < 8) continue;
    const escaped = JSON.stringify(s).slice(1, -1);
    if (out.includes(escaped)) out = out.split(escaped).join(REDACTED);
    if (escaped !== s && out.includes(s)) out = out.split(s).join(REDACTED);
  }
  return out;
}

/**
 * Whether the JSON bytes may hold a secret: as is, JSON-escaped, or hidden
 * behind `\u00XX` escapes of printable ASCII (which a re-serialisation would
 * turn back into plain text). False means the bytes can be logged as they are.
 */
export function mayContainSecret(bytes: Buffer, secrets: readonly (string | undefined)[]): boolean {
  for (let i = bytes.indexOf(ESCAPED_ASCII); i >= 0; i = bytes.indexOf(ESCAPED_ASCII, i + 1)) {
    const hi = bytes[i + 4];
    if (hi >= 0x32 && hi <= 0x37) return true; // \u0020-\u007f: printable ASCII written as an escape
  }
  for (const s of secrets) {
    if (!s || s.length < 8) continue;
    if (bytes.includes(s)) return true;
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s && bytes.includes(escaped)) return true;
  }
  return false;
}
