import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PostTasksExecutionContext } from '@nx/devkit';
import * as archiveLib from '@trajgen/archive';
import { pipelineWorkspace } from '../../../../test/support/pipeline-workspace';
import { postTasksExecution, preTasksExecution, useArchiveLib } from './tasks-execution';

useArchiveLib(archiveLib);

type Results = PostTasksExecutionContext['taskResults'];
const result = (project: string, target: string, status: string, code = 0): Results[string] =>
  ({ task: { id: `${project}:${target}`, target: { project, target }, hash: `h-${target}`, startTime: 1_795_000_000_000, endTime: 1_795_000_003_000, outputs: [], overrides: {}, cache: true }, status, code }) as unknown as Results[string];

function context(root: string, taskResults: Results, id = 'inv-1'): PostTasksExecutionContext {
  return { id, workspaceRoot: root, nxJsonConfiguration: {}, taskResults, argv: ['node', 'nx', 'run', 'p:score'], startTime: 1_795_000_000_000, endTime: 1_795_000_004_000 };
}

describe('plugin task-execution hooks', () => {
  const ws = pipelineWorkspace({ prefix: 'hooks-' });
  const root = ws.root;
  let out: string[];
  beforeEach(() => {
    out = [];
    vi.spyOn(console, 'log').mockImplementation((l: string) => void out.push(l));
    vi.spyOn(console, 'warn').mockImplementation((l: string) => void out.push(l));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });
  afterAll(() => ws.remove());

  it('preTasksExecution hands the invocation id to the tasks (an env var Nx passes on)', async () => {
    vi.stubEnv('TRAJGEN_NX_INVOCATION', '');
    await preTasksExecution(undefined, { id: 'inv-77', workspaceRoot: root, nxJsonConfiguration: {}, argv: [] });
    expect(process.env.TRAJGEN_NX_INVOCATION).toBe('inv-77');
  });

  it('preTasksExecution hands Nx every stage fingerprint in-process; an edit changes only the stage that reads it', async () => {
    const names = ['prepare', 'rollout', 'convert', 'score', 'register', 'train', 'archive'].map((s) => `TRAJGEN_FINGERPRINT_${s}__p`);
    for (const n of names) vi.stubEnv(n, '');
    await preTasksExecution(undefined, { id: 'inv-fp', workspaceRoot: root, nxJsonConfiguration: {}, argv: [] });
    const before = names.map((n) => process.env[n]);
    expect(before.every((v) => /^[0-9a-f]{64}$/.test(v ?? ''))).toBe(true);
    const config = join(root, 'pipelines/p/config.yaml');
    const text = readFileSync(config, 'utf8');
    try {
      writeFileSync(config, text.replace('output_dir: o', 'output_dir: o2'));
      await preTasksExecution(undefined, { id: 'inv-fp2', workspaceRoot: root, nxJsonConfiguration: {}, argv: [] });
      expect(names.filter((n, i) => process.env[n] !== before[i])).toEqual(['TRAJGEN_FINGERPRINT_train__p']);
    } finally {
      writeFileSync(config, text);
    }
  });

  it('in the Nx daemon, hands Nx the same vars through its recording env and leaves the daemon env as the client sent it', async () => {
    // What Nx does around the hook in the daemon or a plugin worker: a Proxy over process.env that records each set.
    const real = process.env;
    const recorded: Record<string, string> = {};
    const names = ['TRAJGEN_NX_INVOCATION', ...['prepare', 'archive'].map((s) => `TRAJGEN_FINGERPRINT_${s}__p`)];
    for (const n of names) delete real[n];
    process.env = new Proxy(real, {
      set: (target, key, value) => {
        target[key as string] = value;
        recorded[key as string] = value;
        return true;
      },
    });
    try {
      await preTasksExecution(undefined, { id: 'inv-daemon', workspaceRoot: root, nxJsonConfiguration: {}, argv: [] });
    } finally {
      process.env = real;
    }
    expect(recorded.TRAJGEN_NX_INVOCATION).toBe('inv-daemon');
    expect(recorded.TRAJGEN_FINGERPRINT_prepare__p).toMatch(/^[0-9a-f]{64}$/);
    expect(recorded.TRAJGEN_FINGERPRINT_archive__p).toMatch(/^[0-9a-f]{64}$/);
    // The daemon's own env keeps none of them: the next client's env (without them) changes nothing there.
    expect(names.filter((n) => n in real)).toEqual([]);
  });

  it('postTasksExecution records a run that executed a stage and prints where', async () => {
    await postTasksExecution(undefined, context(root, { 'p:prepare': result('p', 'prepare', 'local-cache'), 'p:score': result('p', 'score', 'failure', 1) }));
    expect(out).toEqual([
      // Nx replayed prepare's old log: say it was restored (no recorded run in this fresh workspace produced it).
      'trajgen: p:prepare was restored from the Nx cache, not run: its outputs and the log above are from a run not recorded in this clone (another clone, or the remote cache).',
      'trajgen: recorded p run_001 (failed: failed at score (exit 1); cached prepare) → artifacts/p/archives/run_001',
    ]);
    expect(readFileSync(join(root, 'artifacts/p/index.yaml'), 'utf8')).toContain('id: run_001');
  });

  it('records nothing for cache hits or for targets that are not stages', async () => {
    await postTasksExecution(undefined, context(root, { 'p:score': result('p', 'score', 'remote-cache'), 'p:check': result('p', 'check', 'success') }, 'inv-2'));
    // Only the line that says the cached stage was restored; no run recorded.
    expect(out).toEqual([expect.stringMatching(/^trajgen: p:score was restored from the Nx cache, not run/)]);
    expect(readFileSync(join(root, 'artifacts/p/index.yaml'), 'utf8')).not.toContain('run_002');
  });

  it("keeps each executed stage's log in its run; a replay that already says where it is from gets no second line", async () => {
    const ran = { ...result('p', 'score', 'success'), terminalOutput: 'scored 12 rows\n✔ p:score done in 3s — 12 rows (finished 2026-12-07T06:00:00Z)\n' } as Results[string];
    const note = { ...result('p', 'prepare', 'local-cache'), terminalOutput: '↺ p:prepare restored from the Nx cache, not run again.\n  It ran in run_001: done in 1s\n' } as Results[string];
    await postTasksExecution(undefined, context(root, { 'p:prepare': note, 'p:score': ran }, 'inv-logs'));
    const recorded = out.find((l) => l.startsWith('trajgen: recorded p '));
    const run = /(run_\d+)/.exec(recorded ?? '')?.[1];
    expect(run, out.join('\n')).toBeDefined();
    expect(readFileSync(join(root, `artifacts/p/archives/${run}/logs/score.log`), 'utf8')).toContain('scored 12 rows');
    expect(out.filter((l) => l.includes('restored'))).toEqual([]);
  });

  it('never throws into Nx: a recorder failure is a warning', async () => {
    const broken = join(root, 'not-a-dir');
    writeFileSync(broken, 'x');
    mkdirSync(join(root, 'pipelines/q'), { recursive: true });
    writeFileSync(join(root, 'pipelines/q/config.yaml'), 'x: 1\n');
    // artifacts/q is a file: nothing can be written under it.
    writeFileSync(join(root, 'artifacts/q'), 'in the way');
    await expect(postTasksExecution(undefined, context(root, { 'q:score': result('q', 'score', 'success') }, 'inv-3'))).resolves.toBeUndefined();
    expect(out.join('\n')).toMatch(/^trajgen: warning: could not record this run in artifacts\/<pipeline>\/index.yaml: .*\(the Nx run itself is unaffected\)$/);
    await expect(preTasksExecution(undefined, { id: 'x', workspaceRoot: broken, nxJsonConfiguration: {}, argv: [] })).resolves.toBeUndefined();
    expect(existsSync(join(root, 'artifacts/q/index.yaml'))).toBe(false);
  });
});
