import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConvertStatsFile } from '@trajgen/contracts';
import { convertPipeline } from './pipeline';
import { memoKey, parseMemo, serialiseMemo } from './memo';
import type { TrialRef } from './trials';
import { conversion, makeWorkspace, SYNTHETIC, writeJobResult, writeTrial, writeTrialsJson, type TestWorkspace, type TrialSpec } from './__fixtures__/workspace';

const CC_LOG = { copy: join(SYNTHETIC, 'claude-code.synthetic.litellm-trajectory.jsonl') };
const OC_LOG = { copy: join(SYNTHETIC, 'opencode.synthetic.litellm-trajectory.jsonl') };

function trial(job: string, n: number, reward: number | null, extra: Partial<TrialSpec> = {}): TrialSpec {
  return { job, trial: `task-${n}__T${n}`, taskId: `task-${n}`, agent: n % 2 ? 'claude-code' : 'opencode', reward, files: { 'agent/litellm-trajectory.jsonl': n % 2 ? CC_LOG : OC_LOG }, ...extra };
}

function setup(specs: TrialSpec[]): TestWorkspace {
  const ws = makeWorkspace();
  for (const s of specs) writeTrial(ws, s);
  for (const job of new Set(specs.map((s) => s.job))) writeJobResult(ws, job, specs.filter((s) => s.job === job));
  return ws;
}

const output = (ws: TestWorkspace) => readFileSync(join(ws.paths.imData, 'p.jsonl'), 'utf8');
const dropTotal = (d: Record<string, number>) => Object.values(d).reduce((a, b) => a + b, 0);

describe('selection by outcome', () => {
  const specs = [trial('job-1', 1, 1), trial('job-1', 2, 0), trial('job-1', 3, null), trial('job-1', 4, 1)];

  it('resolved (default), unresolved and all select from the trial rewards', async () => {
    const ws = setup(specs);
    const resolved = await convertPipeline(ws.paths, conversion());
    expect(resolved.stats.trials).toEqual({ seen: 4, selected: 2, converted: 2 });
    expect(resolved.stats.not_selected).toEqual({ unresolved: 1, no_reward: 1 });
    const unresolved = await convertPipeline(ws.paths, conversion({ instance_status: 'unresolved' }));
    expect(unresolved.stats.trials).toEqual({ seen: 4, selected: 1, converted: 1 });
    const all = await convertPipeline(ws.paths, conversion({ instance_status: 'all' }));
    expect(all.stats.trials.converted).toBe(3);
    const ids = output(ws).trimEnd().split('\n').map((l) => JSON.parse(l).meta_info.unique_info._trial);
    expect([...new Set(ids)]).toEqual(['task-1__T1', 'task-2__T2', 'task-4__T4']);
  });

  it('rollout/trials.json, when present, is the list of trials; a scan of jobs/ gives the same rows', async () => {
    const ws = setup(specs);
    const scanned = await convertPipeline(ws.paths, conversion());
    const scannedRows = output(ws);
    writeTrialsJson(ws, specs);
    const listed = await convertPipeline(ws.paths, conversion());
    expect(listed.stats.input).toBe('artifacts/p/rollout/trials.json');
    // The stats on disk, read through their contract, are the stats the run returned.
    expect(readConvertStatsFile(listed.statsFile)).toEqual(listed.stats);
    expect(scanned.stats.input).toBe('artifacts/p/jobs/*');
    expect(output(ws)).toBe(scannedRows);
  });

  it('falls back to the job result.json reward_stats when a trial result lacks the reward', async () => {
    const ws = setup([trial('job-1', 1, 1)]);
    const resultFile = join(ws.paths.jobs, 'job-1', 'task-1__T1', 'result.json');
    const r = JSON.parse(readFileSync(resultFile, 'utf8'));
    r.verifier_result = null;
    writeFileSync(resultFile, JSON.stringify(r));
    expect((await convertPipeline(ws.paths, conversion())).stats.trials.converted).toBe(1);
  });
});

