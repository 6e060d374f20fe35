import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ImMessage, ImRow, ImTool } from '@trajgen/im';
import { imRow } from '../../../test/support/im-rows';
import { loadChatTemplate, renderImRow, renderedDatasetInfoEntry, RENDERED_COLUMNS, RENDERED_TAGS } from './render';
import { validateShareGpt, optionsFromDatasetInfo } from './validate';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

// Our own ChatML/Hermes-style test template (see the fixture's _comment).
const FIXTURE = join(__dirname, '../../../test/fixtures/tokenizer_config.json');

const LS: ImTool = { type: 'function', function: { name: 'ls', description: 'list files', parameters: { type: 'object', properties: { path: { type: 'string' } } } } };
const im = (messages: ImMessage[], withTools = true): ImRow => imRow(messages, { tools: withTools ? [LS] : [], score: 0.75, instance: 'i', teacher: 't' });

const trajectory: ImMessage[] = [
  { role: 'system', content: 'You are an agent.' },
  { role: 'user', content: 'List the files.' },
  {
    role: 'assistant',
    content: 'Looking.',
    reasoning_content: 'Two dirs.',
    tool_calls: [
      { id: 'a', type: 'function', function: { name: 'ls', arguments: '{"path":"."}' } },
      { id: 'b', type: 'function', function: { name: 'ls', arguments: '{"path":"/"}' } },
    ],
  },
  { role: 'tool', tool_call_id: 'a', content: 'x.py' },
  { role: 'tool', tool_call_id: 'b', content: 'etc' },
  { role: 'assistant', content: 'x.py and etc.', reasoning_content: '' },
];

describe('lf_format: rendered', () => {
  const tpl = loadChatTemplate(FIXTURE);

  it('renders with the chat template and splits into system/user/assistant messages', () => {
    const r = renderImRow(im(trajectory), tpl);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.row.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant']);
    expect(r.row.messages[0].content).toContain('You are an agent.');
    expect(r.row.messages[0].content).toContain('"name": "ls"');
    expect(r.row.messages[2].content).toBe(
      '<think>\nTwo dirs.\n</think>\n\nLooking.\n<tool_call>\n{"name": "ls", "arguments": {"path": "."}}\n</tool_call>\n<tool_call>\n{"name": "ls", "arguments": {"path": "/"}}\n</tool_call>',
    );
    expect(r.row.messages[3].content).toBe('<tool_response>\nx.py\n</tool_response>\n<tool_response>\netc\n</tool_response>');
    expect(r.row._score).toBe(0.75);
    const v = validateShareGpt([r.row], optionsFromDatasetInfo(renderedDatasetInfoEntry('x.json')));
    expect(v.ok).toBe(true);
    expect({ tags: RENDERED_TAGS, columns: RENDERED_COLUMNS }).toEqual({
      tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' },
      columns: { messages: 'messages' },
    });
  });

  it('merges a user block followed by a tool-result block, keeping the exact text between them', () => {
    const messages: ImMessage[] = [
      { role: 'user', content: 'Go.' },
      { role: 'assistant', content: '', reasoning_content: '', tool_calls: [{ id: 'a', type: 'function', function: { name: 'ls', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'a', content: 'x' },
      { role: 'user', content: 'Also check y.' },
      { role: 'assistant', content: 'ok', reasoning_content: '' },
    ];
    const r = renderImRow(im(messages, false), tpl);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.row.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(r.row.messages[2].content).toBe('<tool_response>\nx\n</tool_response><|im_end|>\n<|im_start|>user\nAlso check y.');
    expect(r.repairs).toEqual(['merged consecutive user blocks']);
  });

  it('clear errors for a missing file, no chat_template, or a non-ChatML template', () => {
    const dir = tempDir(join(tmpdir(), 'lf-render-'));
    expect(() => loadChatTemplate(join(dir, 'missing.json'))).toThrow(/Tokenizer config not found/);
    writeFileSync(join(dir, 'none.json'), '{"eos_token": "</s>"}');
    expect(() => loadChatTemplate(join(dir, 'none.json'))).toThrow(/no "chat_template"/);
    writeFileSync(join(dir, 'llama.json'), JSON.stringify({ chat_template: '{% for m in messages %}[{{ m.role }}] {{ m.content }}{% endfor %}' }));
    expect(() => loadChatTemplate(join(dir, 'llama.json'))).toThrow(/not ChatML-style/);
  });
});
