import { describe, expect, it } from 'vitest';
import { AnthropicAssembler, OpenAIAssembler, SseSplitter, normaliseUsage } from './index';
import { ANTHROPIC_STREAM, OPENAI_STREAM, splitBytes } from './__fixtures__/fixtures';

function feed(asm: AnthropicAssembler | OpenAIAssembler, text: string, stride = 1000) {
  const splitter = new SseSplitter();
  for (const c of splitBytes(text, stride)) for (const ev of splitter.push(c)) asm.push(ev);
  return splitter;
}

describe('SseSplitter', () => {
  it('splits on every SSE line ending style and keeps the exact bytes', () => {
    const text = 'event: a\r\ndata: {"x":1}\r\n\r\ndata: two\ndata: lines\n\n: comment\n\ndata: tail';
    const s = new SseSplitter();
    const events = splitBytes(text, 3).flatMap((c) => s.push(c));
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['a', '{"x":1}'],
      [undefined, 'two\nlines'],
      [undefined, ''],
    ]);
    expect(Buffer.concat([...events.map((e) => e.raw), s.rest()]).toString()).toBe(text);
  });
});

describe('stream assemblers', () => {
  it('keeps what a cut Anthropic stream carried, raw tool JSON included', () => {
    const cut = ANTHROPIC_STREAM.slice(0, ANTHROPIC_STREAM.indexOf('ription'));
    const asm = new AnthropicAssembler();
    feed(asm, cut.slice(0, cut.lastIndexOf('\n\n') + 2));
    const r = asm.result();
    expect(r.complete).toBe(false);
    const blocks = (r.body as { content: Record<string, unknown>[] }).content;
    expect(blocks.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect(blocks[2].input).toBe('{"command": "ls -la", "desc');
  });

  it('reports an Anthropic error event', () => {
    const asm = new AnthropicAssembler();
    feed(asm, ANTHROPIC_STREAM.split('event: content_block_start')[0] + 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n');
    expect(asm.result()).toMatchObject({ complete: false, error: { type: 'overloaded_error', message: 'Overloaded' } });
  });

  it('needs a finish_reason for a complete OpenAI stream, and reports error chunks', () => {
    const asm = new OpenAIAssembler();
    feed(asm, OPENAI_STREAM.split('data: {"id":"chatcmpl-fixture","object":"chat.completion.chunk","created":1767225600,"model":"fixture-model","system_fingerprint":"fp_fixture","choices":[{"index":0,"delta":{},')[0]);
    expect(asm.result().complete).toBe(false);
    const err = new OpenAIAssembler();
    feed(err, 'data: {"error":{"message":"context too long","type":"invalid_request_error"}}\n\n');
    expect(err.result()).toMatchObject({ body: null, complete: false, error: { type: 'invalid_request_error' } });
  });
});

describe('normaliseUsage', () => {
  it('counts cached tokens inside the prompt for both protocols', () => {
    expect(normaliseUsage({ input_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 10, output_tokens: 7 })).toMatchObject({
      prompt_tokens: 115,
      completion_tokens: 7,
      total_tokens: 122,
      prompt_tokens_details: { cached_tokens: 100 },
    });
    expect(normaliseUsage({ prompt_tokens: 300, completion_tokens: 20, prompt_tokens_details: { cached_tokens: 256 } }, { input_per_mtok: 1, output_per_mtok: 2, cache_read_per_mtok: 0.5 })).toMatchObject({
      total_tokens: 320,
      cache_read_input_tokens: 256,
      cost: (44 * 1 + 256 * 0.5 + 20 * 2) / 1e6,
    });
    expect(normaliseUsage(undefined)).toBeNull();
    expect(normaliseUsage({ foo: 1 })).toBeNull();
  });
});
