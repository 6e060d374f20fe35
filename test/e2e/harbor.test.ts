/**
 * The real Harbor end to end: real `nx` in a temporary copy of the workspace,
 * `harbor run` from the managed env (harbor==0.26.0; one env per machine,
 * shared through $TRAJGEN_HARBOR_ENV, created on first use), trajgen's host
 * environment (no containers), Harbor's claude-code agent through trajgen's
 * wrapper running the project's Claude Code CLI, the builtin recording proxy
 * and the oracle (the scripted demo/test model — not a real LLM).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipelinePaths } from '@trajgen/config';
import { readLedger } from '@trajgen/ledger';
import { listJobDirs, readJobDir } from '@trajgen/harbor';
import { jsonlLines } from '../support/files';
import { REPO_ROOT, createTempWorkspace, derivePipeline, processesUnder, waitForKillPoint, type TempWorkspace } from './harness';

const DEMO_IDS = ['add-greeting', 'config-json-edit', 'csv-summary', 'docs-usage-section', 'fix-off-by-one', 'multi-step-textstats', 'refactor-extract-function', 'shell-line-counter'];
const HARBOR_ENV = process.env.TRAJGEN_HARBOR_ENV ?? join(REPO_ROOT, 'artifacts', 'env', 'harbor');

describe('harbor e2e: the real Harbor (host environment) through nx', () => {
  let ws: TempWorkspace;
  // TMPDIR: the run's own short temp dir, not the copy's (ws.tmp): the host environment puts each trial's
  // scratch there, and tmux's socket in it must stay under the 108-byte limit of a socket path.
  const env = { TRAJGEN_HARBOR_ENV: HARBOR_ENV, TMPDIR: tmpdir() };
  beforeAll(() => {
    ws = createTempWorkspace({ prefix: 'trajgen-e2e-harbor-' });
  });
  afterAll(() => ws?.remove());

  it('demo-harbor:archive runs green: Harbor writes the job layout and every result.json, the proxy records each trial, ledger, convert, score, register, train and archive succeed', () => {
    const run = ws.nx(['run', 'demo-harbor:archive'], { env, timeoutMs: 1_500_000 });
    expect(run.code, run.output.slice(-4000)).toBe(0);
    const p = pipelinePaths(ws.root, 'demo-harbor');
    const runJson = JSON.parse(ws.read('artifacts/demo-harbor/rollout/run.json'));
    expect(runJson).toMatchObject({ engine: 'harbor', status: 'completed' });
    const jobDir = join(p.jobs, runJson.job);
    // Harbor's own job files (not trajgen's JobWriter): config.json with the host environment by import path, lock.json, result.json.
    const harborConfig = JSON.parse(readFileSync(join(jobDir, 'config.json'), 'utf8'));
    expect(harborConfig.environment.import_path).toBe('trajgen_harbor.host_env:HostEnvironment');
    expect(harborConfig.agents[0].import_path).toBe('trajgen_harbor.agents:TrajgenClaudeCode');
    expect(existsSync(join(jobDir, 'lock.json'))).toBe(true);
    const jobResult = JSON.parse(readFileSync(join(jobDir, 'result.json'), 'utf8'));
    expect(jobResult.finished_at).toBeTruthy();
    expect(run.output).toMatch(/harbor 0\.26\.0 \(managed env/);

    const job = readJobDir(jobDir);
    expect(job.trials.map((t) => t.name.split('__')[0]).sort()).toEqual(DEMO_IDS);
    const oracle = runJson.oracle.generation_by_trial as Record<string, number>;
    for (const t of job.trials) {
      const id = t.name.split('__')[0];
      // Harbor's TrialResult: its agent info and its own timing phases.
      expect(t.result?.agent_info?.name, t.name).toBe('claude-code');
      expect(t.result?.verifier_result?.rewards?.reward, t.name).toBe(id === 'fix-off-by-one' ? 0 : 1);
      expect(t.result?.exception_info ?? null, t.name).toBeNull();
      // The proxy filed every model call under its trial (the wrapper's header): lines == the oracle's requests.
      const lines = jsonlLines(join(t.dir, 'agent', 'litellm-trajectory.jsonl'));
      expect(lines.length, t.name).toBeGreaterThan(0);
      expect(lines.length, t.name).toBe(oracle[t.name]);
      // Harbor's claude-code agent wrote its log and ATIF trajectory itself.
      expect(existsSync(join(t.dir, 'agent', 'claude-code.txt')), t.name).toBe(true);
      expect(existsSync(join(t.dir, 'agent', 'trajectory.json')), t.name).toBe(true);
    }
    expect(readLedger(p).summary().counts).toMatchObject({ done: 8, pending: 0, running: 0, failed: 0 });
    const stats = JSON.parse(ws.read('artifacts/demo-harbor/data/im_data/demo-harbor.stats.json'));
    expect(stats.dropped, JSON.stringify(stats.examples ?? [])).toEqual({});
    expect(ws.read('artifacts/demo-harbor/data/im_data/demo-harbor.jsonl').trimEnd().split('\n')).toHaveLength(7);
    expect(JSON.parse(ws.read('artifacts/demo-harbor/data/lf_data/dataset_info.json'))).toHaveProperty('demo-harbor');
    expect(existsSync(join(ws.root, 'artifacts/demo-harbor/report/index.html'))).toBe(true);
    // The host environment's working copies are gone, nothing runs in them.
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('trajgen-demo-harbor-'))).toEqual([]);
  });

  it('SIGKILL of the rollout mid-job, then a rerun: Harbor resumes the same job (harbor job resume); no task rolled out twice, none lost, nothing left running', async () => {
    const ids = ['add-greeting', 'config-json-edit', 'csv-summary', 'shell-line-counter'];
    derivePipeline(ws, {
      from: 'demo-harbor',
      name: 'hkill',
      ids,
      edit: (cfg) => {
        cfg.rollout.n_concurrent = 1;
        cfg.rollout.max_retries = 1;
        cfg.rollout.llm_api.oracle = { latency_ms: 700, faults: {} };
      },
    });
    const p = pipelinePaths(ws.root, 'hkill');

    const first = ws.nxAsync(['run', 'hkill:rollout'], { env });
    // Wait until the rollout holds the ledger, one trial has finished and another is mid-way.
    const { pid, jobDir } = await waitForKillPoint(p, 300_000, 200);
    const finishedBefore = readdirSync(jobDir).filter((n) => n.includes('__') && existsSync(join(jobDir, n, 'result.json')));
    const interrupted = readdirSync(jobDir).filter((n) => n.includes('__') && !existsSync(join(jobDir, n, 'result.json')) && jsonlLines(join(jobDir, n, 'agent', 'litellm-trajectory.jsonl')).length > 0);
    const linesAtKill = new Map(interrupted.map((n) => [n, jsonlLines(join(jobDir, n, 'agent', 'litellm-trajectory.jsonl')).length]));
    process.kill(pid, 'SIGKILL');
    const killed = await first;
    expect(killed.code).not.toBe(0);

    // The watchdogs take Harbor, and Harbor's death the host environment's commands, down with the rollout.
    const scratchPrefix = join(tmpdir(), 'trajgen-hkill-');
    for (let i = 0; i < 100 && processesUnder(scratchPrefix).length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(processesUnder(scratchPrefix)).toEqual([]);

    const again = ws.nx(['run', 'hkill:rollout'], { env, timeoutMs: 900_000 });
    expect(again.code, again.output.slice(-4000)).toBe(0);
    expect(again.output).toMatch(/reconcile: \d+ finalized from trial results, \d+ returned to pending/);
    expect(again.output).toContain(`resuming Harbor job ${jobDir.split('/').pop()}`);
    expect(again.output).toMatch(/harbor │ .*/);
    const ledger = readLedger(p);
    expect(ledger.summary().counts).toMatchObject({ done: 4, pending: 0, running: 0, failed: 0 });

    // One job only: Harbor finished the killed one.
    const jobs = listJobDirs(p.jobs).map(readJobDir);
    expect(jobs).toHaveLength(1);
    const trials = jobs[0].trials;
    for (const id of ids) {
      const usable = trials.filter((t) => t.name.startsWith(`${id}__`) && t.result?.verifier_result?.rewards);
      expect(usable.map((t) => t.name), id).toHaveLength(1);
      expect(ledger.get(id)!.trajectory_path, id).toBe(`artifacts/hkill/jobs/${jobs[0].name}/${usable[0].name}/agent/litellm-trajectory.jsonl`);
    }
    // Trials finished before the kill were not run again.
    for (const n of finishedBefore) expect(trials.some((t) => t.name === n && t.result), n).toBe(true);
    // No trajectory lost: what the interrupted trials had logged is kept (Harbor deletes unfinished trial dirs on resume).
    for (const [trial, n] of linesAtKill) {
      const kept = join(p.jobs, '.attempts', jobs[0].name, `${trial}.interrupted`, 'agent', 'litellm-trajectory.jsonl');
      const inPlace = join(jobs[0].dir, trial, 'agent', 'litellm-trajectory.jsonl');
      expect(Math.max(jsonlLines(kept).length, jsonlLines(inPlace).length), trial).toBeGreaterThanOrEqual(n);
    }
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('trajgen-hkill-'))).toEqual([]);
  });

  it('terminus-2 for real (Harbor\'s own agent, tmux on the host) with a small context limit: Harbor summarises, writes the sub-agent trajectories, the proxy records every call, rewards are right', () => {
    const ids = ['add-greeting', 'fix-off-by-one'];
    derivePipeline(ws, {
      from: 'demo-harbor',
      name: 'hterm',
      ids,
      edit: (cfg) => {
        cfg.rollout.scaffold = 'terminus-2';
        cfg.rollout.harbor.agent_kwargs = {
          model_info: { max_input_tokens: 4000, max_output_tokens: 1000, input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5 },
          proactive_summarization_threshold: 2500,
        };
      },
    });
    const run = ws.nx(['run', 'hterm:rollout'], { env, timeoutMs: 900_000 });
    expect(run.code, run.output.slice(-4000)).toBe(0);
    const p = pipelinePaths(ws.root, 'hterm');
    const runJson = JSON.parse(ws.read('artifacts/hterm/rollout/run.json'));
    const job = readJobDir(join(p.jobs, runJson.job));
    expect(job.trials).toHaveLength(2);
    for (const t of job.trials) {
      const id = t.name.split('__')[0];
      expect(t.result?.agent_info?.name, t.name).toBe('terminus-2');
      expect(t.result?.verifier_result?.rewards?.reward, t.name).toBe(id === 'fix-off-by-one' ? 0 : 1);
      const files = readdirSync(join(t.dir, 'agent'));
      expect(files, t.name).toContain('trajectory.json');
      expect(files.filter((f) => /^trajectory\.summarization-1-(summary|questions|answers)\.json$/.test(f)).sort(), t.name).toHaveLength(3);
      const lines = jsonlLines(join(t.dir, 'agent', 'litellm-trajectory.jsonl'));
      expect(lines.length, t.name).toBe(runJson.oracle.generation_by_trial[t.name]);
      const atif = JSON.parse(readFileSync(join(t.dir, 'agent', 'trajectory.json'), 'utf8'));
      expect(atif.agent.name).toBe('terminus-2');
      expect(atif.steps.length).toBeGreaterThan(2);
    }
    // Nothing left running: no tmux server of a trial survives it.
    expect(processesUnder(join(tmpdir(), 'trajgen-hterm-'))).toEqual([]);
    expect(readLedger(p).summary().counts).toMatchObject({ done: 2, running: 0 });
  });
});

