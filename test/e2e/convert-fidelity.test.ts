/**
 * Convert fidelity end to end: the REAL Claude Code and OpenCode CLIs
 * (node_modules/.bin) run a long scripted episode — thinking on every turn,
 * parallel tool calls, an Edit, a sub-agent, 30+ turns — through the builtin
 * recording proxy against agentic-upstream (a TEST DOUBLE, not a model). The
 * converted rows are checked against what the upstream really answered and
 * really received, never against hand-written expectations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { ImAssistantMessage, ImRow } from '@trajgen/im';
import { convertRawFile } from '@trajgen/convert';
import { JobTrialRouter, claudeCodeEnv, openCodeArgs, openCodeConfig, openCodeEnv, startBuiltinProxy, DEFAULT_TRIAL_HEADER } from '@trajgen/proxy';
import { BASH_TURNS, startAgenticUpstream, type Exchange } from './agentic-upstream';
import { REPO_ROOT } from './harness';

const CLAUDE = join(REPO_ROOT, 'node_modules/.bin/claude');
const OPENCODE = join(REPO_ROOT, 'node_modules/.bin/opencode');
const MODEL = 'fidelity-model';
const TRIAL = 'fidelity__t1';

interface Run {
  exchanges: Exchange[];
  rows: ImRow[];
  log: string;
}

/** One CLI run through proxy → upstream, then the trial's log converted on its own. */
async function runAgent(root: string, agent: 'claude-code' | 'opencode'): Promise<Run> {
  const work = join(root, agent, 'work');
  const jobDir = join(root, agent, 'job');
  mkdirSync(work, { recursive: true });
  mkdirSync(join(root, agent, 'home'), { recursive: true });
  // The CLIs' scratch (OpenCode, a Bun executable, unpacks a native library there) stays in this test's dir.
  const tmp = join(root, agent, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const upstream = await startAgenticUpstream(work);
  const routes = new JobTrialRouter(jobDir);
  const protocol = agent === 'claude-code' ? 'anthropic' : 'openai';
  const proxy = await startBuiltinProxy({ upstream: { baseUrl: upstream.url, protocol, apiKey: 'sk-upstream-test-double' }, routes, fsync: false });
  routes.register(TRIAL);
  const conn = { proxyUrl: proxy.url, key: proxy.key, model: MODEL, trial: TRIAL };
  const home = join(root, agent, 'home');
  try {
    const instruction = 'Write a.txt and b.txt, count the files with a sub-agent, edit a.txt, then run the numbered steps.';
    const run =
      agent === 'claude-code'
        ? await execa(CLAUDE, ['-p', instruction, '--model', MODEL, '--dangerously-skip-permissions', '--output-format', 'json', '--max-turns', '100'], {
            cwd: work,
            reject: false,
            timeout: 300_000,
            stdin: 'ignore',
            env: { ...claudeCodeEnv(conn), HOME: home, TMPDIR: tmp, ANTHROPIC_AUTH_TOKEN: '' },
            extendEnv: true,
          })
        : await (async () => {
            const cfg = join(root, agent, 'opencode.json');
            writeFileSync(cfg, JSON.stringify(openCodeConfig(conn)));
            return execa(OPENCODE, openCodeArgs(instruction, MODEL), {
              cwd: work,
              reject: false,
              timeout: 300_000,
              stdin: 'ignore',
              env: { ...openCodeEnv(cfg), HOME: home, TMPDIR: tmp, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local/share'), XDG_CACHE_HOME: join(home, '.cache'), XDG_STATE_HOME: join(home, '.local/state') },
              extendEnv: true,
            });
          })();
    expect(run.exitCode, `${agent}: ${run.stderr || run.stdout}`.slice(0, 4000)).toBe(0);
  } finally {
    await proxy.stop();
    await upstream.close();
  }
  const log = join(jobDir, TRIAL, 'agent', 'litellm-trajectory.jsonl');
  const verdict = convertRawFile(log, { instanceId: 'fidelity' });
  if (verdict.kind !== 'converted') throw new Error(`${agent}: ${verdict.reason}: ${verdict.message}`);
  return { exchanges: upstream.exchanges, rows: verdict.rows, log };
}

const assistants = (row: ImRow) => row.messages.filter((m): m is ImAssistantMessage => m.role === 'assistant');

/** Every scripted turn the upstream answered appears in a row of its stream: its reasoning, its text, each call with its result. */
function expectEveryTurnConverted(run: Run, stream: 'main' | 'subagent', row: ImRow) {
  const turns = run.exchanges.filter((e) => e.stream === stream && e.turn).map((e) => e.turn!);
  const byCall = new Map<string, ImAssistantMessage>();
  const byThought = new Map<string, ImAssistantMessage>();
  for (const a of assistants(row)) {
    for (const c of a.tool_calls ?? []) byCall.set(c.id, a);
    byThought.set(a.reasoning_content, a);
  }
  const toolResults = new Set(row.messages.filter((m) => m.role === 'tool').map((m) => (m as { tool_call_id: string }).tool_call_id));
  const distinct = new Map(turns.map((t) => [t.thinking, t]));
  for (const t of distinct.values()) {
    const a = t.calls.length ? byCall.get(t.calls[0].id) : byThought.get(t.thinking);
    expect(a, `${stream}: the turn "${t.thinking}" is in the row`).toBeDefined();
    expect(a!.reasoning_content, `${stream}: reasoning of the turn with ${t.calls.map((c) => c.id).join(',') || 'no calls'}`).toBe(t.thinking);
    expect(a!.tool_calls?.map((c) => c.id) ?? []).toEqual(t.calls.map((c) => c.id));
    for (const c of t.calls) expect(toolResults.has(c.id), `${stream}: a tool result for ${c.id}`).toBe(true);
  }
  return distinct.size;
}

function expectNoRoutingHeaderUpstream(run: Run) {
  expect(run.exchanges.length).toBeGreaterThan(BASH_TURNS);
  for (const e of run.exchanges) expect(Object.keys(e.headers), 'the routing header never reaches the upstream').not.toContain(DEFAULT_TRIAL_HEADER);
}

describe.skipIf(!existsSync(CLAUDE) || !existsSync(OPENCODE))('convert fidelity: real Claude Code and OpenCode through the proxy, against agentic-upstream (test double)', () => {
  let root: string;
  const runs: Partial<Record<'claude-code' | 'opencode', Run>> = {};
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'tg-fidelity-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('Claude Code: every thinking block, every call with its result, the sub-agent labelled and linked, no billing header', async () => {
    const run = (runs['claude-code'] = await runAgent(root, 'claude-code'));
    const main = run.rows.filter((r) => r.meta_info.unique_info._agent_type === 'main');
    const subs = run.rows.filter((r) => r.meta_info.unique_info._agent_type === 'subagent');
    expect(main).toHaveLength(1);
    expect(subs).toHaveLength(1);
    // The sub-agent was offered the spawning tool too (Claude Code 2.1's general-purpose agent): still a sub-agent.
    const spawnCall = assistants(main[0]).flatMap((a) => a.tool_calls ?? []).find((c) => /^(Agent|Task)$/.test(c.function.name));
    expect(spawnCall).toBeDefined();
    expect(subs[0].meta_info.unique_info._parent_tool_call_id).toBe(spawnCall!.id);
    expect(expectEveryTurnConverted(run, 'main', main[0])).toBeGreaterThanOrEqual(BASH_TURNS + 4);
    expect(expectEveryTurnConverted(run, 'subagent', subs[0])).toBe(2);
    for (const row of run.rows) {
      const text = JSON.stringify(row);
      expect(text).not.toMatch(/x-anthropic-billing-header|cc_version=/);
      // System reminders are never glued onto a tool observation.
      for (const m of row.messages) if (m.role === 'tool') expect(m.content).not.toContain('<system-reminder>');
    }
    expect(readFileSync(run.log, 'utf8')).not.toContain('sk-upstream-test-double');
  });

  it('OpenCode: every reasoning block, every call with its result, the sub-agent labelled and linked', async () => {
    const run = (runs.opencode = await runAgent(root, 'opencode'));
    const main = run.rows.filter((r) => r.meta_info.unique_info._agent_type === 'main');
    const subs = run.rows.filter((r) => r.meta_info.unique_info._agent_type === 'subagent');
    expect(main).toHaveLength(1);
    expect(subs).toHaveLength(1);
    const spawnCall = assistants(main[0]).flatMap((a) => a.tool_calls ?? []).find((c) => c.function.name === 'task');
    expect(subs[0].meta_info.unique_info._parent_tool_call_id).toBe(spawnCall!.id);
    expect(expectEveryTurnConverted(run, 'main', main[0])).toBeGreaterThanOrEqual(BASH_TURNS + 4);
    expect(expectEveryTurnConverted(run, 'subagent', subs[0])).toBe(2);
  });

  // The builtin proxy strips its routing header (and every x-trajgen-* header) before a request goes upstream.
  it('the upstream never sees the routing header (Claude Code and OpenCode)', () => {
    expect(runs['claude-code'] && runs.opencode, 'both CLI runs happened').toBeTruthy();
    expectNoRoutingHeaderUpstream(runs['claude-code']!);
    expectNoRoutingHeaderUpstream(runs.opencode!);
  });
});
