import { closeSync, fsyncSync, openSync, renameSync, writeFileSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Replace `path` atomically: write a temp file beside it, fsync, rename, fsync
 * the directory. A reader (or a crash) sees the old content or the new one,
 * never a torn file.
 */
export function atomicWriteFileSync(path: string, data: string | Buffer): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileDurablySync(tmp, data);
  try {
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  fsyncDirSync(dir);
}

/** Write and fsync a (temp) file; on any error (a full disk) the file is removed before the error is rethrown. */
export function writeFileDurablySync(path: string, data: string | Buffer): void {
  const fd = openSync(path, 'w');
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw error;
  }
  closeSync(fd);
}

export function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  atomicWriteFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

/** Empty a directory a stage owns before it writes (Nx never cleans outputs). */
export function resetDir(path: string): void {
  if (existsSync(path)) rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
}
