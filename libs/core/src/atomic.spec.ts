import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { atomicWriteFileSync } from './atomic.cjs';
import { sha256, stableStringify } from './digest.cjs';

const dir = mkdtempSync(join(tmpdir(), 'tg-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the CommonJS helpers shared with bin/fingerprint.cjs', () => {
  it('atomicWriteFileSync replaces a file, durable or not, creates its folder and leaves no temp file', () => {
    for (const durable of [true, false]) {
      const path = join(dir, String(durable), 'a.json');
      atomicWriteFileSync(path, 'one', { durable });
      atomicWriteFileSync(path, 'two', { durable });
      expect(readFileSync(path, 'utf8')).toBe('two');
      expect(readdirSync(join(dir, String(durable)))).toEqual(['a.json']);
    }
  });

  it('stableStringify sorts keys at every level and drops undefined members; sha256 is hex', () => {
    expect(stableStringify({ b: [{ d: 1, c: undefined, a: 2 }], a: 1 })).toBe('{"a":1,"b":[{"a":2,"d":1}]}');
    expect(sha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
