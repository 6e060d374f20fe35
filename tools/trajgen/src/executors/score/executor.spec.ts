import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ExecutorContext } from '@nx/devkit';
import { imRow } from '../../../../../test/support/im-rows';
import { pipelineWorkspace } from '../../../../../test/support/pipeline-workspace';
import scoreExecutor from './executor';

const ROW = imRow(
  [
    { role: 'user', content: 'Run the tests.' },
    { role: 'assistant', content: '', reasoning_content: '', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'Bash', arguments: '{"command":"pytest"}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: '2 passed' },
    { role: 'assistant', content: 'All green.', reasoning_content: '' },
  ],
  {
    instance: 'i-1',
    scaffold: 'claude-code',
    tools: [{ type: 'function', function: { name: 'Bash', description: 'run', parameters: { type: 'object', properties: { command: { type: 'string' } } } } }],
  },
);

describe('score executor', () => {
  const ws = pipelineWorkspace({ prefix: 'score-exec-', config: 'scoring:\n  lf_format: sharegpt\ntraining:\n  model_name_or_path: m\n  output_dir: o\n' });
  const root = ws.root;
  const context = { root, projectName: 'p' } as ExecutorContext;
  let out: string[];
  beforeEach(() => {
    out = [];
    vi.spyOn(console, 'log').mockImplementation((l: string) => void out.push(l));
    vi.spyOn(console, 'error').mockImplementation((l: string) => void out.push(l));
    vi.spyOn(console, 'warn').mockImplementation((l: string) => void out.push(l));
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => ws.remove());

  it('runs the score stage of the pipeline and reports a summary', async () => {
    ws.write('artifacts/p/data/im_data/p.jsonl', JSON.stringify(ROW) + '\n');
    expect(await scoreExecutor({}, context)).toEqual({ success: true });
    expect(out.join('\n')).toMatch(/✔ p:score done in \d+s — 1 rows scored \(mean 0\.\d+\), 1 in LF/);
    expect(JSON.parse(readFileSync(join(root, 'artifacts/p/data/lf_data/p.json'), 'utf8'))).toHaveLength(1);
  });

  it('fails with a readable message when there is nothing to score', async () => {
    rmSync(join(root, 'artifacts/p/data/im_data/p.jsonl'));
    expect(await scoreExecutor({}, context)).toEqual({ success: false });
    expect(out.join('\n')).toMatch(/No IM data to score: artifacts\/p\/data\/im_data\/p.jsonl does not exist/);
  });
});