describe('benchmark repo exclusion', () => {
  const specs = [trial('job-1', 1, 1, { taskId: 'django__django-11099', trial: 'django__django-11099__AB' }), trial('job-1', 3, 1, { taskId: 'Acme__Widgets-7', trial: 'Acme__Widgets-7__CD' })];

  it('drops instances of listed repos before converting (case-insensitive); "" disables it', async () => {
    const ws = setup(specs);
    writeFileSync(join(ws.root, 'repos.txt'), '# test list\ndjango/django\nacme/widgets\n');
    const on = await convertPipeline(ws.paths, conversion({ exclude_repos_file: '{workspaceRoot}/repos.txt' }));
    expect(on.stats.dropped).toEqual({ excluded_repo: 2 });
    expect(on.stats.examples.map((e) => e.message)).toEqual(['Acme__Widgets-7 belongs to benchmark repo acme/widgets', 'django__django-11099 belongs to benchmark repo django/django']);
    expect(on.stats.memo).toEqual({ hits: 0, misses: 0 });
    const off = await convertPipeline(ws.paths, conversion({ exclude_repos_file: '{workspaceRoot}/repos.txt' }), { excludeReposFile: '' });
    expect(off.stats.trials.converted).toBe(2);
    expect(off.stats.options.exclude_repos_file).toBe('');
  });

  it('fails clearly when the list is missing', async () => {
    const ws = setup(specs);
    await expect(convertPipeline(ws.paths, conversion({ exclude_repos_file: '{workspaceRoot}/nope.txt' }))).rejects.toThrow(/exclude_repos_file .*nope\.txt does not exist/);
  });
});

