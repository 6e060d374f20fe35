import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executorHarness } from '../shared/__fixtures__/harness';
import generateExcludedReposExecutor from './executor';

const h = executorHarness();

describe('generate-excluded-repos executor', () => {
  it('writes the list from local exports (paths relative to the workspace) and prints the diff', async () => {
    const { root, context } = h.workspace();
    writeFileSync(join(root, 'verified.jsonl'), '{"repo":"django/django"}\n{"repo":"new/repo"}\n');
    expect(await generateExcludedReposExecutor({ from: 'verified.jsonl', output: '{workspaceRoot}/out.txt' }, context)).toEqual({ success: true });
    expect(h.printed()).toMatch(/\+ django\/django\n\+ new\/repo/);
    expect(h.printed()).toMatch(/✔ p:generate-excluded-repos done in \d+s — 2 repos, 2 added, 0 removed/);
    expect(readFileSync(join(root, 'out.txt'), 'utf8')).toMatch(/from verified\.jsonl: 2 repos\.\n(#.*\n)django\/django\nnew\/repo\n$/);
  });

  it('defaults to conversion.exclude_repos_file', async () => {
    const { root, context } = h.workspace('conversion:\n  exclude_repos_file: repos.txt\ntraining:\n  model_name_or_path: m\n  output_dir: o\n');
    writeFileSync(join(root, 'verified.jsonl'), '{"repo":"a/b"}\n');
    expect(await generateExcludedReposExecutor({ from: 'verified.jsonl' }, context)).toEqual({ success: true });
    expect(readFileSync(join(root, 'pipelines/p/repos.txt'), 'utf8')).toMatch(/\na\/b\n$/);
  });

  it('fails with how to name a source when given none', async () => {
    const { context } = h.workspace();
    expect(await generateExcludedReposExecutor({}, context)).toEqual({ success: false });
    expect(h.printed()).toMatch(/✖ p:generate-excluded-repos failed after \d+s\ngenerate-excluded-repos needs a source\n {2}→ Pass local SWE-bench exports with --from=/);
  });
});
