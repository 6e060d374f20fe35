import { describe, expect, it, vi } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import convertExecutor from './executor';
import { makeWorkspace, SYNTHETIC, writeTrial } from '../../../../../libs/convert/src/__fixtures__/workspace';

const REPO = join(__dirname, '../../../../..');

function workspaceWithPipeline() {
  const ws = makeWorkspace('p');
  mkdirSync(ws.paths.pipelineDir, { recursive: true });
  const demo = readFileSync(join(REPO, 'pipelines/demo/config.yaml'), 'utf8').replace('name: demo', 'name: p').replace('data_name: demo', 'data_name: p');
  writeFileSync(ws.paths.configFile, demo);
  mkdirSync(join(ws.root, 'artifacts/data'), { recursive: true });
  writeFileSync(join(ws.root, 'artifacts/data/excluded_repos.txt'), readFileSync(join(REPO, 'artifacts/data/excluded_repos.txt')));
  writeTrial(ws, {
    job: 'job-1', trial: 'django__django-1__AAAAAAA', taskId: 'django__django-1', agent: 'claude-code', reward: 1,
    files: { 'agent/litellm-trajectory.jsonl': { copy: join(SYNTHETIC, 'claude-code.synthetic.litellm-trajectory.jsonl') } },
  });
  const context = { root: ws.root, projectName: 'p', cwd: ws.root, isVerbose: false } as unknown as ExecutorContext;
  return { ws, context };
}

describe('convert executor', () => {
  it('runs the stage from config.yaml; --excludeReposFile="" turns exclusion off', async () => {
    const { ws, context } = workspaceWithPipeline();
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await convertExecutor({}, context)).toEqual({ success: true });
    expect(log.mock.calls.flat().join('\n')).toMatch(/0 rows from 0\/1 selected trials .*dropped 1 \(excluded_repo 1\)/);
    expect(await convertExecutor({ excludeReposFile: '' }, context)).toEqual({ success: true });
    expect(log.mock.calls.flat().join('\n')).toMatch(/3 rows from 1\/1 selected trials/);
    log.mockRestore();
    expect(readFileSync(join(ws.paths.imData, 'p.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(3);
  });

  it('fails with the reason, not a stack trace', async () => {
    const { context } = workspaceWithPipeline();
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await convertExecutor({ excludeReposFile: 'missing.txt' }, context)).toEqual({ success: false });
    expect(err.mock.calls.flat().join('\n')).toMatch(/exclude_repos_file .*missing\.txt does not exist\n\s+→ Regenerate it/);
    err.mockRestore();
  });
});
