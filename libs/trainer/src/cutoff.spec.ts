import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatCutoffWarning, rowsOverCutoff } from './cutoff';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

function dataset(tokenLengths: unknown, fileName = 'demo.json'): string {
  const dir = tempDir(join(tmpdir(), 'tg-cutoff-'));
  writeFileSync(join(dir, 'dataset_info.json'), JSON.stringify({ other: { file_name: 'x.json' }, demo: { file_name: fileName, formatting: 'sharegpt' } }));
  writeFileSync(join(dir, 'demo.stats.json'), JSON.stringify({ token_lengths: tokenLengths }));
  return dir;
}

describe('rowsOverCutoff', () => {
  it("counts the rows the score stage estimated longer than cutoff_len", () => {
    const dir = dataset([100, 500, 1024, 1025, 4000]);
    expect(rowsOverCutoff(dir, 'demo', 1024)).toEqual({ rows: 5, over: 2, longest: 4000, cutoffLen: 1024 });
    expect(rowsOverCutoff(dir, 'demo', 5000)?.over).toBe(0);
    expect(formatCutoffWarning(rowsOverCutoff(dir, 'demo', 1024)!)).toMatch(/^2 of 5 training rows are longer than cutoff_len 1024 .*longest ~4000.*silently drops/);
  });
  it('says nothing without stats (a local or hub dataset) or for an unknown entry', () => {
    expect(rowsOverCutoff(dataset('not a list'), 'demo', 10)).toBeUndefined();
    expect(rowsOverCutoff(dataset([1, 2]), 'missing', 10)).toBeUndefined();
    expect(rowsOverCutoff(tempDir(join(tmpdir(), 'tg-cutoff-')), 'demo', 10)).toBeUndefined();
  });
});
