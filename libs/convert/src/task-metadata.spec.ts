import { describe, expect, it } from 'vitest';
import { parseTomlMetadata } from './task-metadata';

describe('task.toml [metadata]', () => {
  it('reads the table and nothing else, with the TOML value kinds tasks use', () => {
    const toml = `
schema_version = "1.4"
[task]
name = "org/x"   # not metadata
[metadata]
author_name = "unknown"
difficulty = 'easy'
category = "debugging"
tags = ["python", "library",
  "multi-line",]
estimate_min = 1_500
ratio = 0.25
verified = true
created = 2026-01-02
when = 2026-01-02 10:00:00Z
"quoted key" = """line one
line two"""
nested.depth = 2
inline = { a = 1, b = "two" }
[metadata.extra]
note = "esc \\"q\\" \\u00e9"
[verifier]
timeout_sec = 600.0
`;
    expect(parseTomlMetadata(toml)).toEqual({
      author_name: 'unknown',
      difficulty: 'easy',
      category: 'debugging',
      tags: ['python', 'library', 'multi-line'],
      estimate_min: 1500,
      ratio: 0.25,
      verified: true,
      created: '2026-01-02',
      when: '2026-01-02T10:00:00.000Z',
      'quoted key': 'line one\nline two',
      nested: { depth: 2 },
      inline: { a: 1, b: 'two' },
      extra: { note: 'esc "q" é' },
    });
  });

  it('is empty without a [metadata] table and names the line of malformed TOML', () => {
    expect(parseTomlMetadata('[task]\nname = "x"\n')).toEqual({});
    expect(() => parseTomlMetadata('[metadata]\ndifficulty = "easy\n')).toThrow(/line 2/);
  });
});
