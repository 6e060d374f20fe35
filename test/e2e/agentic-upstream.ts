/**
 * TEST DOUBLE — agentic-upstream. NOT a model.
 *
 * A scripted model server written for the convert-fidelity e2e test: it speaks
 * the Anthropic Messages API (Claude Code) and OpenAI chat completions
 * (OpenCode), streaming or not, and plays a fixed long episode that exercises
 * what a converter gets wrong — a thinking block on EVERY turn, parallel tool
 * calls, an Edit, a sub-agent (Agent/Task tool) that runs its own tool loop,
 * and 30+ Bash turns. It records every request (headers and body) and every
 * answer it gave, so the test can check the converted rows against what the
 * model really said and really saw.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeAnthropicSse } from '../../libs/convert/src/__fixtures__/fake-anthropic';

type Json = Record<string, any>;

/** One scripted answer, protocol-neutral. */
export interface Turn {
  thinking: string;
  text?: string;
  calls: { id: string; name: string; input: Json }[];
}

export interface Exchange {
  protocol: 'anthropic' | 'openai';
  headers: IncomingHttpHeaders;
  body: Json;
  /** The scripted answer, when the request was an agent turn (not a side call). */
  turn?: Turn;
  stream: 'main' | 'subagent' | 'side';
}

export const SUBAGENT_MARKER = 'SUBAGENT-TASK-7f3a';
export const BASH_TURNS = 30;

function names(tools: Json[] | undefined): string[] {
  return (tools ?? []).map((t) => String(t.name ?? t.function?.name ?? ''));
}

function pick(available: string[], ...candidates: string[]): string | undefined {
  for (const c of candidates) {
    const hit = available.find((n) => n.toLowerCase() === c.toLowerCase());
    if (hit) return hit;
  }
  return undefined;
}

/** Text of every user message (both protocols). */
function userTexts(messages: Json[]): string {
  const out: string[] = [];
  for (const m of messages) {
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') out.push(m.content);
    else if (Array.isArray(m.content)) for (const b of m.content) if (typeof b?.text === 'string') out.push(b.text);
  }
  return out.join('\n');
}

/**
 * The episode. Main agent: parallel Write+Write → sub-agent → Edit → 30 × Bash
 * → final text. Sub-agent: Bash → final text. Argument key names follow the
 * tool schema the CLI sent (Claude Code: file_path/old_string; OpenCode:
 * filePath/oldString).
 */
function scriptTurn(stream: 'main' | 'subagent', turn: number, tools: string[], workdir: string, camel: boolean): Turn {
  const id = (k: number) => `${camel ? 'call' : 'toolu'}_${stream === 'main' ? 'm' : 's'}${String(turn).padStart(2, '0')}_${k}`;
  const fp = camel ? 'filePath' : 'file_path';
  const bash = pick(tools, 'Bash', 'bash')!;
  const think = (what: string) => `[${stream} turn ${turn}] I think about ${what}.`;
  if (stream === 'subagent') {
    if (turn === 0) return { thinking: think('counting files'), calls: [{ id: id(0), name: bash, input: { command: `ls ${workdir} | wc -l`, description: 'Count files' } }] };
    return { thinking: think('the count'), text: 'The directory holds the files I counted.', calls: [] };
  }
  const write = pick(tools, 'Write', 'write')!;
  const edit = pick(tools, 'Edit', 'edit')!;
  const spawn = pick(tools, 'Agent', 'Task', 'task');
  if (turn === 0) {
    return {
      thinking: think('writing two files at once'),
      text: 'Writing both files.',
      calls: [
        { id: id(0), name: write, input: { [fp]: `${workdir}/a.txt`, content: 'alpha\n' } },
        { id: id(1), name: write, input: { [fp]: `${workdir}/b.txt`, content: 'beta\n' } },
      ],
    };
  }
  if (turn === 1 && spawn) {
    const input = camel
      ? { description: 'Count files', prompt: `${SUBAGENT_MARKER}: count the files in ${workdir} and report.`, subagent_type: 'general' }
      : { description: 'Count files', prompt: `${SUBAGENT_MARKER}: count the files in ${workdir} and report.`, subagent_type: 'general-purpose' };
    return { thinking: think('delegating the count'), calls: [{ id: id(0), name: spawn, input }] };
  }
  if (turn === 2) {
    // No replace_all: Claude Code resends this input normalised (replace_all: false added).
    const input = camel ? { filePath: `${workdir}/a.txt`, oldString: 'alpha', newString: 'ALPHA' } : { file_path: `${workdir}/a.txt`, old_string: 'alpha', new_string: 'ALPHA' };
    return { thinking: think('editing a.txt'), calls: [{ id: id(0), name: edit, input }] };
  }
  if (turn < 3 + BASH_TURNS) return { thinking: think(`step ${turn}`), calls: [{ id: id(0), name: bash, input: { command: `echo step-${turn}`, description: `Step ${turn}` } }] };
  return { thinking: think('the summary'), text: 'All done: a.txt edited, files counted, 30 steps run.', calls: [] };
}

