import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pipelinePaths, resolveOutputDir } from '@trajgen/config';
import { clearRunDir, guardOutputDir, listCheckpoints, newestCheckpoint, resolveResumeCheckpoint } from './output-dir';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'run-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function checkpoint(step: number, files = ['trainer_state.json', 'optimizer.pt', 'adapter_model.safetensors']) {
  const p = join(dir, `checkpoint-${step}`);
  mkdirSync(p, { recursive: true });
  for (const f of files) writeFileSync(join(p, f), 'x');
  return p;
}

describe('output-dir rule: relative names under artifacts/<p>/model', () => {
  it('relative values go to artifacts/<p>/model/<basename>; absolute ones are honoured', () => {
    const paths = pipelinePaths('/ws', 'demo');
    expect(resolveOutputDir(paths, 'demo-lora')).toBe('/ws/artifacts/demo/model/demo-lora');
    expect(resolveOutputDir(paths, 'saves/qwen/run-7')).toBe('/ws/artifacts/demo/model/run-7');
    expect(resolveOutputDir(paths, '/data/runs/x')).toBe('/data/runs/x');
    expect(resolveOutputDir(paths, '{artifacts}/elsewhere/y')).toBe('/ws/artifacts/demo/elsewhere/y');
  });
});

describe('checkpoints', () => {
  it('newest is the highest step, not the newest mtime or the last name alphabetically', () => {
    checkpoint(10);
    const nine = checkpoint(9);
    utimesSync(nine, new Date(), new Date(Date.now() + 60_000)); // touched later
    checkpoint(100);
    mkdirSync(join(dir, 'checkpoint-best'));
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([9, 10, 100]);
    expect(newestCheckpoint(dir)?.name).toBe('checkpoint-100');
    expect(newestCheckpoint(join(dir, 'missing'))).toBeUndefined();
  });

  it('resume_from_checkpoint: latest, a bare checkpoint name, or a path; refuses save_only_model checkpoints', () => {
    checkpoint(4);
    const eight = checkpoint(8);
    const resolvePath = (p: string) => (isAbsolute(p) ? p : join('/elsewhere', p));
    expect(resolveResumeCheckpoint('latest', dir, resolvePath)).toBe(eight);
    expect(resolveResumeCheckpoint('checkpoint-4', dir, resolvePath)).toBe(join(dir, 'checkpoint-4'));
    expect(resolveResumeCheckpoint(eight, dir, resolvePath)).toBe(eight);
    expect(() => resolveResumeCheckpoint('checkpoint-5', dir, resolvePath)).toThrow(/does not exist[\s\S]*/);
    checkpoint(12, ['trainer_state.json', 'adapter_model.safetensors']);
    expect(() => resolveResumeCheckpoint('latest', dir, resolvePath)).toThrow(/save_only_model: true and cannot be resumed/);
    expect(() => resolveResumeCheckpoint('latest', join(dir, 'empty'), resolvePath)).toThrow(/has no checkpoint-\* directory/);
  });
});

describe('clobber guard: never train over an earlier run', () => {
  it('an empty or missing run dir is a fresh run', () => {
    expect(guardOutputDir(join(dir, 'new'), { overwrite: false })).toEqual({ action: 'fresh' });
    expect(guardOutputDir(dir, { overwrite: false })).toEqual({ action: 'fresh' });
  });

  it('refuses a non-empty run dir, naming what is there and the ways out', () => {
    checkpoint(4);
    writeFileSync(join(dir, 'trainer_log.jsonl'), '{}\n');
    let err: Error & { hint?: string } = new Error();
    try {
      guardOutputDir(dir, { overwrite: false });
    } catch (e) {
      err = e as Error & { hint?: string };
    }
    expect(err.message).toMatch(/Refusing to train into .*: it is not empty \(checkpoint-4, trainer_log.jsonl\)/);
    expect(err.hint).toMatch(/resume_from_checkpoint: latest.*overwrite_output_dir: true.*another training.output_dir/);
    expect(existsSync(join(dir, 'checkpoint-4'))).toBe(true);
  });

  it('resume passes without touching anything', () => {
    const ck = checkpoint(4);
    expect(guardOutputDir(dir, { overwrite: true, resumeFromCheckpoint: ck })).toEqual({ action: 'resume', checkpoint: ck });
    expect(existsSync(ck)).toBe(true);
  });

  it('overwrite_output_dir: true replaces the previous run’s outputs and keeps unknown files', () => {
    checkpoint(4);
    checkpoint(500);
    for (const f of ['trainer_log.jsonl', 'train_results.json', 'adapter_model.safetensors', 'training_loss.png', 'notes.txt']) writeFileSync(join(dir, f), 'x');
    mkdirSync(join(dir, 'base_model'));
    const d = guardOutputDir(dir, { overwrite: true });
    expect(d).toEqual({
      action: 'overwrite',
      removed: ['adapter_model.safetensors', 'base_model', 'checkpoint-4', 'checkpoint-500', 'train_results.json', 'trainer_log.jsonl', 'training_loss.png'],
      kept: ['notes.txt'],
    });
    expect(existsSync(join(dir, 'checkpoint-500'))).toBe(false); // a stale checkpoint can no longer pass for this run's newest
    expect(clearRunDir(dir)).toEqual({ removed: [], kept: ['notes.txt'] });
    // Worker nodes of a multi-node run never clear the shared dir.
    checkpoint(7);
    expect(guardOutputDir(dir, { overwrite: true, clear: false })).toMatchObject({ action: 'overwrite', removed: [] });
    expect(existsSync(join(dir, 'checkpoint-7'))).toBe(true);
  });
});
