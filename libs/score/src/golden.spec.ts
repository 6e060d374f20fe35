import { describe, expect, it } from 'vitest';
import { imToShareGpt, parseFunctionCallValue, validateShareGpt, SHAREGPT_COLUMNS, type ShareGptRow } from '@trajgen/lf';
import { fromClaudeCodeAtif, fromOpenHandsLog, fromTerminusAtif, readReal } from './__fixtures__/im-builders';
import { analyseRow } from './score';

/**
 * Golden tests on the real fixtures (test/fixtures/real, see SOURCES.md),
 * rebuilt as IM by the test helper; every expected value is computed by hand
 * in the comments from the fixture's content.
 */

const openHands = fromOpenHandsLog(readReal('openhands-sdk/litellm_proxy__anthropic__claude-sonnet-4-20250514-1757015029.090.json'));
const claudeCode = fromClaudeCodeAtif(readReal('harbor/trajectory_pass.json'));
const terminusInvalidJson = fromTerminusAtif(readReal('harbor/hello-world-invalid-json.trajectory.json'));
const terminusTimeout = fromTerminusAtif(readReal('harbor/hello-world-timeout.trajectory.json'));

describe('golden: OpenHands SDK LiteLLM log (2 turns, create hello.py, then `pwd && ls -la`)', () => {
  const a = analyseRow(openHands);
  it('is the legacy OpenHands tool set (str_replace_editor) with canonical names from the schemas', () => {
    expect(a.trace.scaffold).toBe('openhands');
    expect(a.trace.actions.map((x) => [x.canon, x.kind, x.target])).toEqual([
      ['str_replace_editor', 'edit', 'hello.py'],
      ['execute_bash', 'exec', ''],
    ]);
  });
  it('"Ran into [Errno 2] No such file…" from the editor is not an error: soft patterns only apply to execution tools', () => {
    expect(a.toolErrors).toMatchObject({ observations: 1, errored: 0, rate: 0 });
  });
  it('scores SUB 0 (no finish), STP 2/5, TVR 0, FEC 1, DPI 1 − 0.4 (not ended) = 0.6', () => {
    expect(a.score!.components).toEqual({ SUB: 0, STP: 0.4, TVR: 0, FEC: 1, DPI: 0.6 });
    // 0.27·0.4 + 0.10·1⁵ + 0.07·0.6³ = 0.108 + 0.1 + 0.01512
    expect(a.score!.composite).toBeCloseTo(0.22312, 6);
  });
});

describe('golden: Claude Code ATIF trajectory_pass (11 turns, 3 edits of one file, make test / go test)', () => {
  const a = analyseRow(claudeCode);
  it('actions, tests and edits', () => {
    expect(a.trace.assistantTurns).toBe(11);
    expect(a.trace.actions.filter((x) => x.isTest).map((x) => x.command?.split(' ')[0])).toEqual(['make', 'cd']);
    expect(a.score!.details.FEC).toEqual({ value: 0.5, edits: 3, files: 1 });
  });
  it('scores SUB 1, STP 1, TVR 0.3 + 0.4·0.6 (background run: inconclusive), FEC 0.5, DPI 1', () => {
    expect(a.score!.components).toEqual({ SUB: 1, STP: 1, TVR: 0.54, FEC: 0.5, DPI: 1 });
    // 0.33 + 0.27 + 0.23·0.54 + 0.10·0.5⁵ + 0.07 = 0.797325
    expect(a.score!.composite).toBeCloseTo(0.797325, 6);
    expect(a.hack.level).toBeNull();
    // Three consecutive Edits of the same file: "same action and detail 3× in a row".
    expect(a.pathology).toEqual(['loop']);
  });
});

describe('golden: Terminus-2 hello-world-invalid-json (parse error, printf, double task_complete)', () => {
  const a = analyseRow(terminusInvalidJson);
  it('the unparsable first reply ran nothing; its feedback is an error; the error rate counts commands', () => {
    expect(a.trace.scaffold).toBe('terminus2');
    expect(a.trace.commands).toBe(1);
    expect(a.trace.observations.map((o) => o.verdict.error)).toEqual([true, false, false]);
    // 1 errored observation / 1 command
    expect(a.toolErrors).toMatchObject({ errored: 1, denominator: 1, rate: 1 });
  });
  it('scores SUB 1 (task_complete), STP 4/5, TVR 0, FEC 1 (printf > hello.txt), DPI 1', () => {
    expect(a.score!.components).toEqual({ SUB: 1, STP: 0.8, TVR: 0, FEC: 1, DPI: 1 });
    // 0.33 + 0.27·0.8 + 0.10 + 0.07 = 0.716
    expect(a.score!.composite).toBeCloseTo(0.716, 6);
  });
});

describe('golden: Terminus-2 hello-world-timeout (3 commands, cut off)', () => {
  const a = analyseRow(terminusTimeout);
  it('scores SUB 0, STP 3/5, TVR 0, FEC null (no edit), DPI 1 − 0.8 = 0.2', () => {
    expect(a.score!.components).toEqual({ SUB: 0, STP: 0.6, TVR: 0, FEC: null, DPI: 0.2 });
    // (0.27·0.6 + 0.07·0.2³) / (0.33 + 0.27 + 0.23 + 0.07) = 0.16256 / 0.9
    expect(a.score!.composite).toBeCloseTo(0.16256 / 0.9, 6);
  });
});

describe('golden: the fixtures as LLaMA-Factory ShareGPT', () => {
  it('all four convert and pass the validator together', () => {
    const rows: ShareGptRow[] = [];
    for (const row of [openHands, claudeCode, terminusInvalidJson, terminusTimeout]) {
      const r = imToShareGpt(row, { score: analyseRow(row).score!.composite });
      if (!r.ok) throw new Error(r.problem);
      rows.push(r.row);
    }
    const v = validateShareGpt(rows, { columns: SHAREGPT_COLUMNS });
    expect(v.fatal).toEqual([]);
    expect(v.ok).toBe(true);
    // Claude Code step 2 has two parallel calls (Read + Bash) → one function_call holding a list.
    expect(rows[1].conversations[1].value).toMatch(/^I'll start by reading .*\n<tool_call>\[/s);
    expect(parseFunctionCallValue(rows[1].conversations[1].value).calls?.map((c) => c.name)).toEqual(['Read', 'Bash']);
    expect(rows[1].conversations[2].value).toContain('\n</tool_response>\n<tool_response>\n');
    // The OpenHands turn "I'll create …" carries its text before the call.
    expect(rows[0].conversations[1].value).toMatch(/^I'll create a new Python file.*\n<tool_call>\{"name":"str_replace_editor"/s);
    // Terminus rows have no tools.
    expect(rows[2].tools).toBe('');
  });
});
