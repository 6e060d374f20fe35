import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import {
  decideTurn,
  planFor,
  findShellTool,
  loadOracleTask,
  loadOracleTasks,
  matchTask,
  readConversation,
  shellToolInput,
  splitShellScript,
  startOracle,
  toolSpecs,
  trialPrefix,
  type RunningOracle,
} from './index';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** Every temporary directory this file makes, removed after its tests (also when one fails). */
const tempDir = trackedTempDirs();

const ROOT = resolve(__dirname, '../../..');
const TASKS = join(ROOT, 'pipelines/demo/tasks');
const DEMO_IDS = readFileSync(join(TASKS, 'verifiable_tasks.txt'), 'utf8')
  .split('\n')
  .map((l) => l.replace(/#.*/, '').trim())
  .filter(Boolean);
const ALL_TASKS = Object.fromEntries([...DEMO_IDS, 'unverified-task'].map((id) => [id, join(TASKS, id)]));

// Tool schemas as the real CLIs send them (Claude Code 2.1.197, OpenCode 1.18.33; OpenHands SDK's terminal, file_editor, task_tracker, finish and think).
const CLAUDE_BASH = {
  name: 'Bash',
  description: 'Executes a given bash command',
  input_schema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: {
      command: { description: 'The command to execute', type: 'string' },
      timeout: { description: 'Optional timeout in milliseconds (max 600000)', type: 'number' },
      description: { description: 'Clear, concise description of what this command does', type: 'string' },
      run_in_background: { type: 'boolean' },
      dangerouslyDisableSandbox: { type: 'boolean' },
    },
    required: ['command'],
    additionalProperties: false,
  },
};
const CLAUDE_WRITE = { name: 'Write', description: 'Write a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' }, content: { type: 'string' } }, required: ['file_path', 'content'] } };
const OPENCODE_BASH = {
  type: 'function',
  function: {
    name: 'bash',
    description: 'Run a command',
    parameters: {
      type: 'object',
      properties: { command: { type: 'string' }, timeout: { type: 'integer' }, workdir: { type: 'string' } },
      required: ['command'],
    },
  },
};
const OPENHANDS_TERMINAL = {
  type: 'function',
  function: {
    name: 'terminal',
    parameters: {
      type: 'object',
      properties: {
        command: { type: 'string' },
        is_input: { type: 'boolean' },
        timeout: { type: 'number' },
        security_risk: { type: 'string', enum: ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH'] },
        summary: { type: 'string' },
      },
      required: ['command', 'is_input', 'security_risk'],
    },
  },
};

describe('demo task.toml files', () => {
  it('parses every demo task.toml with a trajgen name and metadata', () => {
    for (const id of Object.keys(ALL_TASKS)) {
      const t = parseToml(readFileSync(join(TASKS, id, 'task.toml'), 'utf8'));
      expect(t.schema_version).toBe('1.4');
      expect((t.task as Record<string, unknown>).name).toBe(`trajgen/${id}`);
      expect((t.metadata as Record<string, unknown>).difficulty).toMatch(/easy|medium/);
    }
  });
});

describe('splitShellScript', () => {
  it('splits on blank and comment lines, keeps heredocs and continuations whole', () => {
    const steps = splitShellScript(
      [
        '#!/usr/bin/env bash',
        'set -euo pipefail',
        '',
        '# Write the file',
        "cat > a.py <<'EOF'",
        'x = 1',
        '',
        '# not a comment: inside the heredoc',
        'EOF',
        'echo done',
        '# Second step',
        'python3 a.py \\',
        '',
        '  --flag',
        'cat <<-END',
        '\tindented',
        '\tEND',
        'echo "a << b" <<< "here-string"',
        '',
        'ls',
      ].join('\n'),
    );
    expect(steps).toEqual([
      { description: 'Write the file', command: "cat > a.py <<'EOF'\nx = 1\n\n# not a comment: inside the heredoc\nEOF\necho done" },
      { description: 'Second step', command: 'python3 a.py \\\n\n  --flag\ncat <<-END\n\tindented\n\tEND\necho "a << b" <<< "here-string"' },
      { description: 'Run ls', command: 'ls' },
    ]);
  });

  it('turns every demo solution into steps bash accepts', () => {
    for (const id of Object.keys(ALL_TASKS)) {
      const task = loadOracleTask(id, join(TASKS, id));
      expect(task.steps.length).toBeGreaterThan(0);
      for (const step of task.steps) {
        const r = spawnSync('bash', ['-n'], { input: step.command, encoding: 'utf8' });
        expect(r.status, `${id}: ${step.command}\n${r.stderr}`).toBe(0);
      }
    }
    expect(loadOracleTask('fix-off-by-one', join(TASKS, 'fix-off-by-one')).wrongSteps?.length).toBe(2);
  });
});

describe('shell tool discovery', () => {
  it('finds each scaffold shell tool and fills its required keys', () => {
    const cc = findShellTool(toolSpecs([CLAUDE_WRITE, CLAUDE_BASH]))!;
    expect(cc.name).toBe('Bash');
    expect(shellToolInput(cc, 'ls', 'List files')).toEqual({ command: 'ls', description: 'List files' });
    const oc = findShellTool(toolSpecs([OPENCODE_BASH]))!;
    expect(shellToolInput(oc, 'ls', 'List files')).toEqual({ command: 'ls' });
    const oh = findShellTool(toolSpecs([OPENHANDS_TERMINAL]))!;
    expect(shellToolInput(oh, 'ls', 'List files')).toEqual({ command: 'ls', is_input: false, security_risk: 'LOW', summary: 'List files' });
    const custom = toolSpecs([{ name: 'run_it', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } }]);
    expect(findShellTool(custom)?.name).toBe('run_it');
    expect(findShellTool(toolSpecs([CLAUDE_WRITE]))).toBeUndefined();
  });
});

