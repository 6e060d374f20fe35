/**
 * The text patterns of TQS V2 (LegoFlow-Trace-Crafter's rule-based score): test commands,
 * test files, path normalisation, shell writes, and tool-error markers.
 */

/** Only this much of an observation is scanned for errors (as TQS V2 does). */
export const ERROR_SCAN_CHARS = 3000;

// ------------------------------------------------------------ test commands
/**
 * pytest, unittest, nosetests, go test, cargo test, ctest, mvn/gradle test,
 * jest, mocha, vitest, npm/yarn/pnpm test, make test|check, `./…test…`
 * binaries; also `python -c` and reproduce/verify scripts.
 */
const TEST_COMMAND = new RegExp(
  [
    String.raw`\b(?:py\.test|pytest|nosetests|nose2)\b`,
    String.raw`\bpython[0-9.]*\s+(?:-\w+\s+)*-m\s+(?:pytest|unittest|nose)\b`,
    String.raw`\bunittest\b`,
    String.raw`\bgo\s+test\b`,
    String.raw`\bcargo\s+(?:\+\S+\s+)?(?:test|nextest)\b`,
    String.raw`\bctest\b`,
    String.raw`\b(?:mvn|mvnw|gradle|gradlew)\b[^\n;&|]*\btest\b`,
    String.raw`\b(?:jest|mocha|vitest)\b`,
    String.raw`\b(?:npm|yarn|pnpm)\s+(?:run\s+)?test\b`,
    String.raw`\bmake\b[^\n;&|]*\s(?:test|check)\b`,
    String.raw`(?:^|[\s;&|(])\.\/[^\s;&|]*test[^\s;&|]*`,
    String.raw`\bpython[0-9.]*\s+-c\b`,
    String.raw`\b(?:reproduce|verify)[\w.-]*\.(?:py|sh|js|ts|go|rb)\b`,
  ].join('|'),
  'i',
);

export function isTestCommand(command: string): boolean {
  return TEST_COMMAND.test(command);
}

/** Reproduction scripts, for the zero-weight `reproduce_first` diagnostic. */
export function isReproduceCommand(command: string): boolean {
  return /\breproduce[\w.-]*\.(?:py|sh|js|ts|go|rb)\b|\brepro[\w-]*\.py\b/i.test(command);
}

// ------------------------------------------------------------ test files
/** test_*.py, *_test.py, tests/*.py, conftest, *_test.go, Rust tests, *Test(s).java, *IT.java, *.test|spec.(js|ts|…) */
const TEST_FILE = new RegExp(
  [
    String.raw`(?:^|/)test_[^/]*\.py$`,
    String.raw`_test\.py$`,
    String.raw`(?:^|/)tests?/(?:.*/)?[^/]*\.py$`,
    String.raw`(?:^|/)conftest\.py$`,
    String.raw`_test\.go$`,
    String.raw`(?:^|/)tests/(?:.*/)?[^/]*\.rs$`,
    String.raw`Tests?\.java$`,
    String.raw`IT\.java$`,
    String.raw`\.(?:test|spec)\.(?:js|ts|jsx|tsx|mjs|cjs)$`,
  ].join('|'),
);

export function isTestFile(path: string): boolean {
  return TEST_FILE.test(path);
}

/** Files whose edits can change what the test runner runs (H4). */
export function isTestConfigFile(path: string): boolean {
  return /(?:^|\/)(?:conftest\.py|pytest\.ini|setup\.cfg|pyproject\.toml|tox\.ini)$/.test(path);
}

/** conftest, __init__ or setup files under test dirs (H5). */
export function isTestSupportFile(path: string): boolean {
  if (/(?:^|\/)conftest\.py$/.test(path)) return true;
  return /(?:^|\/)tests?\/(?:.*\/)?(?:__init__\.py|setup\.py|setup\.cfg)$/.test(path);
}

// ------------------------------------------------------------ paths
const PATH_PREFIXES = ['/workspace/', '/testbed/', '/repo/', '/home/swe-bench/'];

