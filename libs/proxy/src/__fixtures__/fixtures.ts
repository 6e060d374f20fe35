/**
 * Test fixtures: a streamed Anthropic message and a streamed OpenAI chat
 * completion (hand-written in each protocol's documented event shapes), with
 * the non-streaming objects they must reassemble to.
 */

const anthropicEvent = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

export const ANTHROPIC_MESSAGE = {
  id: 'msg_01Fixture',
  type: 'message',
  role: 'assistant',
  model: 'fixture-model',
  content: [
    { type: 'thinking', thinking: 'Let me look at the files first.', signature: 'c2lnbmF0dXJl' },
    { type: 'text', text: 'Héllo wörld — listing ✓' },
    { type: 'tool_use', id: 'toolu_01Fixture', name: 'Bash', input: { command: 'ls -la', description: 'List files' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 12, cache_creation_input_tokens: 30, cache_read_input_tokens: 100, output_tokens: 42 },
};

export const ANTHROPIC_STREAM =
  anthropicEvent('message_start', {
    message: { ...ANTHROPIC_MESSAGE, content: [], stop_reason: null, usage: { ...ANTHROPIC_MESSAGE.usage, output_tokens: 1 } },
  }) +
  anthropicEvent('ping', {}) +
  anthropicEvent('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }) +
  anthropicEvent('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Let me look at ' } }) +
  anthropicEvent('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'the files first.' } }) +
  anthropicEvent('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'c2lnbmF0dXJl' } }) +
  anthropicEvent('content_block_stop', { index: 0 }) +
  anthropicEvent('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }) +
  anthropicEvent('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Héllo wörld' } }) +
  anthropicEvent('content_block_delta', { index: 1, delta: { type: 'text_delta', text: ' — listing ✓' } }) +
  anthropicEvent('content_block_stop', { index: 1 }) +
  anthropicEvent('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'toolu_01Fixture', name: 'Bash', input: {} } }) +
  anthropicEvent('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '' } }) +
  anthropicEvent('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{"command": "ls -la", "desc' } }) +
  anthropicEvent('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: 'ription": "List files"}' } }) +
  anthropicEvent('content_block_stop', { index: 2 }) +
  anthropicEvent('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 42 } }) +
  anthropicEvent('message_stop', {});

const base = { id: 'chatcmpl-fixture', object: 'chat.completion.chunk', created: 1767225600, model: 'fixture-model', system_fingerprint: 'fp_fixture' };
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;

export const OPENAI_USAGE = { prompt_tokens: 200, completion_tokens: 50, total_tokens: 250, prompt_tokens_details: { cached_tokens: 128 }, completion_tokens_details: { reasoning_tokens: 20 } };

export const OPENAI_COMPLETION = {
  id: 'chatcmpl-fixture',
  object: 'chat.completion',
  created: 1767225600,
  model: 'fixture-model',
  system_fingerprint: 'fp_fixture',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: 'Running two commands…',
        reasoning_content: 'I need the file list and the date.',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'bash', arguments: '{"command":"ls -la"}' } },
          { id: 'call_b', type: 'function', function: { name: 'bash', arguments: '{"command":"date"}' } },
        ],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    },
  ],
  usage: OPENAI_USAGE,
};

export const OPENAI_STREAM =
  chunk({ role: 'assistant', content: '' }) +
  chunk({ reasoning_content: 'I need the file list ' }) +
  chunk({ reasoning_content: 'and the date.' }) +
  chunk({ content: 'Running two ' }) +
  chunk({ content: 'commands…' }) +
  chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'bash', arguments: '' } }] }) +
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"command":' } }] }) +
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"ls -la"}' } }] }) +
  chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'bash', arguments: '{"comm' } }] }) +
  chunk({ tool_calls: [{ index: 1, function: { arguments: 'and":"date"}' } }] }) +
  chunk({}, 'tool_calls') +
  `data: ${JSON.stringify({ ...base, choices: [], usage: OPENAI_USAGE })}\n\n` +
  'data: [DONE]\n\n';

/** Split bytes at a fixed stride (so chunk edges fall inside events and inside multi-byte characters). */
export function splitBytes(text: string, stride: number): Buffer[] {
  const buf = Buffer.from(text);
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += stride) out.push(buf.subarray(i, i + stride));
  return out;
}

export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
export const JSON_HEADERS = { 'content-type': 'application/json' };