describe('policy', () => {
  const tasks = loadOracleTasks(ALL_TASKS);
  const greet = tasks.get('add-greeting')!;

  it('walks the plan by counting its own shell calls, then summarises', () => {
    const history: Record<string, unknown>[] = [{ role: 'user', content: [{ type: 'text', text: greet.instruction }] }];
    const commands: string[] = [];
    for (let i = 0; i < 10; i++) {
      const turn = decideTurn(readConversation('anthropic', { tools: [CLAUDE_BASH], messages: history }), greet);
      if (turn.kind === 'final') {
        expect(turn.text).toContain('Last output: out-3');
        break;
      }
      expect(turn.kind).toBe('step');
      commands.push(String(turn.toolCall!.input.command));
      history.push({ role: 'assistant', content: [{ type: 'tool_use', id: `t${i}`, name: 'Bash', input: turn.toolCall!.input }] });
      history.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `t${i}`, content: [{ type: 'text', text: `out-${i}` }] }] });
    }
    expect(commands).toEqual(['ls -la', ...greet.steps.map((s) => s.command), greet.check]);
  });

  it('counts OpenAI tool_calls the same way', () => {
    const conv = readConversation('openai', {
      tools: [OPENCODE_BASH],
      messages: [
        { role: 'system', content: 'You are opencode' },
        { role: 'user', content: greet.instruction },
        { role: 'assistant', content: '', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'bash', arguments: '{"command":"ls -la"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'README.md' },
      ],
    });
    const turn = decideTurn(conv, greet);
    expect(turn).toMatchObject({ kind: 'step', step: 1, toolCall: { name: 'bash', input: { command: greet.steps[0].command } } });
    expect(turn.reasoning).toMatch(/step 2 of 4/);
  });

  it('answers side calls with short text and no tool call', () => {
    const side = (system: string, user: string) => decideTurn(readConversation('anthropic', { system, messages: [{ role: 'user', content: user }] }), greet);
    expect(JSON.parse(side('Analyze if this message indicates a new conversation topic. Respond with JSON isNewTopic, title', 'hi').text)).toEqual({
      isNewTopic: true,
      title: 'Create a Python module `greeting.py` in the cur...',
    });
    expect(side('You are a title generator. You output ONLY a thread title.', 'Generate a title').text).toBe('Create a Python module `greeting.py` in the cur...');
    expect(side('', 'Warmup').text).toBe('Ready.');
    const plain = side('', 'what time is it');
    expect(plain).toMatchObject({ kind: 'side', text: 'OK.' });
    expect(plain.toolCall).toBeUndefined();
  });

  it('uses wrong.sh for wrong_answer, else skips the solution', () => {
    const conv = readConversation('anthropic', { tools: [CLAUDE_BASH], messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: [{ type: 'tool_use', id: 'a', name: 'Bash', input: {} }] }] });
    const fix = tasks.get('fix-off-by-one')!;
    expect(decideTurn(conv, fix, { wrongAnswer: true }).toolCall?.input.command).toBe(fix.wrongSteps![0].command);
    const next = decideTurn(readConversation('anthropic', { tools: [CLAUDE_BASH], messages: [{ role: 'user', content: 'x' }, ...Array(1).fill({ role: 'assistant', content: [{ type: 'tool_use', id: 'a', name: 'Bash', input: {} }] })] }), greet, { wrongAnswer: true });
    expect(next.toolCall?.input.command).toBe(greet.check);
  });

  it('answers Terminus-2 in its JSON keystroke format, one plan step per turn, confirms completion twice, and keeps its place across a context summarisation', () => {
    // The opening of Harbor 0.26's terminus-json-plain prompt (what marks a Terminus conversation).
    const prompt = `Format your response as JSON with the following structure:\n{"analysis": "...", "commands": [{"keystrokes": "ls -la\\n", "duration": 0.1}]}\n\nTask Description:\n${greet.instruction}`;
    const history: Record<string, unknown>[] = [{ role: 'user', content: prompt }];
    const plan: string[] = [];
    const ask = () => decideTurn(readConversation('openai', { messages: history }), greet);
    for (let i = 0; i < 20; i++) {
      const turn = ask();
      const answer = JSON.parse(turn.text) as { commands: { keystrokes: string; duration: number }[]; task_complete: boolean; analysis: string; plan: string };
      expect(turn.toolCall).toBeUndefined();
      if (turn.kind === 'final') {
        expect(answer).toMatchObject({ commands: [], task_complete: true });
        break;
      }
      expect(answer.task_complete).toBe(false);
      expect(answer.commands).toHaveLength(1);
      expect(answer.commands[0].keystrokes.endsWith('\n')).toBe(true);
      plan.push(answer.commands[0].keystrokes.trimEnd());
      history.push({ role: 'assistant', content: turn.text }, { role: 'user', content: `New Terminal Output:\nout-${i}` });
      if (i === 1) {
        // Harbor's summarisation: summary → questions → answers, then the history is replaced by the hand-off.
        history.push({ role: 'user', content: 'You are about to hand off your work to another AI agent. Please provide a comprehensive summary' });
        const summary = ask();
        expect(summary.text).toContain('Oracle progress: 2 steps done');
        history.splice(1);
        history.push({ role: 'user', content: `You are picking up work from a previous AI agent on this task:\n**Summary from Previous Agent:**\n${summary.text}` });
        const questions = ask();
        history.push({ role: 'assistant', content: questions.text }, { role: 'user', content: 'Here are the answers the other agent provided.\n\nNone.\n\nContinue working on this task.' });
      }
    }
    expect(plan).toEqual(planFor(greet, false).map((s) => s.command));
    // "Are you sure…?" → complete again.
    history.push({ role: 'assistant', content: JSON.stringify({ analysis: '', plan: '', commands: [], task_complete: true }) }, { role: 'user', content: 'Are you sure you want to mark the task as complete?' });
    expect(JSON.parse(ask().text)).toMatchObject({ task_complete: true, commands: [] });
  });

  it('says so, without tools, when it cannot tell the task', () => {
    const turn = decideTurn(readConversation('openai', { tools: [OPENCODE_BASH], messages: [{ role: 'user', content: 'do something' }] }), undefined);
    expect(turn.kind).toBe('unknown-task');
    expect(turn.toolCall).toBeUndefined();
  });

  it('maps trial names and instruction text to tasks', () => {
    const conv = (text: string) => readConversation('openai', { messages: [{ role: 'user', content: text }] });
    expect(matchTask(tasks, 'add-greeting__Ab3dEf9', conv(''))?.id).toBe('add-greeting');
    expect(matchTask(tasks, 'csv-summary', conv(''))?.id).toBe('csv-summary');
    expect(matchTask(tasks, undefined, conv(`<system-reminder>x</system-reminder>\n${tasks.get('csv-summary')!.instruction}`))?.id).toBe('csv-summary');
    // OpenCode's prompt as it arrives (quoted, each `"` escaped, newlines kept), with no routing header
    // (the LiteLLM backend forwards none).
    const quoted = `"${tasks.get('csv-summary')!.instruction.replace(/"/g, '\\"')}"`;
    expect(tasks.get('csv-summary')!.instruction).toContain('"');
    expect(matchTask(tasks, undefined, conv(quoted))?.id).toBe('csv-summary');
    expect(matchTask(tasks, 'nothing__1234567', conv('nothing'))).toBeUndefined();
    expect(trialPrefix('org/a-very-long-task-name-that-goes-on-and-on')).toBe('a-very-long-task-name-that-goes');
    const long = new Map([['a-very-long-task-name-that-goes-on-and-on', { ...greet, id: 'a-very-long-task-name-that-goes-on-and-on' }]]);
    expect(matchTask(long, 'a-very-long-task-name-that-goes__Zz9Yy8X', conv(''))?.id).toBe('a-very-long-task-name-that-goes-on-and-on');
  });
});

