import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executorHarness } from '../shared/__fixtures__/harness';
import cleanExecutor from './executor';
import type { CleanExecutorOptions } from './schema';

const h = executorHarness();

/** A pipeline with something in every artifact dir clean knows about, plus a job and the ledger. */
function populated() {
  const ws = h.workspace();
  for (const d of ['tmp', 'logs', 'data/im_data', 'cache/convert', 'register', 'model/run', 'train', 'training_config', 'jobs/job-1', 'prepare']) {
    mkdirSync(join(ws.root, 'artifacts/p', d), { recursive: true });
    writeFileSync(join(ws.root, 'artifacts/p', d, 'f'), 'x');
  }
  writeFileSync(join(ws.root, 'artifacts/p/consumption_ledger.yaml'), 'entries: {}\n');
  const exists = (p: string) => existsSync(join(ws.root, 'artifacts/p', p));
  return { ...ws, exists };
}

describe('clean executor', () => {
  it('removes only temporary outputs by default; jobs, the ledger and prepare/ always stay', async () => {
    const { context, exists } = populated();
    expect(await cleanExecutor({}, context)).toEqual({ success: true });
    expect(h.printed()).toMatch(/removing artifacts\/p\/tmp\nremoving artifacts\/p\/logs\n✔ p:clean done in \d+s — removed 2 paths/);
    expect(['tmp', 'logs'].filter(exists)).toEqual([]);
    expect(['data', 'model', 'jobs/job-1', 'prepare', 'consumption_ledger.yaml'].every(exists)).toBe(true);
  });

  it('--dryRun with --data --models lists what would go and removes nothing', async () => {
    const { context, exists } = populated();
    expect(await cleanExecutor({ data: true, models: true, dryRun: true }, context)).toEqual({ success: true });
    expect(h.printed()).toMatch(/would remove artifacts\/p\/data\n[\s\S]*would remove artifacts\/p\/training_config\n✔ p:clean done in \d+s — would remove 8 paths/);
    expect(['tmp', 'data', 'cache', 'register', 'model', 'train', 'training_config'].every(exists)).toBe(true);
  });

  it.each<[CleanExecutorOptions, RegExp]>([
    [{ jobs: true }, /clean refuses to delete rollout jobs: they are append-only and immutable\n {2}→ .*delete artifacts\/p\/jobs\/<job> by hand/],
    [{ ledger: true }, /clean refuses to delete the consumption ledger\n {2}→ Reset or skip single tasks through the ledger target/],
  ])('refuses %o with why and what to do instead, deleting nothing', async (options, message) => {
    const { context, exists } = populated();
    expect(await cleanExecutor(options, context)).toEqual({ success: false });
    expect(h.printed()).toMatch(message);
    expect(['tmp', 'jobs/job-1', 'consumption_ledger.yaml'].every(exists)).toBe(true);
  });
});