/** Strip the sandbox roots (/workspace/, /testbed/, /repo/, /home/swe-bench/) and a leading ./ */
export function normalisePath(path: string): string {
  let p = path.trim().replace(/^["']|["']$/g, '');
  for (const prefix of PATH_PREFIXES) {
    if (p.startsWith(prefix)) {
      p = p.slice(prefix.length);
      break;
    }
  }
  while (p.startsWith('./')) p = p.slice(2);
  return p;
}

// ------------------------------------------------------------ shell writes
export interface ShellWrite {
  path: string;
  op: 'redirect' | 'tee' | 'sed' | 'patch';
}

const REDIRECT = /\b(?:cat|echo|printf)\b[^\n;&|]*?(?<![0-9&])>>?\s*(?!&)([^\s;&|<>()]+)/g;
const TEE = /\btee\s+(?:-a\s+|--append\s+)?([^\s;&|<>()-][^\s;&|<>()]*)/g;
const SED = /\bsed\s+(?:-[a-zA-Z]*i[a-zA-Z]*(?:\.\w+)?|--in-place(?:=\S+)?)\s+(?:-e\s+)?(?:'[^']*'|"[^"]*"|\S+)\s+([^\s;&|<>()]+)/g;
const PATCH = /\b(?:patch|git\s+apply)\b/;

/** Files a shell command writes: `cat >`, echo/printf redirects, `tee`, `sed -i`; `patch`/`git apply` (target unknown → ""). */
export function shellWrites(command: string): ShellWrite[] {
  const out: ShellWrite[] = [];
  const add = (path: string, op: ShellWrite['op']) => {
    if (!path || path === '/dev/null' || path.startsWith('/dev/') || path.startsWith('&')) return;
    out.push({ path: normalisePath(path), op });
  };
  for (const m of command.matchAll(REDIRECT)) add(m[1], 'redirect');
  for (const m of command.matchAll(TEE)) add(m[1], 'tee');
  for (const m of command.matchAll(SED)) add(m[1], 'sed');
  if (PATCH.test(command)) out.push({ path: '', op: 'patch' });
  return out;
}

// ------------------------------------------------------------ tool errors
/** Explicit error markers, checked on the output of any tool (TQS V2's, OpenHands' error markers among them). */
export const EXPLICIT_ERROR_MARKERS: { name: string; test: (text: string) => boolean }[] = [
  { name: '<tool_use_error>', test: (t) => t.includes('<tool_use_error>') },
  { name: 'The arguments provided to the tool are invalid', test: (t) => t.includes('The arguments provided to the tool are invalid') },
  { name: '[An error occurred during execution.]', test: (t) => t.includes('[An error occurred during execution.]') },
  { name: 'Error validating args … for tool', test: (t) => /Error validating args[\s\S]{0,400}?for tool/.test(t) },
  { name: 'Error executing tool', test: (t) => t.includes('Error executing tool') },
  { name: 'leading ERROR:', test: (t) => t.trimStart().startsWith('ERROR:') },
  { name: 'No replacement was performed', test: (t) => t.includes('No replacement was performed') },
  { name: 'parameter is required for … command', test: (t) => /parameter is required for [\s\S]{0,80}?command/.test(t) },
  { name: 'Invalid `…` parameter', test: (t) => /Invalid `[^`\n]{1,80}` parameter/.test(t) },
  // Terminus-2's feedback after an unparsable reply; our addition: no command ran.
  { name: 'Previous response had parsing errors', test: (t) => t.trimStart().startsWith('Previous response had parsing errors') },
];

/** Hard command-output patterns: only for execution tools; the only ones applied to test output. */
export const HARD_ERROR_PATTERNS: { name: string; re: RegExp }[] = [
  { name: 'command not found', re: /command not found/ },
  { name: 'Permission denied', re: /Permission denied/ },
  // Case-insensitive: Claude Code prints "Exit code 1", OpenHands "[The command completed with exit code 1.]".
  { name: 'exit code [1-9]', re: /exit code [1-9]/i },
  { name: 'returned non-zero exit status', re: /returned non-zero exit status/ },
];

/** Soft command-output patterns: only for execution tools that are not test runs. */
export const SOFT_ERROR_PATTERNS: { name: string; re: RegExp }[] = [
  { name: 'Traceback', re: /Traceback \(most recent call last\)/ },
  {
    name: 'Python exception',
    re: /\b(?:[A-Z][A-Za-z]*Error|[A-Z][A-Za-z]*Exception|KeyboardInterrupt|StopIteration|SystemExit)(?::|\s*$)/m,
  },
  { name: 'No such file or directory', re: /No such file or directory/ },
  { name: 'FAILED', re: /\bFAILED\b/ },
];

// ------------------------------------------------------------ test outcomes
const TEST_FAIL = [
  /\b[1-9]\d* (?:failed|errors?)\b/,
  /\bFAILED\b/,
  /^(?:--- )?FAIL\b/m,
  /test result: FAILED/,
  /Tests:\s+[1-9]\d* failed/,
  /\bFAILURES!/,
  /^ERROR(?::| )/m,
  /\bAssertionError\b/,
];
const TEST_PASS = [/\b[1-9]\d* passed\b/, /^OK\b/m, /^ok\s+\S+/m, /^PASS\b/m, /test result: ok/, /Tests:\s+[1-9]\d* passed/, /\ball tests? pass(?:ed)?\b/i];

export type TestOutcome = 'pass' | 'fail' | 'inconclusive';

/** Outcome of a test run from its output: fail signals (or a hard error) win; pass signals; else inconclusive. */
export function testOutcome(output: string | undefined): TestOutcome {
  if (output === undefined) return 'inconclusive';
  const text = output.length > ERROR_SCAN_CHARS * 4 ? output.slice(0, ERROR_SCAN_CHARS * 2) + '\n' + output.slice(-ERROR_SCAN_CHARS * 2) : output;
  if (TEST_FAIL.some((re) => re.test(text)) || HARD_ERROR_PATTERNS.some((p) => p.re.test(text))) return 'fail';
  if (TEST_PASS.some((re) => re.test(text))) return 'pass';
  return 'inconclusive';
}

export const TEST_OUTCOME_SCORE: Record<TestOutcome | 'none', number> = { pass: 1, inconclusive: 0.6, fail: 0.3, none: 0 };
