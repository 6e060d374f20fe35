/**
 * SYNTHETIC test inputs — not real recordings. No public raw Claude Code or
 * OpenCode proxy log has been published, so these are
 * built to follow the documented wire shapes exactly:
 *  - Claude Code: Anthropic-native request bodies as the builtin
 *    proxy stores them (system block list with cache_control, the identity
 *    line, a `cch=<hex>;` billing token that changes between calls), tools
 *    `{name, description, input_schema}` with 2.1.x `$schema` and
 *    `additionalProperties:false`, thinking blocks with signatures, a
 *    `tool_use.input` given as a JSON string, two Warmup calls, a Task
 *    sub-agent stream interleaved in time, a tool-use error and the retry, a
 *    failed call (529), a near-duplicate record 2 ms later, a streamed
 *    (SSE event list) response, a compaction summary call and the
 *    post-compaction continuation.
 *  - OpenCode: OpenAI chat-completions bodies (@ai-sdk/openai-compatible):
 *    leading system message, `content: ""` with tool calls (and `null` after
 *    the LegoX hook), tool messages, camelCase arguments, a title-generator
 *    call, a streamed response kept as chat.completion.chunk objects.
 *
 * Regenerate the .jsonl files with
 *   node -r @swc-node/register libs/convert/src/__fixtures__/synthetic/build.ts
 * Their expected IM (../golden/*.expected.json) was checked by hand.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Json = Record<string, any>;

const CC_MODEL = 'claude-sonnet-4-5';
/** Epoch ms of the first call; the offsets below are milliseconds after it. */
export const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const schema = (properties: Json, required: string[]) => ({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

export const CC_TOOLS = [
  { name: 'Bash', description: 'Executes a given bash command.', input_schema: schema({ command: { type: 'string' }, timeout: { type: 'number' }, description: { type: 'string' } }, ['command']) },
  { name: 'Read', description: 'Reads a file from the local filesystem.', input_schema: schema({ file_path: { type: 'string' }, offset: { type: 'number' }, limit: { type: 'number' } }, ['file_path']) },
  {
    name: 'Edit',
    description: 'Performs exact string replacements in files.',
    input_schema: schema({ file_path: { type: 'string' }, old_string: { type: 'string' }, new_string: { type: 'string' }, replace_all: { type: 'boolean', default: false } }, ['file_path', 'old_string', 'new_string']),
  },
  { name: 'Write', description: 'Writes a file to the local filesystem.', input_schema: schema({ file_path: { type: 'string' }, content: { type: 'string' } }, ['file_path', 'content']) },
  {
    name: 'Task',
    description: 'Launch a new agent to handle complex, multi-step tasks autonomously.',
    input_schema: schema({ description: { type: 'string' }, prompt: { type: 'string' }, subagent_type: { type: 'string' } }, ['description', 'prompt', 'subagent_type']),
  },
  { name: 'TodoWrite', description: 'Create and manage a structured task list.', input_schema: schema({ todos: { type: 'array' } }, ['todos']) },
];
const EXPLORE_TOOLS = CC_TOOLS.filter((t) => ['Bash', 'Read'].includes(t.name)).concat([
  { name: 'Glob', description: 'Fast file pattern matching tool.', input_schema: schema({ pattern: { type: 'string' }, path: { type: 'string' } }, ['pattern']) },
]);

const IDENTITY = "You are Claude Code, Anthropic's official CLI for Claude.";
const mainSystem = (cch: string) => [
  { type: 'text', text: IDENTITY, cache_control: { type: 'ephemeral' } },
  { type: 'text', text: `x-anthropic-billing-header: cc_version=2.1.197; cch=${cch};\nYou are an interactive CLI tool that helps users with software engineering tasks.`, cache_control: { type: 'ephemeral' } },
];
const exploreSystem = [
  { type: 'text', text: IDENTITY, cache_control: { type: 'ephemeral' } },
  { type: 'text', text: 'You are a file search specialist for Claude Code. Find files and report their paths.' },
];
const SUMMARISER_SYSTEM = [{ type: 'text', text: 'You are a helpful AI assistant tasked with summarizing conversations.' }];

const TASK_TEXT = 'Fix the greeting in /app/greet.py: it should return "hello".';
const REMINDER = '<system-reminder>\nAs you answer the user\'s questions, you can use the following context:\n# claudeMd\nRun tests with pytest.\n</system-reminder>';

const userTask = (cache: boolean) => ({
  role: 'user',
  content: [{ type: 'text', text: REMINDER }, cache ? { type: 'text', text: TASK_TEXT, cache_control: { type: 'ephemeral' } } : { type: 'text', text: TASK_TEXT }],
});

// Assistant turns of the main stream, as the responses returned them.
const A1 = [
  { type: 'thinking', thinking: 'I should look at the file before changing it.', signature: 'sigA1' },
  { type: 'text', text: "I'll read the file first." },
  { type: 'tool_use', id: 'toolu_01', name: 'Read', input: { file_path: '/app/greet.py' } },
];
const R1 = { type: 'tool_result', tool_use_id: 'toolu_01', content: "     1→def greet():\n     2→    return 'helo'\n" };
const A2 = [
  { type: 'thinking', thinking: 'A typo. Let an explorer find the tests meanwhile.', signature: 'sigA2' },
  { type: 'tool_use', id: 'toolu_02', name: 'Task', input: { subagent_type: 'Explore', description: 'Find tests', prompt: 'Find the tests for greet.py and report their paths.' } },
];
const R2 = { type: 'tool_result', tool_use_id: 'toolu_02', content: [{ type: 'text', text: 'The tests are in /app/test_greet.py.' }] };
// Arguments in a different order than the schema: the converter must reorder them.
const A3 = [
  { type: 'text', text: 'Fixing the typo.' },
  { type: 'tool_use', id: 'toolu_03', name: 'Edit', input: { new_string: "return 'hello'", old_string: "return 'helo'", file_path: '/app/greet.py' } },
];
const R3 = { type: 'tool_result', tool_use_id: 'toolu_03', content: '<tool_use_error>File has been modified since read, either by the user or by a linter. Read it again before attempting to write it.</tool_use_error>', is_error: true };
const A4 = [{ type: 'tool_use', id: 'toolu_04', name: 'Edit', input: { file_path: '/app/greet.py', old_string: "    return 'helo'", new_string: "    return 'hello'" } }];
const R4 = { type: 'tool_result', tool_use_id: 'toolu_04', content: 'The file /app/greet.py has been updated.', cache_control: { type: 'ephemeral' } };
const A5 = [{ type: 'tool_use', id: 'toolu_05', name: 'Bash', input: { command: 'python -m pytest -q', description: 'Run the tests' } }];
const R5 = { type: 'tool_result', tool_use_id: 'toolu_05', content: '1 passed in 0.01s' };

/** History form of an assistant turn: how Claude Code resends it (thinking of older turns dropped; A1's input as a JSON string). */
const history = (blocks: Json[], keepThinking: boolean): Json[] =>
  blocks
    .filter((b) => keepThinking || b.type !== 'thinking')
    .map((b) => (b.type === 'tool_use' && b.id === 'toolu_01' ? { ...b, input: JSON.stringify(b.input) } : b));

const usage = (input: number, output: number, cacheRead = 0) => ({ input_tokens: input, output_tokens: output, cache_read_input_tokens: cacheRead, cache_creation_input_tokens: 0 });

const ccLine = (t: number, body: Json, response: Json | Json[], extra: Json = {}) => ({
  session_id: 'sess-synthetic-cc',
  success: true,
  request_time: T0 + t,
  timestamp: new Date(T0 + t).toISOString(),
  duration_ms: 900,
  request_body: { model: CC_MODEL, max_tokens: 32000, metadata: { user_id: 'synthetic' }, ...body },
  response_body: Array.isArray(response) ? response : { id: `msg_${t}`, type: 'message', role: 'assistant', model: CC_MODEL, content: response.content, stop_reason: response.stop_reason ?? 'tool_use', usage: response.usage },
  usage: Array.isArray(response) ? undefined : response.usage,
  ...extra,
});

/** A response as the Anthropic SSE event list a streaming logger may keep. */
function sse(content: Json[], u: Json): Json[] {
  const events: Json[] = [{ type: 'message_start', message: { id: 'msg_stream', type: 'message', role: 'assistant', model: CC_MODEL, content: [], usage: { input_tokens: u.input_tokens, output_tokens: 1 } } }];
  content.forEach((b, i) => {
    if (b.type === 'text') {
      events.push({ type: 'content_block_start', index: i, content_block: { type: 'text', text: '' } });
      for (const piece of b.text.match(/.{1,12}/gs) ?? []) events.push({ type: 'content_block_delta', index: i, delta: { type: 'text_delta', text: piece } });
    } else if (b.type === 'thinking') {
      events.push({ type: 'content_block_start', index: i, content_block: { type: 'thinking', thinking: '' } });
      events.push({ type: 'content_block_delta', index: i, delta: { type: 'thinking_delta', thinking: b.thinking } });
      events.push({ type: 'content_block_delta', index: i, delta: { type: 'signature_delta', signature: 'sigS' } });
    } else if (b.type === 'tool_use') {
      events.push({ type: 'content_block_start', index: i, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } });
      const json = JSON.stringify(b.input);
      events.push({ type: 'content_block_delta', index: i, delta: { type: 'input_json_delta', partial_json: json.slice(0, 7) } });
      events.push({ type: 'content_block_delta', index: i, delta: { type: 'input_json_delta', partial_json: json.slice(7) } });
    }
    events.push({ type: 'content_block_stop', index: i });
  });
  events.push({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: u.output_tokens } });
  events.push({ type: 'message_stop' });
  return events;
}

