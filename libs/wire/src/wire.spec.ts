import { describe, expect, it } from 'vitest';
import { AnthropicAssembler, OpenAIAssembler, parseSseText, reassembleResponse } from './index';

const sse = (events: [string, unknown][]) => events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}`).join('\n\n') + '\n\n';
const push = (asm: AnthropicAssembler | OpenAIAssembler, text: string) => {
  for (const block of text.split('\n\n').filter(Boolean)) {
    const lines = block.split('\n');
    asm.push({ event: lines.find((l) => l.startsWith('event:'))?.slice(6).trim(), data: lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n') });
  }
};

describe('Anthropic reassembly (proxy events and logged payloads alike)', () => {
  const events: [string, unknown][] = [
    ['message_start', { type: 'message_start', message: { id: 'm1', type: 'message', role: 'assistant', model: 'c', content: [], usage: { input_tokens: 5, output_tokens: 1 } } }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'citations_delta', citation: { n: 1 } } }],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 't', name: 'Bash', input: {} } }],
    ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"command":' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"ls"}' } }],
    ['content_block_stop', { type: 'content_block_stop', index: 1 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 9 } }],
    ['message_stop', { type: 'message_stop' }],
  ];
  const expected = {
    id: 'm1',
    stop_reason: 'tool_use',
    usage: { input_tokens: 5, output_tokens: 9 },
    content: [{ type: 'text', text: 'Hi', citations: [{ n: 1 }] }, { type: 'tool_use', id: 't', name: 'Bash', input: { command: 'ls' } }],
  };

  it('gives the same message from SSE bytes, SSE text in a log, and a list of logged payloads', () => {
    const asm = new AnthropicAssembler();
    push(asm, sse(events));
    expect(asm.result()).toMatchObject({ complete: true, body: expected });
    expect(reassembleResponse(sse(events))).toEqual(asm.result().body);
    expect(reassembleResponse(events.map(([, d]) => d))).toEqual(asm.result().body);
    expect(reassembleResponse(events.map(([event, data]) => ({ event, data })))).toEqual(asm.result().body);
  });

  it('a stream cut short: incomplete, the tool input kept as its raw text; nothing at all gives no body', () => {
    const asm = new AnthropicAssembler();
    push(asm, sse(events.slice(0, 7)));
    expect(asm.result()).toMatchObject({ complete: false, body: { content: [{ text: 'Hi' }, { type: 'tool_use', input: '{"command":' }] } });
    expect(new AnthropicAssembler().result()).toEqual({ body: null, complete: false, error: undefined, usage: undefined });
  });

  it('an error event is reported and makes the response incomplete', () => {
    const asm = new AnthropicAssembler();
    push(asm, sse([...events.slice(0, 3), ['error', { type: 'error', error: { type: 'overloaded_error', message: 'busy' } }]]));
    expect(asm.result()).toMatchObject({ complete: false, error: { type: 'overloaded_error', message: 'busy' } });
  });

  it('a log that lost message_start and the indexes still gives a message; a tool call with no input gets {}', () => {
    const r = reassembleResponse([
      { type: 'content_block_start', content_block: { type: 'tool_use', id: 't', name: 'Read' } },
      { type: 'content_block_stop' },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'x' } },
      { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } },
    ]);
    expect(r).toEqual({
      type: 'message',
      role: 'assistant',
      stop_reason: 'end_turn',
      usage: { output_tokens: 2 },
      content: [{ type: 'tool_use', id: 't', name: 'Read', input: {} }, { type: 'text', text: 'x' }],
    });
  });

  it('does not modify the logged events it reads', () => {
    const logged = events.map(([, d]) => structuredClone(d));
    const copy = structuredClone(logged);
    reassembleResponse(logged);
    expect(logged).toEqual(copy);
  });
});

describe('OpenAI reassembly', () => {
  const chunks = [
    { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'g', choices: [{ index: 0, delta: { role: 'assistant', reasoning: 'think ' } }] },
    { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'g', choices: [{ index: 0, delta: { reasoning: 'more', content: 'Hi' } }] },
    { id: 'c1', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'bash', arguments: '{"a"' } }] } }] },
    { id: 'c1', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { name: 'bash', arguments: ':1}' } }] } }] },
    { id: 'c1', choices: [{ index: 0, delta: { tool_calls: [{ index: 1, id: 'call_2', function: { name: 'gr', arguments: '' } }] } }] },
    { id: 'c1', choices: [{ index: 0, delta: { tool_calls: [{ index: 1, function: { name: 'ep', arguments: '{}' } }] }, finish_reason: 'tool_calls' }] },
    { id: 'c1', choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } },
  ];
  const text = chunks.map((c) => `data: ${JSON.stringify(c)}`).join('\n\n') + '\n\ndata: [DONE]\n\n';

  it('proxy: the protocol fields as sent (reasoning stays `reasoning`), names repeated or in pieces, [DONE] terminal', () => {
    const asm = new OpenAIAssembler();
    push(asm, text);
    expect(asm.sawTerminal).toBe(true);
    const r = asm.result();
    expect(r.complete).toBe(true);
    const toolCalls = [
      { id: 'call_1', type: 'function', function: { name: 'bash', arguments: '{"a":1}' } },
      { id: 'call_2', type: 'function', function: { name: 'grep', arguments: '{}' } },
    ];
    const message = { role: 'assistant', content: 'Hi', reasoning: 'think more', tool_calls: toolCalls };
    const usage = { prompt_tokens: 3, completion_tokens: 4 };
    expect(r.body).toEqual({ id: 'c1', created: 1, model: 'g', object: 'chat.completion', usage, choices: [{ index: 0, logprobs: null, finish_reason: 'tool_calls', message }] });
  });

  it('logs: SSE text or a chunk list; `reasoning` read as `reasoning_content`; a chunk stored as `message`', () => {
    expect(parseSseText(text)).toHaveLength(chunks.length);
    for (const r of [reassembleResponse(text), reassembleResponse(chunks)]) {
      expect(r).toMatchObject({ choices: [{ message: { content: 'Hi', reasoning_content: 'think more' } }] });
      expect((r as any).choices[0].message.reasoning).toBeUndefined();
    }
    expect(reassembleResponse([{ choices: [{ message: { content: 'whole' }, finish_reason: 'stop' }] }])).toMatchObject({ choices: [{ message: { content: 'whole' }, finish_reason: 'stop' }] });
  });

  it('several choices, an error chunk, a cut stream', () => {
    const asm = new OpenAIAssembler();
    asm.pushJson({ id: 'x', choices: [{ index: 1, delta: { content: 'b' } }, { index: 0, delta: { content: 'a' }, finish_reason: 'stop' }] });
    expect(asm.result()).toMatchObject({ complete: false, body: { choices: [{ index: 0, message: { content: 'a' } }, { index: 1, message: { content: 'b' }, finish_reason: null }] } });
    asm.push({ data: JSON.stringify({ error: { code: 'rate_limit', message: 'slow down' } }) });
    expect(asm.result().error).toEqual({ type: 'rate_limit', message: 'slow down' });
    expect(new OpenAIAssembler().result().body).toBeNull();
  });
});

describe('reassembleResponse on bodies that are not streams', () => {
  it('passes a whole response through, takes a Responses API completed event, and gives undefined for nothing usable', () => {
    const whole = { id: 'm', content: [{ type: 'text', text: 'x' }] };
    expect(reassembleResponse(whole)).toBe(whole);
    expect(reassembleResponse([{ type: 'response.created' }, { type: 'response.completed', response: { output: [1] } }])).toEqual({ output: [1] });
    expect(reassembleResponse('data: [DONE]\n\n')).toBeUndefined();
    expect(reassembleResponse([{ foo: 1 }])).toBeUndefined();
  });
});
