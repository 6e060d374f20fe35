/**
 * The job data is the ground truth: a lost, stale or fresh ledger never hands
 * out a task that has a finished trial under jobs/. Trial dirs are written by
 * hand in Harbor's layout (a test double of a job, see __fixtures__/pipeline).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { openLedger, type Ledger, type OpenLedgerOptions } from './ledger';
import { simulateCrash } from './__fixtures__/crash';
import { tempPipeline, writeTrial, type TempPipeline } from './__fixtures__/pipeline';

const temps: TempPipeline[] = [];
const open: Ledger[] = [];
afterEach(() => {
  for (const l of open.splice(0)) l.close();
  for (const t of temps.splice(0)) t.remove();
});

function pipeline(): TempPipeline {
  const t = tempPipeline();
  temps.push(t);
  return t;
}

function openL(tp: TempPipeline, opts: Partial<OpenLedgerOptions> = {}): Ledger {
  const l = openLedger(tp.paths, { purpose: 'test', maxRetries: 2, ...opts });
  open.push(l);
  return l;
}

function abandon(l: Ledger): void {
  simulateCrash(l);
  open.splice(open.indexOf(l), 1);
}

function deleteLedger(tp: TempPipeline): void {
  rmSync(join(tp.paths.artifacts, 'consumption_ledger.yaml'), { force: true });
  rmSync(join(tp.paths.artifacts, '.ledger'), { recursive: true, force: true });
}

describe('reconcile: the job data is the ground truth', () => {
  it('a deleted ledger: every finished trial under jobs/ is adopted; nothing finished is handed out again', () => {
    const tp = pipeline();
    const l = openL(tp);
    l.claim(['a', 'b', 'c', 'd'], { job: 'j1' });
    const ta = writeTrial(tp.paths, 'j1', 'a', { reward: 1 });
    writeTrial(tp.paths, 'j1', 'b', { reward: 0 });
    writeTrial(tp.paths, 'j1', 'c', { reward: null, exception: 'NetworkConnectionError', trajectory: false });
    l.recordTrialOutcome('a', { job: 'j1', trial: ta, reward: 1, trajectory_path: 'x', exception_type: null });
    l.close();
    open.splice(open.indexOf(l), 1);
    deleteLedger(tp);

    const fresh = openL(tp);
    const adopted = Object.fromEntries(fresh.openReport.reconcile.adopted.map((i) => [i.id, i.to]));
    expect(adopted).toEqual({ a: 'done', b: 'done', c: 'pending' });
    expect(fresh.get('a')).toMatchObject({ status: 'done', job: 'j1', trial: ta, reward: 1, attempts: 1 });
    expect(fresh.get('c')).toMatchObject({ status: 'pending', attempts: 1, exception_type: 'NetworkConnectionError' });
    expect(fresh.openReport.reconcile.adopted.find((i) => i.id === 'a')?.why).toMatch(/from jobs\/j1/);
    expect(fresh.claim(['a', 'b', 'c', 'd'], { job: 'j2' })).toEqual(['c', 'd']);
    // Reconciling again changes nothing.
    expect(fresh.reconcile().adopted).toEqual([]);
  });

  it('a clone without a ledger pointed at the same (shared) jobs dir adopts what the other clone finished', () => {
    const a = pipeline();
    writeTrial(a.paths, 'j1', 'x', { reward: 1 });
    writeTrial(a.paths, 'j1', 'y', { reward: 0 });
    const b = pipeline();
    mkdirSync(b.paths.artifacts, { recursive: true });
    symlinkSync(a.paths.jobs, b.paths.jobs);
    const lb = openL(b);
    expect(lb.exclusions()).toEqual(['x', 'y']);
    expect(lb.claim(['x', 'y', 'z'], { job: 'jb' })).toEqual(['z']);
  });

  it('a stale ledger (an older copy) adopts the trials finished since', () => {
    const tp = pipeline();
    const l = openL(tp);
    l.register(['a', 'b']);
    l.close();
    open.splice(open.indexOf(l), 1);
    writeTrial(tp.paths, 'j9', 'b', { reward: 1 });
    const again = openL(tp);
    expect(again.get('b')?.status).toBe('done');
    expect(again.pendingIds()).toEqual(['a']);
  });

  it('a kill at every phase boundary of a trial: only trials whose verifier finished count; nothing finished is run twice', () => {
    const tp = pipeline();
    const l = openL(tp);
    const ids = ['created', 'agent-done', 'verified', 'result-written', 'recorded'];
    l.claim(ids, { job: 'j1' });
    writeTrial(tp.paths, 'j1', 'created', { unfinished: true, trajectory: false });
    writeTrial(tp.paths, 'j1', 'agent-done', { unfinished: true });
    const verified = writeTrial(tp.paths, 'j1', 'verified', { unfinished: true, rewardFile: 0 });
    writeTrial(tp.paths, 'j1', 'result-written', { reward: 1 });
    const rec = writeTrial(tp.paths, 'j1', 'recorded', { reward: 1 });
    l.recordTrialOutcome('recorded', { job: 'j1', trial: rec, reward: 1, trajectory_path: 'x', exception_type: null });
    abandon(l);

    const again = openL(tp);
    const r = again.openReport.reconcile;
    expect(Object.fromEntries(r.finalized.map((i) => [i.id, i.to]))).toEqual({ verified: 'done', 'result-written': 'done' });
    expect(r.returned.map((i) => i.id).sort()).toEqual(['agent-done', 'created']);
    expect(again.get('verified')).toMatchObject({ status: 'done', reward: 0, trial: verified, attempts: 1 });
    expect(again.get('agent-done')).toMatchObject({ status: 'pending', attempts: 0 });
    expect(again.claim(ids, { job: 'j2' }).sort()).toEqual(['agent-done', 'created']);
  });

  it('the same phases with the ledger lost as well: the verifier-finished and result trials are adopted, the rest is free', () => {
    const tp = pipeline();
    for (const id of ['created', 'agent-done']) writeTrial(tp.paths, 'j1', id, { unfinished: true, trajectory: id !== 'created' });
    writeTrial(tp.paths, 'j1', 'verified', { unfinished: true, rewardFile: 1 });
    writeTrial(tp.paths, 'j1', 'result-written', { reward: 1 });
    const l = openL(tp);
    expect(Object.fromEntries(l.openReport.reconcile.adopted.map((i) => [i.id, i.to]))).toEqual({ verified: 'done', 'result-written': 'done' });
    expect(l.openReport.reconcile.adopted.find((i) => i.id === 'verified')?.why).toMatch(/killed after its verifier finished/);
    expect(l.claim(['created', 'agent-done', 'verified', 'result-written'], { job: 'j2' })).toEqual(['created', 'agent-done']);
  });
});

describe('re-roll on purpose', () => {
  it('a done task reset by a person is rolled out again: its trial on disk is retired, not adopted back; the new trial counts', () => {
    const tp = pipeline();
    const l = openL(tp, { by: 'alice@box' });
    l.claim(['w'], { job: 'j1' });
    const t1 = writeTrial(tp.paths, 'j1', 'w', { reward: 1 });
    l.recordTrialOutcome('w', { job: 'j1', trial: t1, reward: 1, trajectory_path: 'x', exception_type: null });
    expect(l.setStatus('w', 'pending', 'weak test accepted a wrong answer')).toEqual({ id: 'w', from: 'done', to: 'pending' });
    l.close();
    open.splice(open.indexOf(l), 1);
    const again = openL(tp);
    expect(again.openReport.reconcile.adopted).toEqual([]);
    expect(again.claim(['w'], { job: 'j2' })).toEqual(['w']);
    abandon(again);
    writeTrial(tp.paths, 'j2', 'w', { reward: 0 });
    const third = openL(tp);
    expect(third.get('w')).toMatchObject({ status: 'done', job: 'j2', reward: 0 });
  });
});

describe('resampling unresolved tasks (ledger.resample_unresolved)', () => {
  it('an unresolved trial sends the task back to pending up to max_attempts; its trial is retired, never adopted back', () => {
    const tp = pipeline();
    const l = openL(tp, { resampleMaxAttempts: 3 });
    l.claim(['u'], { job: 'j1' });
    const t1 = writeTrial(tp.paths, 'j1', 'u', { reward: 0 });
    expect(l.recordTrialOutcome('u', { job: 'j1', trial: t1, reward: 0, trajectory_path: 'x', exception_type: null })).toMatchObject({ status: 'pending', attempts: 1 });
    expect(l.get('u')?.history.at(-1)?.note).toMatch(new RegExp(`attempt 1 of 3.*retired trial j1/${t1}`));
    l.close();
    open.splice(open.indexOf(l), 1);
    // Reopening reads jobs/: the retired trial is not adopted back.
    const l2 = openL(tp, { resampleMaxAttempts: 3 });
    expect(l2.openReport.reconcile.adopted).toEqual([]);
    expect(l2.claim(['u'], { job: 'j2' })).toEqual(['u']);
    const t2 = writeTrial(tp.paths, 'j2', 'u', { reward: 0 });
    expect(l2.recordTrialOutcome('u', { job: 'j2', trial: t2, reward: 0, trajectory_path: 'x', exception_type: null })).toMatchObject({ status: 'pending', attempts: 2 });
    l2.claim(['u'], { job: 'j3' });
    const t3 = writeTrial(tp.paths, 'j3', 'u', { reward: 0 });
    expect(l2.recordTrialOutcome('u', { job: 'j3', trial: t3, reward: 0, trajectory_path: 'x', exception_type: null })).toMatchObject({ status: 'done', attempts: 3 });
    // A resolved sample ends it at once.
    l2.claim(['r'], { job: 'j3' });
    expect(l2.recordTrialOutcome('r', { job: 'j3', trial: 'r__1', reward: 1, trajectory_path: 'x', exception_type: null })).toMatchObject({ status: 'done', attempts: 1 });
    // Without the switch an unresolved trial is done.
    const off = pipeline();
    const l3 = openL(off);
    l3.claim(['u'], { job: 'j1' });
    expect(l3.recordTrialOutcome('u', { job: 'j1', trial: 'u__1', reward: 0, trajectory_path: 'x', exception_type: null }).status).toBe('done');
  });

  it('a lost ledger with resampling: the unresolved trials on disk are folded in order and count as attempts', () => {
    const tp = pipeline();
    writeTrial(tp.paths, 'j1', 'u', { reward: 0, finishedAt: '2026-01-01T00:01:00Z' });
    writeTrial(tp.paths, 'j2', 'u', { reward: 0, finishedAt: '2026-01-02T00:01:00Z' });
    const l = openL(tp, { resampleMaxAttempts: 3 });
    expect(l.get('u')).toMatchObject({ status: 'pending', attempts: 2 });
    expect(l.claim(['u'], { job: 'j3' })).toEqual(['u']);
  });
});