export function claudeCodeRecords(): Json[] {
  const tools = CC_TOOLS;
  const u0 = userTask(true);
  const u0plain = userTask(false);
  const S1 = [{ type: 'tool_use', id: 'toolu_s1', name: 'Glob', input: { pattern: '**/test_*.py' } }];
  const SR1 = { type: 'tool_result', tool_use_id: 'toolu_s1', content: '/app/test_greet.py' };
  const S2 = [{ type: 'text', text: 'The tests are in /app/test_greet.py.' }];
  const subPrompt = { role: 'user', content: 'Find the tests for greet.py and report their paths.' };
  const mainHistoryTo5 = [
    u0plain,
    { role: 'assistant', content: history(A1, false) },
    { role: 'user', content: [R1] },
    { role: 'assistant', content: history(A2, false) },
    { role: 'user', content: [R2] },
    { role: 'assistant', content: history(A3, false) },
    { role: 'user', content: [R3] },
    { role: 'assistant', content: history(A4, true) },
    { role: 'user', content: [R4] },
  ];
  const CONTINUATION = {
    role: 'user',
    content:
      'This session is being continued from a previous conversation that ran out of context. The conversation is summarized below:\nThe user asked to fix the greeting in /app/greet.py. The typo was fixed; the tests were about to run.\nPlease continue the conversation from where we left it off without asking the user any further questions.',
  };
  const P1 = [{ type: 'tool_use', id: 'toolu_06', name: 'Bash', input: { command: 'python -m pytest -q', description: 'Run the tests' } }];
  const PR1 = { type: 'tool_result', tool_use_id: 'toolu_06', content: '1 passed in 0.01s' };
  const P2 = [
    { type: 'thinking', thinking: 'The tests pass; the fix is complete.', signature: 'sigP2' },
    { type: 'text', text: 'The greeting now returns "hello" and the tests pass.' },
  ];
  return [
    // Warm-ups (Claude Code sends them at start): one message, no tools.
    ccLine(1000, { system: exploreSystem, messages: [{ role: 'user', content: [{ type: 'text', text: 'Warmup' }] }] }, { content: [{ type: 'text', text: 'Ready.' }], stop_reason: 'end_turn', usage: usage(20, 2) }),
    ccLine(1001, { system: mainSystem('0a0a0a'), messages: [{ role: 'user', content: 'Warmup' }] }, { content: [{ type: 'text', text: 'Ready.' }], stop_reason: 'end_turn', usage: usage(20, 2) }),
    // Main stream.
    ccLine(2000, { system: mainSystem('1a2b3c'), tools, messages: [u0] }, { content: A1, usage: usage(3000, 60) }),
    ccLine(3000, { system: mainSystem('4d5e6f'), tools, messages: [u0plain, { role: 'assistant', content: history(A1, true) }, { role: 'user', content: [R1] }] }, { content: A2, usage: usage(3100, 80, 3000) }),
    // Near-duplicate of the previous record 2 ms later (mini-vela quirk).
    ccLine(3002, { system: mainSystem('4d5e6f'), tools, messages: [u0plain, { role: 'assistant', content: history(A1, true) }, { role: 'user', content: [R1] }] }, { content: A2, usage: usage(3100, 80, 3000) }),
    // Sub-agent stream, interleaved; its last response streamed.
    ccLine(3100, { system: exploreSystem, tools: EXPLORE_TOOLS, messages: [subPrompt] }, { content: S1, usage: usage(900, 20) }),
    ccLine(3200, { system: exploreSystem, tools: EXPLORE_TOOLS, messages: [subPrompt, { role: 'assistant', content: S1 }, { role: 'user', content: [SR1] }] }, sse(S2, usage(950, 15))),
    ccLine(4000, { system: mainSystem('7a7a7a'), tools, messages: [u0plain, { role: 'assistant', content: history(A1, false) }, { role: 'user', content: [R1] }, { role: 'assistant', content: history(A2, true) }, { role: 'user', content: [R2] }] }, { content: A3, usage: usage(3300, 50, 3100) }),
    ccLine(5000, { system: mainSystem('8b8b8b'), tools, messages: mainHistoryTo5.slice(0, 7) }, { content: A4, usage: usage(3400, 40, 3300) }),
    // Overloaded (529) before the successful retry of the same request.
    {
      session_id: 'sess-synthetic-cc',
      success: false,
      request_time: T0 + 5900,
      timestamp: new Date(T0 + 5900).toISOString(),
      request_body: { model: CC_MODEL, max_tokens: 32000, system: mainSystem('9c9c9c'), tools, messages: mainHistoryTo5 },
      failure: { error_type: 'OverloadedError', status_code: 529, message: 'Overloaded' },
    },
    ccLine(6000, { system: mainSystem('9c9c9c'), tools, messages: mainHistoryTo5 }, { content: A5, usage: usage(3500, 30, 3400) }),
    // Compaction: the summary request (summariser system prompt, no tools) …
    ccLine(7000, { system: SUMMARISER_SYSTEM, messages: [...mainHistoryTo5, { role: 'assistant', content: A5 }, { role: 'user', content: [R5, { type: 'text', text: 'Your task is to create a detailed summary of the conversation so far.' }] }] }, {
      content: [{ type: 'text', text: '<summary>Fixed the typo in greet.py; tests about to run.</summary>' }],
      stop_reason: 'end_turn',
      usage: usage(3600, 40),
    }),
    // … and the continuation: a new prefix, its own row.
    ccLine(8000, { system: mainSystem('dddddd'), tools, messages: [CONTINUATION] }, { content: P1, usage: usage(1200, 30) }),
    ccLine(9000, { system: mainSystem('eeeeee'), tools, messages: [CONTINUATION, { role: 'assistant', content: P1 }, { role: 'user', content: [PR1] }] }, { content: P2, stop_reason: 'end_turn', usage: usage(1300, 40, 1200) }),
  ];
}

