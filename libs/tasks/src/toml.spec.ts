import { describe, expect, it } from 'vitest';
import { parseToml, TomlError } from './toml';

function err(text: string): TomlError {
  try {
    parseToml(text, 'task.toml');
  } catch (e) {
    expect(e).toBeInstanceOf(TomlError);
    return e as TomlError;
  }
  throw new Error('expected a TomlError');
}

describe('parseToml', () => {
  it('reads a Harbor task.toml (schema 1.4 layout)', () => {
    const text = `schema_version = "1.4"
source = "swegen"

[task]
name = "trajgen/add-greeting"
version = "1.0"
description = """
Adds a greeting.
"""
authors = [{ name = "A. Person", email = "a@example.com" }]
keywords = ["python", 'cli',]

[metadata]
difficulty = "easy"   # a comment
category = "programming"
tags = [
  "bash",  # trailing comments inside arrays
  "file-operations",
]

[verifier]
timeout_sec = 600.0
env = { API_URL = "\${API_URL:-http://localhost}" }

[agent]
timeout_sec = 900.0

[environment]
build_timeout_sec = 600.0
cpus = 2
memory_mb = 4_096
allow_internet = true

[[verifier.collect]]
command = "cat /logs/x"

[[verifier.collect]]
command = 'cat C:\\logs\\y'
timeout_sec = 60.0
`;
    expect(parseToml(text)).toEqual({
      schema_version: '1.4',
      source: 'swegen',
      task: {
        name: 'trajgen/add-greeting',
        version: '1.0',
        description: 'Adds a greeting.\n',
        authors: [{ name: 'A. Person', email: 'a@example.com' }],
        keywords: ['python', 'cli'],
      },
      metadata: { difficulty: 'easy', category: 'programming', tags: ['bash', 'file-operations'] },
      verifier: { timeout_sec: 600, env: { API_URL: '${API_URL:-http://localhost}' }, collect: [{ command: 'cat /logs/x' }, { command: 'cat C:\\logs\\y', timeout_sec: 60 }] },
      agent: { timeout_sec: 900 },
      environment: { build_timeout_sec: 600, cpus: 2, memory_mb: 4096, allow_internet: true },
    });
  });

  it('handles keys: bare, quoted, dotted, with whitespace around dots', () => {
    expect(parseToml('a.b . c = 1\n"x y".\'z\' = 2\n"" = 3\n1234 = "bare digits"\n"__proto__" = 4\n')).toEqual({
      a: { b: { c: 1 } },
      'x y': { z: 2 },
      '': 3,
      '1234': 'bare digits',
      ['__proto__']: 4,
    });
    expect(Object.getPrototypeOf(parseToml('"__proto__" = 4\n'))).toBe(Object.prototype);
  });

  it('handles strings: escapes, literal, multi-line with line-ending backslash and quotes next to the delimiter', () => {
    const t = parseToml(
      [
        'a = "tab\\tquote\\"back\\\\ \\u00e9 \\U0001F680 \\e"',
        "b = 'C:\\no\\escapes'",
        'c = """\\',
        '   The quick \\',
        '   brown fox."""',
        'd = """two ""quotes"" inside"""',
        'e = """ends with a quote""""',
        "f = '''",
        'raw \\n text',
        "'''",
        'g = "\\x41"',
      ].join('\n'),
    );
    expect(t).toEqual({ a: 'tab\tquote"back\\ é 🚀 \u001b', b: 'C:\\no\\escapes', c: 'The quick brown fox.', d: 'two ""quotes"" inside', e: 'ends with a quote"', f: 'raw \\n text\n', g: 'A' });
  });

  it('handles numbers, booleans, dates and nested arrays', () => {
    expect(
      parseToml('i = +99\nj = -17\nk = 0xDEAD_beef\nl = 0o755\nm = 0b1101\nn = 6.626e-34\no = -inf\np = nan\nq = 1_000.5\nr = false\ns = 1979-05-27T07:32:00Z\nt = 1979-05-27 07:32:00\nu = 1979-05-27\nv = 07:32:00\nw = [[1, 2], ["a"], []]\n'),
    ).toEqual({ i: 99, j: -17, k: 0xdeadbeef, l: 0o755, m: 13, n: 6.626e-34, o: -Infinity, p: NaN, q: 1000.5, r: false, s: '1979-05-27T07:32:00.000Z', t: '1979-05-27T07:32:00.000', u: '1979-05-27', v: '07:32:00.000', w: [[1, 2], ['a'], []] });
  });

  it('supports sub-tables after dotted keys and implicit parent tables', () => {
    expect(parseToml('[a.b.c]\nx = 1\n[a]\ny = 2\n[fruit]\napple.color = "red"\n[fruit.apple.texture]\nsmooth = true\n')).toEqual({
      a: { b: { c: { x: 1 } }, y: 2 },
      fruit: { apple: { color: 'red', texture: { smooth: true } } },
    });
  });

  it('errors name line and column', () => {
    // file:line:column, then the reason smol-toml gives (one line, no code frame).
    const cases: [string, number][] = [
      ['a = 1\nb = \n', 2],
      ['a = 1\nname = unquoted\n', 2],
      ['[task]\nname = "x"\nname = "y"\n', 3],
      ['[a]\n[a]\n', 2],
      ['a = [1, 2\n', 2],
      ['a = {b = 1}\na.c = 2\n', 2],
      ['x = 1\n[[x]]\n', 2],
      ['a = "ctrl \u0001"\n', 1],
    ];
    for (const [text, line] of cases) {
      const e = err(text);
      expect(e.file).toBe('task.toml');
      expect(e.line).toBe(line);
      expect(e.message).toMatch(new RegExp(`^task\\.toml:${line}:\\d+: \\S`));
      expect(e.reason).not.toContain('\n');
    }
  });

  it('accepts CRLF line endings and a BOM', () => {
    expect(parseToml('\ufeff[task]\r\nname = "x" # c\r\n')).toEqual({ task: { name: 'x' } });
  });
});
