import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { TrajgenError } from './errors';
import { isProcessAlive } from './processes.cjs';

export interface LockHolder {
  pid: number;
  host: string;
  purpose: string;
  acquired_at: string;
}

export interface LockOptions {
  /** What the holder is doing, shown to whoever is refused. */
  purpose: string;
  /** Wait up to this long for the holder to release; 0 fails fast. */
  waitMs?: number;
  /** Called when a stale lock (dead pid on this host) is taken over. */
  onStale?: (holder: LockHolder) => void;
}

export interface HeldLock {
  path: string;
  holder: LockHolder;
  release(): void;
}

function readHolder(path: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

const sleepBuffer = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepBuffer, 0, 0, ms);
}

/**
 * An exclusive lock file holding `{pid, host, purpose}`. Created with O_EXCL so
 * exactly one process wins. A lock left by a dead process on this host is
 * stale: it is taken over and reported. A lock held by another host is never
 * broken automatically.
 */
export function acquireLock(path: string, options: LockOptions): HeldLock {
  mkdirSync(dirname(path), { recursive: true });
  const me: LockHolder = { pid: process.pid, host: hostname(), purpose: options.purpose, acquired_at: new Date().toISOString() };
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    try {
      const fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      let released = false;
      return {
        path,
        holder: me,
        release() {
          if (released) return;
          released = true;
          const current = readHolder(path);
          if (current && current.pid === me.pid && current.host === me.host) rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(path);
    if (!holder) {
      // Written but not yet filled by its creator, or torn: give it a moment.
      if (Date.now() < deadline + 200) {
        sleepSync(20);
        continue;
      }
      rmSync(path, { force: true });
      continue;
    }
    if (holder.host === hostname() && !isProcessAlive(holder.pid)) {
      options.onStale?.(holder);
      // Only remove it if it is still the same stale holder (another process may have raced us).
      const again = readHolder(path);
      if (again && again.pid === holder.pid && again.acquired_at === holder.acquired_at) rmSync(path, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new TrajgenError(
        `${path} is locked by pid ${holder.pid} on ${holder.host} (${holder.purpose}, since ${holder.acquired_at})`,
        {
          hint:
            holder.host === hostname()
              ? `Wait for that process to finish, or stop it (kill ${holder.pid}); a lock left by a dead process is recovered automatically.`
              : `That host still holds it; if it is gone for good, delete ${path} by hand.`,
        },
      );
    }
    sleepSync(50);
  }
}

export function withLock<T>(path: string, options: LockOptions, fn: () => T): T {
  const lock = acquireLock(path, options);
  try {
    return fn();
  } finally {
    lock.release();
  }
}