describe('memo and incremental runs', () => {
  it('a rerun converts nothing and writes the same bytes, from the previous output or from the memo files', async () => {
    const ws = setup([trial('job-1', 1, 1), trial('job-1', 2, 1)]);
    const first = await convertPipeline(ws.paths, conversion());
    expect(first.stats.memo).toEqual({ hits: 0, misses: 2 });
    const bytes = output(ws);
    const second = await convertPipeline(ws.paths, conversion());
    expect(second.stats.memo).toEqual({ hits: 2, misses: 0 });
    expect(output(ws)).toBe(bytes);
    rmSync(join(ws.paths.cache, 'convert', 'p.index.json'));
    expect((await convertPipeline(ws.paths, conversion())).stats.memo).toEqual({ hits: 2, misses: 0 });
    expect(output(ws)).toBe(bytes);
    // The output edited by someone: not trusted, rebuilt from the memo.
    writeFileSync(join(ws.paths.imData, 'p.jsonl'), 'garbage\n');
    await convertPipeline(ws.paths, conversion());
    expect(output(ws)).toBe(bytes);
    // Memo gone (or corrupt): reconverted, same bytes.
    for (const f of readdirSync(join(ws.paths.cache, 'convert'))) if (/^[0-9a-f]{64}\.json$/.test(f)) writeFileSync(join(ws.paths.cache, 'convert', f), '{"torn');
    rmSync(join(ws.paths.cache, 'convert', 'p.index.json'));
    expect((await convertPipeline(ws.paths, conversion())).stats.memo).toEqual({ hits: 0, misses: 2 });
    expect(output(ws)).toBe(bytes);
  });

  it('new jobs landing convert only their trials; an option change reconverts all', async () => {
    const ws = setup([trial('job-1', 1, 1), trial('job-1', 2, 1)]);
    await convertPipeline(ws.paths, conversion());
    writeTrial(ws, trial('job-2', 3, 1));
    writeTrial(ws, trial('job-0', 4, 1));
    const more = await convertPipeline(ws.paths, conversion());
    expect(more.stats.memo).toEqual({ hits: 2, misses: 2 });
    const order = output(ws).trimEnd().split('\n').map((l) => JSON.parse(l).meta_info.unique_info._job);
    expect([...new Set(order)]).toEqual(['job-0', 'job-1', 'job-2']);
    const strict = await convertPipeline(ws.paths, conversion({ reasoning_check: 'fast' }));
    expect(strict.stats.memo).toEqual({ hits: 0, misses: 4 });
  });

  it('whatever changed between runs, the output equals a conversion from scratch', async () => {
    const specs = [1, 2, 3, 4, 5].map((n) => trial(`job-${n}`, n, 1));
    const ws = setup(specs);
    const fromScratch = async (list: TrialSpec[]) => {
      const fresh = setup(list);
      writeTrialsJson(fresh, list);
      await convertPipeline(fresh.paths, conversion());
      return output(fresh);
    };
    const scenarios: TrialSpec[][] = [
      specs.slice(0, 3), // first run
      specs.slice(0, 4), // a job appended at the end
      specs.slice(0, 4), // nothing new
      [specs[0], specs[2], specs[3]], // one removed in the middle
      [specs[4], ...specs.slice(0, 4)], // one inserted at the front
      specs.slice(0, 2), // shrunk
    ];
    for (const list of scenarios) {
      writeTrialsJson(ws, list);
      await convertPipeline(ws.paths, conversion());
      expect(output(ws)).toBe(await fromScratch(list));
    }
  });

  it('the memo key follows the raw inputs, the converter version and the options', () => {
    const ws = setup([trial('job-1', 1, 1)]);
    const t: TrialRef = { job: 'job-1', trial: 'task-1__T1', dir: join(ws.paths.jobs, 'job-1', 'task-1__T1'), instanceId: 'task-1', reward: 1, finished: true };
    const key = (v: string, o: Record<string, unknown>) => memoKey({ converterVersion: v, options: o, trial: t, jobsDir: ws.paths.jobs });
    const base = key('v1', { reasoning_check: 'adaptive' });
    expect(key('v1', { reasoning_check: 'adaptive' })).toBe(base);
    expect(key('v2', { reasoning_check: 'adaptive' })).not.toBe(base);
    expect(key('v1', { reasoning_check: 'strict' })).not.toBe(base);
    writeFileSync(join(t.dir, 'agent', 'litellm-trajectory.jsonl'), '\n', { flag: 'a' });
    expect(key('v1', { reasoning_check: 'adaptive' })).not.toBe(base);
  });

  it('memo entries round-trip and a torn one is refused', () => {
    const outcome = { job: 'j', trial: 't', instance_id: 'i', status: 'converted' as const, counts: { rows: 2 }, rows: ['{"version":"2.0.0","a":1}', '{"version":"2.0.0","b":"x,\\ny"}'] };
    const text = serialiseMemo('k', outcome);
    expect(JSON.parse(text).rows).toHaveLength(2);
    expect(parseMemo(text)).toEqual({ key: 'k', outcome: { ...outcome, rows: undefined }, rows: outcome.rows });
    expect(parseMemo(text.slice(0, -5))).toBeUndefined();
  });
});

