import { afterEach, describe, expect, it } from 'vitest';
import { writeTrialsFile, type TrialsIndexEntry } from '@trajgen/contracts';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { JOURNAL_FILE, LEDGER_FILE, ledgerStateDigest } from './ledger-digest.cjs';
import { LOCK_FILE, openLedger, readLedger, type Ledger, type OpenLedgerOptions } from './ledger';
import { LedgerFormatError } from './ledger-yaml';
import { simulateCrash } from './__fixtures__/crash';
import { tempPipeline, writeTrial, type TempPipeline } from './__fixtures__/pipeline';
import type { TrialOutcome } from './types';

let tp: TempPipeline;
const open: Ledger[] = [];
afterEach(() => {
  for (const l of open.splice(0)) l.close();
  tp?.remove();
});

function openL(opts: Partial<OpenLedgerOptions> = {}): Ledger {
  const l = openLedger(tp.paths, { purpose: 'test', maxRetries: 1, ...opts });
  open.push(l);
  return l;
}

function abandon(l: Ledger): void {
  simulateCrash(l);
  open.splice(open.indexOf(l), 1);
}

const journalPath = () => join(tp.paths.artifacts, JOURNAL_FILE);
const yamlPath = () => join(tp.paths.artifacts, LEDGER_FILE);
const done = (job: string, trial: string, reward = 1): TrialOutcome => ({ job, trial, reward, trajectory_path: `artifacts/p/jobs/${job}/${trial}/agent/litellm-trajectory.jsonl`, trajectory_digest: 'sha256:aa', exception_type: null });