// ------------------------------------------------------------------ HTTP

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function sse(text: string): { event?: string; data: string }[] {
  return text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((b) => {
      const event = /^event: (.*)$/m.exec(b)?.[1];
      const data = b
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      return { event, data };
    });
}

/** Drive a whole conversation against the oracle, running each command in `app` like an agent would. */
async function solve(baseUrl: string, protocol: 'anthropic' | 'openai', taskId: string, app: string, headers: Record<string, string>, stream: boolean) {
  const instruction = readFileSync(join(TASKS, taskId, 'instruction.md'), 'utf8');
  const run = (command: string) => {
    const r = spawnSync('bash', ['-c', command], { cwd: app, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: app, PYTHONDONTWRITEBYTECODE: '1' } });
    return `${r.stdout}${r.stderr}`.trim() || '(no output)';
  };
  if (protocol === 'anthropic') {
    const messages: Record<string, unknown>[] = [{ role: 'user', content: [{ type: 'text', text: instruction }] }];
    for (let turn = 0; turn < 20; turn++) {
      const r = await post(`${baseUrl}/v1/messages`, { model: 'trajgen-oracle', max_tokens: 4096, stream: false, tools: [CLAUDE_WRITE, CLAUDE_BASH], messages }, headers);
      expect(r.status).toBe(200);
      const msg = JSON.parse(r.text);
      messages.push({ role: 'assistant', content: msg.content });
      if (msg.stop_reason !== 'tool_use') return msg;
      const uses = msg.content.filter((b: { type: string }) => b.type === 'tool_use');
      messages.push({ role: 'user', content: uses.map((u: { id: string; input: { command: string } }) => ({ type: 'tool_result', tool_use_id: u.id, content: run(u.input.command) })) });
    }
  } else {
    const messages: Record<string, unknown>[] = [
      { role: 'system', content: 'You are opencode' },
      { role: 'user', content: instruction },
    ];
    for (let turn = 0; turn < 20; turn++) {
      const r = await post(`${baseUrl}/v1/chat/completions`, { model: 'trajgen-oracle', stream, stream_options: { include_usage: true }, tools: [OPENCODE_BASH], messages }, headers);
      expect(r.status).toBe(200);
      let message: { content: string | null; tool_calls?: { id: string; function: { arguments: string } }[] };
      if (stream) {
        const chunks = sse(r.text);
        const calls: Record<number, { id: string; function: { name: string; arguments: string } }> = {};
        let content = '';
        for (const c of chunks) {
          if (c.data === '[DONE]') continue;
          const d = JSON.parse(c.data).choices[0]?.delta ?? {};
          content += d.content ?? '';
          for (const tc of d.tool_calls ?? []) {
            calls[tc.index] ??= { id: tc.id, function: { name: tc.function.name, arguments: '' } };
            calls[tc.index].function.arguments += tc.function.arguments ?? '';
          }
        }
        message = { content, tool_calls: Object.values(calls).length ? Object.values(calls) : undefined };
      } else message = JSON.parse(r.text).choices[0].message;
      messages.push({ role: 'assistant', ...message });
      if (!message.tool_calls) return message;
      for (const call of message.tool_calls) messages.push({ role: 'tool', tool_call_id: call.id, content: run(JSON.parse(call.function.arguments).command) });
    }
  }
  throw new Error('the oracle never finished');
}

