import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll } from 'vitest';

/**
 * A `tempDir(prefix)` for one test file: every directory it makes is removed
 * after the file's tests, also when one fails. Call it at the top level of a
 * spec (it registers the afterAll hook there).
 */
export function trackedTempDirs(): (prefix: string) => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return (prefix: string) => {
    const dir = mkdtempSync(prefix);
    made.push(dir);
    return dir;
  };
}
