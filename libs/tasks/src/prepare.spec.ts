import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readBatchFile } from '@trajgen/contracts';
import { effectiveLedgerDigest, openLedger, readLedger } from '@trajgen/ledger';
import { prepareBatch, type BatchFile, type PrepareOptions } from './prepare';
import { tempWorkspace, type TempWorkspace } from './__fixtures__/workspace';

let ws: TempWorkspace;
afterEach(() => ws?.remove());

function prepare(opts: PrepareOptions = {}) {
  const lines: string[] = [];
  const result = prepareBatch(ws.load(), { log: (l) => lines.push(l), warn: (l) => lines.push(`warning: ${l}`), ...opts });
  // Read back through the contract: every batch prepare writes in these specs is one rollout and archive accept.
  const batch: BatchFile = readBatchFile(ws.paths.batchFile);
  expect(batch).toEqual(JSON.parse(readFileSync(ws.paths.batchFile, 'utf8')));
  return { result, output: lines.join('\n'), batch };
}

function prepareError(): string {
  try {
    prepare();
  } catch (e) {
    const err = e as Error & { format?: () => string };
    return err.format ? err.format() : err.message;
  }
  throw new Error('expected prepare to fail');
}

const staging = () => join(ws.paths.artifacts, 'tasks', 'tasks');

describe('prepare: the batch', () => {
  it('writes batch.json by the contract: listed, valid, unconsumed tasks, sorted, with checksums', () => {
    ws = tempWorkspace();
    ws.task('b-task');
    ws.task('a-task', { toml: '[metadata]\ndifficulty = "hard"\n' }); // no [task] section: name = dir name
    ws.task('unlisted');
    ws.manifest(['# verified by upstream', 'b-task', '', 'a-task   # inline comment']);
    const digestBefore = effectiveLedgerDigest(ws.paths.artifacts);
    const { result, batch, output } = prepare();
    expect(batch).toMatchObject({
      schema_version: 1,
      pipeline: 'p',
      dataset: 'tasks',
      task_root: 'pipelines/p/tasks',
      manifest: 'pipelines/p/tasks/verifiable_tasks.txt',
      counts: { listed: 2, staged: 2, consumed: 0, excluded: 0, missing: 0, invalid: 0 },
      missing: [],
      invalid: [],
      ledger_digest_before: digestBefore,
    });
    expect(batch.tasks.map((t) => t.id)).toEqual(['a-task', 'b-task']);
    expect(batch.tasks[0]).toEqual({
      id: 'a-task',
      name: 'a-task',
      checksum: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      source_path: 'pipelines/p/tasks/a-task',
      staged_path: 'artifacts/p/tasks/tasks/a-task',
      metadata: { difficulty: 'hard' },
    });
    expect(batch.tasks[1]).toMatchObject({ name: 'trajgen/b-task', metadata: { difficulty: 'easy', tags: ['test'] } });
    const lines = batch.tasks.map((t) => `${t.id}:${t.checksum}\n`).sort().join('');
    expect(batch.batch_digest).toBe(createHash('sha256').update(lines).digest('hex'));
    expect(result.summary).toBe('batch of 2 (listed 2, consumed 0, excluded 0, missing 0, invalid 0)');
    expect(output).toMatch(/listed\s+staged\s+consumed\s+excluded\s+missing\s+invalid\s+batch\n[- ]+\n2\s+2\s+0\s+0\s+0\s+0\s+2/);
    // The batch is registered as pending, nothing else is in the ledger.
    expect(readLedger(ws.paths).summary().ids.pending).toEqual(['a-task', 'b-task']);
  });

  it('leaves consumed tasks out; the ledger decides, without touching their dirs', () => {
    ws = tempWorkspace();
    for (const id of ['a', 'b', 'c', 'd']) ws.task(id);
    ws.manifest(['a', 'b', 'c', 'd', 'gone']);
    const l = openLedger(ws.paths, { purpose: 'test', maxRetries: 0 });
    l.claim(['a', 'b', 'gone'], { job: 'j' });
    l.recordTrialOutcome('a', { job: 'j', trial: 'a__1', reward: 0, trajectory_path: 'x', exception_type: null });
    l.recordTrialOutcome('b', { job: 'j', trial: 'b__1', reward: null, trajectory_path: null, exception_type: 'AgentTimeoutError' });
    l.recordTrialOutcome('gone', { job: 'j', trial: 'gone__1', reward: 1, trajectory_path: 'x', exception_type: null });
    l.close();
    rmSync(join(ws.pipelineFile('tasks'), 'b'), { recursive: true }); // consumed and deleted upstream: not "missing"
    const { batch } = prepare();
    expect(batch.tasks.map((t) => t.id)).toEqual(['c', 'd']);
    expect(batch.counts).toMatchObject({ listed: 5, consumed: 3, missing: 0 });
  });

  it('reports listed ids missing on disk by name, and invalid task dirs with what is missing; neither is staged', () => {
    ws = tempWorkspace();
    ws.task('ok');
    ws.task('no-tests', { testSh: null });
    ws.task('no-env', { environment: false, instruction: null });
    ws.task('no-toml', { toml: null });
    ws.task('bad-toml', { toml: '[task]\nname = trajgen/x\n' });
    writeFileSync(join(ws.pipelineFile('tasks'), 'a-file'), 'not a dir');
    ws.manifest(['ok', 'ghost-1', 'no-tests', 'no-env', 'no-toml', 'bad-toml', 'ghost-2', 'a-file']);
    const { batch, output } = prepare();
    expect(batch.tasks.map((t) => t.id)).toEqual(['ok']);
    expect(batch.missing).toEqual(['ghost-1', 'ghost-2']);
    expect(batch.invalid).toEqual([
      { id: 'a-file', problems: ['is not a directory'] },
      { id: 'bad-toml', problems: ['task.toml does not parse: task.toml:2:8: invalid value at `trajgen/x`'] },
      { id: 'no-env', problems: ['missing instruction.md', 'missing environment/'] },
      { id: 'no-tests', problems: ['missing tests/test.sh'] },
      { id: 'no-toml', problems: ['missing task.toml'] },
    ]);
    expect(batch.counts).toMatchObject({ listed: 8, missing: 2, invalid: 5, staged: 1 });
    expect(output).toContain('warning: 2 listed ids missing on disk under pipelines/p/tasks: ghost-1, ghost-2');
    expect(output).toContain('warning: no-tests: not a valid task dir (missing tests/test.sh); not staged');
    expect(readdirSync(staging()).filter((n) => !n.startsWith('.'))).toEqual(['ok']);
    expect(readLedger(ws.paths).has('ghost-1')).toBe(false);
  });

  it('accepts tests/test.bat for a windows task', () => {
    ws = tempWorkspace();
    ws.task('win', { toml: '[environment]\nos = "windows"\n', testSh: null, files: { 'tests/test.bat': '@echo 1' } });
    ws.manifest(['win']);
    expect(prepare().batch.tasks.map((t) => t.id)).toEqual(['win']);
  });
});