function verify(taskId: string, app: string): string {
  const logs = tempDir(join(tmpdir(), 'tg-logs-'));
  spawnSync('bash', [join(TASKS, taskId, 'tests/test.sh')], { cwd: app, env: { PATH: process.env.PATH, TRAJGEN_APP_DIR: app, TRAJGEN_LOGS_DIR: logs }, encoding: 'utf8' });
  return readFileSync(join(logs, 'verifier/reward.txt'), 'utf8').trim();
}

function freshApp(taskId: string): string {
  const app = join(tempDir(join(tmpdir(), 'tg-app-')), 'app');
  cpSync(join(TASKS, taskId, 'environment'), app, { recursive: true, filter: (s) => !/(Dockerfile|\.dockerignore)$/.test(s) });
  return app;
}

describe('oracle server', () => {
  let oracle: RunningOracle;
  afterEach(async () => oracle?.stop());

  const anthropicBody = (stream: boolean) => ({ model: 'trajgen-oracle', max_tokens: 1024, stream, tools: [CLAUDE_BASH], messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }] });

  it('streams a valid Anthropic event sequence that adds up to the non-streaming message', async () => {
    oracle = await startOracle({ tasks: ALL_TASKS });
    const h = { 'x-trajgen-trial': 'add-greeting__1111111' };
    const plain = JSON.parse((await post(`${oracle.url}/v1/messages`, anthropicBody(false), h)).text);
    const streamed = await post(`${oracle.url}/v1/messages`, anthropicBody(true), h);
    expect(streamed.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = sse(streamed.text);
    const types = events.map((e) => e.event);
    expect(events.every((e) => JSON.parse(e.data).type === e.event)).toBe(true);
    expect(types[0]).toBe('message_start');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    // Blocks open and close in order, deltas only inside their open block.
    const blocks: Record<string, unknown>[] = [];
    let open = -1;
    for (const e of events.map((x) => JSON.parse(x.data))) {
      if (e.type === 'content_block_start') {
        expect(open).toBe(-1);
        expect(e.index).toBe(blocks.length);
        open = e.index;
        blocks.push({ ...e.content_block });
      } else if (e.type === 'content_block_delta') {
        expect(e.index).toBe(open);
        const b = blocks[open] as Record<string, string>;
        const d = e.delta;
        if (d.type === 'thinking_delta') b.thinking += d.thinking;
        else if (d.type === 'signature_delta') b.signature += d.signature;
        else if (d.type === 'text_delta') b.text += d.text;
        else if (d.type === 'input_json_delta') b.json = (b.json ?? '') + d.partial_json;
        else throw new Error(`unexpected delta ${d.type}`);
      } else if (e.type === 'content_block_stop') {
        expect(e.index).toBe(open);
        open = -1;
      }
    }
    const rebuilt: Record<string, unknown>[] = blocks.map(({ json, ...b }) => (json ? { ...b, input: JSON.parse(json as string) } : b));
    expect(rebuilt.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect(rebuilt.map(({ id: _id, signature: _s, ...b }) => b)).toEqual(plain.content.map(({ id: _id, signature: _s, ...b }: Record<string, unknown>) => b));
    expect((rebuilt[0].signature as string).length).toBeGreaterThan(40);
    expect(plain).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'tool_use', usage: { output_tokens: expect.any(Number) } });
    expect(plain.usage.input_tokens).toBeGreaterThan(0);
  });

  it('streams OpenAI chunks with tool_call deltas, usage on request, then [DONE]', async () => {
    oracle = await startOracle({ tasks: ALL_TASKS });
    const body = { model: 'trajgen-oracle', stream: true, stream_options: { include_usage: true }, tools: [OPENCODE_BASH], messages: [{ role: 'user', content: 'go' }] };
    const r = await post(`${oracle.url}/v1/chat/completions`, body, { 'x-trajgen-trial': 'csv-summary__2222222' });
    const events = sse(r.text);
    expect(events[events.length - 1].data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id)).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const usage = chunks[chunks.length - 1];
    expect(usage.choices).toEqual([]);
    expect(usage.usage.total_tokens).toBe(usage.usage.prompt_tokens + usage.usage.completion_tokens);
    const finish = chunks[chunks.length - 2].choices[0];
    expect(finish.finish_reason).toBe('tool_calls');
    const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(toolDeltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'bash', arguments: '' }, id: expect.stringMatching(/^call_/) });
    expect(JSON.parse(toolDeltas.map((d) => d.function.arguments).join(''))).toEqual({ command: 'ls -la' });
    const reasoning = chunks.map((c) => c.choices[0]?.delta?.reasoning_content ?? '').join('');
    expect(reasoning).toMatch(/step 1 of/);
    const noUsage = sse((await post(`${oracle.url}/v1/chat/completions`, { ...body, stream_options: undefined }, { 'x-trajgen-trial': 'csv-summary__2222222' })).text);
    expect(noUsage.some((e) => e.data !== '[DONE]' && JSON.parse(e.data).usage)).toBe(false);
  });

  it('is deterministic: the same request gets the same bytes', async () => {
    oracle = await startOracle({ tasks: ALL_TASKS });
    const h = { 'x-trajgen-trial': 'add-greeting__3333333' };
    const a = await post(`${oracle.url}/v1/messages`, anthropicBody(true), h);
    const b = await post(`${oracle.url}/v1/messages`, anthropicBody(true), h);
    expect(a.text).toBe(b.text);
    const c = await post(`${oracle.url}/v1/messages`, anthropicBody(true), { 'x-trajgen-trial': 'add-greeting__4444444' });
    expect(c.text).not.toBe(a.text); // another trial: other ids
  });

  it('injects 429 and 500 once per trial, counts every generation request', async () => {
    oracle = await startOracle({ tasks: ALL_TASKS, faults: { 'add-greeting': 'http_429', 'csv-summary': ['http_500', 'http_429'] } });
    const send = (trial: string) => post(`${oracle.url}/v1/messages`, anthropicBody(false), { 'x-trajgen-trial': trial });
    const r1 = await send('add-greeting__AAAAAAA');
    expect(r1.status).toBe(429);
    expect(r1.headers.get('retry-after')).toBe('1');
    expect(JSON.parse(r1.text).error.type).toBe('rate_limit_error');
    expect((await send('add-greeting__AAAAAAA')).status).toBe(200);
    expect((await send('add-greeting__BBBBBBB')).status).toBe(429);
    expect([(await send('csv-summary__CCCCCCC')).status, (await send('csv-summary__CCCCCCC')).status, (await send('csv-summary__CCCCCCC')).status]).toEqual([500, 429, 200]);
    expect((await send('config-json-edit__DDDDDDD')).status).toBe(200);
    const stats = oracle.stats();
    expect(stats.generation.total).toBe(7);
    expect(stats.generation.by_trial).toEqual({ 'add-greeting__AAAAAAA': 2, 'add-greeting__BBBBBBB': 1, 'csv-summary__CCCCCCC': 3, 'config-json-edit__DDDDDDD': 1 });
    expect(stats.faults.map((f) => f.fault)).toEqual(['http_429', 'http_429', 'http_500', 'http_429']);
    expect(await (await fetch(`${oracle.url}/__oracle/stats`)).json()).toEqual(stats);
  });

  it('cuts a stream mid-way once per trial (disconnect) and slows down (slow)', async () => {
    oracle = await startOracle({ tasks: ALL_TASKS, faults: { 'add-greeting': 'disconnect', 'csv-summary': 'slow' }, slowMs: 200 });
    const h = { 'x-trajgen-trial': 'add-greeting__EEEEEEE' };
    const cut = await fetch(`${oracle.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...h }, body: JSON.stringify(anthropicBody(true)) });
    await expect(cut.text()).rejects.toThrow();
    const whole = await post(`${oracle.url}/v1/messages`, anthropicBody(true), h);
    expect(whole.text).toContain('message_stop');
    const t0 = Date.now();
    await post(`${oracle.url}/v1/messages`, anthropicBody(false), { 'x-trajgen-trial': 'csv-summary__FFFFFFF' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it('answers count_tokens, models, and enforces its key when given one', async () => {
    oracle = await startOracle({ tasks: ALL_TASKS, apiKey: 'upstream-key-123456' });
    const ct = await post(`${oracle.url}/v1/messages/count_tokens`, anthropicBody(false), { 'x-api-key': 'upstream-key-123456' });
    expect(JSON.parse(ct.text).input_tokens).toBeGreaterThan(10);
    const models = (await (await fetch(`${oracle.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data[0].id).toBe('trajgen-oracle');
    expect((await post(`${oracle.url}/v1/messages`, anthropicBody(false), { 'x-api-key': 'nope' })).status).toBe(401);
    expect((await post(`${oracle.url}/v1/messages`, anthropicBody(false), { authorization: 'Bearer upstream-key-123456' })).status).toBe(200);
    expect(oracle.stats()).toMatchObject({ count_tokens: 1, models: 1, unauthorized: 1 });
  });

  it('rejects unknown faults up front', async () => {
    await expect(startOracle({ tasks: ALL_TASKS, faults: { x: 'explode' as never } })).rejects.toThrow(/Oracle fault "explode" for task x is unknown/);
  });

  it('solves demo tasks end to end over both protocols (and fails the wrong_answer one)', async () => {
    oracle = await startOracle({ tasks: ALL_TASKS, faults: { 'fix-off-by-one': 'wrong_answer' } });
    const cases: [string, 'anthropic' | 'openai', boolean, string][] = [
      ['csv-summary', 'anthropic', false, '1'],
      ['shell-line-counter', 'openai', true, '1'],
      ['refactor-extract-function', 'openai', false, '1'],
      ['fix-off-by-one', 'anthropic', false, '0'],
    ];
    for (const [id, protocol, stream, want] of cases) {
      const app = freshApp(id);
      const final = await solve(oracle.url, protocol, id, app, { 'x-trajgen-trial': `${id}__1234567` }, stream);
      expect(JSON.stringify(final)).toMatch(/I completed the task/);
      expect(verify(id, app), id).toBe(want);
    }
  });
});

