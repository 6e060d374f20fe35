import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ExecutorContext } from '@nx/devkit';
import { readMarkerSets } from '@trajgen/archive';
import { INVOCATION_ENV, startStageMarker } from './run-marker';
import { runStage } from './run-stage';
import { pipelineWorkspace } from '../../../../../test/support/pipeline-workspace';

describe('stage run markers', () => {
  const ws = pipelineWorkspace({ prefix: 'run-marker-' });
  const root = ws.root;
  const context = { root, projectName: 'p' } as ExecutorContext;
  beforeEach(() => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.stubEnv(INVOCATION_ENV, 'inv-42');
    vi.stubEnv('NX_TASK_HASH', '1234');
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });
  afterAll(() => ws.remove());

  it('writes nothing outside an Nx task, nor for targets that are not stages', () => {
    expect(startStageMarker(root, 'p', 'score', {})).toBeUndefined();
    expect(startStageMarker(root, 'p', 'ledger')).toBeUndefined();
    expect(startStageMarker(root, 'p', 'clean')).toBeUndefined();
  });

  it('runStage marks a stage running, then success or failure, in the format the recorder reads', async () => {
    let during: unknown;
    await runStage(context, 'score', async () => {
      during = readMarkerSets(join(root, 'artifacts/p'), 'p')[0].markers[0];
    });
    expect(during).toMatchObject({ invocation: 'inv-42', stage: 'score', hash: '1234', status: 'running', ended_at: null, nx_pid: process.ppid, pid: process.pid });
    await runStage(context, 'train', async () => {
      throw new Error('boom');
    });
    const [set] = readMarkerSets(join(root, 'artifacts/p'), 'p');
    expect(set.invocation).toBe('inv-42');
    const byStage = Object.fromEntries(set.markers.map((m) => [m.stage, m]));
    expect(byStage.score).toMatchObject({ status: 'success', ended_at: expect.any(String) });
    expect(byStage.train).toMatchObject({ status: 'failure' });
  });

  it('marks the stage interrupted on SIGTERM and leaves the exit to a stage that handles the signal itself', async () => {
    const stageOwnHandler = vi.fn();
    const listenersBefore = process.listenerCount('SIGTERM');
    await runStage(context, 'rollout', async () => {
      process.on('SIGTERM', stageOwnHandler);
      try {
        process.emit('SIGTERM', 'SIGTERM');
      } finally {
        process.off('SIGTERM', stageOwnHandler);
      }
    });
    expect(stageOwnHandler).toHaveBeenCalled();
    const marker = JSON.parse(readFileSync(join(root, 'artifacts/p/.runs/inv-42/rollout.json'), 'utf8'));
    // The body returned normally afterwards, but the run was interrupted: the first verdict stands.
    expect(marker).toMatchObject({ status: 'interrupted', signal: 'SIGTERM' });
    expect(process.listenerCount('SIGTERM')).toBe(listenersBefore);
  });
});