describe('prepare: manifest and ids', () => {
  it('an empty manifest (comments and blank lines only) is an error', () => {
    ws = tempWorkspace();
    ws.task('a');
    ws.manifest('# nothing verified yet\n\n   \n');
    expect(prepareError()).toMatch(/^pipelines\/p\/tasks\/verifiable_tasks\.txt lists no task ids/);
  });

  it('a missing manifest is an error unless allow_unverified', () => {
    ws = tempWorkspace();
    ws.task('a');
    ws.task('b', { testSh: null });
    expect(prepareError()).toMatch(/^Manifest pipelines\/p\/tasks\/verifiable_tasks\.txt not found[\s\S]*allow_unverified: true/);
    expect(existsSync(ws.paths.batchFile)).toBe(false);
    ws.config('task_source:\n  path: tasks\n  allow_unverified: true\n');
    const { batch, output } = prepare();
    expect(output).toMatch(/warning: no manifest at pipelines\/p\/tasks\/verifiable_tasks\.txt: task_source\.allow_unverified is on, so every task dir under pipelines\/p\/tasks counts as listed \(2\)/);
    expect(batch.manifest).toBeNull();
    expect(batch.tasks.map((t) => t.id)).toEqual(['a']);
    expect(batch.invalid.map((i) => i.id)).toEqual(['b']);
  });

  it('rejects unsafe ids, all at once with their lines, and stages nothing', () => {
    ws = tempWorkspace();
    ws.task('fine');
    ws.manifest(['fine', '..', '../etc', 'a/b', 'back\\slash', 'ctl\u0001x', '.hidden', 'x'.repeat(256)]);
    const msg = prepareError();
    expect(msg).toContain('pipelines/p/tasks/verifiable_tasks.txt: 7 unsafe task ids');
    expect(msg).toContain('pipelines/p/tasks/verifiable_tasks.txt:2: ".." is a relative path segment');
    expect(msg).toContain(':3: "../etc" contains a path separator');
    expect(msg).toContain(':4: "a/b" contains a path separator');
    expect(msg).toContain(':5: "back\\\\slash" contains a path separator');
    expect(msg).toContain(':6: "ctl\\u0001x" contains a control character (U+0001)');
    expect(msg).toContain(':7: ".hidden" starts with "."');
    expect(msg).toContain(':8: "xxx');
    expect(msg).toContain('is longer than 255 bytes');
    expect(existsSync(staging())).toBe(false);
    expect(existsSync(ws.paths.ledgerFile)).toBe(false);
  });

  it('counts a duplicate id once and says so; reads CRLF manifests', () => {
    ws = tempWorkspace();
    ws.task('a');
    ws.manifest('a\r\nb # not on disk\r\na\r\n');
    const { batch, output } = prepare();
    expect(batch.counts.listed).toBe(2);
    expect(output).toContain('warning: pipelines/p/tasks/verifiable_tasks.txt:3: a is listed again (first on line 1); counted once');
  });

  it('finds the task root as the prior art does: the source, <source>/<basename>, or an immediate subdirectory', () => {
    ws = tempWorkspace();
    ws.task('t1', {}, 'pool/pool');
    ws.manifest(['t1'], 'pool/pool');
    ws.config('task_source:\n  path: pool\n');
    expect(prepare().batch).toMatchObject({ task_root: 'pipelines/p/pool/pool', dataset: 'pool', tasks: [{ id: 't1', source_path: 'pipelines/p/pool/pool/t1' }] });
    ws.remove();
    ws = tempWorkspace();
    ws.task('t2', {}, 'src/release-3');
    ws.manifest(['t2'], 'src/release-3');
    ws.config('task_source:\n  path: src\n  dataset: verified\n');
    expect(prepare().batch).toMatchObject({ task_root: 'pipelines/p/src/release-3', dataset: 'verified', tasks: [{ id: 't2', staged_path: 'artifacts/p/tasks/verified/t2' }] });
  });

  it('says clearly when the source or a task root is missing', () => {
    ws = tempWorkspace();
    ws.config('task_source:\n  path: nowhere\n');
    expect(prepareError()).toMatch(/^task_source\.path: pipelines\/p\/nowhere does not exist/);
    ws.write('empty/README.md', 'no tasks here');
    ws.config('task_source:\n  path: empty\n');
    expect(prepareError()).toMatch(/^No task root under pipelines\/p\/empty/);
  });
});

