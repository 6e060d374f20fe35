import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertPipeline } from './pipeline';
import { conversion, GOLDEN, makeWorkspace, REAL_FIXTURES, SYNTHETIC, writeTrial, type TrialSpec } from './__fixtures__/workspace';

/**
 * Golden tests, one per scaffold: a small input in a Harbor job dir, the
 * whole stage run on it, the rows compared exactly with a hand-checked
 * expected IM file (__fixtures__/golden/<scaffold>.expected.json).
 * Claude Code and OpenCode inputs are synthetic (no public raw logs exist);
 * OpenHands SDK and Terminus-2 inputs are the real fixtures.
 * UPDATE_GOLDEN=1 rewrites the expected files — then check them by hand.
 */

const TOML = (difficulty: string) => `[task]\nname = "trajgen/x"\n\n[metadata]\ndifficulty = "${difficulty}"\ntags = ["python", "greeting"]\n`;
const OH = join(REAL_FIXTURES, 'openhands-sdk');

const TRIALS: TrialSpec[] = [
  {
    job: 'job-a', trial: 'acme__greeter-42__AAAAAAA', taskId: 'acme__greeter-42', agent: 'claude-code', reward: 1, taskToml: TOML('easy'),
    files: { 'agent/litellm-trajectory.jsonl': { copy: join(SYNTHETIC, 'claude-code.synthetic.litellm-trajectory.jsonl') } },
  },
  {
    job: 'job-a', trial: 'acme__greeter-43__BBBBBBB', taskId: 'acme__greeter-43', agent: 'opencode', reward: 1, taskToml: TOML('medium'), relativeTaskPath: true,
    files: { 'agent/litellm-trajectory.jsonl': { copy: join(SYNTHETIC, 'opencode.synthetic.litellm-trajectory.jsonl') } },
  },
  {
    job: 'job-b', trial: 'hello-py__CCCCCCC', taskId: 'hello-py', agent: 'openhands-sdk', reward: 1,
    files: {
      'agent/completions/litellm_proxy__anthropic__claude-sonnet-4-20250514-1757015025.972.json': { copy: join(OH, 'litellm_proxy__anthropic__claude-sonnet-4-20250514-1757015025.972.json') },
      'agent/completions/litellm_proxy__anthropic__claude-sonnet-4-20250514-1757015029.090.json': { copy: join(OH, 'litellm_proxy__anthropic__claude-sonnet-4-20250514-1757015029.090.json') },
    },
  },
  {
    job: 'job-b', trial: 'hello-world__DDDDDDD', taskId: 'hello-world', agent: 'terminus-2', reward: 1,
    files: { 'agent/trajectory.json': { copy: join(__dirname, '__fixtures__/real/harbor/hello-world-invalid-json.trajectory.json') } },
  },
];

describe('golden IM per scaffold', async () => {
  const ws = makeWorkspace();
  for (const t of TRIALS) writeTrial(ws, t);
  const result = await convertPipeline(ws.paths, conversion());
  const rows = readFileSync(result.outputFile, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));

  for (const scaffold of ['claude-code', 'opencode', 'openhands-sdk', 'terminus-2']) {
    it(`${scaffold}: rows equal the hand-checked expected IM`, () => {
      const mine = rows.filter((r) => r.meta_info.unique_info._scaffold === scaffold);
      const file = join(GOLDEN, `${scaffold}.expected.json`);
      if (process.env.UPDATE_GOLDEN) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, JSON.stringify(mine, null, 2) + '\n');
      }
      expect(existsSync(file)).toBe(true);
      expect(mine).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    });
  }

  it('converts every trial and counts what it removed on the way', () => {
    expect(result.stats.trials).toEqual({ seen: 4, selected: 4, converted: 4 });
    expect(result.stats.dropped).toEqual({});
    expect(result.stats.by_scaffold['claude-code']).toEqual({ trials: 1, rows: 3, main: 2, subagent: 1 });
    expect(result.stats.records).toMatchObject({ failed_calls: 1, side_calls: 4, error_turns_removed: 2, metadata_missing: 2 });
  });
});
