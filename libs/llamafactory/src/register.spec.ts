import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock } from '@trajgen/core';
import { readDatasetInfo, writeDatasetEntry, diffEntries, validateDatasetEntry, entryForHub } from './dataset-info';
import { registerDataset, readRegisterReceipt } from './register';
import { REAL_DATASET_INFO, REPO_ROOT, copyFixture, glaiveRows } from '../../../test/support/training-workspace';
import { pipelineWorkspace, type PipelineWorkspace } from '../../../test/support/pipeline-workspace';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

const ENTRY = { file_name: 'demo.json', formatting: 'sharegpt' as const, columns: { messages: 'conversations', system: 'system', tools: 'tools' } };

function realRegistryCopy(): string {
  const dir = tempDir(join(tmpdir(), 'dsinfo-'));
  const p = join(dir, 'dataset_info.json');
  copyFixture(REAL_DATASET_INFO, p);
  return p;
}

describe('writeDatasetEntry on LLaMA-Factory’s real registry (104 entries)', () => {
  it('registers, then leaves an identical entry alone, then updates and says from what; other entries are untouched', () => {
    const path = realRegistryCopy();
    const before = readDatasetInfo(path);
    expect(Object.keys(before)).toHaveLength(104);

    const first = writeDatasetEntry(path, 'demo', ENTRY);
    expect(first).toMatchObject({ action: 'registered', entries: 105 });
    const after = readDatasetInfo(path);
    expect(Object.keys(after)).toEqual([...Object.keys(before), 'demo']); // order kept, new entry last
    for (const k of Object.keys(before)) expect(after[k]).toEqual(before[k]);
    // The file stays in LLaMA-Factory's own layout: original bytes + the new entry.
    expect(readFileSync(path, 'utf8')).toBe(JSON.stringify(after, null, 2) + '\n');

    const ino = statSync(path).ino;
    const again = writeDatasetEntry(path, 'demo', { columns: { tools: 'tools', system: 'system', messages: 'conversations' }, formatting: 'sharegpt', file_name: 'demo.json' });
    expect(again.action).toBe('unchanged'); // same entry, other key order
    expect(statSync(path).ino).toBe(ino); // no rewrite (an atomic write would change the inode)

    const updated = writeDatasetEntry(path, 'demo', { ...ENTRY, file_name: 'demo-v2.json', num_samples: 10 });
    expect(updated.action).toBe('updated');
    expect(updated.previous).toEqual(ENTRY);
    expect(updated.changes).toEqual(['file_name: "demo.json" → "demo-v2.json"', 'num_samples: (none) → 10']);
    expect(Object.keys(readDatasetInfo(path))).toHaveLength(105);
    expect(readdirSync(join(path, '..')).filter((n) => n.endsWith('.tmp'))).toEqual([]); // no temp file left
  });

  it('refuses a registry it cannot read instead of replacing it (other entries would be lost)', () => {
    const path = realRegistryCopy();
    writeFileSync(path, '{"a": {"file_name": "x.json"},');
    expect(() => writeDatasetEntry(path, 'demo', ENTRY)).toThrow(/not valid JSON/);
    expect(readFileSync(path, 'utf8')).toBe('{"a": {"file_name": "x.json"},');
  });

  it('fails while another process holds the lock, and succeeds once it is released', () => {
    const path = realRegistryCopy();
    const lock = acquireLock(`${path}.lock`, { purpose: 'test holder' });
    try {
      expect(() => writeDatasetEntry(path, 'demo', ENTRY, { waitMs: 100 })).toThrow(/locked by pid .*test holder/);
    } finally {
      lock.release();
    }
    expect(writeDatasetEntry(path, 'demo', ENTRY, { waitMs: 100 }).action).toBe('registered');
  });

  it('loses no entry when four processes register at once', async () => {
    const path = realRegistryCopy();
    const script = (name: string) =>
      `const { writeDatasetEntry } = require(${JSON.stringify(join(__dirname, 'dataset-info.ts'))});` +
      `writeDatasetEntry(${JSON.stringify(path)}, ${JSON.stringify(name)}, { file_name: '${name}.json', formatting: 'sharegpt' });`;
    const run = (name: string) =>
      new Promise<number>((resolve) => {
        const child = spawn(process.execPath, ['-r', '@swc-node/register', '-e', script(name)], { cwd: REPO_ROOT, stdio: 'inherit' });
        child.on('close', (code) => resolve(code ?? 1));
      });
    const codes = await Promise.all(['w1', 'w2', 'w3', 'w4'].map(run));
    expect(codes).toEqual([0, 0, 0, 0]);
    const info = readDatasetInfo(path);
    expect(Object.keys(info)).toHaveLength(108);
    for (const n of ['w1', 'w2', 'w3', 'w4']) expect(info[n]).toEqual({ file_name: `${n}.json`, formatting: 'sharegpt' });
  });

  it('validates entry keys LLaMA-Factory would silently ignore', () => {
    expect(validateDatasetEntry({ file_name: 'a.json', colums: {}, formatting: 'sharegpt' })).toEqual(['entry.colums: unknown key (LLaMA-Factory ignores it). Did you mean "columns"?']);
    expect(validateDatasetEntry({ file_name: 'a.json', tags: { assistant_tg: 'gpt' } })[0]).toMatch(/Did you mean "assistant_tag"/);
    expect(validateDatasetEntry({ formatting: 'sharegpt' })).toContain('entry: needs file_name or hf_hub_url');
    expect(() => writeDatasetEntry(realRegistryCopy(), 'x', { file_name: 'a.json', ranking: true })).toThrow(/invalid dataset_info.json entry/);
    expect(diffEntries({ a: 1, c: { d: 'x' } }, { a: 1, c: { d: 'y' } })).toEqual(['c.d: "x" → "y"']);
  });
});