describe('prepare: excluded_tasks.txt', () => {
  it('marks excluded ids skipped with the note, leaves them out, and restores them when removed', () => {
    ws = tempWorkspace();
    for (const id of ['a', 'b', 'c']) ws.task(id);
    ws.manifest(['a', 'b', 'c']);
    ws.write('excluded_tasks.txt', '# chronic OOM\nb\n');
    const first = prepare();
    expect(first.batch.tasks.map((t) => t.id)).toEqual(['a', 'c']);
    expect(first.batch.counts.excluded).toBe(1);
    expect(first.output).toContain('excluded_tasks.txt: 1 skipped (b)');
    expect(readLedger(ws.paths).get('b')).toMatchObject({ status: 'skipped', note: 'excluded_tasks.txt' });
    ws.write('excluded_tasks.txt', '');
    const second = prepare();
    expect(second.batch.tasks.map((t) => t.id)).toEqual(['a', 'b', 'c']);
    expect(second.output).toContain('excluded_tasks.txt: b no longer listed: skipped → pending');
  });
});

describe('prepare: staging', () => {
  it('links by default and refreshes every run: picks up newly verified tasks, drops unlisted ones, keeps consumed ones', () => {
    ws = tempWorkspace();
    for (const id of ['a', 'b', 'c', 'new']) ws.task(id);
    ws.manifest(['a', 'b', 'c']);
    prepare();
    expect(readlinkSync(join(staging(), 'a'))).toBe(join(ws.pipelineFile('tasks'), 'a'));
    const l = openLedger(ws.paths, { purpose: 'rollout', maxRetries: 0 });
    l.claim(['a'], { job: 'j' });
    l.recordTrialOutcome('a', { job: 'j', trial: 'a__1', reward: 1, trajectory_path: 'x', exception_type: null });
    l.close();
    ws.manifest(['a', 'c', 'new']); // upstream verified "new", dropped "b"
    const { batch, result } = prepare();
    expect(batch.tasks.map((t) => t.id)).toEqual(['c', 'new']);
    expect(result.staging).toMatchObject({ added: ['new'], replaced: [], unchanged: 1, kept: 1, removed: ['b'], staged: 3 });
    expect(readdirSync(staging()).sort()).toEqual(['.trajgen-staging.json', 'a', 'c', 'new']);
    expect(batch.counts.staged).toBe(3);
  });

  it('copies on request, replaces a copy whose source changed, leaves unchanged copies alone', () => {
    ws = tempWorkspace();
    ws.task('a', { solveSh: 'echo a' });
    ws.task('b');
    symlinkSync('tests/test.sh', join(ws.pipelineFile('tasks'), 'a', 'link-to-test'));
    ws.manifest(['a', 'b']);
    ws.config('task_source:\n  path: tasks\n  staging: copy\n');
    const first = prepare();
    expect(lstatSync(join(staging(), 'a')).isDirectory()).toBe(true);
    expect(readFileSync(join(staging(), 'a', 'solution', 'solve.sh'), 'utf8')).toBe('echo a');
    expect(readlinkSync(join(staging(), 'a', 'link-to-test'))).toBe('tests/test.sh');
    const inodeB = statSync(join(staging(), 'b')).ino;
    writeFileSync(join(ws.pipelineFile('tasks'), 'a', 'instruction.md'), 'Changed upstream.\n');
    const second = prepare();
    expect(second.result.staging).toMatchObject({ added: [], replaced: ['a'], unchanged: 1 });
    expect(second.batch.tasks[0].checksum).not.toBe(first.batch.tasks[0].checksum);
    expect(readFileSync(join(staging(), 'a', 'instruction.md'), 'utf8')).toBe('Changed upstream.\n');
    expect(statSync(join(staging(), 'b')).ino).toBe(inodeB);
    // Back to links: copies are replaced by links.
    ws.config('task_source:\n  path: tasks\n  staging: link\n');
    expect(prepare().result.staging).toMatchObject({ replaced: ['a', 'b'] });
    expect(lstatSync(join(staging(), 'a')).isSymbolicLink()).toBe(true);
  });

  it('the checksum is a content digest: stable, independent of mtimes, sensitive to bytes, names and link targets', () => {
    ws = tempWorkspace();
    const dir = ws.task('a', { files: { 'environment/data.txt': 'x' } });
    ws.manifest(['a']);
    const sum = () => prepare().batch.tasks[0].checksum;
    const s1 = sum();
    writeFileSync(join(dir, 'environment', 'data.txt'), 'x'); // same bytes, new mtime
    expect(sum()).toBe(s1);
    writeFileSync(join(dir, 'environment', 'data.txt'), 'y');
    const s2 = sum();
    expect(s2).not.toBe(s1);
    symlinkSync('data.txt', join(dir, 'environment', 'alias'));
    const s3 = sum();
    expect(s3).not.toBe(s2);
    rmSync(join(dir, 'environment', 'alias'));
    symlinkSync('Dockerfile', join(dir, 'environment', 'alias'));
    expect(sum()).not.toBe(s3);
  });
});

