import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertPipeline } from './pipeline';
import { conversion, makeWorkspace, SYNTHETIC, writeJobResult, writeTrial, type TrialSpec } from './__fixtures__/workspace';

/** Nothing damaged passes as whole: damaged logs and result files are counted drops, a full disk a clear error. */

const CC_LOG = join(SYNTHETIC, 'claude-code.synthetic.litellm-trajectory.jsonl');
const good = (n: number): TrialSpec => ({ job: 'job-1', trial: `task-${n}__T${n}`, taskId: `task-${n}`, agent: 'claude-code', reward: 1, files: { 'agent/litellm-trajectory.jsonl': { copy: CC_LOG } } });

describe('damaged input', () => {
  it('a torn proxy log and an unreadable result.json are counted drops, named in the stats, the summary and the log', async () => {
    const ws = makeWorkspace();
    const lines = readFileSync(CC_LOG, 'utf8').trimEnd().split('\n');
    const torn = { ...good(2), files: { 'agent/litellm-trajectory.jsonl': lines.join('\n') + '\n' + lines[lines.length - 1].slice(0, 40) } };
    const specs = [good(1), torn, good(3)];
    for (const s of specs) writeTrial(ws, s);
    writeJobResult(ws, 'job-1', specs);
    writeFileSync(join(ws.paths.jobs, 'job-1', 'task-3__T3', 'result.json'), '{"id": "id-task-3__T3", "verifier_result": {"rew');
    const said: string[] = [];
    const r = await convertPipeline(ws.paths, conversion(), { log: (l) => said.push(l) });
    expect(r.stats.trials).toEqual({ seen: 3, selected: 3, converted: 1 });
    expect(r.stats.dropped).toEqual({ damaged_trajectory: 1, damaged_result: 1 });
    expect(r.summary).toMatch(/dropped 2 \(.*damaged_trajectory 1.*\)/);
    expect(r.summary).toMatch(/damaged_result 1/);
    const byReason = Object.fromEntries(r.stats.examples.map((e) => [e.reason, e]));
    expect(byReason.damaged_trajectory.message).toMatch(new RegExp(`agent/litellm-trajectory\\.jsonl line ${lines.length + 1} \\(the last\\): not JSON`));
    expect(byReason.damaged_result.message).toMatch(/jobs\/job-1\/task-3__T3\/result\.json: result\.json is not valid JSON/);
    expect(said.join('\n')).toMatch(/warning: .*task-3__T3\/result\.json is unreadable/);
    const stats = JSON.parse(readFileSync(r.statsFile, 'utf8'));
    expect(stats.dropped).toEqual(r.stats.dropped);
  });

  it('out of disk while writing: a clear error naming the file, no temp file left, the previous rows and stats unchanged', async () => {
    const ws = makeWorkspace();
    writeTrial(ws, good(1));
    writeJobResult(ws, 'job-1', [good(1)]);
    const first = await convertPipeline(ws.paths, conversion());
    const before = { rows: readFileSync(first.outputFile, 'utf8'), stats: readFileSync(first.statsFile, 'utf8') };
    writeTrial(ws, { ...good(2), job: 'job-2' });
    writeJobResult(ws, 'job-2', [{ ...good(2), job: 'job-2' }]);
    // The new rows go to the stage's temp file: make it a full disk (/dev/full answers every write with ENOSPC).
    const tmp = join(ws.paths.imData, `.p.jsonl.${process.pid}.tmp`);
    symlinkSync('/dev/full', tmp);
    const failed = await convertPipeline(ws.paths, conversion()).then(
      () => undefined,
      (e: Error & { hint?: string }) => e,
    );
    expect(failed?.message).toMatch(/^convert: out of disk space while writing \S*p\.jsonl \(ENOSPC\)$/);
    expect(failed?.hint).toMatch(/Free space on the filesystem .* then rerun\. The previous .*p\.jsonl and its stats are unchanged/);
    expect(readdirSync(ws.paths.imData).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect({ rows: readFileSync(first.outputFile, 'utf8'), stats: readFileSync(first.statsFile, 'utf8') }).toEqual(before);
    // With space again, the next run completes both trials.
    const again = await convertPipeline(ws.paths, conversion());
    expect(again.stats.trials.converted).toBe(2);
  });
});