describe('outputs, drops and stats', () => {
  it('replaces only its own outputs: the score stage\'s *.scored.jsonl stays', async () => {
    const ws = setup([trial('job-1', 1, 1)]);
    mkdirSync(ws.paths.imData, { recursive: true });
    for (const f of ['p.scored.jsonl', 'old.jsonl', 'old.stats.json']) writeFileSync(join(ws.paths.imData, f), 'x');
    await convertPipeline(ws.paths, conversion());
    expect(readdirSync(ws.paths.imData).sort()).toEqual(['p.jsonl', 'p.scored.jsonl', 'p.stats.json']);
  });

  it('counts every drop by reason: selected = converted + dropped', async () => {
    const bad = JSON.parse(readFileSync(CC_LOG.copy, 'utf8').trimEnd().split('\n').pop()!);
    // Two assistant turns in a row break the documented role order.
    bad.request_body.messages.splice(2, 0, bad.request_body.messages[1]);
    const ws = setup([
      trial('job-1', 1, 1),
      trial('job-1', 2, 1),
      trial('job-1', 3, 1, { files: { 'agent/litellm-trajectory.jsonl': JSON.stringify(bad) + '\n' } }),
      trial('job-1', 5, 1, { files: {} }),
      trial('job-1', 7, 1, { agent: 'mystery-agent', files: {} }),
      trial('job-1', 9, 1),
    ]);
    const r = await convertPipeline(ws.paths, conversion({ max_instances: 2 }));
    expect(r.stats.dropped).toEqual({ role_order: 1, no_trajectory: 1, unknown_scaffold: 1, max_instances: 1 });
    expect(r.stats.trials.selected).toBe(r.stats.trials.converted + dropTotal(r.stats.dropped));
    expect(r.stats.examples.find((e) => e.reason === 'role_order')!.message).toMatch(/assistant followed by assistant/);
    expect(r.stats.examples.find((e) => e.reason === 'no_trajectory')!.message).toMatch(/no agent\/litellm-trajectory\.jsonl/);
    // Every dropped trial is named with its reason (the report's trial pages read this), not only the first few.
    expect(r.stats.drops.map((d) => `${d.trial}:${d.reason}`).sort()).toEqual(
      r.stats.examples.map((d) => `${d.trial}:${d.reason}`).sort(),
    );
    expect(r.stats.drops.length).toBe(dropTotal(r.stats.dropped));
    const stats = JSON.parse(readFileSync(join(ws.paths.imData, 'p.stats.json'), 'utf8'));
    expect(stats).toEqual(r.stats);
    expect(r.summary).toMatch(/dropped 4 \(/);
  });

  it('names every dropped trial with its reason, past the first few examples', async () => {
    const ws = setup(Array.from({ length: 25 }, (_, i) => trial('job-1', i + 1, 1, { files: {} })));
    const r = await convertPipeline(ws.paths, conversion());
    expect(r.stats.dropped).toEqual({ no_trajectory: 25 });
    expect(r.stats.examples).toHaveLength(20);
    expect(new Set(r.stats.drops.map((d) => d.trial)).size).toBe(25);
    expect(r.stats.drops.every((d) => d.reason === 'no_trajectory' && /no agent\/litellm-trajectory\.jsonl/.test(d.message))).toBe(true);
  });

  it('takes task metadata from task.toml [metadata], and keeps going (counted) when the task dir is gone', async () => {
    const ws = setup([trial('job-1', 1, 1, { taskToml: '[metadata]\ndifficulty = "hard"\n', relativeTaskPath: true }), trial('job-1', 2, 1)]);
    const r = await convertPipeline(ws.paths, conversion());
    const rows = output(ws).trimEnd().split('\n').map((l) => JSON.parse(l).meta_info.unique_info);
    expect(rows.filter((u) => u._trial === 'task-1__T1').every((u) => u._instance_metadata.difficulty === 'hard')).toBe(true);
    expect(rows.filter((u) => u._trial === 'task-2__T2').every((u) => !('_instance_metadata' in u))).toBe(true);
    expect(r.stats.records.metadata_missing).toBe(1);
  });

  it('dates rows by the trial end, not the clock: reconverting elsewhere gives the same bytes', async () => {
    const ws = setup([trial('job-1', 1, 1, { finishedAt: '2025-12-31T23:59:59.000000+00:00' })]);
    await convertPipeline(ws.paths, conversion());
    const meta = JSON.parse(output(ws).split('\n')[0]).meta_info;
    expect([meta.response_generate_time, meta.response_update_time]).toEqual(['2025-12-31', '2025-12-31']);
    const again = makeWorkspace();
    writeTrial(again, trial('job-1', 1, 1, { finishedAt: '2025-12-31T23:59:59.000000+00:00' }));
    await convertPipeline(again.paths, conversion());
    expect(existsSync(join(again.paths.imData, 'p.jsonl'))).toBe(true);
    // Only the task path differs between the two workspaces, and it is not in the rows.
    expect(output(again)).toBe(output(ws));
  });

  it('conversion.scaffold overrides detection', async () => {
    const ws = setup([trial('job-1', 1, 1, { agent: 'opencode' })]);
    const auto = await convertPipeline(ws.paths, conversion());
    expect(Object.keys(auto.stats.by_scaffold)).toEqual(['opencode']);
    const forced = await convertPipeline(ws.paths, conversion({ scaffold: 'claude-code' }));
    expect(Object.keys(forced.stats.by_scaffold)).toEqual(['claude-code']);
  });
});