describe('ledger: claim, record, exactly once', () => {
  it('claims pending and unknown ids, refuses running and terminal ones', () => {
    tp = tempPipeline();
    const l = openL();
    l.register(['a', 'b', 'c', 'd']);
    expect(l.claim(['a', 'b', 'a'], { job: 'j1' })).toEqual(['a', 'b']);
    expect(l.claim(['a', 'new'], { job: 'j2' })).toEqual(['new']);
    l.recordTrialOutcome('a', done('j1', 'a__1'));
    l.setStatus('c', 'skipped', 'not wanted');
    expect(l.claim(['a', 'b', 'c', 'd'], { job: 'j3' })).toEqual(['d']);
    expect(l.exclusions()).toEqual(['a', 'c']);
    expect(l.get('b')).toMatchObject({ status: 'running', job: 'j1' });
    expect(() => l.claim(['../x'], { job: 'j' })).toThrow(/unsafe task ids: "..\/x"/);
    expect(() => l.claim(['x'], { job: 'a/b' })).toThrow(/job name contains a path separator/);
  });

  it('records outcomes only for running tasks of the claiming job; the same trial twice is a no-op', () => {
    tp = tempPipeline();
    const l = openL({ maxRetries: 1 });
    l.claim(['a', 'b'], { job: 'j1' });
    expect(l.recordTrialOutcome('a', done('j1', 'a__1', 0))).toEqual({ status: 'done', attempts: 1, changed: true });
    expect(l.recordTrialOutcome('a', done('j1', 'a__1', 0))).toEqual({ status: 'done', attempts: 1, changed: false });
    expect(() => l.recordTrialOutcome('a', done('j1', 'a__2'))).toThrow(/task is done, not running/);
    expect(() => l.recordTrialOutcome('b', done('j2', 'b__1'))).toThrow(/claimed by job j1/);
    expect(() => l.recordTrialOutcome('zzz', done('j1', 'zzz__1'))).toThrow(/no such task/);
    const infra = { job: 'j1', trial: 'b__1', reward: null, trajectory_path: null, exception_type: 'NetworkConnectionError' };
    expect(l.recordTrialOutcome('b', infra)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(l.claim(['b'], { job: 'j2' })).toEqual(['b']);
    expect(l.recordTrialOutcome('b', { ...infra, job: 'j2', trial: 'b__2' })).toMatchObject({ status: 'failed', attempts: 2 });
    expect(l.summary().failed).toEqual([{ id: 'b', exception_type: 'NetworkConnectionError', attempts: 2, job: 'j2' }]);
  });
});

describe('ledger: journal and compaction', () => {
  it('every mutation is one journal line; close compacts into the YAML and empties the journal', () => {
    tp = tempPipeline();
    const l = openL();
    l.register(['a', 'b']);
    l.claim(['a'], { job: 'j' });
    l.recordTrialOutcome('a', done('j', 'a__1'));
    const raw = readFileSync(journalPath(), 'utf8');
    expect(raw).toMatch(/\n\0+$/); // records, then zeros written ahead
    const lines = raw.replace(/\0+$/, '').trim().split('\n').map((x) => JSON.parse(x));
    expect(lines.map((r) => r.op)).toEqual(['register', 'claim', 'outcome']);
    expect(lines[2].set.a).toMatchObject({ status: 'done', reward: 1 });
    expect(existsSync(yamlPath())).toBe(false);
    l.close();
    expect(statSync(journalPath()).size).toBe(0);
    const yaml = readFileSync(yamlPath(), 'utf8');
    expect(yaml).toContain('  a:\n    status: done\n    attempts: 1\n    job: j\n    trial: a__1\n    reward: 1.0\n');
    expect(readLedger(tp.paths).get('b')?.status).toBe('pending');
  });

  it('replays the journal after a crash (no close): nothing recorded is lost', () => {
    tp = tempPipeline();
    const l = openL({ reconcile: false });
    l.claim(['a', 'b'], { job: 'j' });
    l.recordTrialOutcome('a', done('j', 'a__1'));
    abandon(l);
    const again = openL({ reconcile: false });
    expect(again.openReport.journalRecords).toBe(2);
    expect(again.get('a')).toMatchObject({ status: 'done', trial: 'a__1' });
    expect(again.get('b')?.status).toBe('running');
  });

  it('a killed writer leaves zeros after its records: they are not content, and the next writer continues after the last record', () => {
    tp = tempPipeline();
    const l = openL({ reconcile: false });
    l.claim(['a', 'b'], { job: 'j' });
    l.recordTrialOutcome('a', done('j', 'a__1'));
    (l as unknown as { lock: { release(): void } }).lock.release(); // SIGKILL: fd and padding stay as they are
    open.splice(open.indexOf(l), 1);
    expect(statSync(journalPath()).size).toBeGreaterThan(100_000);
    const view = readLedger(tp.paths);
    expect(view.tornJournalLine).toBeUndefined();
    expect(view.get('a')?.status).toBe('done');
    const again = openL({ reconcile: false });
    again.recordTrialOutcome('b', done('j', 'b__1'));
    const text = readFileSync(journalPath(), 'utf8').replace(/\0+$/, '');
    expect(text.split('\n').filter(Boolean).map((x) => JSON.parse(x).op)).toEqual(['claim', 'outcome', 'outcome']);
    again.close();
    expect(statSync(journalPath()).size).toBe(0);
    expect(readLedger(tp.paths).summary().counts.done).toBe(2);
  });

  it('a torn line followed by zeros is torn, not corruption', () => {
    tp = tempPipeline();
    const l = openL({ reconcile: false });
    l.claim(['a'], { job: 'j' });
    abandon(l);
    appendFileSync(journalPath(), Buffer.concat([Buffer.from('{"v":1,"op":"outc'), Buffer.alloc(4096)]));
    const again = openL({ reconcile: false });
    expect(again.openReport.tornJournalLine).toEqual({ line: 2, bytes: 17 });
    expect(again.get('a')?.status).toBe('running');
  });

  it('compacts every compactEvery records, and a crash between YAML rewrite and journal truncation replays idempotently', () => {
    tp = tempPipeline();
    const l = openL({ compactEvery: 2 });
    l.register(['a', 'b', 'c']);
    l.claim(['a', 'b', 'c'], { job: 'j' });
    expect(statSync(journalPath()).size).toBe(0); // compacted after 2 records
    expect(readFileSync(yamlPath(), 'utf8')).toContain('status: running');
    l.recordTrialOutcome('a', done('j', 'a__1'));
    const journalBefore = readFileSync(journalPath());
    l.compact();
    // Put the already-compacted line back, as if the crash hit before the truncation.
    writeFileSync(journalPath(), journalBefore);
    abandon(l);
    const again = openL({ reconcile: false });
    expect(again.get('a')).toMatchObject({ status: 'done', trial: 'a__1' });
    expect(again.size).toBe(3);
  });

  it('does not rewrite a large YAML for a few records: waits until the journal is half its size', () => {
    tp = tempPipeline();
    const seedL = openL();
    seedL.register(Array.from({ length: 400 }, (_, i) => `t${i}`));
    seedL.close();
    const yamlSize = statSync(yamlPath()).size;
    const l = openL({ compactEvery: 1 });
    l.claim(['t1'], { job: 'j' });
    l.recordTrialOutcome('t1', done('j', 't1__1'));
    expect(statSync(yamlPath()).size).toBe(yamlSize); // 2 records ≥ compactEvery, but the journal is far smaller than half the YAML
    let n = 2;
    while (statSync(yamlPath()).size === yamlSize && n < 400) l.claim([`t${n++}`], { job: 'j' });
    const journalAtCompaction = n; // compacted once the journal reached half the YAML
    expect(journalAtCompaction).toBeGreaterThan(10);
    expect(journalAtCompaction).toBeLessThan(400);
    l.close();
    expect(statSync(journalPath()).size).toBe(0);
  });

  it('the stored bytes are a pure function of the state: same state, same digest; open/close without change keeps them', () => {
    tp = tempPipeline();
    const run = (compactEvery: number) => {
      const l = openL({ compactEvery, now: () => new Date('2026-01-01T00:00:00Z') });
      l.register(['b', 'a']);
      l.claim(['a', 'b'], { job: 'j' });
      l.recordTrialOutcome('b', done('j', 'b__1'));
      l.close();
      return ledgerStateDigest(tp.paths.artifacts);
    };
    const first = run(1000);
    const bytes = readFileSync(yamlPath(), 'utf8');
    tp.remove();
    tp = tempPipeline();
    expect(run(1)).toBe(first);
    expect(readFileSync(yamlPath(), 'utf8')).toBe(bytes);
    // Opening and closing (with a reconcile that finds nothing to do) changes no byte.
    writeTrial(tp.paths, 'j', 'a', { reward: 1 }); // a is running in job j: reconcile finalizes it…
    const l = openL();
    expect(l.openReport.reconcile.finalized.map((f) => f.id)).toEqual(['a']);
    l.close();
    const settled = ledgerStateDigest(tp.paths.artifacts);
    openL().close();
    expect(ledgerStateDigest(tp.paths.artifacts)).toBe(settled); // …and the next open/close changes nothing
  });

  it('trusts a file it wrote itself (checksum): reads it lazily, and compaction keeps untouched entries byte for byte', () => {
    tp = tempPipeline();
    const l = openL({ now: () => new Date('2026-01-01T00:00:00Z') });
    l.claim(['a', 'c'], { job: 'j' });
    l.recordTrialOutcome('a', done('j', 'a__1'));
    l.setStatus('b', 'skipped', 'why: "quoted"');
    expect(l.openReport.trusted).toBe(false);
    l.close();
    expect(readFileSync(join(tp.paths.artifacts, '.ledger', 'yaml.sha256'), 'utf8')).toMatch(/^\d+ [0-9a-f]{64}\n$/);
    const written = readFileSync(yamlPath(), 'utf8');
    const again = openL({ reconcile: false, now: () => new Date('2026-01-01T00:00:00Z') });
    expect(again.openReport.trusted).toBe(true);
    expect(again.status('a')).toBe('done');
    expect(again.get('b')).toMatchObject({ status: 'skipped', note: 'why: "quoted"', history: [{ change: '(none) → skipped' }] });
    expect(again.get('a')).toMatchObject({ trial: 'a__1', reward: 1, trajectory_digest: 'sha256:aa' });
    again.recordTrialOutcome('c', done('j', 'c__1'));
    again.close();
    const after = readFileSync(yamlPath(), 'utf8');
    const block = (text: string, id: string) => text.split(/\n(?=  \S)/).find((b) => b.startsWith(`  ${id}:\n`));
    expect(block(after, 'a')).toBe(block(written, 'a'));
    expect(block(after, 'c')).toContain('status: done');
  });

  it('checks a hand-edited file line by line (the checksum no longer matches)', () => {
    tp = tempPipeline();
    const l = openL();
    l.claim(['a'], { job: 'j' });
    l.recordTrialOutcome('a', { job: 'j', trial: 'a__1', reward: null, trajectory_path: null, exception_type: 'AgentTimeoutError' });
    l.close();
    writeFileSync(yamlPath(), readFileSync(yamlPath(), 'utf8').replace('    status: failed', '    status: pending'));
    const edited = openL();
    expect(edited.openReport.trusted).toBe(false);
    expect(edited.status('a')).toBe('pending');
    edited.close();
    writeFileSync(yamlPath(), readFileSync(yamlPath(), 'utf8').replace('    status: pending', '    status: pendin'));
    expect(() => openL()).toThrow(/consumption_ledger\.yaml:\d+: status of "a" is "pendin"/);
  });

  it('ignores, reports and cuts off a torn last journal line; later appends are clean', () => {
    tp = tempPipeline();
    const l = openL({ reconcile: false });
    l.claim(['a'], { job: 'j' });
    abandon(l);
    const tornTail = '{"v":1,"op":"outcome","at":"2026","set":{"a":{"status":"do';
    appendFileSync(journalPath(), tornTail);
    const view = readLedger(tp.paths);
    expect(view.tornJournalLine).toEqual({ line: 2, bytes: tornTail.length });
    expect(view.get('a')?.status).toBe('running');
    const again = openL({ reconcile: false });
    expect(again.openReport.tornJournalLine).toEqual({ line: 2, bytes: tornTail.length });
    again.recordTrialOutcome('a', done('j', 'a__1'));
    abandon(again);
    const lines = readFileSync(journalPath(), 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.slice(0, 2).map((x) => JSON.parse(x).op)).toEqual(['claim', 'outcome']);
    expect(openL().get('a')?.status).toBe('done');
  });

  it('a malformed line in the middle of the journal is an error naming the line, and nothing is changed', () => {
    tp = tempPipeline();
    const l = openL({ reconcile: false });
    l.claim(['a'], { job: 'j' });
    l.claim(['b'], { job: 'j' });
    abandon(l);
    const text = readFileSync(journalPath(), 'utf8').split('\n');
    text[0] = text[0].slice(0, 20);
    writeFileSync(journalPath(), text.join('\n'));
    const before = readFileSync(journalPath());
    let err: unknown;
    try {
      openL();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LedgerFormatError);
    expect((err as Error).message).toMatch(/^artifacts\/p\/\.ledger\/journal\.jsonl:1: not a valid journal record/);
    expect(readFileSync(journalPath())).toEqual(before);
    expect(existsSync(join(tp.paths.artifacts, LOCK_FILE))).toBe(false); // the lock was released
  });

  it('a record with a bad entry names its journal line', () => {
    tp = tempPipeline();
    mkdirSync(tp.paths.ledgerDir, { recursive: true });
    writeFileSync(journalPath(), '{"v":1,"op":"claim","at":"x","set":{"a":{"status":"running","attempts":0}}}\n{"v":1,"op":"x","at":"x","set":{"a":{"status":"finished"}}}\n');
    expect(() => openL()).toThrow(/journal\.jsonl:2: status of "a" is "finished"/);
  });

  it('a malformed YAML is never reset or overwritten', () => {
    tp = tempPipeline();
    writeFileSync(yamlPath(), 'schema_version: 1\npipeline: p\ntasks:\n  a:\n    status: dune\n');
    expect(() => openL()).toThrow(/consumption_ledger\.yaml:5: status of "a" is "dune".*Did you mean "done"/);
    expect(readFileSync(yamlPath(), 'utf8')).toContain('dune');
  });

  it('refuses a ledger of another pipeline', () => {
    tp = tempPipeline();
    writeFileSync(yamlPath(), 'schema_version: 1\npipeline: other\ntasks: {}\n');
    expect(() => openL()).toThrow(/belongs to pipeline "other", not "p"/);
  });
});

describe('ledger: one writer at a time', () => {
  it('a second opener fails fast naming pid, host and purpose; after close it may open', () => {
    tp = tempPipeline();
    const first = openL({ purpose: 'rollout job-1' });
    const t0 = Date.now();
    expect(() => openL({ purpose: 'prepare' })).toThrow(new RegExp(`ledger of pipeline "p" is in use: .*locked by pid ${process.pid} on ${hostname()} \\(rollout job-1`));
    expect(Date.now() - t0).toBeLessThan(1000);
    first.close();
    openL({ purpose: 'prepare' }).close();
  });

  it('recovers a stale lock of a dead process and reports it', () => {
    tp = tempPipeline();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    mkdirSync(tp.paths.ledgerDir, { recursive: true });
    writeFileSync(join(tp.paths.artifacts, LOCK_FILE), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), purpose: 'rollout killed', acquired_at: 'then' }));
    const l = openL();
    expect(l.openReport.staleLock).toMatchObject({ pid: Number(dead.stdout), purpose: 'rollout killed' });
  });
});