const CONFIG = (dataset: string) => `# a pipeline for register tests
conversion:
  data_name: tdata
dataset:
${dataset}
training:
  model_name_or_path: base-model
  output_dir: run-1
`;

describe('registerDataset', () => {
  let ws: PipelineWorkspace | undefined;
  afterEach(() => ws?.remove());

  it('registers the pipeline’s LF file with the native sharegpt entry and writes a deterministic receipt', async () => {
    ws = pipelineWorkspace({ prefix: 'lf-register-', config: CONFIG('  source: pipeline') });
    ws.write('artifacts/p/data/lf_data/tdata.json', JSON.stringify(glaiveRows(5, { asPipeline: true })));
    const r = await registerDataset(ws.load());
    expect(r.receipt).toMatchObject({
      schema_version: 1,
      dataset: 'tdata',
      source: 'pipeline',
      dataset_dir: 'artifacts/p/data/lf_data',
      dataset_info: 'artifacts/p/data/lf_data/dataset_info.json',
      file_name: 'tdata.json',
      file: 'artifacts/p/data/lf_data/tdata.json',
      rows: 5,
      variant: 'sharegpt',
      action: 'registered',
      entry: { file_name: 'tdata.json', formatting: 'sharegpt', columns: { messages: 'conversations', system: 'system', tools: 'tools' } },
    });
    expect(r.receipt.file_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.summary).toBe('registered "tdata" (sharegpt, 5 rows) in artifacts/p/data/lf_data/dataset_info.json');
    const receipt1 = ws.read('artifacts/p/register/receipt.json');
    const again = await registerDataset(ws.load());
    expect(again.receipt.action).toBe('unchanged');
    expect(again.summary).toMatch(/unchanged/);
    expect(readRegisterReceipt(ws.load().paths)).toEqual({ ...JSON.parse(receipt1), action: 'unchanged' });
  });

  it('uses dataset.name, detects the rendered variant’s tags, and reports an update from the old entry', async () => {
    ws = pipelineWorkspace({ prefix: 'lf-register-', config: CONFIG('  name: my_sft\n  source: pipeline') });
    ws.write('artifacts/p/data/lf_data/tdata.json', JSON.stringify(glaiveRows(3, { asPipeline: true })));
    await registerDataset(ws.load());
    const rendered = [{ messages: [{ role: 'user', content: 'u' }, { role: 'assistant', content: 'a' }, { role: 'tool', content: 'r' }, { role: 'assistant', content: 'b' }], system: 'sys' }];
    ws.write('artifacts/p/data/lf_data/tdata.json', JSON.stringify(rendered));
    const r = await registerDataset(ws.load());
    expect(r.receipt.dataset).toBe('my_sft');
    expect(r.receipt.entry).toEqual({
      file_name: 'tdata.json',
      formatting: 'sharegpt',
      columns: { messages: 'messages', system: 'system' },
      tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system', observation_tag: 'tool' },
    });
    expect(r.receipt.action).toBe('updated');
    expect(r.summary).toContain('columns.messages: "conversations" → "messages"');
    expect(r.receipt.previous_entry).toMatchObject({ columns: { messages: 'conversations' } });
  });

  it('local_lf: a file inside the workspace gets a relative file_name (portable), one outside an absolute one; num_samples and warnings', async () => {
    ws = pipelineWorkspace({ prefix: 'lf-register-', config: CONFIG('  source: local_lf\n  local_path: data/glaive.json\n  num_samples: 50') });
    ws.write('pipelines/p/data/glaive.json', JSON.stringify(glaiveRows(20)));
    const r = await registerDataset(ws.load());
    expect(r.receipt.entry).toEqual({ file_name: '../../../../pipelines/p/data/glaive.json', formatting: 'sharegpt', columns: { messages: 'conversations', tools: 'tools' }, num_samples: 50 });
    expect(existsSync(join(ws.root, 'artifacts/p/data/lf_data', r.receipt.entry.file_name!))).toBe(true);
    expect(r.warnings.join()).toMatch(/num_samples 50 > 20 rows: LLaMA-Factory oversamples/);

    const outside = tempDir(join(tmpdir(), 'outside-'));
    try {
      writeFileSync(join(outside, 'x.jsonl'), glaiveRows(2).map((x) => JSON.stringify(x)).join('\n'));
      ws.write('pipelines/p/config.yaml', CONFIG(`  source: local_lf\n  local_path: ${join(outside, 'x.jsonl')}`));
      const abs = await registerDataset(ws.load());
      expect(abs.receipt.entry.file_name).toBe(join(outside, 'x.jsonl'));
      expect(abs.receipt.file).toBe(join(outside, 'x.jsonl'));
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('hf: hf_hub_url, subset, split only when not train, num_samples, column overrides', async () => {
    ws = pipelineWorkspace({ prefix: 'lf-register-', config: CONFIG('  source: hf\n  hf_hub_url: org/tool-sft\n  subset: en\n  split: train') });
    const r = await registerDataset(ws.load());
    expect(r.receipt.entry).toEqual({ hf_hub_url: 'org/tool-sft', formatting: 'sharegpt', subset: 'en', columns: { messages: 'conversations', tools: 'tools' } });
    expect(r.receipt).toMatchObject({ file_name: null, file_digest: null, rows: null, hf_hub_url: 'org/tool-sft' });
    ws.write('pipelines/p/config.yaml', CONFIG('  source: hf\n  hf_hub_url: org/tool-sft\n  split: validation\n  num_samples: 100\n  columns: {messages: messages}\n  tags: {role_tag: role, content_tag: content}'));
    expect((await registerDataset(ws.load())).receipt.entry).toEqual({
      hf_hub_url: 'org/tool-sft',
      formatting: 'sharegpt',
      split: 'validation',
      num_samples: 100,
      columns: { messages: 'messages' },
      tags: { role_tag: 'role', content_tag: 'content' },
    });
    expect(entryForHub({ hf_hub_url: 'a/b', split: 'train' })).not.toHaveProperty('split');
  });

  it('dataset.dataset_dir: writes that LLaMA-Factory data dir’s registry, preserving its entries', async () => {
    ws = pipelineWorkspace({ prefix: 'lf-register-', config: CONFIG('  source: pipeline\n  dataset_dir: "{workspaceRoot}/lfdata"') });
    ws.write('artifacts/p/data/lf_data/tdata.json', JSON.stringify(glaiveRows(2, { asPipeline: true })));
    copyFixture(REAL_DATASET_INFO, join(ws.root, 'lfdata/dataset_info.json'));
    const r = await registerDataset(ws.load());
    expect(r.receipt).toMatchObject({ dataset_dir: 'lfdata', dataset_info: 'lfdata/dataset_info.json', file_name: '../artifacts/p/data/lf_data/tdata.json' });
    expect(Object.keys(readDatasetInfo(join(ws.root, 'lfdata/dataset_info.json')))).toHaveLength(105);
    expect(existsSync(join(ws.root, 'artifacts/p/data/lf_data/dataset_info.json'))).toBe(false);
  });

  it('says which stage to run when the LF file is missing, and refuses rows LLaMA-Factory cannot read', async () => {
    ws = pipelineWorkspace({ prefix: 'lf-register-', config: CONFIG('  source: pipeline') });
    await expect(registerDataset(ws.load())).rejects.toThrow(/artifacts\/p\/data\/lf_data\/tdata.json does not exist/);
    ws.write('artifacts/p/data/lf_data/tdata.json', '[]');
    await expect(registerDataset(ws.load())).rejects.toThrow(/holds no rows/);
    ws.write('artifacts/p/data/lf_data/tdata.json', JSON.stringify([{ conversations: [{ from: 'user', value: 'x' }, { from: 'gpt', value: 'y' }] }]));
    const r = await registerDataset(ws.load());
    expect(r.warnings.join()).toMatch(/roles "user" are not sharegpt roles/);
  });
});
