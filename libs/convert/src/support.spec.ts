import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertPipeline } from './pipeline';
import { conversion, makeWorkspace, writeJobResult, writeTrial, type TrialSpec } from './__fixtures__/workspace';

/** The support matrix's rejections name what was recorded; unknown usage is null. */

const REAL = join(__dirname, '__fixtures__/real/harbor');

describe('support matrix edges', () => {
  it('unknown_scaffold names the recorded agent and the raw files', async () => {
    const ws = makeWorkspace();
    const spec: TrialSpec = { job: 'job-1', trial: 'task-1__T1', taskId: 'task-1', agent: 'codex', reward: 1, files: { 'agent/codex.txt': 'log', 'agent/trajectory.codex.jsonl': '{}' } };
    writeTrial(ws, spec);
    writeJobResult(ws, 'job-1', [spec]);
    const r = await convertPipeline(ws.paths, conversion());
    expect(r.stats.dropped).toEqual({ unknown_scaffold: 1 });
    expect(r.stats.examples[0].message).toMatch(/^recorded: agent "codex" .*; raw files: agent\/codex\.txt, agent\/trajectory\.codex\.jsonl — none is a scaffold trajgen converts \(claude-code, opencode, openhands-sdk, terminus-2\)/);
  });

  it('token usage nobody recorded is null, not 0', async () => {
    const ws = makeWorkspace();
    const traj = JSON.parse(readFileSync(join(REAL, 'hello-world-timeout.trajectory.json'), 'utf8'));
    delete traj.final_metrics;
    const spec: TrialSpec = { job: 'job-1', trial: 'hello__T1', taskId: 'hello', agent: 'terminus-2', reward: 1, files: { 'agent/trajectory.json': JSON.stringify(traj) } };
    writeTrial(ws, spec);
    writeJobResult(ws, 'job-1', [spec]);
    const r = await convertPipeline(ws.paths, conversion({ exclude_repos_file: '' }));
    expect(r.stats.trials.converted).toBe(1);
    const row = JSON.parse(readFileSync(r.outputFile, 'utf8').split('\n')[0]);
    expect(row.meta_info.unique_info._usage).toMatchObject({ prompt_tokens: null, completion_tokens: null, total_tokens: null, calls: 0 });
  });
});
