/**
 * The harbor engine's orchestration for `environment: docker` against
 * `fake-harbor`, a TEST DOUBLE of the Harbor CLI (src/__fixtures__/fake-harbor.cjs):
 * there is no Docker engine here, and Harbor's in-job retries, crash → resume
 * and n_attempts > 1 are its Docker-trial behaviours. The real Harbor (host
 * environment) runs in test/e2e/harbor.test.ts and
 * harbor-config.real.spec.ts. The proxy, the oracle and the ledger are the real ones.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLedger } from '@trajgen/ledger';
import { listJobDirs, readJobDir } from '@trajgen/harbor';
import { rolloutPipeline } from './index';
import { captureIO, createWorkspace, FAKE_HARBOR, REAL_FIXTURES, simpleTask, type TestWorkspace } from './__fixtures__/workspace';

const ATIF = join(REAL_FIXTURES, 'harbor', 'hello-world-invalid-json.trajectory.json');

function lines(path: string): number {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0;
}

function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return fn().finally(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

describe('harbor engine with environment docker against fake-harbor (a TEST DOUBLE of Harbor running Docker trials, which cannot run here)', () => {
  let ws: TestWorkspace | undefined;
  afterEach(() => ws?.remove());

  function harborWorkspace(extra: Record<string, unknown> = {}) {
    ws = createWorkspace({
      rollout: {
        engine: 'harbor',
        scaffold: 'claude-code',
        n_concurrent: 2,
        max_retries: 2,
        agent: { version: '2.1.197', env: {}, pass_env: [] },
        harbor: { executable: FAKE_HARBOR, environment: 'docker', proxy_host: '127.0.0.1' },
        ...extra,
      },
    });
    for (const id of ['alpha', 'beta', 'gamma']) ws.addTask(id, simpleTask({}));
    ws.prepare();
    return ws;
  }

  it('writes a secret-free config, records every result as it appears, keeps Harbor-retried attempts, and indexes the job', async () => {
    const w = harborWorkspace();
    const { io, lines: out } = captureIO();
    const res = await withEnv({ FAKE_HARBOR_FAIL_FIRST: 'beta', FAKE_HARBOR_REWARD_0: 'gamma', FAKE_HARBOR_ATIF: ATIF, FAKE_HARBOR_DELAY_MS: '150' }, () =>
      rolloutPipeline(w.load(), io, { handleSignals: false, harborPollMs: 100 }),
    );
    const job = res.job!;
    expect(job).toMatch(/^tasks-claude-code-2\.1\.197-trajgen-oracle-\d{14}$/);
    const p = w.load().paths;

    // The generated config: Harbor v0.22 keys, the batch as include globs, no secret.
    const cfgText = readFileSync(join(p.logs, job, 'harbor-job.json'), 'utf8');
    const cfg = JSON.parse(cfgText);
    expect(cfg.datasets[0].task_names).toEqual(['alpha', 'beta', 'gamma']);
    expect(cfg.retry.exclude_exceptions).toContain('VerifierTimeoutError');
    expect(cfg.agents[0].env.ANTHROPIC_API_KEY).toBe('${TRAJGEN_PROXY_KEY}');
    expect(cfgText).not.toMatch(/sk-trajgen-[0-9a-f]{16}/);

    // Ledger: all done; beta took two attempts (Harbor's retry), gamma scored 0.0.
    const ledger = readLedger(p);
    expect(ledger.summary().counts.done).toBe(3);
    expect(ledger.get('beta')!.attempts).toBe(2);
    expect(ledger.get('gamma')!.reward).toBe(0);
    expect(ledger.get('alpha')!.reward).toBe(1);

    // The failed attempt Harbor deleted was copied first: no trajectory lost.
    const kept = readdirSync(join(p.jobs, '.attempts', job));
    expect(kept.some((n) => n.startsWith('beta__') && n.includes('.retried'))).toBe(true);

    // Every model call the oracle received is a logged line (retried attempt included).
    const oracle = res.run.oracle!.generation_by_trial;
    const jobDir = readJobDir(join(p.jobs, job));
    expect(jobDir.trials).toHaveLength(3);
    for (const t of jobDir.trials) {
      const keptLines = kept.filter((n) => n.startsWith(`${t.name}.`)).reduce((s, n) => s + lines(join(p.jobs, '.attempts', job, n, 'agent', 'litellm-trajectory.jsonl')), 0);
      expect(lines(join(t.dir, 'agent', 'litellm-trajectory.jsonl')) + keptLines, t.name).toBe(oracle[t.name]);
      expect(existsSync(join(t.dir, 'agent', 'trajectory.json'))).toBe(true);
    }

    // Outputs: trials.json lists the job's trials with digests; run.json this run.
    expect(res.trials.trials.map((t) => t.task_id)).toEqual(['alpha', 'beta', 'gamma']);
    expect(Object.keys(res.trials.trials[0].files).sort()).toEqual(['agent/litellm-trajectory.jsonl', 'agent/trajectory.json']);
    expect(res.run).toMatchObject({ status: 'completed', engine: 'harbor', counts: { trials: 3, reward_1: 2, reward_0: 1 } });
    expect(res.run.ledger_digest_after).toMatch(/^[0-9a-f]{64}$/);
    expect(out.some((l) => l.startsWith('harbor │ '))).toBe(true);
    expect(readFileSync(join(p.logs, job, 'harbor.log'), 'utf8')).toMatch(/fake-harbor: job/);
    expect(listJobDirs(p.jobs)).toHaveLength(1);
  });

  it('resumes the job with `harbor job resume` after Harbor dies mid-job, keeping the half-done trial first', async () => {
    const w = harborWorkspace({ n_concurrent: 1 });
    const { io, lines: out } = captureIO();
    const res = await withEnv({ FAKE_HARBOR_CRASH_AFTER: '1', FAKE_HARBOR_DELAY_MS: '100' }, () => rolloutPipeline(w.load(), io, { handleSignals: false, harborPollMs: 100 }));
    const p = w.load().paths;
    expect(out.filter((l) => /resuming the job/.test(l)).length).toBeGreaterThanOrEqual(1);
    expect(readLedger(p).summary().counts.done).toBe(3);
    const runs = JSON.parse(readFileSync(join(p.logs, res.job!, 'harbor.log.runs.json'), 'utf8')).runs as { command: string; code: number }[];
    expect(runs[0].code).toBe(1);
    expect(runs.slice(1).every((r) => r.command.includes('job resume -p'))).toBe(true);
    // The trial that was half done when Harbor died (its dir deleted by resume) was copied with its logged call.
    const kept = readdirSync(join(p.jobs, '.attempts', res.job!)).filter((n) => n.includes('.interrupted'));
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(lines(join(p.jobs, '.attempts', res.job!, kept[0], 'agent', 'litellm-trajectory.jsonl'))).toBe(1);
    // Every task once in the job.
    expect(readJobDir(join(p.jobs, res.job!)).trials.map((t) => t.name.split('__')[0]).sort()).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('cancels Harbor on abort: running trials end as CancelledError and go back to pending; the run says it was interrupted', async () => {
    const w = harborWorkspace({ n_concurrent: 1 });
    const { io } = captureIO();
    const abort = new AbortController();
    const p = w.load().paths;
    const run = withEnv({ FAKE_HARBOR_DELAY_MS: '1500' }, () => rolloutPipeline(w.load(), io, { handleSignals: false, harborPollMs: 100, signal: abort.signal }));
    // Abort once the first trial dir exists.
    for (let i = 0; i < 100; i++) {
      const jobs = existsSync(p.jobs) ? readdirSync(p.jobs).filter((n) => !n.startsWith('.')) : [];
      if (jobs.length && readdirSync(join(p.jobs, jobs[0])).some((n) => n.includes('__'))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    abort.abort();
    await expect(run).rejects.toThrow(/interrupted/);
    const ledger = readLedger(p);
    const statuses = ['alpha', 'beta', 'gamma'].map((id) => ledger.get(id)!.status);
    expect(statuses.every((s) => s === 'pending' || s === 'running')).toBe(true);
    expect(statuses).toContain('pending');
    const runJson = JSON.parse(readFileSync(join(p.rolloutOut, 'run.json'), 'utf8'));
    expect(runJson.status).toBe('interrupted');
    expect(runJson.ledger_digest_after).toBeNull();
  });

  it('fails the stage with Harbor\'s own message when harbor refuses the job before creating it', async () => {
    const w = harborWorkspace();
    const run = withEnv({ FAKE_HARBOR_REFUSE: '1' }, () => rolloutPipeline(w.load(), captureIO().io, { handleSignals: false, harborPollMs: 100 }));
    await expect(run).rejects.toThrow(/harbor run exited with code 1 before creating the job/);
    await run.catch((e) => expect(e.details.join('\n')).toMatch(/ValidationError/));
    const runJson = JSON.parse(readFileSync(join(w.load().paths.rolloutOut, 'run.json'), 'utf8'));
    expect(runJson).toMatchObject({ status: 'failed', ledger_digest_after: null });
  });

  it('with n_attempts 2 waits for both trials of a task and records the task once', async () => {
    const w = harborWorkspace({ harbor: { executable: FAKE_HARBOR, environment: 'modal', proxy_host: '127.0.0.1', n_attempts: 2, agent_kwargs: {} } });
    const res = await withEnv({ FAKE_HARBOR_DELAY_MS: '50', FAKE_HARBOR_REWARD_0: 'beta' }, () => rolloutPipeline(w.load(), captureIO().io, { handleSignals: false, harborPollMs: 100 }));
    const p = w.load().paths;
    expect(JSON.parse(readFileSync(join(p.logs, res.job!, 'harbor-job.json'), 'utf8'))).toMatchObject({ n_attempts: 2, environment: { type: 'modal' } });
    expect(readJobDir(join(p.jobs, res.job!)).trials).toHaveLength(6);
    const ledger = readLedger(p);
    expect(ledger.summary().counts.done).toBe(3);
    expect(ledger.get('alpha')!.attempts).toBe(2);
    expect(res.run.counts.trials).toBe(3);
  });
});