// ------------------------------------------------------------- LiteLLM-logger (OpenAI-shaped) variant

/** The same call as the LegoX/harbor LiteLLM logger writes it: OpenAI messages, system as a leading message, `choices`. */
export function toLiteLlmShape(line: Json): Json {
  if (!line.request_body) return line;
  const body = line.request_body;
  const messages: Json[] = [];
  if (body.system) messages.push({ role: 'system', content: body.system.map((b: Json) => ({ type: 'text', text: b.text })) });
  for (const m of body.messages) {
    if (typeof m.content === 'string') {
      messages.push({ role: m.role, content: m.content });
      continue;
    }
    if (m.role === 'assistant') messages.push(assistantOpenAi(m.content));
    else {
      for (const b of m.content) if (b.type === 'tool_result') messages.push({ role: 'tool', tool_call_id: b.tool_use_id, content: typeof b.content === 'string' ? b.content : b.content.map((c: Json) => c.text).join('') });
      const texts = m.content.filter((b: Json) => b.type === 'text').map((b: Json) => ({ type: 'text', text: b.text }));
      if (texts.length) messages.push({ role: 'user', content: texts });
    }
  }
  const out: Json = {
    ...line,
    request_body: {
      messages,
      model: body.model,
      max_tokens: body.max_tokens,
      tools: (body.tools ?? []).map((t: Json) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.input_schema } })),
    },
  };
  if (line.response_body && !Array.isArray(line.response_body)) {
    const msg = assistantOpenAi(line.response_body.content);
    out.response_body = { id: line.response_body.id, object: 'chat.completion', model: body.model, choices: [{ index: 0, finish_reason: msg.tool_calls ? 'tool_calls' : 'stop', message: msg }], usage: line.usage };
  }
  return out;
}

