/**
 * proxy.backend: litellm end to end: real nx, the real Claude Code and OpenCode CLIs, the REAL LiteLLM
 * proxy (managed env: artifacts/env/litellm of the checkout, shared with the temporary copy through
 * TRAJGEN_LITELLM_ENV; created on first use) with trajgen's logger callback, and the oracle upstream.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelinePaths } from '@trajgen/config';
import { readJobDir, type JobDir } from '@trajgen/harbor';
import { createTempWorkspace, type TempWorkspace } from './harness';

const SECRET = 'SECRET_TOKEN_e2e_litellm_51d0c2';
const SUBSET = ['add-greeting', 'csv-summary', 'fix-off-by-one'];
/** The keys of a builtin proxy line (libs/proxy/src/line.ts); LiteLLM's add litellm_call_id. */
const LINE_KEYS = ['duration_ms', 'endpoint', 'request_body', 'request_time', 'response_body', 'session_id', 'stream', 'success', 'timestamp', 'usage'];

function jsonl(path: string): Record<string, unknown>[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.isFile()) out.push(join(d, e.name));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

describe('rollout through the real LiteLLM proxy', () => {
  let ws: TempWorkspace;
  beforeAll(() => {
    ws = createTempWorkspace({ prefix: 'trajgen-e2e-litellm-' });
    ws.write('pipelines/demo/tasks/e2e-litellm.txt', SUBSET.join('\n') + '\n');
  });
  afterAll(() => ws?.remove());

  const runJson = (p: string) => JSON.parse(ws.read(`artifacts/${p}/rollout/run.json`));
  const jobOf = (p: string): JobDir => readJobDir(join(pipelinePaths(ws.root, p).jobs, runJson(p).job));

  function rolloutThroughLitellm(p: string, endpoint: string, scaffold: string) {
    ws.edit(`pipelines/${p}/config.yaml`, (t) => t.replace('manifest: verifiable_tasks.txt', 'manifest: e2e-litellm.txt').replace('  backend: builtin', '  backend: litellm'));
    const r = ws.nx(['run', `${p}:rollout`], { env: { SECRET_TOKEN: SECRET }, timeoutMs: 1_200_000 });
    expect(r.code, r.output.slice(-6000)).toBe(0);
    expect(r.output).toMatch(/proxy \(litellm\) at http:\/\/127\.0\.0\.1:\d+/);
    const run = runJson(p);
    expect(run.counts).toMatchObject({ trials: 3, reward_1: 2, reward_0: 1 });
    const job = jobOf(p);
    expect(job.trials.map((t) => t.name.split('__')[0]).sort()).toEqual(SUBSET);

    // One line per model call: the lines of all trials == the generation requests the oracle answered.
    // The oracle saw no trial header at all: LiteLLM does not forward the routing header upstream
    // (the oracle then finds each task from its instruction text, and still gets fix-off-by-one wrong).
    const oracle = run.oracle.generation_by_trial as Record<string, number>;
    expect(Object.keys(oracle)).toEqual(['(no trial header)']);
    let lines = 0;
    for (const t of job.trials) {
      const logged = jsonl(join(t.dir, 'agent', 'litellm-trajectory.jsonl'));
      expect(logged.length, t.name).toBeGreaterThan(0);
      lines += logged.length;
      for (const l of logged) {
        expect(Object.keys(l).filter((k) => k !== 'litellm_call_id' && k !== 'failure').sort(), t.name).toEqual(LINE_KEYS);
        expect(l).toMatchObject({ session_id: t.name, endpoint, success: true });
        expect(JSON.stringify(l.request_body)).not.toMatch(/litellm_metadata|user_api_key|x-trajgen-trial/);
      }
      expect(t.result?.verifier_result?.rewards).toEqual({ reward: t.name.startsWith('fix-off-by-one') ? 0 : 1 });
    }
    expect(lines).toBe(Object.values(oracle).reduce((a, b) => a + b, 0));

    // The secret and the per-job key nowhere: artifacts (jobs, LiteLLM's config, logs, callback files).
    for (const f of filesUnder(join(ws.root, 'artifacts', p))) {
      const text = readFileSync(f, 'utf8');
      expect(text.includes(SECRET), f).toBe(false);
      expect(/sk-trajgen-[0-9a-f]{48}/.test(text), f).toBe(false);
    }

    // The trajectories convert: one row per resolved trial, nothing dropped.
    const c = ws.nx(['run', `${p}:convert`, '--exclude-task-dependencies']);
    expect(c.code, c.output.slice(-4000)).toBe(0);
    const dataName = p === 'demo' ? 'demo' : 'demo-opencode';
    const stats = JSON.parse(ws.read(`artifacts/${p}/data/im_data/${dataName}.stats.json`));
    expect(stats.dropped).toEqual({});
    const rows = ws.read(`artifacts/${p}/data/im_data/${dataName}.jsonl`).trimEnd().split('\n').map((l) => JSON.parse(l));
    const main = rows.filter((row) => row.meta_info.unique_info._agent_type === 'main');
    expect(main.map((row) => row.meta_info.unique_info._instance_id).sort()).toEqual(['add-greeting', 'csv-summary']);
    for (const row of main) expect(row.meta_info.unique_info._scaffold).toBe(scaffold);
  }

  it('Claude Code → LiteLLM → oracle: one line per call in the builtin format, header not forwarded, no secret anywhere, trajectories convert', () => {
    rolloutThroughLitellm('demo', '/v1/messages', 'claude-code');
  }, 1_300_000);

  it('OpenCode → LiteLLM → oracle: the same', () => {
    rolloutThroughLitellm('demo-opencode', '/v1/chat/completions', 'opencode');
  }, 1_300_000);
});
