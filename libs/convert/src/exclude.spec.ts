import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildRepoExclusion, generateExcludedRepos, loadRepoExclusion, parseRepoList, reposFromFile, reposFromHuggingFace } from './exclude';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

const TRACKED = join(__dirname, '../../../artifacts/data/excluded_repos.txt');
const tmp = () => tempDir(join(tmpdir(), 'tg-ex-'));

describe('the tracked exclusion list', () => {
  const text = readFileSync(TRACKED, 'utf8');
  const repos = parseRepoList(text);

  it('holds the 64 repos of SWE-bench Verified (12), Pro (11) and Multilingual (41), sorted, under a header saying where they come from', () => {
    expect(repos).toHaveLength(64);
    expect([...repos].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(repos);
    const header = text.split('\n').filter((l) => l.startsWith('#')).join('\n');
    expect(header).toMatch(/SWE-bench Verified, SWE-bench Pro \(public set\) and SWE-bench Multilingual/);
    expect(header).toMatch(/SWE-bench\/SWE-bench_Verified, ScaleAI\/SWE-bench_Pro, SWE-bench\/SWE-bench_Multilingual/);
    expect(header).toMatch(/generate-excluded-repos/);
    for (const r of ['astropy/astropy', 'sympy/sympy', 'NodeBB/NodeBB', 'tutao/tutanota', 'fmtlib/fmt', 'uutils/coreutils', 'briannesbitt/carbon', 'reactivex/rxjava']) expect(repos).toContain(r);
    // SWE-bench Multimodal's repos are not in the list (only Verified, Pro and Multilingual are).
    expect(repos).not.toContain('chartjs/Chart.js');
  });

  it('matches owner__repo-<n>[__suffix] ids case-insensitively, and nothing else', () => {
    const ex = loadRepoExclusion(TRACKED);
    expect(ex.match('django__django-11099')).toBe('django/django');
    expect(ex.match('BurntSushi__ripgrep-2209')).toBe('burntsushi/ripgrep');
    expect(ex.match('nodebb__nodebb-123__abcDEF9')).toBe('NodeBB/NodeBB');
    expect(ex.match('mrdoob__three.js-25687')).toBe('mrdoob/three.js');
    expect(ex.match('django__django')).toBeUndefined();
    expect(ex.match('django__django-x1')).toBeUndefined();
    expect(ex.match('mydjango__django-1')).toBeUndefined();
    expect(ex.match('add-greeting')).toBeUndefined();
    // SWE-bench Pro ids carry a commit, not a number: not matched.
    expect(ex.match('instance_NodeBB__NodeBB-00c70ce7b0d0d3c4a1a2b3c4d5e6f7a8b9c0d1e2-vnan')).toBeUndefined();
  });

  it('a repo name that extends another does not shadow it', () => {
    const ex = buildRepoExclusion(['a/b', 'a/b-c']);
    expect(ex.match('a__b-c-12')).toBe('a/b-c');
    expect(ex.match('a__b-12')).toBe('a/b');
  });
});

describe('generate-excluded-repos', () => {
  it('reads JSON (rows or a datasets-server page) and JSONL exports, writes the header + sorted list and reports the diff', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'verified.json'), JSON.stringify([{ repo: 'django/django', instance_id: 'x' }, { repo: 'psf/requests' }, { repo: 'django/django' }]));
    writeFileSync(join(dir, 'pro.json'), JSON.stringify({ rows: [{ row_idx: 0, row: { repo: 'NodeBB/NodeBB' } }] }));
    writeFileSync(join(dir, 'ml.jsonl'), '{"repo": "BurntSushi/ripgrep"}\n{"repo": "burntsushi/ripgrep"}\n');
    const out = join(dir, 'excluded.txt');
    writeFileSync(out, '# old\npsf/requests\nold/gone\n');
    const lines: string[] = [];
    const diff = await generateExcludedRepos({ from: ['verified.json', 'pro.json', 'ml.jsonl'].map((f) => join(dir, f)), output: out, log: (l) => lines.push(l) });
    expect(diff).toEqual({ added: ['BurntSushi/ripgrep', 'NodeBB/NodeBB', 'django/django'], removed: ['old/gone'], total: 4 });
    expect(parseRepoList(readFileSync(out, 'utf8'))).toEqual(['BurntSushi/ripgrep', 'NodeBB/NodeBB', 'django/django', 'psf/requests']);
    expect(readFileSync(out, 'utf8')).toMatch(/^# .*\n(# .*\n)*BurntSushi/);
    expect(lines).toContain('+ NodeBB/NodeBB');
    expect(lines).toContain('- old/gone');
  });

  it('says what to do when there is no source, a file lacks a repo column, or the HF API is unreachable', async () => {
    const dir = tmp();
    await expect(generateExcludedRepos({ output: join(dir, 'x.txt') })).rejects.toThrow(/needs a source/);
    writeFileSync(join(dir, 'bad.json'), '[{"name": 1}]');
    expect(() => reposFromFile(join(dir, 'bad.json'))).toThrow(/no rows with a "repo" column/);
    const offline = (async () => {
      throw new Error('getaddrinfo ENOTFOUND datasets-server.huggingface.co');
    }) as unknown as typeof fetch;
    await expect(reposFromHuggingFace(offline)).rejects.toThrow(/Hugging Face datasets API is not reachable/);
  });

  it('reads the HF datasets-server rows API page by page', async () => {
    const calls: string[] = [];
    const fake = (async (url: string) => {
      calls.push(url);
      const offset = Number(new URL(url).searchParams.get('offset'));
      const rows = offset === 0 ? Array.from({ length: 100 }, (_, i) => ({ row: { repo: i % 2 ? 'a/b' : 'c/d' } })) : [{ row: { repo: 'e/f' } }];
      return { ok: true, json: async () => ({ rows, num_rows_total: 101 }) };
    }) as unknown as typeof fetch;
    const repos = await reposFromHuggingFace(fake);
    expect(calls).toHaveLength(6);
    expect(new Set(repos)).toEqual(new Set(['a/b', 'c/d', 'e/f']));
  });

  it('parquet: read with pyarrow when installed, else a clear message', () => {
    const dir = tmp();
    const file = join(dir, 'verified.parquet');
    const hasPyarrow = spawnSync('python3', ['-c', 'import pyarrow'], { encoding: 'utf8' }).status === 0;
    if (hasPyarrow) {
      spawnSync('python3', ['-c', `import pyarrow as pa, pyarrow.parquet as pq; pq.write_table(pa.table({"repo": ["django/django", "psf/requests"]}), ${JSON.stringify(file)})`]);
      expect(reposFromFile(file)).toEqual(['django/django', 'psf/requests']);
    } else {
      writeFileSync(file, 'PAR1');
      expect(() => reposFromFile(file)).toThrow(/needs pyarrow, which is not installed/);
    }
  });
});
