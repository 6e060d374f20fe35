import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '@trajgen/core';
import { LOCK_FILE, ledgerStateDigest, openLedger, readLedger } from '@trajgen/ledger';
import { rolloutPipeline } from './index';
import { captureIO, createWorkspace, simpleTask, type TestWorkspace } from './__fixtures__/workspace';

describe('rollout stage: what happens before any agent runs', () => {
  let ws: TestWorkspace | undefined;
  afterEach(() => ws?.remove());

  it('says to run prepare first when there is no batch', async () => {
    ws = createWorkspace();
    ws.addTask('one', simpleTask({}));
    await expect(rolloutPipeline(ws.load(), captureIO().io, { handleSignals: false })).rejects.toThrow(/prepare\/batch\.json not found: run prepare first/);
  });

  it("refuses a batch that breaks prepare's contract, naming the key path and the command that rewrites it", async () => {
    ws = createWorkspace();
    ws.addTask('one', simpleTask({}));
    ws.prepare();
    const batchFile = ws.load().paths.batchFile;
    const batch = JSON.parse(readFileSync(batchFile, 'utf8'));
    delete batch.tasks[0].staged_path;
    writeFileSync(batchFile, JSON.stringify(batch));
    const error = await rolloutPipeline(ws.load(), captureIO().io, { handleSignals: false }).then(
      () => undefined,
      (e: Error & { hint?: string; details?: string[] }) => e,
    );
    expect(error?.message).toMatch(/prepare\/batch\.json does not follow the prepare → .* contract/);
    expect(error?.details?.join('\n')).toMatch(/tasks\[0\]\.staged_path/);
    expect(error?.hint).toMatch(/nx run .*:prepare/);
  });

  it('fails fast naming the holder when another process holds the ledger, claiming nothing', async () => {
    ws = createWorkspace();
    ws.addTask('one', simpleTask({}));
    ws.prepare();
    const p = ws.load().paths;
    const held = acquireLock(join(p.artifacts, LOCK_FILE), { purpose: 'prepare (another terminal)' });
    try {
      await expect(rolloutPipeline(ws.load(), captureIO().io, { handleSignals: false })).rejects.toThrow(/in use: .*locked by pid \d+ .*prepare \(another terminal\)/);
    } finally {
      held.release();
    }
    expect(readLedger(p).get('one')!.status).toBe('pending');
    expect(existsSync(p.jobs)).toBe(false);
  });

  it('refuses a scaffold the local engine cannot run before claiming anything', async () => {
    ws = createWorkspace({ rollout: { scaffold: 'openhands-sdk' } });
    ws.addTask('one', simpleTask({}));
    ws.prepare();
    await expect(rolloutPipeline(ws.load(), captureIO().io, { handleSignals: false })).rejects.toThrow(/openhands-sdk cannot run in the local engine/);
    expect(readLedger(ws.load().paths).get('one')!.status).toBe('pending');
  });

  it('rolls out nothing when the ledger refuses the whole batch: no job, outputs written, the ledger digest recorded', async () => {
    ws = createWorkspace();
    ws.addTask('one', simpleTask({}));
    ws.addTask('two', simpleTask({}));
    ws.prepare();
    const p = ws.load().paths;
    const ledger = openLedger(p, { purpose: 'test', maxRetries: 1 });
    ledger.setStatuses([{ id: 'one', status: 'skipped' }, { id: 'two', status: 'skipped' }], 'not these');
    ledger.close();
    // A stale file in our own output dir is replaced (Nx never cleans outputs).
    mkdirSync(p.rolloutOut, { recursive: true });
    writeFileSync(join(p.rolloutOut, 'stale.json'), '{}');
    const { io, lines } = captureIO();
    const res = await rolloutPipeline(ws.load(), io, { handleSignals: false });
    expect(res.job).toBeNull();
    expect(res.summary).toBe('nothing to roll out');
    expect(lines.some((l) => /nothing to roll out/.test(l))).toBe(true);
    expect(lines.some((l) => /skipped 2 batch tasks the ledger refuses: one \(skipped\), two \(skipped\)/.test(l))).toBe(true);
    expect(existsSync(p.jobs)).toBe(false);
    const run = JSON.parse(readFileSync(join(p.rolloutOut, 'run.json'), 'utf8'));
    const batch = JSON.parse(readFileSync(p.batchFile, 'utf8'));
    expect(run).toMatchObject({ status: 'nothing_to_roll_out', job: null, batch_digest: batch.batch_digest, ledger_digest_after: ledgerStateDigest(p.artifacts) });
    expect(JSON.parse(readFileSync(join(p.rolloutOut, 'trials.json'), 'utf8'))).toEqual({ schema_version: 1, trials: [] });
    expect(readdirSync(p.rolloutOut).sort()).toEqual(['run.json', 'trials.json']);
  });
});
