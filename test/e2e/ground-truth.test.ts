/**
 * Issue #14, story 1: the job data is the ground truth. Real `nx`, the real
 * Claude Code CLI and the oracle (the scripted demo/test model, not a real
 * LLM) in temporary copies of the workspace: a lost ledger, and a clone with
 * no ledger pointed at the same jobs dir, never roll a finished task out again,
 * and convert emits one row per task.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createTempWorkspace, type TempWorkspace } from './harness';

const DEMO_IDS = ['add-greeting', 'config-json-edit', 'csv-summary', 'docs-usage-section', 'fix-off-by-one', 'multi-step-textstats', 'refactor-extract-function', 'shell-line-counter'];

describe('the job data is the ground truth (demo pipeline, real Claude Code + oracle)', () => {
  let a: TempWorkspace;
  let b: TempWorkspace;
  const jobsOf = (ws: TempWorkspace) => readdirSync(join(ws.root, 'artifacts/demo/jobs')).filter((n) => !n.startsWith('.'));
  const ledgerStatuses = (ws: TempWorkspace): Record<string, string> => {
    const r = ws.nx(['run', 'demo:ledger', '--json']);
    expect(r.code, r.output).toBe(0);
    const json = JSON.parse(r.output.slice(r.output.indexOf('{'), r.output.lastIndexOf('}') + 1));
    const out: Record<string, string> = {};
    for (const [status, ids] of Object.entries(json.ids as Record<string, string[]>)) for (const id of ids) out[id] = status;
    return out;
  };

  beforeAll(() => {
    a = createTempWorkspace({ prefix: 'trajgen-e2e-truth-a-' });
    b = createTempWorkspace({ prefix: 'trajgen-e2e-truth-b-' });
  });
  afterAll(() => {
    a?.remove();
    b?.remove();
  });

  it('the ledger deleted after a run: nothing is rolled out again, convert emits one row per task', () => {
    const first = a.nx(['run', 'demo:rollout']);
    expect(first.code, first.output).toBe(0);
    expect(jobsOf(a)).toHaveLength(1);
    rmSync(join(a.root, 'artifacts/demo/consumption_ledger.yaml'));
    rmSync(join(a.root, 'artifacts/demo/.ledger'), { recursive: true, force: true });

    // Every stage really runs (a lost ledger after many runs changes prepare's fingerprint; here the first run
    // started without a ledger, so Nx alone would restore the same outputs).
    const again = a.nx(['run', 'demo:convert', '--skip-nx-cache']);
    expect(again.code, again.output).toBe(0);
    expect(again.ran).toEqual(expect.arrayContaining(['demo:prepare', 'demo:rollout', 'demo:convert']));
    expect(again.output).toMatch(/reconcile: 0 finalized from trial results, 0 returned to pending, 8 adopted/);
    expect(again.output).toMatch(/nothing to roll out/);
    expect(jobsOf(a), 'no second job: no task rolled out again').toHaveLength(1);
    const statuses = ledgerStatuses(a);
    expect(Object.keys(statuses).sort()).toEqual(DEMO_IDS);
    expect(new Set(Object.values(statuses))).toEqual(new Set(['done']));
    const rows = a.read('artifacts/demo/data/im_data/demo.jsonl').trimEnd().split('\n').map((l) => JSON.parse(l));
    const main = rows.filter((r) => r.meta_info.unique_info._agent_type === 'main').map((r) => r.meta_info.unique_info._instance_id as string);
    expect(main.length, 'one row per task').toBe(new Set(main).size);
    expect(main.length).toBeGreaterThan(0);
  });

  it('a clone without a ledger pointed at the same jobs dir hands out nothing that has a finished trial', () => {
    mkdirSync(join(b.root, 'artifacts/demo'), { recursive: true });
    symlinkSync(join(a.root, 'artifacts/demo/jobs'), join(b.root, 'artifacts/demo/jobs'));
    expect(existsSync(join(b.root, 'artifacts/demo/consumption_ledger.yaml'))).toBe(false);
    const run = b.nx(['run', 'demo:rollout']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/nothing to roll out/);
    expect(jobsOf(a), 'the shared jobs dir got no new job').toHaveLength(1);
    expect(Object.values(ledgerStatuses(b)).filter((s) => s === 'done')).toHaveLength(DEMO_IDS.length);
  });
});
