import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { convertProxyLog } from '../proxy-conversations';
import { rejectAtifOnly } from '../atif-only';
import type { ScaffoldOutput } from '../types';

/**
 * OpenCode (Vercel AI SDK, OpenAI chat bodies in the proxy log): like Claude Code, plus
 * the hidden title-generator agent's calls dropped (its system prompt says
 * "title generator"). OpenAI-compatible bodies: `content: ""` with tool calls,
 * system as the leading message.
 */
export function convertOpenCodeTrial(trialDir: string): ScaffoldOutput {
  const log = join(trialDir, 'agent', 'litellm-trajectory.jsonl');
  if (existsSync(log)) return convertProxyLog(log, 'agent/litellm-trajectory.jsonl', { titleGenerators: true });
  return rejectAtifOnly(trialDir, 'opencode');
}
