/**
 * Existing Harbor jobs as a pipeline's source, end to end with real `nx` in a
 * temporary copy of the workspace: `nx g @trajgen/plugin:pipeline NAME
 * --from-jobs=PATH`, `check`, then `nx run NAME:archive` (convert, score,
 * register, train with the embedded trainer, archive — prepare and rollout do
 * nothing and say so). The job dir lives outside the pipeline's artifacts, as
 * jobs made elsewhere do; its trials are real-shaped Harbor trials holding the
 * synthetic Claude Code / OpenCode proxy logs of libs/convert's fixtures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { createTempWorkspace, REPO_ROOT, type TempWorkspace } from './harness';

const SYNTHETIC = join(REPO_ROOT, 'libs/convert/src/__fixtures__/synthetic');

/** One finished Harbor trial (config.json, result.json with reward 1.0, the agent's proxy log). */
function writeTrial(jobDir: string, trial: string, agent: 'claude-code' | 'opencode') {
  const dir = join(jobDir, trial);
  mkdirSync(join(dir, 'agent'), { recursive: true });
  const task = trial.replace(/__[^_]+$/, '');
  const config = { task: { path: `/tasks/${task}` }, trial_name: trial, trials_dir: jobDir, agent: { name: agent, model_name: 'test-model' } };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(
    join(dir, 'result.json'),
    JSON.stringify({
      id: `id-${trial}`,
      task_name: task,
      trial_name: trial,
      config,
      agent_info: { name: agent, version: '1', model_info: { name: 'test-model', provider: 'test' } },
      verifier_result: { rewards: { reward: 1 } },
      exception_info: null,
      started_at: '2026-01-02T00:00:00Z',
      finished_at: '2026-01-02T00:10:00Z',
    }),
  );
  cpSync(join(SYNTHETIC, `${agent}.synthetic.litellm-trajectory.jsonl`), join(dir, 'agent', 'litellm-trajectory.jsonl'));
}

describe('a pipeline whose source is existing Harbor jobs (--from-jobs)', () => {
  let ws: TempWorkspace;
  const job = () => join(ws.root, 'elsewhere', 'job-2026-01-02');
  const stats = () => JSON.parse(ws.read('artifacts/fj/data/im_data/fj.stats.json'));

  beforeAll(() => {
    ws = createTempWorkspace({ prefix: 'tg-fromjobs-' });
    mkdirSync(job(), { recursive: true });
    writeFileSync(join(job(), 'config.json'), JSON.stringify({ job_name: 'job-2026-01-02' }));
    writeTrial(job(), 'greeter-1__AAAA', 'claude-code');
    writeTrial(job(), 'greeter-2__BBBB', 'opencode');
  });
  afterAll(() => ws?.remove());

  it('the generator writes conversion.from_jobs, and check validates the job dirs', () => {
    const g = ws.nx(['g', '@trajgen/plugin:pipeline', 'fj', '--from-jobs=elsewhere/job-2026-01-02', '--no-interactive']);
    expect(g.code, g.output).toBe(0);
    const cfg = parse(ws.read('pipelines/fj/config.yaml'));
    expect(cfg.conversion.from_jobs).toEqual(['../../elsewhere/job-2026-01-02']);
    expect(ws.read('pipelines/fj/config.yaml')).toMatch(/# Existing Harbor job dirs to convert/);
    // CPU-sized training, as the demo's (the generated defaults name a hub model for real runs).
    const demo = parse(ws.read('pipelines/demo/config.yaml'));
    cfg.training = { ...demo.training, model_name_or_path: '../demo/base-model', output_dir: 'fj-lora' };
    cfg.conversion.exclude_repos_file = '';
    ws.write('pipelines/fj/config.yaml', stringify(cfg));
    const check = ws.nx(['run', 'fj:check']);
    expect(check.output).toMatch(/OK\s+jobs\s+conversion\.from_jobs\[0\]\s+job-2026-01-02: 2 finished trials/);
    expect(check.output).not.toMatch(/tasks\s+manifest/);
    // A wrong entry names itself and what to do.
    const bad = parse(ws.read('pipelines/fj/config.yaml'));
    bad.conversion.from_jobs = ['../../elsewhere'];
    ws.write('pipelines/fj/config.yaml', stringify(bad));
    const badCheck = ws.nx(['run', 'fj:check']);
    expect(badCheck.code).not.toBe(0);
    expect(badCheck.output).toMatch(/FAIL\s+jobs\s+conversion\.from_jobs\[0\]\s+.*elsewhere has no config\.json or result\.json: not a Harbor job dir/);
    ws.write('pipelines/fj/config.yaml', stringify(cfg));
  });

  it('nx run NAME:archive converts, scores, registers, trains and archives without rolling anything out', () => {
    const r = ws.nx(['run', 'fj:archive']);
    expect(r.code, r.output.slice(-6000)).toBe(0);
    expect(r.output).toMatch(/fj:prepare done .* nothing to prepare: this pipeline converts existing Harbor jobs/);
    expect(r.output).toMatch(/fj:rollout done .* nothing to roll out/);
    expect(r.ran).toEqual(expect.arrayContaining(['fj:convert', 'fj:score', 'fj:register', 'fj:train', 'fj:archive']));
    const s = stats();
    expect(s.input).toBe('from_jobs: elsewhere/job-2026-01-02');
    expect(s.trials).toEqual({ seen: 2, selected: 2, converted: 2 });
    expect(ws.read('artifacts/fj/archive/summary.json').length).toBeGreaterThan(0);
  });

  it('nothing new: fully cached; a new trial reruns convert for that trial only (through the memo)', () => {
    const again = ws.nx(['run', 'fj:archive']);
    expect(again.code, again.output.slice(-3000)).toBe(0);
    expect(again.ran).toEqual([]);
    writeTrial(job(), 'greeter-3__CCCC', 'claude-code');
    const more = ws.nx(['run', 'fj:convert']);
    expect(more.code, more.output.slice(-3000)).toBe(0);
    expect(more.ran).toContain('fj:convert');
    expect(more.cached).toEqual(expect.arrayContaining(['fj:prepare', 'fj:rollout']));
    expect(stats().trials.converted).toBe(3);
    expect(stats().memo).toEqual({ hits: 2, misses: 1 });
  });
});