describe('oracle behind the builtin recording proxy', () => {
  it('gets one log line per generation request the oracle received', async () => {
    const { JobTrialRouter, startBuiltinProxy } = await import('@trajgen/proxy');
    const oracle = await startOracle({ tasks: ALL_TASKS, faults: { 'config-json-edit': 'http_500' } });
    const jobDir = tempDir(join(tmpdir(), 'tg-job-'));
    const routes = new JobTrialRouter(jobDir);
    const trial = 'config-json-edit__9999999';
    const log = routes.register(trial);
    const proxy = await startBuiltinProxy({ upstream: { baseUrl: oracle.url, protocol: 'openai', trialHeader: 'x-trajgen-trial' }, routes });
    try {
      const app = freshApp('config-json-edit');
      // The agent side: retries the injected 500 once, like the real CLIs do.
      const headers = { authorization: `Bearer ${proxy.key}`, 'x-trajgen-trial': trial };
      const first = await post(`${proxy.url}/v1/chat/completions`, { model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }], tools: [OPENCODE_BASH] }, headers);
      expect(first.status).toBe(500);
      await solve(proxy.url, 'openai', 'config-json-edit', app, headers, true);
      expect(verify('config-json-edit', app)).toBe('1');
      await proxy.stop();
      const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.length).toBe(oracle.stats().generation.by_trial[trial]);
      expect(lines[0]).toMatchObject({ success: false, failure: { status_code: 500 } });
      expect(lines.slice(1).every((l) => l.success && l.response_body.object === 'chat.completion')).toBe(true);
      expect(lines[lines.length - 1].response_body.choices[0].message.content).toMatch(/I completed the task/);
      expect(lines[1].response_body.choices[0].message.reasoning_content).toMatch(/step 1 of/);
    } finally {
      await proxy.stop();
      await oracle.stop();
    }
  });

  const claude = join(ROOT, 'node_modules/.bin/claude');
  it.runIf(existsSync(claude))('drives the real Claude Code CLI to reward 1.0 through proxy and oracle', async () => {
    const { JobTrialRouter, startBuiltinProxy, claudeCodeEnv, claudeCodeArgs } = await import('@trajgen/proxy');
    const oracle = await startOracle({ tasks: ALL_TASKS });
    const tmp = tempDir(join(tmpdir(), 'tg-cc-'));
    const routes = new JobTrialRouter(join(tmp, 'job'));
    const trial = 'add-greeting__CcReal1';
    const log = routes.register(trial);
    const proxy = await startBuiltinProxy({ upstream: { baseUrl: oracle.url, protocol: 'anthropic', trialHeader: 'x-trajgen-trial' }, routes });
    try {
      const app = freshApp('add-greeting');
      const home = join(tmp, 'home');
      mkdirSync(home);
      const instruction = readFileSync(join(TASKS, 'add-greeting/instruction.md'), 'utf8');
      // Asynchronous: the proxy and the oracle answer from this very process.
      const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
        const child = spawn(claude, claudeCodeArgs(instruction, 'trajgen-oracle'), {
          cwd: app,
          env: { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', ...claudeCodeEnv({ proxyUrl: proxy.url, key: proxy.key, model: 'trajgen-oracle', trial }) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => (stdout += c));
        child.stderr.on('data', (c) => (stderr += c));
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('close', (status) => {
          clearTimeout(timer);
          done({ status, stdout, stderr });
        });
      });
      writeFileSync(join(tmp, 'claude.txt'), `${r.stdout}\n${r.stderr}`);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/"type":"result","subtype":"success"/);
      expect(verify('add-greeting', app)).toBe('1');
      await proxy.stop();
      const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.length).toBe(oracle.stats().generation.by_trial[trial]);
      expect(lines.length).toBeGreaterThanOrEqual(5);
      expect(lines.every((l) => l.success && l.endpoint === '/v1/messages' && Array.isArray(l.response_body.content))).toBe(true);
      expect(readFileSync(log, 'utf8')).not.toContain(proxy.key);
    } finally {
      await proxy.stop();
      await oracle.stop();
    }
  });
});