describe('ledger: reconcile', () => {
  it('finalizes running tasks from finished trials, returns the rest to pending, says what it did', () => {
    tp = tempPipeline();
    const l = openL({ maxRetries: 1 });
    l.claim(['ok', 'zero', 'timeout', 'net', 'killed', 'torn', 'nojob'], { job: 'j1' });
    abandon(l);
    const okTrial = writeTrial(tp.paths, 'j1', 'ok', { reward: 1 });
    writeTrial(tp.paths, 'j1', 'zero', { reward: 0, exception: 'NonZeroAgentExitCodeError' });
    writeTrial(tp.paths, 'j1', 'timeout', { reward: null, exception: 'AgentTimeoutError' });
    writeTrial(tp.paths, 'j1', 'net', { reward: null, exception: 'NetworkConnectionError', trajectory: false });
    writeTrial(tp.paths, 'j1', 'killed', { unfinished: true });
    const torn = writeTrial(tp.paths, 'j1', 'torn', { unfinished: true });
    writeFileSync(join(tp.paths.jobs, 'j1', torn, 'result.json'), '{"trial_name": "tor');
    writeTrial(tp.paths, 'j1', 'okay-other', { reward: 1 }); // another task's trial: never matched to "ok"
    const again = openL({ maxRetries: 1 });
    const r = again.openReport.reconcile;
    expect(Object.fromEntries(r.finalized.map((i) => [i.id, i.to]))).toEqual({ ok: 'done', zero: 'done', timeout: 'failed', net: 'pending' });
    expect(r.returned.map((i) => i.id).sort()).toEqual(['killed', 'nojob', 'torn']);
    expect(again.get('ok')).toMatchObject({
      status: 'done',
      trial: okTrial,
      reward: 1,
      attempts: 1,
      trajectory_path: `artifacts/p/jobs/j1/${okTrial}/agent/litellm-trajectory.jsonl`,
      trajectory_digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(again.get('net')).toMatchObject({ status: 'pending', attempts: 1, exception_type: 'NetworkConnectionError' });
    expect(again.get('killed')).toMatchObject({ status: 'pending', attempts: 0 });
    expect(again.get('killed')?.history.at(-1)).toMatchObject({ change: 'running → pending', by: 'reconcile' });
    // Reconciling again finds nothing.
    expect(again.reconcile()).toEqual({ finalized: [], returned: [], adopted: [] });
  });

  it('adopts finished trials from rollout/trials.json that the ledger lacks (a fresh clone with cached rollout outputs)', () => {
    tp = tempPipeline();
    mkdirSync(tp.paths.rolloutOut, { recursive: true });
    const trials: TrialsIndexEntry[] = [
      { job: 'j1', trial: 'a__1', task_id: 'a', agent: 'claude-code', reward: 1, exception_type: null, files: { 'agent/litellm-trajectory.jsonl': 'sha256:11' } },
      { job: 'j1', trial: 'b__1', task_id: 'b', agent: 'claude-code', reward: 0, exception_type: null, files: { 'agent/litellm-trajectory.jsonl': 'sha256:22' } },
      { job: 'j1', trial: 'c__1', task_id: 'c', agent: 'claude-code', reward: null, exception_type: 'AgentTimeoutError', files: {} },
      { job: 'j1', trial: 'd__1', task_id: 'd', agent: 'claude-code', reward: null, exception_type: 'NetworkConnectionError', files: {} },
      { job: 'j1', trial: 'e__1', task_id: 'e', agent: 'claude-code', reward: 1, exception_type: null, files: { 'agent/litellm-trajectory.jsonl': 'sha256:33' } },
    ];
    writeTrialsFile(join(tp.paths.rolloutOut, 'trials.json'), { schema_version: 1, trials });
    // e is already done in the ledger with another trial: left alone.
    const seed = openL({ reconcile: false });
    seed.claim(['e'], { job: 'j0' });
    seed.recordTrialOutcome('e', done('j0', 'e__0'));
    seed.close();
    const l = openL({ maxRetries: 2 });
    expect(Object.fromEntries(l.openReport.reconcile.adopted.map((i) => [i.id, i.to]))).toEqual({ a: 'done', b: 'done', c: 'failed', d: 'pending' });
    expect(l.get('a')).toMatchObject({ status: 'done', job: 'j1', trial: 'a__1', trajectory_path: 'artifacts/p/jobs/j1/a__1/agent/litellm-trajectory.jsonl', trajectory_digest: 'sha256:11' });
    expect(l.get('d')).toMatchObject({ status: 'pending', attempts: 1 });
    expect(l.get('e')).toMatchObject({ trial: 'e__0' });
    expect(l.claim(['a', 'b', 'c', 'd', 'e'], { job: 'j2' })).toEqual(['d']);
  });

  it('opens with a rollout/trials.json that breaks its contract: nothing adopted from it (rollout, which rewrites it, needs the ledger)', () => {
    tp = tempPipeline();
    mkdirSync(tp.paths.rolloutOut, { recursive: true });
    writeFileSync(join(tp.paths.rolloutOut, 'trials.json'), JSON.stringify({ schema_version: 1, trials: [{ job: 'j1', trial: 'a__1', task_id: 'a', reward: 'yes' }] }));
    const l = openL({ maxRetries: 2 });
    expect(l.openReport.reconcile.adopted).toEqual([]);
    expect(l.claim(['a'], { job: 'j2' })).toEqual(['a']);
  });
});

describe('ledger: people\'s edits', () => {
  it('resets failed tasks with a fresh budget, skips tasks, records note, time and who; all or nothing', () => {
    tp = tempPipeline();
    const l = openL({ maxRetries: 0, by: 'alice@box', now: () => new Date('2026-02-03T04:05:06Z') });
    l.claim(['f', 'd', 'p'], { job: 'j' });
    l.recordTrialOutcome('f', { job: 'j', trial: 'f__1', reward: null, trajectory_path: null, exception_type: 'NetworkConnectionError' });
    l.recordTrialOutcome('d', done('j', 'd__1'));
    l.recordTrialOutcome('p', { job: 'j', trial: 'p__1', reward: null, trajectory_path: null, exception_type: 'CancelledError' });
    expect(() => l.setStatuses([{ id: 'f', status: 'pending' }], '  ')).toThrow(/note is required/);
    expect(() =>
      l.setStatuses(
        [
          { id: 'f', status: 'pending' },
          { id: 'not-there', status: 'pending' },
        ],
        'retry',
      ),
    ).toThrow(/No ledger edit was made/);
    expect(l.get('f')?.status).toBe('failed'); // all or nothing
    const edits = l.setStatuses(
      [
        { id: 'f', status: 'pending' },
        { id: 'p', status: 'skipped' },
        { id: 'never-seen', status: 'skipped' },
      ],
      'network fixed; p is broken upstream',
    );
    expect(edits).toEqual([
      { id: 'f', from: 'failed', to: 'pending' },
      { id: 'p', from: 'pending', to: 'skipped' },
      { id: 'never-seen', from: null, to: 'skipped' },
    ]);
    expect(l.get('f')).toMatchObject({ status: 'pending', attempts: 0, exception_type: null });
    expect(l.get('f')?.history.at(-1)).toEqual({
      at: '2026-02-03T04:05:06.000Z',
      change: 'failed → pending',
      by: 'alice@box',
      note: 'network fixed; p is broken upstream (was failed after 1 attempt, last NetworkConnectionError in j)',
    });
    expect(() => l.setStatus('d', 'skipped', 'x')).toThrow(/d: is done; only pending or failed tasks can be skipped/);
    expect(() => l.setStatus('zzz', 'pending', 'x')).toThrow(/not in the ledger/);
    expect(() => l.setStatus('../x', 'skipped', 'x')).toThrow(/path separator/);
  });

  it('excluded_tasks.txt skips tasks and gives them back their status when the line is removed', () => {
    tp = tempPipeline();
    const l = openL({ maxRetries: 0 });
    l.claim(['a', 'f', 'd'], { job: 'j' });
    l.recordTrialOutcome('f', { job: 'j', trial: 'f__1', reward: null, trajectory_path: null, exception_type: 'X' });
    l.recordTrialOutcome('d', done('j', 'd__1'));
    l.recordTrialOutcome('a', { job: 'j', trial: 'a__1', reward: null, trajectory_path: null, exception_type: 'CancelledError' });
    const r = l.applyExclusions(new Set(['a', 'f', 'd', 'new']));
    expect(r.skipped).toEqual(['a', 'new']); // f is failed (terminal) and d done: left alone
    expect(l.get('a')).toMatchObject({ status: 'skipped', note: 'excluded_tasks.txt' });
    expect(l.applyExclusions(new Set(['a', 'f', 'd', 'new'])).skipped).toEqual([]);
    const back = l.applyExclusions(new Set(['new']));
    expect(back.restored).toEqual([{ id: 'a', from: 'skipped', to: 'pending' }]);
    expect(l.get('a')?.status).toBe('pending');
  });
});
