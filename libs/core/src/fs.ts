import { mkdirSync, rmSync, existsSync } from 'node:fs';
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
