import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { convertRawFile } from './inspect';
import { REAL_FIXTURES } from './__fixtures__/workspace';

/**
 * Acceptance: every file under test/fixtures/real converts, or is
 * rejected for a stated reason. The table is exhaustive — a new fixture file
 * fails this test until someone says what it should do.
 */

type Expect = { converts: string; rows: number; roles: string } | { rejected: string; because: RegExp };

const EXPECTED: Record<string, Expect> = {
  'SOURCES.md': { rejected: 'not_a_trajectory', because: /neither JSON nor a JSONL proxy log/ },
  'harbor/LICENSE': { rejected: 'not_a_trajectory', because: /neither JSON nor a JSONL proxy log/ },
  'llama-factory/LICENSE': { rejected: 'not_a_trajectory', because: /neither JSON nor a JSONL proxy log/ },
  'openhands-sdk/LICENSE': { rejected: 'not_a_trajectory', because: /neither JSON nor a JSONL proxy log/ },
  'harbor/hello-world-invalid-json.trajectory.json': { converts: 'terminus-2', rows: 1, roles: 'suauaua' },
  'harbor/hello-world-timeout.trajectory.json': { converts: 'terminus-2', rows: 1, roles: 'suauaua' },
  'harbor/trajectory_pass.json': { rejected: 'unsupported_format', because: /^ATIF from claude-code lacks system prompt and tool definitions \(Harbor issue #3333\)/ },
  'llama-factory/dataset_info.json': { rejected: 'not_a_trajectory', because: /LLaMA-Factory dataset registry/ },
  'llama-factory/glaive_toolcall_en_demo.json': { rejected: 'not_a_trajectory', because: /LLaMA-Factory ShareGPT dataset \(already SFT data/ },
  'openhands-sdk/litellm_proxy__anthropic__claude-sonnet-4-20250514-1757015025.972.json': { converts: 'openhands-sdk', rows: 1, roles: 'sua' },
  'openhands-sdk/litellm_proxy__anthropic__claude-sonnet-4-20250514-1757015029.090.json': { converts: 'openhands-sdk', rows: 1, roles: 'suata' },
  'openhands-sdk/litellm_proxy__deepseek__deepseek-chat-1757015054.055.json': { converts: 'openhands-sdk', rows: 1, roles: 'sua' },
};

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? allFiles(join(dir, n)) : [join(dir, n)]));
}

describe('every real fixture converts or is rejected for a stated reason', () => {
  const files = allFiles(REAL_FIXTURES).map((f) => relative(REAL_FIXTURES, f)).sort();

  it('the table covers exactly the files that are there', () => {
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const file of files) {
    it(file, () => {
      const want = EXPECTED[file];
      const got = convertRawFile(join(REAL_FIXTURES, file));
      if ('rejected' in want) {
        expect(got).toMatchObject({ kind: 'rejected', reason: want.rejected });
        expect(got.kind === 'rejected' && got.message).toMatch(want.because);
      } else {
        expect(got.kind, got.kind === 'rejected' ? got.message : '').toBe('converted');
        if (got.kind !== 'converted') return;
        expect(got.scaffold).toBe(want.converts);
        expect(got.rows).toHaveLength(want.rows);
        expect(got.rows[0].messages.map((m) => m.role[0]).join('')).toBe(want.roles);
      }
    });
  }

  it('the real Claude Code ATIF would otherwise give rows without tools or a system prompt', () => {
    const traj = JSON.parse(readFileSync(join(REAL_FIXTURES, 'harbor/trajectory_pass.json'), 'utf8'));
    expect(traj.agent.name).toBe('claude-code');
    expect(traj.agent.tool_definitions).toBeUndefined();
    expect(traj.steps.some((s: { source: string }) => s.source === 'system')).toBe(false);
  });
});
