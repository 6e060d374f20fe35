import { describe, expect, it } from 'vitest';
import { CC_TOOLS, imRow, say, step, system, tool, user } from './__fixtures__/im-builders';
import { buildTrace, canonicalToolNames, classifyCall, detectError, detectScaffold, parseTerminusReply, rowScaffold } from './trace';
import { isTestCommand, isTestFile, normalisePath, shellWrites, testOutcome } from './patterns';

const exec = { isExec: true, isTest: false };
const test = { isExec: true, isTest: true };
const other = { isExec: false, isTest: false };

describe('scaffold detection (TQS V2)', () => {
  it('no tools → terminus2; OpenHands SDK tool set → openhands_sdk', () => {
    expect(detectScaffold(imRow([user('x')]))).toBe('terminus2');
    expect(detectScaffold(imRow([user('x')], { tools: [tool('terminal'), tool('file_editor'), tool('finish')] }))).toBe('openhands_sdk');
  });
  it('Claude Code / OpenCode names: "claude code" or "anthropic" in the first 500 characters of the system prompt decides', () => {
    expect(detectScaffold(imRow([system("You are Claude Code, Anthropic's official CLI for Claude."), user('x')], { tools: CC_TOOLS }))).toBe('claudecode');
    expect(detectScaffold(imRow([system('You are opencode, an interactive CLI tool.'), user('x')], { tools: [tool('bash'), tool('edit')] }))).toBe('opencode');
    expect(detectScaffold(imRow([system('x'.repeat(600) + ' claude code'), user('x')], { tools: CC_TOOLS }))).toBe('opencode');
  });
  it('anything else → openhands; provenance in unique_info._scaffold (written by convert) wins', () => {
    const legacy = imRow([user('x')], { tools: [tool('execute_bash'), tool('str_replace_editor'), tool('finish')] });
    expect(detectScaffold(legacy)).toBe('openhands');
    expect(rowScaffold(imRow([user('x')], { tools: CC_TOOLS, scaffold: 'claude-code' }))).toEqual({ scaffold: 'claudecode', source: 'provenance' });
    expect(rowScaffold(legacy)).toEqual({ scaffold: 'openhands', source: 'detected' });
  });
});

describe('tool canonicalisation (TQS V2)', () => {
  it('maps renamed OpenHands-style tools back from their parameter schemas', () => {
    const map = canonicalToolNames([
      tool('terminal', { command: {}, is_input: {}, timeout: {} }),
      tool('file_editor', { command: {}, path: {}, file_text: {}, old_str: {}, new_str: {} }),
      tool('my_shell', { command: {}, is_input: {} }),
      tool('ed', { command: {}, path: {}, old_str: {}, new_str: {} }),
      tool('reflect', { thought: {} }),
      tool('tracker', { command: {}, task_list: {} }),
      tool('finish', { message: {} }),
      tool('Read', { file_path: {} }),
    ]);
    expect(Object.fromEntries(map)).toEqual({
      terminal: 'execute_bash',
      file_editor: 'str_replace_editor',
      my_shell: 'execute_bash',
      ed: 'str_replace_editor',
      reflect: 'think',
      tracker: 'task_tracker',
      finish: 'finish',
      Read: 'read',
    });
  });

  it('execution is decided from the arguments, not the tool name', () => {
    expect(classifyCall('run', 'run', { command: 'ls -la' }, 0)).toMatchObject({ kind: 'exec', command: 'ls -la' });
    expect(classifyCall('file_editor', 'str_replace_editor', { command: 'view', path: '/workspace/a.py' }, 0)).toMatchObject({ kind: 'view', target: 'a.py' });
    expect(classifyCall('bash', 'bash', { file_path: 'a.py' }, 0).kind).not.toBe('exec');
    expect(classifyCall('bash_command', 'bash_command', { keystrokes: 'pytest -x\n' }, 0)).toMatchObject({ kind: 'exec', isTest: true });
  });

  it('edit tools and shell writes become edits with normalised paths', () => {
    expect(classifyCall('Edit', 'edit', { file_path: '/testbed/src/a.py', old_string: 'a', new_string: 'b' }, 0).edits).toEqual([
      { path: 'src/a.py', op: 'str_replace', oldText: 'a', newText: 'b', shell: false },
    ]);
    expect(classifyCall('edit', 'edit', { filePath: '/repo/x.ts', oldString: 'a', newString: 'b' }, 0).edits[0]).toMatchObject({ path: 'x.ts', oldText: 'a', newText: 'b' });
    expect(classifyCall('apply_patch', 'apply_patch', { patchText: '*** Begin Patch\n*** Update File: src/m.py\n@@\n-a\n+b\n*** End Patch' }, 0).edits[0].path).toBe('src/m.py');
    const shell = classifyCall('Bash', 'bash', { command: "cat > /workspace/t.py << 'EOF'\nprint(1)\nEOF" }, 0);
    expect(shell).toMatchObject({ kind: 'exec', target: 't.py' });
    expect(shell.edits[0]).toMatchObject({ path: 't.py', op: 'redirect', shell: true });
  });
});

