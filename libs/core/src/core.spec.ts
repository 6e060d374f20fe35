import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { acquireLock, atomicWriteFileSync, closestMatch, digestValue, stableStringify, formatTable } from './index';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

describe('stableStringify / digestValue', () => {
  it('ignores key order at every depth', () => {
    expect(stableStringify({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 2 } })).toBe('{"a":{"c":2,"d":[1,{"y":2,"z":1}]},"b":1}');
    expect(digestValue({ a: 1, b: 2 })).toBe(digestValue({ b: 2, a: 1 }));
    expect(digestValue({ a: 1 })).not.toBe(digestValue({ a: 2 }));
  });
});

describe('atomicWriteFileSync', () => {
  it('replaces the file and leaves no temp file behind', () => {
    const dir = tempDir(join(tmpdir(), 'tg-'));
    const f = join(dir, 'x.json');
    atomicWriteFileSync(f, 'one');
    atomicWriteFileSync(f, 'two');
    expect(readFileSync(f, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['x.json']);
  });
});

describe('closestMatch', () => {
  it('suggests near misses and prefixes, not unrelated words', () => {
    expect(closestMatch('learning_rat', ['learning_rate', 'lr_scheduler_type'])).toBe('learning_rate');
    expect(closestMatch('fastest', ['fast', 'strict', 'adaptive'])).toBe('fast');
    expect(closestMatch('banana', ['fast', 'strict'])).toBeUndefined();
  });
});

describe('acquireLock', () => {
  it('fails fast naming the holder', () => {
    const path = join(tempDir(join(tmpdir(), 'tg-')), 'l.lock');
    const held = acquireLock(path, { purpose: 'first' });
    expect(() => acquireLock(path, { purpose: 'second' })).toThrow(new RegExp(`locked by pid ${process.pid} on ${hostname()} \\(first`));
    held.release();
    acquireLock(path, { purpose: 'third' }).release();
  });

  it('recovers a stale lock left by a dead process and reports it', () => {
    const path = join(tempDir(join(tmpdir(), 'tg-')), 'l.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(path, JSON.stringify({ pid: Number(dead.stdout), host: hostname(), purpose: 'crashed run', acquired_at: 'then' }));
    const seen: string[] = [];
    const held = acquireLock(path, { purpose: 'next', onStale: (h) => seen.push(h.purpose) });
    expect(seen).toEqual(['crashed run']);
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    held.release();
  });
});

describe('formatTable', () => {
  it('aligns columns', () => {
    expect(formatTable(['a', 'bb'], [['xxx', 1]])).toBe('a    bb\n---  --\nxxx  1');
  });
});
