import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createStageIO } from '@trajgen/core';
import { tempWorkspace, type TempWorkspace } from './__fixtures__/workspace';
import { runLedger } from './run-ledger';
import { runPrepare } from './run-prepare';

let ws: TempWorkspace | undefined;
afterEach(() => ws?.remove());

function collect() {
  const lines: string[] = [];
  return { lines, io: createStageIO({ log: (l) => lines.push(l), warn: (l) => lines.push(`warning: ${l}`) }) };
}

describe('runPrepare', () => {
  it('prepares the batch and returns the summary line', async () => {
    ws = tempWorkspace();
    ws.task('a');
    ws.manifest(['a']);
    const { io, lines } = collect();
    expect(await runPrepare(ws.load(), io)).toBe('batch of 1 (listed 1, consumed 0, excluded 0, missing 0, invalid 0)');
    expect(lines.join('\n')).toMatch(/task root pipelines\/p\/tasks/);
    expect(JSON.parse(readFileSync(ws.paths.batchFile, 'utf8')).tasks.map((t: { id: string }) => t.id)).toEqual(['a']);
  });

  it('has nothing to prepare for a pipeline of existing jobs: empties prepare/ and leaves a note', async () => {
    ws = tempWorkspace();
    ws.config('conversion:\n  from_jobs: [../../jobs/j1]\n');
    mkdirSync(ws.paths.prepareOut, { recursive: true });
    writeFileSync(ws.paths.batchFile, '{}');
    expect(await runPrepare(ws.load(), collect().io)).toBe('nothing to prepare: this pipeline converts existing Harbor jobs (conversion.from_jobs: ../../jobs/j1)');
    expect(existsSync(ws.paths.batchFile)).toBe(false);
    expect(JSON.parse(readFileSync(join(ws.paths.prepareOut, 'from-jobs.json'), 'utf8'))).toEqual({ schema_version: 1, stage: 'prepare', skipped: true, from_jobs: ['../../jobs/j1'] });
  });
});

describe('runLedger', () => {
  it('lets --skip name a task the manifest lists but the ledger has not seen yet', async () => {
    ws = tempWorkspace();
    ws.task('a');
    ws.manifest(['a', 'b']);
    await runPrepare(ws.load(), collect().io);
    const { io, lines } = collect();
    expect(await runLedger(ws.load(), io, { skip: 'b', note: 'flaky' })).toMatch(/^2 tasks: 1 pending, .*1 skipped.*; 1 changed$/);
    expect(lines).toContain('b: (none) → skipped');
    await expect(runLedger(ws.load(), io, { skip: 'zzz', note: 'x' })).rejects.toThrow(/zzz/);
  });
});
