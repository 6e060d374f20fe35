import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { ImAssistantMessage, ImRow } from '@trajgen/im';
import { convertRawFile } from './inspect';
import { SYNTHETIC } from './__fixtures__/workspace';
import { convertTerminusTrial } from './terminus-2';

/**
 * Converter property, for every trajectory fixture in the repo: what the rows
 * hold equals what the raw file implies, computed here independently from
 * the raw bytes —
 *  - proxy logs: the tool-call ids of the rows are exactly the ids of every
 *    tool call the model made in a response (minus the turns removed for a
 *    tool-use error), and every call has exactly one result right after it;
 *  - Harbor ATIF: one assistant message per parsed agent step, one user
 *    message per observation (and the first prompt), nothing else.
 */

const REAL = join(__dirname, '__fixtures__/real/harbor');
const FIXTURES = [...readdirSync(SYNTHETIC).filter((n) => n.endsWith('.jsonl')).map((n) => join(SYNTHETIC, n)), ...readdirSync(REAL).filter((n) => n.endsWith('.json')).map((n) => join(REAL, n))];

type Json = Record<string, any>;

/** Every `trajectory.json` below a folder: Harbor trial layouts (main + continuations + summarisations beside it). */
function trajectoryDirs(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name === 'trajectory.json') out.push(d);
    }
  };
  walk(root);
  return out.sort();
}
/** Real Harbor Terminus-2 trial files written by the real-tools work (absent until that branch is merged). */
const HARBOR_TRIALS = trajectoryDirs(join(__dirname, '__fixtures__/harbor-real'));
const ERROR_RESULT = /<tool_use_error>|The arguments provided to the tool are invalid/;

function rowsOf(path: string): ImRow[] {
  const v = convertRawFile(path, { instanceId: 'x' });
  if (v.kind !== 'converted') throw new Error(`${path}: ${v.reason}: ${v.message}`);
  return v.rows;
}

/** Tool calls of a response (either protocol) and error results of a request, straight from the raw line. */
function rawFacts(line: Json): { calls: string[]; errorResults: string[] } {
  const res = line.response_body ?? {};
  let calls: string[];
  if (Array.isArray(res)) {
    // A streamed answer logged as its chunks: a call's id comes with its first delta.
    calls = res.flatMap((c: Json) => (c.choices?.[0]?.delta?.tool_calls ?? []).map((t: Json) => t.id).filter(Boolean));
  } else {
    const msg = res.choices?.[0]?.message ?? res;
    calls = [...(Array.isArray(msg.content) ? msg.content.filter((b: Json) => b?.type === 'tool_use').map((b: Json) => b.id) : []), ...(msg.tool_calls ?? []).map((c: Json) => c.id)];
  }
  const errorResults: string[] = [];
  for (const m of line.request_body?.messages ?? []) {
    if (m.role === 'tool' && ERROR_RESULT.test(JSON.stringify(m.content))) errorResults.push(m.tool_call_id);
    if (Array.isArray(m.content)) for (const b of m.content) if (b?.type === 'tool_result' && ERROR_RESULT.test(JSON.stringify(b.content))) errorResults.push(b.tool_use_id);
  }
  return { calls, errorResults };
}

function expectCallsAnswered(row: ImRow, where: string) {
  const m = row.messages;
  for (let i = 0; i < m.length; i++) {
    const calls = (m[i] as ImAssistantMessage).tool_calls ?? [];
    if (!calls.length || i === m.length - 1) continue;
    const results = m.slice(i + 1, i + 1 + calls.length);
    expect(results.map((r) => [r.role, (r as { tool_call_id?: string }).tool_call_id]), `${where}: results of message ${i}`).toEqual(calls.map((c) => ['tool', c.id]));
  }
}

describe('converter property: rows equal what the raw file implies, for every fixture', () => {
  it('covers every fixture', () => expect(FIXTURES.length).toBeGreaterThanOrEqual(4));

  for (const dir of HARBOR_TRIALS) {
    it(`harbor trial ${basename(dirname(dir))}/${basename(dir)}: one main row over trajectory.json and its continuations, one row per summarisation file`, () => {
      const trial = mkdtempSync(join(tmpdir(), 'tg-prop-'));
      try {
        mkdirSync(join(trial, 'agent'));
        for (const n of readdirSync(dir)) if (/^trajectory.*\.json$/.test(n)) cpSync(join(dir, n), join(trial, 'agent', n));
        const files = readdirSync(join(trial, 'agent'));
        const out = convertTerminusTrial(trial);
        const steps = (n: string) => (JSON.parse(readFileSync(join(trial, 'agent', n), 'utf8')).steps as Json[]).filter((s) => !s.is_copied_context);
        const mainFiles = files.filter((n) => /^trajectory(\.cont-\d+)?\.json$/.test(n));
        const parsed = mainFiles.flatMap(steps).filter((s) => s.source === 'agent' && (s.tool_calls?.length || /^(Analysis|Plan):|^\{/.test(String(s.message ?? '').trim())));
        const main = out.conversations.filter((c) => c.agentType === 'main');
        expect(main).toHaveLength(1);
        expect(main[0].messages.filter((m) => m.role === 'assistant')).toHaveLength(parsed.length);
        expect(out.conversations.filter((c) => c.agentType === 'subagent')).toHaveLength(files.filter((n) => /summarization/.test(n)).length);
        for (const c of out.conversations) for (const m of c.messages) if (m.role === 'assistant' && c.agentType === 'main') expect(() => JSON.parse(m.content)).not.toThrow();
      } finally {
        rmSync(trial, { recursive: true, force: true });
      }
    });
  }

  for (const path of FIXTURES) {
    const name = path.split('/').pop()!;
    it(name, () => {
      const rows = rowsOf(path);
      if (path.endsWith('.jsonl')) {
        const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Json).filter((l) => l.success !== false);
        const implied = new Set<string>();
        const removed = new Set<string>();
        for (const l of lines) {
          const f = rawFacts(l);
          f.calls.forEach((id) => implied.add(id));
          f.errorResults.forEach((id) => removed.add(id));
        }
        for (const id of removed) implied.delete(id);
        const got = new Set(rows.flatMap((r) => r.messages.flatMap((m) => ((m as ImAssistantMessage).tool_calls ?? []).map((c) => c.id))));
        expect([...got].sort(), `${name}: tool-call ids`).toEqual([...implied].sort());
        rows.forEach((r, i) => expectCallsAnswered(r, `${name} row ${i}`));
      } else {
        const traj = JSON.parse(readFileSync(path, 'utf8')) as Json;
        const steps: Json[] = traj.steps;
        const parsed = steps.filter((s) => s.source === 'agent' && (s.tool_calls?.length || /^(Analysis|Plan):/.test(String(s.message ?? '').trim())));
        const unparsed = steps.filter((s) => s.source === 'agent' && !parsed.includes(s));
        const [row] = rows;
        expect(rows).toHaveLength(1);
        // The Terminus prompt is the first user turn; IM rows may also carry a system message.
        const messages = row.messages.filter((m) => m.role !== 'system');
        const roles = messages.map((m) => m.role);
        expect(roles.filter((r) => r === 'assistant'), `${name}: one assistant message per parsed agent step`).toHaveLength(parsed.length);
        // The prompt, plus the observation of every parsed step but the last (a trailing observation is trimmed).
        expect(roles.filter((r) => r === 'user'), `${name}: user messages`).toHaveLength(1 + parsed.length - 1);
        expect(messages).toHaveLength(2 * parsed.length);
        expect(Number(row.meta_info.unique_info._error_turns_removed ?? 0)).toBe(unparsed.length);
      }
    });
  }
});
