import { mkdirSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { atomicWriteFileSync } from './atomic.cjs';

// The atomic write lives in CommonJS so that the plugin's fingerprint (bin/fingerprint.cjs) shares it.
export { atomicWriteFileSync, writeFileDurablySync, fsyncDirSync } from './atomic.cjs';

export function writeJsonAtomic(path: string, value: unknown): void {
  atomicWriteFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

/** Empty a directory a stage owns before it writes (Nx never cleans outputs). */
export function resetDir(path: string): void {
  if (existsSync(path)) rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
}

/**
 * The sub-directories of `path` (dot dirs left out), sorted; none when it does
 * not exist or cannot be read: job and trial dirs come and go while Harbor runs.
 */
export function subdirNames(path: string): string[] {
  try {
    return readdirSync(path, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}
