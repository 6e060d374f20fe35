import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trackedTempDirs } from '../../../test/support/temp-dirs';
import { keepStageLogs, REPLAY_MARK, stageResultLine } from './replay';
import type { RecordedRun } from './recorder';

const tempDir = trackedTempDirs();

const trainLog = [
  'trajgen train: creating the Python environment (torch, transformers) …',
  'Successfully installed torch-2.13.0 transformers-5.0.0',
  'step 10/40 loss 2.31',
  '\u001b[32m✔ demo:train done in 6m15s — 40 steps, final loss 1.02 (finished 2026-12-07T06:00:00Z)\u001b[39m',
  '',
].join('\n');

function setUp() {
  const root = tempDir(join(tmpdir(), 'replay-'));
  const replays = join(root, 'nx-cache', 'terminalOutputs');
  mkdirSync(replays, { recursive: true });
  const run: RecordedRun = { pipeline: 'demo', id: 'run_003', status: 'completed', archive: 'artifacts/demo/archives/run_003', stagesRan: ['train'], notes: '' };
  return { root, replays, run };
}

describe('keepStageLogs', () => {
  it("keeps the stage's full log in its run and makes Nx's replay say restored, from which run, with the result line", () => {
    const { root, replays, run } = setUp();
    writeFileSync(join(replays, 'h-train'), trainLog);
    const written = keepStageLogs({ workspaceRoot: root, run, outputs: [{ stage: 'train', hash: 'h-train', status: 'success', terminalOutput: trainLog }], terminalOutputsDir: replays });
    expect(written).toEqual(['artifacts/demo/archives/run_003/logs/train.log']);
    const kept = readFileSync(join(root, written[0]), 'utf8');
    expect(kept).toContain('Successfully installed torch-2.13.0');
    expect(kept).not.toContain('\u001b[');
    const replay = readFileSync(join(replays, 'h-train'), 'utf8');
    expect(replay.startsWith(`${REPLAY_MARK}demo:train restored from the Nx cache, not run again.`)).toBe(true);
    expect(replay).toContain('It ran in run_003: done in 6m15s — 40 steps, final loss 1.02 (finished 2026-12-07T06:00:00Z)');
    expect(replay).toContain('artifacts/demo/archives/run_003/logs/train.log');
    expect(replay).not.toContain('Successfully installed');
    expect(replay).not.toContain('step 10/40');
  });

  it('rewrites no replay for a failed stage (Nx caches none) or one Nx did not store, but keeps the log', () => {
    const { root, replays, run } = setUp();
    const written = keepStageLogs({
      workspaceRoot: root,
      run,
      outputs: [
        { stage: 'score', hash: 'h-score', status: 'failure', terminalOutput: 'boom\n' },
        { stage: 'train', hash: 'h-missing', status: 'success', terminalOutput: trainLog },
      ],
      terminalOutputsDir: replays,
    });
    expect(written).toHaveLength(2);
    expect(existsSync(join(replays, 'h-score'))).toBe(false);
    expect(existsSync(join(replays, 'h-missing'))).toBe(false);
  });

  it('scrubs secrets from the kept log', () => {
    const { root, replays, run } = setUp();
    const key = 'sk-ant-api03-' + 'x'.repeat(40);
    const written = keepStageLogs({ workspaceRoot: root, run, outputs: [{ stage: 'rollout', hash: null, status: 'success', terminalOutput: `upstream said: bad key ${key}\n` }], terminalOutputsDir: replays });
    expect(readFileSync(join(root, written[0]), 'utf8')).not.toContain(key);
  });

  it("finds the stage's own last result line, not another stage's", () => {
    expect(stageResultLine('✔ demo:score done in 2s — x\n✔ demo:train done in 1s — y\n', 'demo', 'score')).toBe('✔ demo:score done in 2s — x');
    expect(stageResultLine('nothing\n', 'demo', 'score')).toBeUndefined();
  });
});
