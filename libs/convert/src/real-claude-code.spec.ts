import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { ImAssistantMessage } from '@trajgen/im';
import { convertRawFile } from './inspect';
import { startFakeAnthropic } from './__fixtures__/fake-anthropic';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

/**
 * The real Claude Code CLI (node_modules/.bin/claude) runs a tiny task
 * against a scripted Anthropic stand-in (a test double: no model, no network);
 * the calls it really makes — its own system prompt, tools, system
 * reminders, streaming, resent thinking — are recorded as a proxy log and
 * converted end to end.
 */

const CLAUDE = join(__dirname, '../../../node_modules/.bin/claude');

describe.skipIf(!existsSync(CLAUDE))('a real Claude Code run converts end to end', () => {
  it('one main row: system prompt, task, Write and Bash calls with their results, final answer', async () => {
    const root = tempDir(join(tmpdir(), 'tg-real-cc-'));
    const work = join(root, 'work');
    mkdirSync(work);
    const log = join(root, 'litellm-trajectory.jsonl');
    const upstream = await startFakeAnthropic(log, work);
    try {
      const run = await execa(CLAUDE, ['-p', 'Create hello.txt containing hi, then show it.', '--dangerously-skip-permissions', '--output-format', 'json', '--model', 'claude-sonnet-4-5'], {
        cwd: work,
        reject: false,
        timeout: 120_000,
        env: {
          HOME: join(root, 'home'),
          ANTHROPIC_BASE_URL: upstream.url,
          ANTHROPIC_API_KEY: 'sk-test-double',
          IS_SANDBOX: '1',
          DISABLE_TELEMETRY: '1',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        },
        extendEnv: true,
      });
      expect(run.exitCode, run.stderr || run.stdout).toBe(0);
      expect(readFileSync(join(work, 'hello.txt'), 'utf8')).toBe('hi\n');
    } finally {
      await upstream.close();
    }
    const v = convertRawFile(log, { instanceId: 'hello' });
    if (v.kind !== 'converted') throw new Error(`${v.reason}: ${v.message}`);
    expect(v.scaffold).toBe('claude-code');
    const main = v.rows.filter((r) => r.meta_info.unique_info._agent_type === 'main');
    expect(main).toHaveLength(1);
    const row = main[0];
    expect(row.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'tool', 'assistant']);
    expect(row.messages[0].content).toMatch(/You are (Claude Code|a Claude agent)/);
    expect(row.messages[1].content).toMatch(/Create hello\.txt containing hi, then show it\.$/);
    const [first, second, last] = row.messages.filter((m): m is ImAssistantMessage => m.role === 'assistant');
    expect(first.reasoning_content).toBe('I will write the file first.');
    expect(first.tool_calls![0]).toMatchObject({ id: 'toolu_01A', function: { name: 'Write' } });
    expect(JSON.parse(first.tool_calls![0].function.arguments)).toEqual({ file_path: join(work, 'hello.txt'), content: 'hi\n' });
    expect(second.tool_calls![0].function.name).toBe('Bash');
    expect(last.content).toBe('Done: hello.txt contains "hi".');
    expect(row.messages[5].content).toBe('hi');
    expect(row.tools.map((t) => t.function.name)).toEqual(expect.arrayContaining(['Bash', 'Read', 'Edit', 'Write']));
  });
});