describe('error detection (TQS V2)', () => {
  it('explicit markers on any tool', () => {
    expect(detectError('<tool_use_error>File has not been read yet.</tool_use_error>', other)).toMatchObject({ error: true, severity: 'explicit' });
    expect(detectError('Invalid `path` parameter: hello.py. The path should be an absolute path', other)).toMatchObject({ error: true, severity: 'explicit' });
    expect(detectError('ERROR: file not found', other).error).toBe(true);
    expect(detectError('No ERROR: here', other).error).toBe(false);
    expect(detectError('Error validating args {"x": 1} for tool str_replace_editor', other).error).toBe(true);
    expect(detectError('No replacement was performed, old_str did not appear verbatim', other).error).toBe(true);
  });

  it('command-output patterns only for execution tools', () => {
    const trace = 'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: bad';
    expect(detectError(trace, other).error).toBe(false);
    expect(detectError(trace, exec)).toMatchObject({ error: true, severity: 'soft', pattern: 'Traceback' });
    expect(detectError('bash: foo: command not found', exec)).toMatchObject({ severity: 'hard' });
    expect(detectError('cat: x: No such file or directory', exec)).toMatchObject({ severity: 'soft' });
    expect(detectError('[The command completed with exit code 1.]', exec)).toMatchObject({ severity: 'hard' });
    expect(detectError('[The command completed with exit code 0.]', exec).error).toBe(false);
  });

  it('test output is checked against hard patterns only', () => {
    const out = 'FAILED tests/test_a.py::test_x\nTraceback (most recent call last):\nAssertionError';
    expect(detectError(out, test).error).toBe(false);
    expect(detectError(out + '\nExit code 1', test)).toMatchObject({ error: true, severity: 'hard' });
  });

  it('only the first 3,000 characters are scanned', () => {
    expect(detectError('x'.repeat(3000) + '<tool_use_error>', other).error).toBe(false);
    expect(detectError('x'.repeat(2980) + '<tool_use_error>', other).error).toBe(true);
  });

  it('observations map to calls by tool_call_id and carry the verdict', () => {
    const t = buildTrace(
      imRow([user('go'), ...step([['Bash', { command: 'python x.py' }], ['Read', { file_path: 'y' }]], ['Traceback (most recent call last):', 'Traceback (most recent call last):']), say('ok')], {
        tools: CC_TOOLS,
      }),
    );
    expect(t.observations.map((o) => o.verdict.error)).toEqual([true, false]);
    expect(t.actions.map((a) => a.observation)).toEqual([0, 1]);
  });
});