describe('prepare: ledger first, one writer', () => {
  it('reconciles the ledger before anything else and says what it reconciled', () => {
    ws = tempWorkspace();
    ws.task('a');
    ws.manifest(['a']);
    const l = openLedger(ws.paths, { purpose: 'rollout', maxRetries: 0 });
    l.claim(['a'], { job: 'j1' });
    // A killed rollout: lock and journal left behind.
    (l as unknown as { writer: { close(): void } }).writer.close();
    (l as unknown as { lock: { release(): void } }).lock.release();
    const { batch, output } = prepare();
    expect(output).toContain('reconcile: 0 finalized from trial results, 1 returned to pending, 0 adopted from rollout/trials.json');
    expect(output).toMatch(/returned: a running → pending \[j1\]/);
    expect(batch.tasks.map((t) => t.id)).toEqual(['a']);
  });

  it('fails fast naming the holder while another process holds the ledger', () => {
    ws = tempWorkspace();
    ws.task('a');
    ws.manifest(['a']);
    const held = openLedger(ws.paths, { purpose: 'rollout demo-job', maxRetries: 0 });
    try {
      expect(prepareError()).toMatch(new RegExp(`ledger of pipeline "p" is in use: .* locked by pid ${process.pid} on ${hostname()} \\(rollout demo-job`));
    } finally {
      held.close();
    }
    expect(prepare().batch.tasks).toHaveLength(1);
  });

  it('replaces its own output dir every run', () => {
    ws = tempWorkspace();
    ws.task('a');
    ws.manifest(['a']);
    prepare();
    writeFileSync(join(ws.paths.prepareOut, 'stale.txt'), 'x');
    prepare();
    expect(readdirSync(ws.paths.prepareOut)).toEqual(['batch.json']);
  });

  it('a second run with nothing new leaves the ledger bytes alone', () => {
    ws = tempWorkspace();
    ws.task('a');
    ws.manifest(['a']);
    prepare();
    const bytes = readFileSync(ws.paths.ledgerFile, 'utf8');
    const { batch } = prepare();
    expect(readFileSync(ws.paths.ledgerFile, 'utf8')).toBe(bytes);
    expect(batch.ledger_digest_before).toBe(effectiveLedgerDigest(ws.paths.artifacts));
  });
});