function assistantOpenAi(blocks: Json[]): Json {
  const text = blocks.filter((b) => b.type === 'text').map((b) => b.text).join('\n\n');
  const thinking = blocks.filter((b) => b.type === 'thinking');
  const calls = blocks
    .filter((b) => b.type === 'tool_use')
    .map((b) => ({ id: b.id, type: 'function', function: { name: b.name, arguments: typeof b.input === 'string' ? b.input : JSON.stringify(b.input) } }));
  const m: Json = { role: 'assistant', content: text === '' && calls.length ? null : text };
  if (thinking.length) {
    m.reasoning_content = thinking.map((b) => b.thinking).join('\n\n');
    m.thinking_blocks = thinking.map((b) => ({ type: 'thinking', thinking: b.thinking, signature: b.signature }));
  }
  if (calls.length) m.tool_calls = calls;
  return m;
}

// ------------------------------------------------------------- OpenCode

const OC_MODEL = 'glm-5';
const fn = (name: string, description: string, properties: Json, required: string[]) => ({ type: 'function', function: { name, description, parameters: { type: 'object', properties, required, additionalProperties: false, $schema: 'http://json-schema.org/draft-07/schema#' } } });
export const OC_TOOLS = [
  fn('bash', 'Executes a bash command.', { command: { type: 'string' }, timeout: { type: 'number' }, description: { type: 'string' } }, ['command', 'description']),
  fn('read', 'Reads a file.', { filePath: { type: 'string' }, offset: { type: 'number' }, limit: { type: 'number' } }, ['filePath']),
  fn('edit', 'Performs exact string replacements in files.', { filePath: { type: 'string' }, oldString: { type: 'string' }, newString: { type: 'string' }, replaceAll: { type: 'boolean' } }, ['filePath', 'oldString', 'newString']),
  fn('write', 'Writes a file.', { filePath: { type: 'string' }, content: { type: 'string' } }, ['filePath', 'content']),
  fn('task', 'Launch a subagent.', { description: { type: 'string' }, prompt: { type: 'string' }, subagent_type: { type: 'string' } }, ['description', 'prompt', 'subagent_type']),
  fn('todowrite', 'Update the todo list.', { todos: { type: 'array' } }, ['todos']),
];
const OC_SYSTEM = 'You are opencode, an interactive CLI tool that helps users with software engineering tasks.\nWorking directory: /app';

