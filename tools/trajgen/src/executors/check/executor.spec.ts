import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executorHarness, MINIMAL_CONFIG } from '../shared/__fixtures__/harness';
import checkExecutor from './executor';
import schema from './schema.json';

const h = executorHarness();

describe('check executor', () => {
  it('reports every config problem in one table with its line and fix, and fails', async () => {
    const { context } = h.workspace(MINIMAL_CONFIG + 'rollout:\n  n_concurent: 2\nscoring:\n  lf_format: alpaca\n');
    expect(await checkExecutor({}, context)).toEqual({ success: false });
    const out = h.printed();
    expect(out).toMatch(/FAIL\s+config\s+rollout\.n_concurent\s+line 5: unknown key\. Did you mean "n_concurrent"\?/);
    expect(out).toMatch(/FAIL\s+config\s+scoring\.lf_format\s+line 7: /);
    expect(out).toMatch(/To fix:\n1\. \[FAIL\] config \/ rollout\.n_concurent: edit pipelines\/p\/config\.yaml line 5/);
    expect(out).toMatch(/✖ p:check failed after \d+s\n2 of 2 checks fail\n {2}→ Fix them in the order listed/);
  });

  it('says how to create a missing config.yaml instead of failing to load it', async () => {
    const { root, context } = h.workspace();
    rmSync(join(root, 'pipelines/p/config.yaml'));
    expect(await checkExecutor({}, context)).toEqual({ success: false });
    expect(h.printed()).toMatch(/FAIL\s+config\s+file\s+pipelines\/p\/config\.yaml is missing/);
    expect(h.printed()).toContain('npx nx g @trajgen/plugin:pipeline p');
  });

  it('takes no options (it checks what config.yaml configures)', () => {
    expect(schema.properties).toEqual({});
    expect(schema.additionalProperties).toBe(false);
  });
});
