import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { STAGES } from './targets';

const repo = join(__dirname, '../../../..');
let ws: string;

function fingerprints(root = ws): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of STAGES) out[s] = execFileSync(process.execPath, [join(root, 'tools/trajgen/bin/fingerprint.cjs'), 'demo', s], { encoding: 'utf8' });
  return out;
}
function changed(a: Record<string, string>, b: Record<string, string>) {
  return STAGES.filter((s) => a[s] !== b[s]);
}
function editConfig(fn: (t: string) => string) {
  const f = join(ws, 'pipelines/demo/config.yaml');
  writeFileSync(f, fn(readFileSync(f, 'utf8')));
}

describe('bin/fingerprint.cjs', () => {
  beforeAll(() => {
    ws = mkdtempSync(join(tmpdir(), 'tg-fp-'));
    for (const d of ['tools/trajgen/bin', 'tools/trajgen/stage-graph.json', 'libs/core/src', 'libs/config/src', 'libs/tasks/src', 'libs/ledger/src', 'pipelines/demo'])
      cpSync(join(repo, d), join(ws, d), { recursive: true });
    symlinkSync(join(repo, 'node_modules'), join(ws, 'node_modules'));
    mkdirSync(join(ws, 'artifacts/demo'), { recursive: true });
  });
  afterAll(() => rmSync(ws, { recursive: true, force: true }));

  it('is the same in another clone (other paths, mtimes and inodes): remote-cache hits across a team', () => {
    const before = fingerprints();
    const other = mkdtempSync(join(tmpdir(), 'tg-fp-clone-'));
    try {
      cpSync(ws, other, { recursive: true, dereference: false, preserveTimestamps: false });
      expect(changed(before, fingerprints(other))).toEqual([]);
      // …and a content edit there is seen (the content cache is keyed by stat, the fingerprint is content).
      const toml = join(other, 'pipelines/demo/tasks/add-greeting/task.toml');
      writeFileSync(toml, readFileSync(toml, 'utf8') + '\n# edited\n');
      expect(changed(before, fingerprints(other))).toEqual(['prepare']);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('ignores comments, formatting and runtime_info', () => {
    const before = fingerprints();
    editConfig((t) => `# a new comment\n${t.replace('  max_retries: 2', '  max_retries:    2   # spaced')}`.replace('output: {}', 'output: {checkpoint_path: x, final_loss: 0.1}'));
    expect(changed(before, fingerprints())).toEqual([]);
  });

  it('changes only the stage owning the edited section', () => {
    const cases: [string, string, string[]][] = [
      ['learning_rate: 5.0e-3', 'learning_rate: 1.0e-3', ['train']],
      ['  lf_format: sharegpt', '  lf_format: sharegpt\n  stats_cutoff_tokens: 4096', ['score']],
      ['  reasoning_ratio_threshold: 0.2', '  reasoning_ratio_threshold: 0.3', ['convert']],
      ['  n_concurrent: 2', '  n_concurrent: 4', ['rollout']],
      ['  staging: link', '  staging: copy', ['prepare']],
      // archive reads the IM rows of its data for the trial viewer.
      ['  data_name: demo', '  data_name: demo2', ['convert', 'score', 'register', 'archive']],
      ['  report: true', '  report: false', ['archive']],
    ];
    for (const [from, to, expected] of cases) {
      const before = fingerprints();
      editConfig((t) => {
        expect(t).toContain(from);
        return t.replace(from, to);
      });
      expect(changed(before, fingerprints()), `${from} → ${to}`).toEqual(expected);
    }
  });

  it('walks a task pool shared by two pipelines once per pass, and sees an edit in the next pass', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { pipelineFingerprints } = require(join(ws, 'tools/trajgen/bin/fingerprint.cjs')) as typeof import('../../bin/fingerprint.cjs');
    const twin = join(ws, 'pipelines/twin');
    mkdirSync(twin, { recursive: true });
    writeFileSync(join(twin, 'config.yaml'), readFileSync(join(ws, 'pipelines/demo/config.yaml'), 'utf8').replace(/^( +)path: tasks\b/m, '$1path: ../demo/tasks'));
    mkdirSync(join(ws, 'artifacts/twin'), { recursive: true });
    try {
      const alone = { demo: await pipelineFingerprints(ws, 'demo'), twin: await pipelineFingerprints(ws, 'twin') };
      const trees = new Map<string, string>();
      const shared = { demo: await pipelineFingerprints(ws, 'demo', trees), twin: await pipelineFingerprints(ws, 'twin', trees) };
      expect(shared).toEqual(alone);
      expect([...trees.keys()].filter((p) => p.startsWith(join(ws, 'pipelines/demo/tasks/')))).not.toEqual([]);
      const toml = join(ws, 'pipelines/demo/tasks/add-greeting/task.toml');
      const original = readFileSync(toml, 'utf8');
      writeFileSync(toml, `${original}\n# edited\n`);
      try {
        const next = new Map<string, string>();
        const edited = { demo: await pipelineFingerprints(ws, 'demo', next), twin: await pipelineFingerprints(ws, 'twin', next) };
        expect(edited.demo.prepare).not.toBe(alone.demo.prepare);
        expect(edited.twin.prepare).not.toBe(alone.twin.prepare);
      } finally {
        writeFileSync(toml, original);
      }
    } finally {
      rmSync(twin, { recursive: true, force: true });
      rmSync(join(ws, 'artifacts/twin'), { recursive: true, force: true });
    }
  });

  it('hashes the gitignored ledger: a change reruns prepare, the same bytes do not', () => {
    const before = fingerprints();
    writeFileSync(join(ws, 'artifacts/demo/consumption_ledger.yaml'), 'schema_version: 1\ntasks: {}\n');
    const after = fingerprints();
    expect(changed(before, after)).toEqual(['prepare']);
    writeFileSync(join(ws, 'artifacts/demo/consumption_ledger.yaml'), 'schema_version: 1\ntasks: {}\n');
    expect(changed(after, fingerprints())).toEqual([]);
  });
});