function ocLine(t: number, messages: Json[], response: Json | Json[], u: Json, extra: Json = {}): Json {
  return {
    session_id: 'sess-synthetic-oc',
    success: true,
    request_time: T0 + t,
    timestamp: new Date(T0 + t).toISOString(),
    duration_ms: 700,
    request_body: { model: OC_MODEL, messages, tools: OC_TOOLS, max_tokens: 32000, temperature: 0.7, top_p: 0.95, ...extra },
    response_body: Array.isArray(response)
      ? response
      : { id: `chatcmpl-${t}`, object: 'chat.completion', model: OC_MODEL, choices: [{ index: 0, finish_reason: response.tool_calls ? 'tool_calls' : 'stop', message: { role: 'assistant', ...response } }], usage: u },
    usage: u,
  };
}

export function openCodeRecords(): Json[] {
  const sys = { role: 'system', content: OC_SYSTEM };
  const task = { role: 'user', content: 'Fix the greeting in /app/greet.py: it should return "hello".' };
  const call1 = { id: 'call_read_1', type: 'function', function: { name: 'read', arguments: '{"filePath":"/app/greet.py"}' } };
  const res1 = { role: 'tool', tool_call_id: 'call_read_1', content: "<file>\n00001| def greet():\n00002|     return 'helo'\n</file>" };
  // Arguments in another order than the schema.
  const call2 = { id: 'call_edit_2', type: 'function', function: { name: 'edit', arguments: '{"newString": "return \'hello\'", "filePath": "/app/greet.py", "oldString": "return \'helo\'"}' } };
  const res2 = { role: 'tool', tool_call_id: 'call_edit_2', content: 'Edit applied successfully.' };
  const u = (p: number, c: number) => ({ prompt_tokens: p, completion_tokens: c, total_tokens: p + c, prompt_tokens_details: { cached_tokens: Math.floor(p / 2) }, cost: 0.001 });
  const chunks = (id: string, content: string, calls: Json[], reasoning: string) => [
    { id, object: 'chat.completion.chunk', model: OC_MODEL, choices: [{ index: 0, delta: { role: 'assistant', reasoning_content: reasoning } }] },
    { id, object: 'chat.completion.chunk', model: OC_MODEL, choices: [{ index: 0, delta: { content } }] },
    ...calls.map((c, i) => ({ id, object: 'chat.completion.chunk', model: OC_MODEL, choices: [{ index: 0, delta: { tool_calls: [{ index: i, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } }] } }] })),
    ...calls.map((c, i) => ({ id, object: 'chat.completion.chunk', model: OC_MODEL, choices: [{ index: 0, delta: { tool_calls: [{ index: i, function: { arguments: c.function.arguments } }] } }] })),
    { id, object: 'chat.completion.chunk', model: OC_MODEL, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }], usage: u(1500, 40) },
  ];
  return [
    // OpenCode's hidden title agent: its own call, filtered by "title generator".
    ocLine(
      1000,
      [
        { role: 'system', content: 'You are a title generator. You output ONLY a thread title. Nothing else.' },
        { role: 'user', content: 'Generate a title for this conversation:\nFix the greeting in /app/greet.py' },
      ],
      { content: 'Fix greeting typo' },
      u(60, 5),
      { tools: undefined },
    ),
    ocLine(2000, [sys, task], { content: '', reasoning_content: 'Read the file first.', tool_calls: [call1] }, u(1400, 30)),
    // Streamed response (chunks kept by the logger); the history it extends sends content "".
    ocLine(3000, [sys, task, { role: 'assistant', content: '', tool_calls: [call1] }, res1], chunks('chatcmpl-3000', '', [call2], 'A typo: helo → hello.'), u(1500, 40)),
    // After the LegoX pre-call hook, "" content with tool calls arrives as null.
    ocLine(4000, [sys, task, { role: 'assistant', content: null, tool_calls: [call1] }, res1, { role: 'assistant', content: null, tool_calls: [call2] }, res2], { content: 'Fixed: greet() now returns "hello".' }, u(1600, 20)),
  ];
}

function writeJsonl(file: string, lines: Json[]): void {
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

if (require.main === module) {
  writeJsonl(join(__dirname, 'claude-code.synthetic.litellm-trajectory.jsonl'), claudeCodeRecords());
  writeJsonl(join(__dirname, 'opencode.synthetic.litellm-trajectory.jsonl'), openCodeRecords());
}
