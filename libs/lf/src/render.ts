import { existsSync, readFileSync } from 'node:fs';
import { Template } from '@huggingface/jinja';
import { TrajgenError } from '@trajgen/core';
import type { ImMessage, ImRow } from '@trajgen/im';

/**
 * `lf_format: rendered` (the prior art's LF format, LegoFlow-Trace-Crafter's
 * `convert_json_to_lf_format`): render each IM row with the student's chat
 * template (`tokenizer_config.json` → `chat_template`, via @huggingface/jinja),
 * then cut the text into `<|im_start|>role\n…<|im_end|>` blocks and emit
 * system/user/assistant messages. Tool calls become template text inside
 * assistant turns; tool results become user turns.
 *
 * Consecutive blocks that map to the same role (e.g. a tool-result block after
 * a user block) are merged, keeping the exact text between them
 * (`<|im_end|>\n<|im_start|>user\n`), so LLaMA-Factory re-wrapping the merged
 * message reproduces the template's token stream while the roles alternate as
 * its converter requires. Text outside blocks (a BOS token) is not carried.
 *
 * Register such a file with tags role/content (see `renderedDatasetInfoEntry`).
 */

export const IM_START = '<|im_start|>';
export const IM_END = '<|im_end|>';

export interface RenderedMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface RenderedRow {
  messages: RenderedMessage[];
  _instance_id: string;
  _agent_type: string;
  _score: number | null;
}

export interface ChatTemplate {
  path: string;
  /** Named templates (a plain string template is named "default"). */
  templates: Map<string, Template>;
  bosToken: string;
  eosToken: string;
}

function tokenText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return '';
}

/** Load and compile the chat template of a tokenizer_config.json. */
export function loadChatTemplate(path: string): ChatTemplate {
  if (!existsSync(path)) {
    throw new TrajgenError(`Tokenizer config not found: ${path}`, {
      hint: 'Set scoring.tokenizer_config to the student model\'s tokenizer_config.json (it holds "chat_template").',
    });
  }
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TrajgenError(`${path}: not valid JSON (${(error as Error).message})`, { hint: 'Point scoring.tokenizer_config at a tokenizer_config.json file.' });
  }
  const raw = config.chat_template;
  const sources = new Map<string, string>();
  if (typeof raw === 'string') sources.set('default', raw);
  else if (Array.isArray(raw)) {
    for (const t of raw) if (t && typeof t.name === 'string' && typeof t.template === 'string') sources.set(t.name, t.template);
  }
  if (!sources.size) {
    throw new TrajgenError(`${path}: no "chat_template" (expected a string or a list of {name, template})`, {
      hint: 'Newer models ship the template as chat_template.jinja; copy its text into tokenizer_config.json under "chat_template".',
    });
  }
  const templates = new Map<string, Template>();
  for (const [name, source] of sources) {
    if (!source.includes(IM_START) || !source.includes(IM_END)) {
      throw new TrajgenError(`${path}: chat template "${name}" is not ChatML-style (no ${IM_START}/${IM_END})`, {
        hint: 'lf_format: rendered splits the text on <|im_start|>role … <|im_end|> blocks (Qwen/Hermes templates). Use lf_format: sharegpt for other models.',
      });
    }
    try {
      templates.set(name, new Template(source));
    } catch (error) {
      throw new TrajgenError(`${path}: chat template "${name}" does not parse: ${(error as Error).message}`);
    }
  }
  return { path, templates, bosToken: tokenText(config.bos_token), eosToken: tokenText(config.eos_token) };
}

/** IM messages as a chat template expects them: tool arguments parsed to objects. */
function templateMessages(messages: readonly ImMessage[]): Record<string, unknown>[] {
  return messages.map((m) => {
    if (m.role === 'assistant') {
      const out: Record<string, unknown> = { role: 'assistant', content: m.content ?? '' };
      if (m.reasoning_content) out.reasoning_content = m.reasoning_content;
      if (m.tool_calls?.length) {
        out.tool_calls = m.tool_calls.map((c) => {
          let args: unknown = c.function.arguments;
          if (typeof args === 'string') {
            try {
              args = JSON.parse(args || '{}');
            } catch {
              // keep the string: the template renders it as written
            }
          }
          return { id: c.id, type: 'function', function: { name: c.function.name, arguments: args } };
        });
      }
      return out;
    }
    if (m.role === 'tool') return { role: 'tool', content: m.content ?? '', tool_call_id: m.tool_call_id };
    return { role: m.role === 'developer' ? 'system' : m.role, content: m.content ?? '' };
  });
}

