import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExecutorContext } from '@nx/devkit';
import { openLedger, readLedger } from '@trajgen/ledger';
import { tempWorkspace, type TempWorkspace } from '../../../../../libs/tasks/src/__fixtures__/workspace';
import ledgerExecutor from './executor';
import schema from './schema.json';
import type { LedgerExecutorOptions } from './schema';

let ws: TempWorkspace;
afterEach(() => {
  ws?.remove();
  vi.restoreAllMocks();
});

const context = (root: string) => ({ root, projectName: 'p', cwd: root, isVerbose: false }) as unknown as ExecutorContext;

async function run(options: LedgerExecutorOptions) {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((l: string) => void out.push(l));
  vi.spyOn(console, 'warn').mockImplementation((l: string) => void out.push(l));
  vi.spyOn(console, 'error').mockImplementation((l: string) => void out.push(l));
  const result = await ledgerExecutor(options, context(ws.root));
  vi.restoreAllMocks();
  return { ...result, output: out.join('\n') };
}

function seed() {
  ws = tempWorkspace();
  const l = openLedger(ws.paths, { purpose: 'seed', maxRetries: 0 });
  l.register(['p1', 'p2']);
  l.claim(['d1', 'f1', 'f2'], { job: 'job-1' });
  l.recordTrialOutcome('d1', { job: 'job-1', trial: 'd1__1', reward: 1, trajectory_path: 'x', exception_type: null });
  l.recordTrialOutcome('f1', { job: 'job-1', trial: 'f1__1', reward: null, trajectory_path: null, exception_type: 'AgentTimeoutError' });
  l.recordTrialOutcome('f2', { job: 'job-1', trial: 'f2__1', reward: null, trajectory_path: null, exception_type: 'NetworkConnectionError' });
  l.close();
}

describe('ledger executor', () => {
  it('prints a status table, ids per status and failed tasks with their exception', async () => {
    seed();
    const r = await run({});
    expect(r.success).toBe(true);
    expect(r.output).toMatch(/status\s+tasks\n-+\s+-+\npending\s+2\nrunning\s+0\ndone\s+1\nfailed\s+2\nskipped\s+0\ntotal\s+5/);
    expect(r.output).toContain('pending: p1, p2');
    expect(r.output).toContain('done: d1');
    expect(r.output).toContain('  f1  AgentTimeoutError  (1 attempt, last in job-1)');
    expect(r.output).toContain('  f2  NetworkConnectionError  (1 attempt, last in job-1)');
    expect(r.output).toMatch(/✔ p:ledger done in \d+s — 5 tasks: 2 pending, 0 running, 1 done, 2 failed, 0 skipped/);
  });

  it('prints JSON on request', async () => {
    seed();
    const r = await run({ json: true });
    const json = JSON.parse(r.output.slice(0, r.output.lastIndexOf('}') + 1));
    expect(json).toMatchObject({ pipeline: 'p', total: 5, counts: { failed: 2 }, ids: { done: ['d1'] }, edits: [] });
  });

  it('edits need a note; resetFailed and skip are recorded in each entry\'s history', async () => {
    seed();
    const refused = await run({ resetFailed: true });
    expect(refused.success).toBe(false);
    expect(refused.output).toContain('Ledger edits need a note');
    expect(readLedger(ws.paths).get('f1')?.status).toBe('failed');
    const r = await run({ resetFailed: true, skip: 'p2', note: 'network fixed' });
    expect(r.success).toBe(true);
    expect(r.output).toContain('f1: failed → pending');
    const v = readLedger(ws.paths);
    expect(v.summary().counts).toMatchObject({ pending: 3, failed: 0, skipped: 1 });
    expect(v.get('p2')?.history.at(-1)).toMatchObject({ change: 'pending → skipped', note: 'network fixed', by: expect.stringContaining('@') });
    expect(v.get('f1')?.history.at(-1)?.note).toBe('network fixed (was failed after 1 attempt, last AgentTimeoutError in job-1)');
  });

  it('--reset returns a done task to pending on purpose: recorded in history, its trial retired (never adopted back)', async () => {
    seed();
    const r = await run({ reset: 'd1', note: 'wrong answer accepted by a weak test; re-roll' });
    expect(r.success, r.output).toBe(true);
    expect(r.output).toContain('d1: done → pending');
    const v = readLedger(ws.paths);
    expect(v.get('d1')).toMatchObject({ status: 'pending', attempts: 0 });
    expect(v.get('d1')?.history.at(-1)).toMatchObject({ change: 'done → pending', note: expect.stringMatching(/re-roll \(was done after 1 attempt in job-1; reward 1; retired trial job-1\/d1__1\)/) });
  });

  it('--skip or --reset of an unknown id suggests the closest known id and changes nothing', async () => {
    seed();
    const r = await run({ skip: 'p1,f3', note: 'typo' });
    expect(r.success).toBe(false);
    expect(r.output).toContain('No ledger edit was made: f3: no such task in the ledger or the manifest. Did you mean "f1"?');
    expect(readLedger(ws.paths).get('p1')?.status).toBe('pending');
    const reset = await run({ reset: 'dl', note: 'typo' });
    expect(reset.output).toContain('Did you mean "d1"?');
  });

  it('declares strict options', () => {
    expect(Object.keys(schema.properties).sort()).toEqual(['export', 'import', 'json', 'limit', 'note', 'reset', 'resetFailed', 'skip']);
    expect(schema.additionalProperties).toBe(false);
  });
});