describe('patterns', () => {
  it('test commands', () => {
    for (const c of ['pytest -q', 'python -m pytest tests', 'python3 -m unittest', 'go test ./...', 'cargo test', 'npx vitest run', 'npm test', 'yarn run test', 'make -C x test', 'make check', './run_tests.sh', 'python -c "import x"', 'python reproduce_issue.py', 'mvn -q test', 'ctest'])
      expect(isTestCommand(c), c).toBe(true);
    for (const c of ['ls', 'cat test_x.py', 'git status', 'go vet ./...', 'make build', 'python setup.py build']) expect(isTestCommand(c), c).toBe(false);
  });
  it('test files', () => {
    for (const f of ['test_a.py', 'pkg/a_test.py', 'tests/helpers.py', 'conftest.py', 'x/a_test.go', 'tests/it.rs', 'FooTest.java', 'FooTests.java', 'FooIT.java', 'a.test.ts', 'b.spec.jsx'])
      expect(isTestFile(f), f).toBe(true);
    for (const f of ['src/a.py', 'testing.md', 'a.go', 'latest.py']) expect(isTestFile(f), f).toBe(false);
  });
  it('paths and shell writes', () => {
    expect(normalisePath('/workspace/django/x.py')).toBe('django/x.py');
    expect(normalisePath('/home/swe-bench/./a.py')).toBe('a.py');
    expect(shellWrites("echo 'x' >> notes.txt && python a.py 2>&1 > /dev/null").map((w) => w.path)).toEqual(['notes.txt']);
    expect(shellWrites('printf "a\\n" | tee -a /testbed/out.txt')).toEqual([{ path: 'out.txt', op: 'tee' }]);
    expect(shellWrites("sed -i 's/a/b/g' src/x.py")).toEqual([{ path: 'src/x.py', op: 'sed' }]);
    expect(shellWrites('git apply fix.diff')).toEqual([{ path: '', op: 'patch' }]);
    expect(shellWrites('make test 2>&1 | tail -40')).toEqual([]);
  });
  it('test outcomes', () => {
    expect(testOutcome('===== 3 passed in 0.1s =====')).toBe('pass');
    expect(testOutcome('1 failed, 2 passed')).toBe('fail');
    expect(testOutcome('Ran 3 tests in 0.001s\n\nOK')).toBe('pass');
    expect(testOutcome('--- FAIL: TestX (0.00s)\nFAIL')).toBe('fail');
    expect(testOutcome('test result: ok. 4 passed; 0 failed')).toBe('pass');
    expect(testOutcome('Running...')).toBe('inconclusive');
    expect(testOutcome(undefined)).toBe('inconclusive');
  });
});

describe('Terminus-2 replies', () => {
  it('JSON with analysis/plan/commands, a <think> prefix, XML; a reply without analysis and plan ran nothing', () => {
    expect(parseTerminusReply('{"analysis": "a", "plan": "p", "commands": [{"keystrokes": "ls\\n", "duration": 0.1}], "task_complete": true}')).toEqual({
      commands: ['ls\n'],
      taskComplete: true,
      parsed: true,
    });
    expect(parseTerminusReply('<think>hm</think>{"analysis": "a", "plan": "p", "commands": []}').parsed).toBe(true);
    expect(parseTerminusReply('<response><analysis>a</analysis><commands><keystrokes duration="1">ls\n</keystrokes></commands><task_complete>true</task_complete></response>')).toEqual({
      commands: ['ls\n'],
      taskComplete: true,
      parsed: true,
    });
    expect(parseTerminusReply('Sure.\n{"commands": [{"keystrokes": "rm -rf x\\n"}]}\nDone!')).toMatchObject({ commands: [], parsed: false });
  });

  it('a keystroke batch is answered by the next user message; the error rate counts commands', () => {
    const reply = (cmds: string[]) => say(JSON.stringify({ analysis: 'a', plan: 'p', commands: cmds.map((k) => ({ keystrokes: k, duration: 0.1 })) }));
    const t = buildTrace(imRow([user('task'), reply(['ls\n', 'cat x\n']), user('New Terminal Output:\n\nbash: catt: command not found'), reply([])]));
    expect(t.scaffold).toBe('terminus2');
    expect(t.commands).toBe(2);
    expect(t.observations).toHaveLength(1);
    expect(t.observations[0]).toMatchObject({ actions: [0, 1], verdict: { error: true, severity: 'hard' } });
  });
});
