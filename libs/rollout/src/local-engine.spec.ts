/**
 * The local engine with the REAL Claude Code CLI (node_modules), the real
 * builtin proxy and the oracle (the scripted demo/test model): clean
 * environment (no host secret reaches a trial or a file), agent timeout
 * (verifier still runs), verifier timeout, agent killed → infrastructure retry
 * with the failed attempt kept.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readLedger } from '@trajgen/ledger';
import { readJobDir } from '@trajgen/harbor';
import { liveProcessGroups, signalGroup } from '@trajgen/core';
import { rolloutPipeline } from './index';
import { filesUnder } from '../../../test/support/files';
import { captureIO, createWorkspace, simpleTask, type TestWorkspace } from './__fixtures__/workspace';

const SECRET = 'SECRET_TOKEN_value_4f1c2b9e7d';

describe('local engine with the real Claude Code CLI and the oracle', () => {
  let ws: TestWorkspace | undefined;
  afterEach(() => {
    delete process.env.SECRET_TOKEN;
    ws?.remove();
  });

  it('runs each trial in a clean environment: a host secret reaches neither the agent, the verifier nor any file; a verifier timeout is VerifierTimeoutError', async () => {
    ws = createWorkspace({ rollout: { max_retries: 1, agent: { env: { TRAJGEN_TEST_MARK: 'from-config' }, pass_env: [] } } });
    ws.addTask(
      'env-dump',
      simpleTask({
        instruction: 'Write the environment into agent-env.txt.\n',
        solve: '#!/usr/bin/env bash\n# dump the environment\nenv | sort > agent-env.txt\n',
        testSh:
          '#!/usr/bin/env bash\nAPP_DIR="${TRAJGEN_APP_DIR:-/app}"\nLOGS_DIR="${TRAJGEN_LOGS_DIR:-/logs}"\nmkdir -p "$LOGS_DIR/verifier"\ncp "$APP_DIR/agent-env.txt" "$LOGS_DIR/verifier/agent-env.txt"\nenv | sort > "$LOGS_DIR/verifier/verifier-env.txt"\nif [ -s "$APP_DIR/agent-env.txt" ]; then echo 1 > "$LOGS_DIR/verifier/reward.txt"; else echo 0 > "$LOGS_DIR/verifier/reward.txt"; fi\n',
      }),
    );
    ws.addTask('slow-verifier', simpleTask({ verifierTimeout: 1, testSh: '#!/usr/bin/env bash\nsleep 30\necho 1 > "${TRAJGEN_LOGS_DIR:-/logs}/verifier/reward.txt"\n' }));
    ws.prepare();
    process.env.SECRET_TOKEN = SECRET;
    const { io } = captureIO();
    const res = await rolloutPipeline(ws.load(), io, { handleSignals: false });
    const p = ws.load().paths;
    const job = readJobDir(join(p.jobs, res.job!));
    const dump = job.trials.find((t) => t.name.startsWith('env-dump__'))!;
    expect(dump.result?.verifier_result?.rewards).toEqual({ reward: 1 });
    const agentEnv = readFileSync(join(dump.dir, 'verifier', 'agent-env.txt'), 'utf8');
    const verifierEnv = readFileSync(join(dump.dir, 'verifier', 'verifier-env.txt'), 'utf8');
    // The allowlist: HOME in the trial's temp area, the config's agent env, the routing; nothing else of the host.
    expect(agentEnv).toMatch(/^HOME=.*trajgen-p-.*\/home$/m);
    expect(agentEnv).toMatch(/^TRAJGEN_TEST_MARK=from-config$/m);
    expect(agentEnv).toMatch(/^ANTHROPIC_CUSTOM_HEADERS=x-trajgen-trial: env-dump__/m);
    expect(agentEnv).not.toMatch(/SECRET_TOKEN/);
    expect(verifierEnv).not.toMatch(/SECRET_TOKEN|ANTHROPIC_API_KEY/);
    expect(verifierEnv).toMatch(/^TRAJGEN_LOGS_DIR=.*env-dump__/m);
    // No file the run wrote holds the secret or the per-job proxy key.
    const key = /^ANTHROPIC_API_KEY=(.*)$/m.exec(agentEnv)![1];
    expect(key).toMatch(/^sk-trajgen-/);
    for (const f of filesUnder(p.artifacts)) {
      if (f.endsWith('agent-env.txt')) continue; // the dump this test asked the agent for
      const text = readFileSync(f, 'utf8');
      expect(text.includes(SECRET), f).toBe(false);
      expect(text.includes(key), f).toBe(false);
    }

    const slow = job.trials.find((t) => t.name.startsWith('slow-verifier__'))!;
    expect(slow.result?.exception_info?.exception_type).toBe('VerifierTimeoutError');
    expect(slow.result?.verifier_result).toBeNull();
    const slowEntry = readLedger(p).get('slow-verifier')!;
    // Trajectory but no verifier result: an infrastructure failure (not retried within the run: VerifierTimeoutError is excluded).
    expect(slowEntry).toMatchObject({ status: 'pending', attempts: 1, exception_type: 'VerifierTimeoutError' });
    expect(readLedger(p).get('env-dump')!.status).toBe('done');
    // A task of the batch can still be rolled out: run.json leaves the ledger digest out, so the next prepare re-runs.
    expect(res.run).toMatchObject({ status: 'completed', batch_settled: false, ledger_digest_after: null });
  });

  it('kills the agent at its timeout and still verifies; an agent killed before any model call is retried, the attempt kept', async () => {
    ws = createWorkspace({ rollout: { max_retries: 1, n_concurrent: 1, llm_api: { provider: 'oracle', oracle: { latency_ms: 4000, faults: {} } } } });
    ws.addTask('slow-agent', simpleTask({ agentTimeout: 2 }));
    ws.prepare();
    const { io } = captureIO();
    const res = await rolloutPipeline(ws.load(), io, { handleSignals: false, killGraceMs: 500 });
    const p = ws.load().paths;
    const t = readJobDir(join(p.jobs, res.job!)).trials[0];
    expect(t.result?.exception_info?.exception_type).toBe('AgentTimeoutError');
    // Harbor semantics: the verifier ran after the timeout.
    expect(t.result?.verifier_result?.rewards).toEqual({ reward: 0 });
    const exec = t.result!.agent_execution!;
    expect(Date.parse(exec.finished_at!) - Date.parse(exec.started_at!)).toBeLessThan(5000);
    expect(liveProcessGroups()).toEqual([]);
    ws.remove();

    // Kill the agent's process group as soon as it exists (before its first model call): no trajectory → retried.
    ws = createWorkspace({ rollout: { max_retries: 1, n_concurrent: 1 } });
    ws.addTask('killed-once', simpleTask({}));
    ws.prepare();
    let killed = 0;
    const watcher = setInterval(() => {
      for (const g of liveProcessGroups()) if (killed === 0 && signalGroup(g, 'SIGKILL')) killed = g;
    }, 5);
    let res2;
    try {
      res2 = await rolloutPipeline(ws.load(), captureIO().io, { handleSignals: false });
    } finally {
      clearInterval(watcher);
    }
    const p2 = ws.load().paths;
    const jobDir = join(p2.jobs, res2.job!);
    const final = readJobDir(jobDir).trials;
    expect(final).toHaveLength(1);
    expect(final[0].result?.verifier_result?.rewards).toEqual({ reward: 1 });
    const kept = readdirSync(join(jobDir, '.attempts'));
    expect(kept).toHaveLength(1);
    const first = JSON.parse(readFileSync(join(jobDir, '.attempts', kept[0], 'result.json'), 'utf8'));
    expect(first.exception_info.exception_type).toBe('NonZeroAgentExitCodeError');
    // The verifier ran for the killed attempt too.
    expect(readFileSync(join(jobDir, '.attempts', kept[0], 'verifier', 'reward.txt'), 'utf8').trim()).toBe('0');
    expect(existsSync(join(jobDir, '.attempts', kept[0], 'agent', 'litellm-trajectory.jsonl'))).toBe(false);
    expect(readLedger(p2).get('killed-once')).toMatchObject({ status: 'done', attempts: 2, reward: 1 });
    const jobResult = JSON.parse(readFileSync(join(jobDir, 'result.json'), 'utf8'));
    expect(jobResult.stats).toMatchObject({ n_completed_trials: 1, n_retries: 1, n_running_trials: 0 });
    expect(statSync(join(jobDir, 'trajgen-config.yaml')).size).toBeGreaterThan(0);
  });
});
