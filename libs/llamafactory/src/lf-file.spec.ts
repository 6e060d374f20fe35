import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectLfLayout, scanLfFile } from './lf-file';
import { GLAIVE } from '../../../test/support/training-workspace';

const dir = mkdtempSync(join(tmpdir(), 'lf-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('scanLfFile', () => {
  it('counts the 300 rows of LLaMA-Factory glaive demo and parses the sample', () => {
    const scan = scanLfFile(GLAIVE, { sampleRows: 5 });
    expect(scan.layout).toBe('json-array');
    expect(scan.rows).toBe(300);
    expect(scan.sample).toHaveLength(5);
    expect((scan.sample[0] as { conversations: unknown[] }).conversations[0]).toMatchObject({ from: 'human' });
  });

  it('reads JSON Lines, and rows spanning read chunks with braces and escaped quotes inside strings', () => {
    const big = 'x{"}\\"'.repeat(400_000); // ~2.4 MB of string content: crosses the 1 MiB chunk size
    const rows = [{ a: big, n: 1 }, { a: '}]{[', n: 2 }, { a: 'ok', n: 3 }];
    const jsonl = file('rows.jsonl', rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const scan = scanLfFile(jsonl, { sampleRows: 3 });
    expect(scan.layout).toBe('jsonl');
    expect(scan.rows).toBe(3);
    expect(scan.sample).toEqual(rows);
    const arr = file('rows.json', '\ufeff' + JSON.stringify(rows, null, 2));
    expect(scanLfFile(arr, { sampleRows: 1 })).toMatchObject({ layout: 'json-array', rows: 3, sample: [rows[0]] });
  });

  it('rejects truncated files and non-object rows, and a missing file, with a clear message', () => {
    expect(() => scanLfFile(file('cut.json', '[{"a": 1}, {"a": '))).toThrow(/ends inside a row/);
    expect(() => scanLfFile(file('open.json', '[{"a": 1}'))).toThrow(/not closed/);
    expect(() => scanLfFile(file('nums.json', '[1, 2]'))).toThrow(/expected an object/);
    expect(() => scanLfFile(join(dir, 'nope.json'))).toThrow(/does not exist/);
    expect(scanLfFile(file('empty.json', '[]')).rows).toBe(0);
  });
});

describe('detectLfLayout', () => {
  it('glaive: sharegpt with tools but no system column (declaring a missing column would abort LLaMA-Factory)', () => {
    const layout = detectLfLayout(scanLfFile(GLAIVE).sample, 'glaive');
    expect(layout).toMatchObject({ variant: 'sharegpt', messagesColumn: 'conversations', hasSystem: false, hasTools: true });
    expect(layout.roles).toEqual(['function_call', 'gpt', 'human', 'observation']);
  });

  it("our score stage's native rows: sharegpt with system and tools", () => {
    const rows = [{ conversations: [{ from: 'human', value: 'hi' }, { from: 'gpt', value: 'yo' }], system: 's', tools: '', _instance_id: 'a', _score: 1 }];
    expect(detectLfLayout(rows, 'x')).toMatchObject({ variant: 'sharegpt', hasSystem: true, hasTools: true });
  });

  it('rendered rows: role/content messages', () => {
    const rows = [{ messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'u' }, { role: 'assistant', content: 'a' }] }];
    expect(detectLfLayout(rows, 'x')).toMatchObject({ variant: 'rendered', messagesColumn: 'messages', hasSystem: false, roles: ['assistant', 'system', 'user'] });
  });

  it('refuses empty data, rows without messages, mixed layouts', () => {
    expect(() => detectLfLayout([], 'f.json')).toThrow(/holds no rows/);
    expect(() => detectLfLayout([{ text: 'x' }], 'f.json')).toThrow(/no message list/);
    const a = { conversations: [{ from: 'human', value: 'x' }] };
    const b = { messages: [{ role: 'user', content: 'x' }] };
    expect(() => detectLfLayout([a, b], 'f.json')).toThrow(/mixes row layouts/);
    expect(() => detectLfLayout([{ conversations: [{ speaker: 'x', text: 'y' }] }], 'f.json')).toThrow(/neither from\/value nor role\/content/);
  });
});
