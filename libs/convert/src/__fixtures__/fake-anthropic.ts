/**
 * TEST DOUBLE: a scripted stand-in for the Anthropic Messages API, so the
 * real Claude Code CLI (node_modules/.bin/claude) can run a tiny task with no
 * model and no network. It answers with fixed turns (thinking + Write, then
 * Bash, then a final text; "ok" to tool-less side calls), streams them as SSE
 * when asked, and records each call as a proxy log line the way the builtin
 * proxy stores them: the request body as sent, the response reassembled in
 * the non-streaming Anthropic shape.
 */
import { appendFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, any>;

function script(body: Json, workdir: string): Json[] {
  const tools = (body.tools ?? []).map((t: Json) => t.name);
  const turns = (body.messages ?? []).filter((m: Json) => m.role === 'assistant').length;
  if (!tools.includes('Bash')) return [{ type: 'text', text: 'ok' }];
  if (turns === 0) {
    return [
      { type: 'thinking', thinking: 'I will write the file first.', signature: 'c2lnMQ==' },
      { type: 'text', text: 'Creating the file.' },
      { type: 'tool_use', id: 'toolu_01A', name: 'Write', input: { file_path: `${workdir}/hello.txt`, content: 'hi\n' } },
    ];
  }
  if (turns === 1) return [{ type: 'tool_use', id: 'toolu_01B', name: 'Bash', input: { command: `cat ${workdir}/hello.txt`, description: 'Show the file' } }];
  return [{ type: 'text', text: 'Done: hello.txt contains "hi".' }];
}

/** An Anthropic message as the SSE events of a streamed answer (text, thinking with its signature, tool input as one JSON delta). */
export function writeAnthropicSse(res: ServerResponse, message: Json): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const ev = (type: string, o: Json) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...o })}\n\n`);
  ev('message_start', { message: { ...message, content: [], stop_reason: null, usage: { input_tokens: 100, output_tokens: 1 } } });
  (message.content as Json[]).forEach((b, index) => {
    if (b.type === 'text') {
      ev('content_block_start', { index, content_block: { type: 'text', text: '' } });
      ev('content_block_delta', { index, delta: { type: 'text_delta', text: b.text } });
    } else if (b.type === 'thinking') {
      ev('content_block_start', { index, content_block: { type: 'thinking', thinking: '' } });
      ev('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: b.thinking } });
      ev('content_block_delta', { index, delta: { type: 'signature_delta', signature: b.signature } });
    } else if (b.type === 'tool_use') {
      ev('content_block_start', { index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } });
      ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) } });
    }
    ev('content_block_stop', { index });
  });
  ev('message_delta', { delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: 20 } });
  ev('message_stop', {});
  res.end();
}

export async function startFakeAnthropic(logFile: string, workdir: string): Promise<{ url: string; close: () => Promise<void> }> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      if (!req.url?.startsWith('/v1/messages')) {
        res.writeHead(404).end('{}');
        return;
      }
      const body = JSON.parse(data || '{}');
      if (req.url.includes('count_tokens')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"input_tokens": 100}');
        return;
      }
      const content = script(body, workdir);
      const message = {
        id: `msg_${++n}`,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content,
        stop_reason: content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn',
        usage: { input_tokens: 100, output_tokens: 20 },
      };
      appendFileSync(logFile, JSON.stringify({ session_id: 'fake', success: true, request_time: Date.now(), timestamp: new Date().toISOString(), request_body: body, response_body: message }) + '\n');
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(message));
        return;
      }
      writeAnthropicSse(res, message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
