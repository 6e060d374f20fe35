/**
 * The rollout stage end to end: real `nx` in a temporary copy of the
 * workspace, the REAL Claude Code and OpenCode CLIs from node_modules, the
 * builtin recording proxy and the oracle (the scripted demo/test model — not
 * a real LLM). Scenarios share one workspace; each has its own small pipeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipelinePaths } from '@trajgen/config';
import { readLedger } from '@trajgen/ledger';
import { listJobDirs, readJobDir, type JobDir } from '@trajgen/harbor';
import { filesUnder, jsonlLines } from '../support/files';
import { createTempWorkspace, derivePipeline, processesUnder, waitForKillPoint, type TempWorkspace } from './harness';

const SECRET = 'SECRET_TOKEN_e2e_9b1f07c3aa';
const DEMO_IDS = ['add-greeting', 'config-json-edit', 'csv-summary', 'docs-usage-section', 'fix-off-by-one', 'multi-step-textstats', 'refactor-extract-function', 'shell-line-counter'];

describe('rollout e2e: nx run <p>:rollout with real agent CLIs and the oracle', () => {
  let ws: TempWorkspace;
  const paths = (name: string) => pipelinePaths(ws.root, name);
  const runJson = (name: string) => JSON.parse(ws.read(`artifacts/${name}/rollout/run.json`));
  const jobOf = (name: string): JobDir => readJobDir(join(paths(name).jobs, runJson(name).job));

  /** A pipeline `name` derived from the demo config, with its own copies of some demo tasks (plus extra task dirs). */
  function pipeline(name: string, ids: string[], rollout: Record<string, unknown>, extra: Record<string, Record<string, string>> = {}) {
    derivePipeline(ws, {
      from: 'demo',
      name,
      ids,
      extra,
      edit: (cfg) => (cfg.rollout = { ...cfg.rollout, ...rollout, llm_api: { ...cfg.rollout.llm_api, ...((rollout.llm_api as object) ?? {}) } }),
    });
  }

  /** Per trial: lines logged by the proxy == generation requests the oracle received. */
  function expectLinesMatchOracle(name: string, job: JobDir) {
    const oracle = runJson(name).oracle.generation_by_trial as Record<string, number>;
    for (const t of job.trials) {
      const lines = jsonlLines(join(t.dir, 'agent', 'litellm-trajectory.jsonl'));
      expect(lines.length, `${t.name}: logged lines vs oracle requests`).toBe(oracle[t.name] ?? 0);
      expect(lines.length, t.name).toBeGreaterThan(0);
    }
  }


  /** The real trajectories of a pipeline convert end to end: one valid IM row per resolved trial, none dropped. */
  function expectConvertsEndToEnd(pipeline: string, resolved: string[], scaffold: string) {
    const c = ws.nx(['run', `${pipeline}:convert`, '--exclude-task-dependencies']);
    expect(c.code, c.output).toBe(0);
    const stats = JSON.parse(ws.read(`artifacts/${pipeline}/data/im_data/${pipeline}.stats.json`));
    expect(stats.dropped, JSON.stringify(stats.examples ?? [])).toEqual({});
    const rows = ws.read(`artifacts/${pipeline}/data/im_data/${pipeline}.jsonl`).trimEnd().split('\n').map((l) => JSON.parse(l));
    const main = rows.filter((r) => r.meta_info.unique_info._agent_type === 'main');
    expect(main.map((r) => r.meta_info.unique_info._instance_id).sort()).toEqual([...resolved].sort());
    for (const row of main) {
      expect(row.meta_info.unique_info._scaffold).toBe(scaffold);
      const roles = row.messages.map((m: { role: string }) => m.role);
      expect(roles[0]).toBe('system');
      expect(roles[roles.length - 1]).toBe('assistant');
      // The agent's tool calls came through: at least the oracle's look-around, its solve steps and the check.
      expect(row.messages.filter((m: { tool_calls?: unknown[] }) => m.tool_calls?.length).length, row.meta_info.unique_info._instance_id).toBeGreaterThanOrEqual(3);
    }
  }

  beforeAll(() => {
    ws = createTempWorkspace({ prefix: 'trajgen-e2e-rollout-' });
  });
  afterAll(() => ws?.remove());

  it('demo (Claude Code): every manifest task gets one trial, lines == upstream requests, rewards 1.0 / 0.0 for the wrong answer, ledger done, no secret anywhere; a rerun rolls out nothing', () => {
    const r = ws.nx(['run', 'demo:rollout'], { env: { SECRET_TOKEN: SECRET } });
    expect(r.code, r.output).toBe(0);
    expect(r.ran).toEqual(expect.arrayContaining(['demo:prepare', 'demo:rollout']));
    expect(r.output).toMatch(/rollout 8\/8 done · pass 88% \(7\/8\)/);
    expect(r.output).toMatch(/^task\s+trial\s+reward\s+exception/m);

    const run = runJson('demo');
    expect(run).toMatchObject({ status: 'completed', engine: 'local', scaffold: 'claude-code', agent_version: '2.1.197', counts: { trials: 8, reward_1: 7, reward_0: 1 } });
    expect(run.job).toMatch(/^tasks-claude-code-2\.1\.197-trajgen-oracle-\d{14}$/);
    const job = jobOf('demo');
    expect(job.trials.map((t) => t.name.split('__')[0]).sort()).toEqual(DEMO_IDS);
    for (const t of job.trials) {
      const id = t.name.split('__')[0];
      expect(t.result?.verifier_result?.rewards, id).toEqual({ reward: id === 'fix-off-by-one' ? 0 : 1 });
      expect(t.result?.exception_info, id).toBeNull();
      expect(t.result?.agent_info).toEqual({ name: 'claude-code', version: '2.1.197', model_info: { name: 'trajgen-oracle', provider: 'anthropic' } });
      expect(existsSync(join(t.dir, 'agent', 'claude-code.txt'))).toBe(true);
      expect(existsSync(join(t.dir, 'verifier', 'test-stdout.txt'))).toBe(true);
    }
    expectLinesMatchOracle('demo', job);
    expect(job.result?.finished_at).not.toBeNull();
    expect(job.result?.stats).toMatchObject({ n_completed_trials: 8, n_errored_trials: 0 });

    const ledger = readLedger(paths('demo'));
    expect(ledger.summary().counts).toMatchObject({ done: 8, pending: 0, running: 0 });
    expect(ledger.get('fix-off-by-one')).toMatchObject({ status: 'done', reward: 0 });
    const trials = JSON.parse(ws.read('artifacts/demo/rollout/trials.json'));
    expect(trials.trials).toHaveLength(8);

    // Neither a host secret nor the per-job proxy key is written anywhere.
    for (const f of filesUnder(join(ws.root, 'artifacts/demo'))) {
      const text = readFileSync(f, 'utf8');
      expect(text.includes(SECRET), f).toBe(false);
      expect(/sk-trajgen-[0-9a-f]{48}/.test(text), f).toBe(false);
    }

    // A rerun rolls out nothing: both stages come from the cache, no new job.
    const again = ws.nx(['run', 'demo:rollout']);
    expect(again.code, again.output).toBe(0);
    expect(again.cached).toEqual(expect.arrayContaining(['demo:prepare', 'demo:rollout']));
    // …and without the cache, the ledger says so.
    const fresh = ws.nx(['run', 'demo:rollout', '--skip-nx-cache']);
    expect(fresh.code, fresh.output).toBe(0);
    expect(fresh.output).toMatch(/nothing to roll out/);
    expect(listJobDirs(paths('demo').jobs)).toHaveLength(1);

    expectConvertsEndToEnd('demo', DEMO_IDS.filter((id) => id !== 'fix-off-by-one'), 'claude-code');
  });

  it('demo-opencode (OpenCode, a three-task subset): same guarantees', () => {
    ws.edit('pipelines/demo-opencode/config.yaml', (t) => t.replace('manifest: verifiable_tasks.txt', 'manifest: e2e-subset.txt').replace('n_concurrent: 2', 'n_concurrent: 3'));
    ws.write('pipelines/demo/tasks/e2e-subset.txt', 'add-greeting\nfix-off-by-one\ncsv-summary\n');
    const r = ws.nx(['run', 'demo-opencode:rollout']);
    expect(r.code, r.output).toBe(0);
    const job = jobOf('demo-opencode');
    expect(runJson('demo-opencode').job).toMatch(/^tasks-opencode-1\.18\.33-trajgen-oracle-\d{14}$/);
    expect(job.trials.map((t) => t.name.split('__')[0]).sort()).toEqual(['add-greeting', 'csv-summary', 'fix-off-by-one']);
    for (const t of job.trials) {
      const id = t.name.split('__')[0];
      expect(t.result?.verifier_result?.rewards, id).toEqual({ reward: id === 'fix-off-by-one' ? 0 : 1 });
      expect(t.result?.agent_info.name).toBe('opencode');
      expect(existsSync(join(t.dir, 'agent', 'opencode.txt'))).toBe(true);
      // OpenCode speaks OpenAI chat completions through the proxy.
      expect(jsonlLines(join(t.dir, 'agent', 'litellm-trajectory.jsonl')).every((l) => l.endpoint === '/v1/chat/completions')).toBe(true);
    }
    expectLinesMatchOracle('demo-opencode', job);
    expect(readLedger(paths('demo-opencode')).summary().counts).toMatchObject({ done: 3, pending: 0, running: 0 });
    const again = ws.nx(['run', 'demo-opencode:rollout']);
    expect(again.cached).toEqual(expect.arrayContaining(['demo-opencode:prepare', 'demo-opencode:rollout']));

    expectConvertsEndToEnd('demo-opencode', ['add-greeting', 'csv-summary'], 'opencode');
  });

  it('reliability: upstream 429 / 500 / disconnect are survived and logged as failed calls; a verifier timeout is VerifierTimeoutError; an agent that crashes is retried, verified and kept', () => {
    pipeline(
      'faults',
      ['add-greeting', 'config-json-edit', 'csv-summary'],
      { n_concurrent: 4, max_retries: 0, llm_api: { oracle: { latency_ms: 0, faults: { 'add-greeting': 'http_429', 'config-json-edit': 'http_500', 'csv-summary': 'disconnect' } } } },
      {
        'slow-verifier': {
          'task.toml': 'schema_version = "1.4"\n\n[agent]\ntimeout_sec = 120.0\n\n[verifier]\ntimeout_sec = 2.0\n',
          'instruction.md': 'Create done.txt containing the word done.\n',
          'environment/README.md': 'scratch\n',
          'solution/solve.sh': '#!/usr/bin/env bash\n# write the file\necho done > done.txt\n',
          'tests/test.sh': '#!/usr/bin/env bash\nsleep 60\necho 1 > "${TRAJGEN_LOGS_DIR:-/logs}/verifier/reward.txt"\n',
        },
      },
    );
    pipeline('crash', ['add-greeting'], { n_concurrent: 1, max_retries: 1, agent: { env: { CLAUDE_CODE_MAX_TURNS: '0' }, pass_env: [] } });
    const r = ws.nx(['run-many', '-t', 'rollout', '-p', 'faults', 'crash']);
    expect(r.code, r.output).toBe(0);

    const job = jobOf('faults');
    const expected: Record<string, { type: string; status: number }> = {
      'add-greeting': { type: 'upstream_http_error', status: 429 },
      'config-json-edit': { type: 'upstream_http_error', status: 500 },
      'csv-summary': { type: 'upstream_disconnect', status: 200 },
    };
    for (const [id, fault] of Object.entries(expected)) {
      const t = job.trials.find((x) => x.name.startsWith(`${id}__`))!;
      expect(t.result?.verifier_result?.rewards, id).toEqual({ reward: 1 });
      const failed = jsonlLines(join(t.dir, 'agent', 'litellm-trajectory.jsonl')).filter((l) => l.success === false);
      expect(failed, id).toHaveLength(1);
      expect(failed[0].failure).toMatchObject({ error_type: fault.type, status_code: fault.status });
    }
    expectLinesMatchOracle('faults', job);
    expect(runJson('faults').oracle.faults_fired).toBe(3);
    const slow = job.trials.find((x) => x.name.startsWith('slow-verifier__'))!;
    expect(slow.result?.exception_info?.exception_type).toBe('VerifierTimeoutError');
    expect(slow.result?.verifier_result).toBeNull();
    const faultsLedger = readLedger(paths('faults'));
    expect(faultsLedger.get('slow-verifier')).toMatchObject({ status: 'failed', attempts: 1, exception_type: 'VerifierTimeoutError' });
    expect(faultsLedger.summary().counts.done).toBe(3);

    // The crashing agent: every attempt fails fast (CLAUDE_CODE_MAX_TURNS=0 is rejected by the CLI).
    const crashJob = jobOf('crash');
    expect(crashJob.trials).toHaveLength(1);
    const final = crashJob.trials[0];
    expect(final.result?.exception_info?.exception_type).toBe('NonZeroAgentExitCodeError');
    expect(readFileSync(join(final.dir, 'agent', 'claude-code.txt'), 'utf8')).toMatch(/CLAUDE_CODE_MAX_TURNS must be a positive integer/);
    // Harbor semantics: the verifier still ran after the failed agent.
    expect(final.result?.verifier_result?.rewards).toEqual({ reward: 0 });
    const kept = readdirSync(join(crashJob.dir, '.attempts'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(crashJob.dir, '.attempts', kept[0], 'verifier', 'reward.txt'), 'utf8').trim()).toBe('0');
    expect(readLedger(paths('crash')).get('add-greeting')).toMatchObject({ status: 'failed', attempts: 2, exception_type: 'NonZeroAgentExitCodeError' });
    expect(crashJob.result?.stats).toMatchObject({ n_completed_trials: 1, n_retries: 1 });
  });

  it('SIGKILL of the rollout process mid-job, then a rerun: each task consumed exactly once, no trajectory lost, no agent left running', async () => {
    const ids = ['add-greeting', 'config-json-edit', 'csv-summary', 'shell-line-counter'];
    pipeline('kill', ids, { n_concurrent: 2, max_retries: 1, llm_api: { oracle: { latency_ms: 600, faults: {} } } });
    const p = paths('kill');
    const first = ws.nxAsync(['run', 'kill:rollout']);
    // Wait until the rollout holds the ledger, one trial has finished and another is mid-way (its log started).
    const { pid } = await waitForKillPoint(p, 120_000, 100);
    process.kill(pid, 'SIGKILL');
    const killed = await first;
    expect(killed.code).not.toBe(0);
    // What was on disk at the kill.
    const before = new Map<string, number>();
    for (const f of filesUnder(p.jobs)) if (f.endsWith('litellm-trajectory.jsonl')) before.set(f, jsonlLines(f).length);
    expect([...before.keys()].some((f) => !existsSync(join(f, '../../result.json')))).toBe(true);

    // The watchdog in each agent's process group takes the agents down with the rollout.
    const agentsLeft = () => processesUnder(join(ws.tmp, 'trajgen-kill-'));
    for (let i = 0; i < 50 && agentsLeft().length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(agentsLeft()).toEqual([]);

    const staleScratch = readdirSync(ws.tmp).filter((n) => n.startsWith('trajgen-kill-') && existsSync(join(ws.tmp, n, '.trajgen-owner.json')));
    expect(staleScratch.length).toBeGreaterThanOrEqual(1);

    // The rerun: prepare reconciles (finished trials finalized, interrupted ones back to pending) and rolls out the rest.
    const again = ws.nx(['run', 'kill:rollout']);
    expect(again.code, again.output).toBe(0);
    // The killed run's working copies are cleaned up.
    for (const n of staleScratch) expect(existsSync(join(ws.tmp, n)), n).toBe(false);
    expect(again.output).toMatch(/reconcile: \d+ finalized from trial results, \d+ returned to pending/);
    const ledger = readLedger(p);
    expect(ledger.summary().counts).toMatchObject({ done: 4, pending: 0, running: 0, failed: 0 });

    // Exactly once: one usable trial (trajectory + verifier result) per task across all jobs, and a task that
    // finished in the killed job never ran again.
    const jobs = listJobDirs(p.jobs).map(readJobDir);
    expect(jobs).toHaveLength(2);
    for (const id of ids) {
      const usable = jobs.flatMap((j) => j.trials.filter((t) => t.name.startsWith(`${id}__`) && t.result?.verifier_result?.rewards && existsSync(join(t.dir, 'agent', 'litellm-trajectory.jsonl'))));
      expect(usable.map((t) => t.dir), id).toHaveLength(1);
      const e = ledger.get(id)!;
      expect(e.trajectory_path, id).toBe(`artifacts/kill/jobs/${usable[0].dir.split('/jobs/')[1]}/agent/litellm-trajectory.jsonl`);
      if (usable[0].dir.startsWith(jobs[0].dir)) expect(jobs[1].trials.some((t) => t.name.startsWith(`${id}__`)), `${id} ran again`).toBe(false);
    }
    // Interrupted tasks went back to pending through reconcile (recorded in their history).
    const returned = ids.filter((id) => ledger.get(id)!.history.some((h) => h.by === 'reconcile' && h.change === 'running → pending'));
    expect(returned.length).toBeGreaterThanOrEqual(1);
    // No trajectory lost: every file present at the kill is still there, unchanged.
    for (const [f, n] of before) expect(jsonlLines(f).length, f).toBe(n);
    expect(statSync(join(jobs[0].dir, 'result.json')).isFile()).toBe(true);
  });
});