function classify(body: Json, protocol: Exchange['protocol']): Exchange['stream'] {
  const tools = names(body.tools);
  if (!tools.some((n) => n.toLowerCase() === 'bash')) return 'side';
  const messages: Json[] = body.messages ?? [];
  const system = protocol === 'anthropic' ? JSON.stringify(body.system ?? '') : JSON.stringify(messages.filter((m) => m.role === 'system'));
  if (/title generator|summar/i.test(system) && !/tool/i.test(system)) return 'side';
  return isSubagent(messages) ? 'subagent' : 'main';
}

/** The sub-agent's conversation starts with the marker prompt; the main one with the user's task. */
function isSubagent(messages: Json[]): boolean {
  const firstUser = messages.find((m) => m.role === 'user');
  return firstUser ? userTexts([firstUser]).includes(SUBAGENT_MARKER) : false;
}

function anthropicMessage(turn: Turn, model: string, n: number): Json {
  const content: Json[] = [{ type: 'thinking', thinking: turn.thinking, signature: `sig-${n}` }];
  if (turn.text) content.push({ type: 'text', text: turn.text });
  for (const c of turn.calls) content.push({ type: 'tool_use', id: c.id, name: c.name, input: c.input });
  return { id: `msg_${n}`, type: 'message', role: 'assistant', model, content, stop_reason: turn.calls.length ? 'tool_use' : 'end_turn', stop_sequence: null, usage: { input_tokens: 100, output_tokens: 20 } };
}

function openaiMessage(turn: Turn | undefined, text: string): Json {
  if (!turn) return { role: 'assistant', content: text };
  const msg: Json = { role: 'assistant', content: turn.text ?? '', reasoning_content: turn.thinking };
  if (turn.calls.length) msg.tool_calls = turn.calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.input) } }));
  return msg;
}

function writeOpenAiSse(res: import('node:http').ServerResponse, msg: Json, model: string, n: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const base = { id: `chatcmpl-${n}`, object: 'chat.completion.chunk', created: 1_700_000_000, model };
  const chunk = (delta: Json, finish: string | null = null, extra: Json = {}) => res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`);
  chunk({ role: 'assistant', content: '' });
  if (msg.reasoning_content) chunk({ reasoning_content: msg.reasoning_content });
  if (msg.content) chunk({ content: msg.content });
  (msg.tool_calls ?? []).forEach((c: Json, index: number) => chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.function.name, arguments: c.function.arguments } }] }));
  chunk({}, msg.tool_calls ? 'tool_calls' : 'stop');
  res.write(`data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } })}\n\n`);
  res.write('data: [DONE]\n\n');
  res.end();
}

export interface AgenticUpstream {
  url: string;
  exchanges: Exchange[];
  close(): Promise<void>;
}

export async function startAgenticUpstream(workdir: string): Promise<AgenticUpstream> {
  const exchanges: Exchange[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      let body: Json = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        res.writeHead(400).end('{}');
        return;
      }
      if (url.includes('count_tokens')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"input_tokens": 100}');
        return;
      }
      const protocol = url.includes('/chat/completions') ? 'openai' : url.startsWith('/v1/messages') ? 'anthropic' : undefined;
      if (!protocol) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      const stream = classify(body, protocol);
      const messages: Json[] = body.messages ?? [];
      const turnNo = messages.filter((m) => m.role === 'assistant').length;
      const turn = stream === 'side' ? undefined : scriptTurn(stream, turnNo, names(body.tools), workdir, protocol === 'openai');
      exchanges.push({ protocol, headers: req.headers, body, turn, stream });
      n++;
      if (protocol === 'anthropic') {
        const message = turn ? anthropicMessage(turn, body.model, n) : { id: `msg_${n}`, type: 'message', role: 'assistant', model: body.model, content: [{ type: 'text', text: 'Fidelity run' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 10, output_tokens: 2 } };
        if (body.stream) writeAnthropicSse(res, message);
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(message));
        return;
      }
      const msg = openaiMessage(turn, 'Fidelity run');
      if (body.stream) writeOpenAiSse(res, msg, body.model, n);
      else {
        const out = { id: `chatcmpl-${n}`, object: 'chat.completion', created: 1_700_000_000, model: body.model, choices: [{ index: 0, message: msg, finish_reason: msg.tool_calls ? 'tool_calls' : 'stop' }], usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, exchanges, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