export type RenderResult = { ok: true; row: RenderedRow; repairs: string[] } | { ok: false; problem: string };

/** Render one IM row and split it into role/content messages. */
export function renderImRow(row: ImRow, template: ChatTemplate, options: { score?: number | null } = {}): RenderResult {
  const tools = row.tools?.length ? row.tools : undefined;
  const compiled = (tools && template.templates.get('tool_use')) || template.templates.get('default') || [...template.templates.values()][0];
  let text: string;
  try {
    text = compiled.render({
      messages: templateMessages(row.messages ?? []),
      tools,
      add_generation_prompt: false,
      bos_token: template.bosToken,
      eos_token: template.eosToken,
    });
  } catch (error) {
    return { ok: false, problem: `chat template failed: ${(error as Error).message}` };
  }
  const blocks: { role: string; start: number; end: number }[] = [];
  let pos = 0;
  for (;;) {
    const s = text.indexOf(IM_START, pos);
    if (s < 0) break;
    const nl = text.indexOf('\n', s + IM_START.length);
    const e = nl < 0 ? -1 : text.indexOf(IM_END, nl + 1);
    if (nl < 0 || e < 0) return { ok: false, problem: `unterminated ${IM_START} block at character ${s}` };
    blocks.push({ role: text.slice(s + IM_START.length, nl).trim(), start: nl + 1, end: e });
    pos = e + IM_END.length;
  }
  const merged: { role: RenderedMessage['role']; start: number; end: number }[] = [];
  const repairs: string[] = [];
  for (const [i, b] of blocks.entries()) {
    const role: RenderedMessage['role'] = b.role === 'assistant' ? 'assistant' : b.role === 'system' ? 'system' : 'user';
    if (role === 'system' && i > 0) return { ok: false, problem: `a system block at position ${i}: only a leading one is allowed` };
    const last = merged[merged.length - 1];
    if (last && last.role === role) {
      last.end = b.end;
      if (!repairs.includes(`merged consecutive ${role} blocks`)) repairs.push(`merged consecutive ${role} blocks`);
    } else merged.push({ role, start: b.start, end: b.end });
  }
  while (merged.length && merged[merged.length - 1].role !== 'assistant') {
    merged.pop();
    repairs.push('trimmed trailing non-assistant blocks');
  }
  const body = merged[0]?.role === 'system' ? merged.slice(1) : merged;
  if (!body.length) return { ok: false, problem: 'no assistant block to train on' };
  if (body[0].role !== 'user') return { ok: false, problem: 'the rendered conversation starts with an assistant block' };
  const ui = row.meta_info?.unique_info;
  const s = ui?._score as { composite?: unknown } | null | undefined;
  return {
    ok: true,
    repairs,
    row: {
      messages: merged.map((m) => ({ role: m.role, content: text.slice(m.start, m.end) })),
      _instance_id: String(ui?._instance_id ?? ''),
      _agent_type: String(ui?._agent_type ?? 'main'),
      _score: options.score !== undefined ? options.score : s && typeof s.composite === 'number' ? s.composite : null,
    },
  };
}

/** Validator tags/columns for rendered rows (LLaMA-Factory's "OpenAI format" under sharegpt). */
export const RENDERED_TAGS = { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' } as const;
export const RENDERED_COLUMNS = { messages: 'messages' } as const;

/** The dataset_info.json entry a rendered file needs. */
export function renderedDatasetInfoEntry(fileName: string) {
  return { file_name: fileName, formatting: 'sharegpt' as const, columns: { ...RENDERED_COLUMNS }, tags: { ...RENDERED_TAGS } };
}
