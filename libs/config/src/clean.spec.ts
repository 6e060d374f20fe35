import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStageIO } from '@trajgen/core';
import { trackedTempDirs } from '../../../test/support/temp-dirs';
import { cleanTargets, runClean } from './clean';
import { pipelinePaths } from './paths';
import type { LoadedPipeline } from './load';

const tempDir = trackedTempDirs();

describe('clean', () => {
  it('never lists rollout jobs, the ledger, prepare/ or rollout/, whatever the options', () => {
    const paths = pipelinePaths('/ws', 'p');
    const all = cleanTargets(paths, { data: true, models: true });
    for (const kept of [paths.jobs, paths.ledgerFile, paths.ledgerDir, paths.prepareOut, paths.rolloutOut, paths.tasksStaging]) expect(all).not.toContain(kept);
    expect(cleanTargets(paths, {})).toEqual([paths.tmp, paths.logs, paths.litellm]);
  });

  it('runClean removes what exists, logs each path and returns the count', async () => {
    const root = tempDir(join(tmpdir(), 'clean-'));
    const paths = pipelinePaths(root, 'p');
    for (const d of [paths.tmp, paths.data, paths.jobs]) mkdirSync(d, { recursive: true });
    const lines: string[] = [];
    const pipeline = { name: 'p', paths } as LoadedPipeline;
    expect(await runClean(pipeline, createStageIO({ log: (l) => lines.push(l) }), { data: true })).toBe('removed 2 paths');
    expect(lines).toEqual(['removing artifacts/p/tmp', 'removing artifacts/p/data']);
    expect([existsSync(paths.tmp), existsSync(paths.data), existsSync(paths.jobs)]).toEqual([false, false, true]);
  });
});
