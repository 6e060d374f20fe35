import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScoreStats } from '@trajgen/contracts';
import { scoreStatsSample } from '../../../test/support/contract-samples';
import type { TrajgenError } from '@trajgen/core';
import { formatCutoffWarning, rowsOverCutoff } from './cutoff';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

function dataset(stats: ScoreStats | Record<string, unknown>, fileName = 'demo.json'): string {
  const dir = tempDir(join(tmpdir(), 'tg-cutoff-'));
  writeFileSync(join(dir, 'dataset_info.json'), JSON.stringify({ other: { file_name: 'x.json' }, demo: { file_name: fileName, formatting: 'sharegpt' } }));
  writeFileSync(join(dir, 'demo.stats.json'), JSON.stringify(stats));
  return dir;
}

describe('rowsOverCutoff', () => {
  it("counts the rows the score stage estimated longer than cutoff_len", () => {
    const dir = dataset(scoreStatsSample([100, 500, 1024, 1025, 4000]));
    expect(rowsOverCutoff(dir, 'demo', 1024)).toEqual({ rows: 5, over: 2, longest: 4000, cutoffLen: 1024 });
    expect(rowsOverCutoff(dir, 'demo', 5000)?.over).toBe(0);
    expect(formatCutoffWarning(rowsOverCutoff(dir, 'demo', 1024)!)).toMatch(/^2 of 5 training rows are longer than cutoff_len 1024 .*longest ~4000.*silently drops/);
  });
  it("says nothing without score's stats (a local or hub dataset, another tool's stats) or for an unknown entry", () => {
    expect(rowsOverCutoff(dataset({ token_lengths: [1, 2] }), 'demo', 10)).toBeUndefined();
    expect(rowsOverCutoff(dataset(scoreStatsSample([1, 2])), 'missing', 10)).toBeUndefined();
    expect(rowsOverCutoff(tempDir(join(tmpdir(), 'tg-cutoff-')), 'demo', 10)).toBeUndefined();
  });
  it("stops on score's stats that break their contract, naming the key and what to do", () => {
    const dir = dataset({ ...scoreStatsSample([1]), token_lengths: 'not a list' });
    expect(() => rowsOverCutoff(dir, 'demo', 10)).toThrow(/demo\.stats\.json does not follow the score → train, archive contract/);
    try {
      rowsOverCutoff(dir, 'demo', 10);
    } catch (error) {
      expect((error as TrajgenError).details).toEqual([expect.stringMatching(/^token_lengths: .*expected array/)]);
      expect((error as TrajgenError).hint).toMatch(/Run the score stage again/);
    }
  });
});
