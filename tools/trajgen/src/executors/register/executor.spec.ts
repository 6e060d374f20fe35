import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runRegister } from '@trajgen/llamafactory';
import { executorHarness, MINIMAL_CONFIG } from '../shared/__fixtures__/harness';
import registerExecutor from './executor';
import schema from './schema.json';

// The real lib, watched: the executor must hand it the loaded pipeline and its options.
vi.mock('@trajgen/llamafactory', async (importOriginal) => {
  const real = await importOriginal<typeof import('@trajgen/llamafactory')>();
  return { ...real, runRegister: vi.fn(real.runRegister) };
});

const h = executorHarness();
const ROWS = [
  { conversations: [{ from: 'human', value: 'Run the tests.' }, { from: 'gpt', value: 'All green.' }] },
  { conversations: [{ from: 'human', value: 'Fix the bug.' }, { from: 'gpt', value: 'Fixed.' }] },
];

describe('register executor', () => {
  it('registers the pipeline\'s LF file in dataset_info.json through runRegister and prints the summary', async () => {
    const { root, context } = h.workspace(MINIMAL_CONFIG + 'conversion:\n  data_name: d\n');
    mkdirSync(join(root, 'artifacts/p/data/lf_data'), { recursive: true });
    writeFileSync(join(root, 'artifacts/p/data/lf_data/d.json'), JSON.stringify(ROWS));
    expect(await registerExecutor({}, context)).toEqual({ success: true });
    expect(vi.mocked(runRegister)).toHaveBeenCalledWith(expect.objectContaining({ name: 'p' }), expect.objectContaining({ log: expect.any(Function) }), {});
    expect(h.printed()).toMatch(/✔ p:register done in \d+s — registered "d" \(sharegpt, 2 rows\) in artifacts\/p\/data\/lf_data\/dataset_info\.json/);
    expect(JSON.parse(readFileSync(join(root, 'artifacts/p/data/lf_data/dataset_info.json'), 'utf8'))).toMatchObject({ d: { file_name: 'd.json', formatting: 'sharegpt' } });
  });

  it('fails with what is missing and which stage makes it when there is no LF data', async () => {
    const { context } = h.workspace(MINIMAL_CONFIG + 'conversion:\n  data_name: d\n');
    expect(await registerExecutor({}, context)).toEqual({ success: false });
    expect(h.printed()).toMatch(/✖ p:register failed after \d+s\nartifacts\/p\/data\/lf_data\/d\.json does not exist: there is no LF data to register\n {2}→ The score stage writes it \(nx run p:score\)/);
  });

  it('fails on an invalid config before touching anything', async () => {
    const { context } = h.workspace(MINIMAL_CONFIG + 'dataset:\n  source: nowhere\n');
    vi.mocked(runRegister).mockClear();
    expect(await registerExecutor({}, context)).toEqual({ success: false });
    expect(vi.mocked(runRegister)).not.toHaveBeenCalled();
    expect(h.printed()).toMatch(/config\.yaml:5:\d+ dataset\.source: /);
  });

  it('takes no options (its settings live in config.yaml)', () => {
    expect(schema.properties).toEqual({});
    expect(schema.additionalProperties).toBe(false);
  });
});
