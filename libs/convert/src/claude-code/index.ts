import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { convertProxyLog } from '../proxy-conversations';
import { rejectAtifOnly } from '../atif-only';
import type { ScaffoldOutput } from '../types';

/**
 * Claude Code (Anthropic Messages API bodies in the proxy log): every stream of the
 * proxy log — main agent, Task sub-agents, post-compaction segments — as its
 * own row; warm-ups and other ≤ 2-message side calls dropped and counted.
 */
export function convertClaudeCodeTrial(trialDir: string): ScaffoldOutput {
  const log = join(trialDir, 'agent', 'litellm-trajectory.jsonl');
  if (existsSync(log)) return convertProxyLog(log, 'agent/litellm-trajectory.jsonl');
  return rejectAtifOnly(trialDir, 'claude-code');
}
