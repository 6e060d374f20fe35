import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ExecutorContext } from '@nx/devkit';
import { seedPipelineOutputs } from '../../../../../libs/archive/src/__fixtures__/seed';
import { pipelineWorkspace } from '../../../../../test/support/pipeline-workspace';
import archiveExecutor from './executor';

describe('archive executor', () => {
  const ws = pipelineWorkspace({ prefix: 'archive-exec-', config: null });
  const root = ws.root;
  const context = { root, projectName: 'p' } as ExecutorContext;
  let out: string[];
  beforeEach(() => {
    out = [];
    for (const m of ['log', 'warn', 'error'] as const) vi.spyOn(console, m).mockImplementation((l: string) => void out.push(l));
    ws.writeConfig('meta_info:\n  description: exec test\ntraining:\n  model_name_or_path: m\n  output_dir: o\n');
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => ws.remove());

  it('writes the summary and the report with its charts, and says what is not available', async () => {
    seedPipelineOutputs(root, 'p', { stages: ['rollout', 'convert', 'score'] });
    expect(await archiveExecutor({}, context)).toEqual({ success: true });
    const text = out.join('\n');
    expect(text).toMatch(/✔ p:archive done in \d+s — artifacts\/p\/report\/index.html — 8 trials, pass rate 71.4%; 4 LF rows; not available: tasks, register, training/);
    expect(text).toContain('  training: not available (artifacts/p/train/result.json does not exist)');
    expect(JSON.parse(readFileSync(join(root, 'artifacts/p/archive/summary.json'), 'utf8'))).toMatchObject({ pipeline: 'p', trials: { total: 8 } });
    expect(readdirSync(join(root, 'artifacts/p/report')).sort()).toEqual(['conversion.svg', 'drops.svg', 'exclusions.svg', 'history.js', 'index.html', 'outcomes.svg', 'pass-rate.svg', 'scores.svg', 'tokens.svg', 'trial.html', 'trials', 'trials.html']);
    expect(readdirSync(join(root, 'artifacts/p/report/trials')).sort()).toEqual(['index.js', 's.js']);
    expect(text).toMatch(/trial pages: 8 trials → artifacts\/p\/report\/trials\//);
  });

  it('replaces only its own outputs: stale charts go, the recorder\'s history.js stays', async () => {
    writeFileSync(join(root, 'artifacts/p/report/old-chart.svg'), '<svg/>');
    writeFileSync(join(root, 'artifacts/p/report/trials/s0.js'), 'TRAJGEN_TRIAL({});\n');
    writeFileSync(join(root, 'artifacts/p/report/history.js'), 'window.TRAJGEN_HISTORY = [{"id":"run_005"}];\n');
    writeFileSync(join(root, 'artifacts/p/archive/stale.json'), '{}');
    expect(await archiveExecutor({}, context)).toEqual({ success: true });
    expect(existsSync(join(root, 'artifacts/p/report/old-chart.svg'))).toBe(false);
    expect(existsSync(join(root, 'artifacts/p/report/trials/s0.js'))).toBe(false);
    expect(existsSync(join(root, 'artifacts/p/archive/stale.json'))).toBe(false);
    expect(readFileSync(join(root, 'artifacts/p/report/history.js'), 'utf8')).toContain('run_005');
  });

  it('writes no report with archive.report: false', async () => {
    ws.writeConfig('archive:\n  report: false\ntraining:\n  model_name_or_path: m\n  output_dir: o\n');
    expect(await archiveExecutor({}, context)).toEqual({ success: true });
    expect(existsSync(join(root, 'artifacts/p/report/index.html'))).toBe(false);
    expect(out.join('\n')).toContain('report: disabled (archive.report: false)');
  });
});
