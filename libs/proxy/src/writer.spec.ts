import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DurableAppender, mayContainSecret } from './writer';

describe('DurableAppender', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'tg-writer-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('group-commits concurrent lines: all on disk in order, whole, with fewer syncs than lines', async () => {
    const path = join(tmp(), 'trial', 'agent', 'log.jsonl');
    const w = new DurableAppender(true);
    const lines = Array.from({ length: 60 }, (_, i) => JSON.stringify({ n: i, pad: 'x'.repeat(i * 50) }));
    await Promise.all(lines.map((l) => w.append(path, l)));
    expect(readFileSync(path, 'utf8')).toBe(lines.map((l) => `${l}\n`).join(''));
    expect(w.batches).toBeGreaterThan(0);
    expect(w.batches).toBeLessThan(lines.length);
    await w.close();
  });

  it('syncs on the event loop when told nothing else is in flight, through the thread pool otherwise; lines land either way', async () => {
    const path = join(tmp(), 'trial', 'agent', 'log.jsonl');
    let alone = true;
    let asked = 0;
    const w = new DurableAppender(true, () => {
      asked += 1;
      return alone;
    });
    await w.append(path, '{"n":1}'); // a new file: its directory entry is synced too (asynchronously), once
    // Inline: the line is durable before the event loop turns (a setImmediate queued first has not run).
    let turned = false;
    setImmediate(() => (turned = true));
    await w.append(path, '{"n":2}');
    expect(turned).toBe(false);
    alone = false;
    await w.append(path, '{"n":3}');
    expect(asked).toBe(3);
    expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
    await w.close();
  });

  it('never writes into a file that was deleted under it: the path is opened again', async () => {
    const dir = tmp();
    const path = join(dir, 't', 'agent', 'log.jsonl');
    const w = new DurableAppender(true);
    await w.append(path, '{"a":1}');
    rmSync(join(dir, 't'), { recursive: true });
    await w.append(path, '{"a":2}');
    expect(readFileSync(path, 'utf8')).toBe('{"a":2}\n');
    await w.close();
  });

  it('rejects the lines of a batch that cannot be written, and recovers for the next', async () => {
    const dir = tmp();
    const w = new DurableAppender(false);
    const blocked = join(dir, 'file-not-dir');
    await w.append(blocked, 'x');
    await expect(w.append(join(blocked, 'log.jsonl'), '{"a":1}')).rejects.toThrow();
    await w.append(join(dir, 'ok.jsonl'), '{"a":2}');
    expect(readFileSync(join(dir, 'ok.jsonl'), 'utf8')).toBe('{"a":2}\n');
    await w.close();
  });
});

describe('mayContainSecret', () => {
  const key = 'sk-trajgen-0123456789abcdef';
  it('finds a secret as is, and one hidden behind \\u escapes of ASCII', () => {
    expect(mayContainSecret(Buffer.from(`{"t":"${key}"}`), [key])).toBe(true);
    expect(mayContainSecret(Buffer.from(`{"t":"\\u0073k-trajgen-0123456789abcdef"}`), [key])).toBe(true);
    expect(mayContainSecret(Buffer.from('{"t":"plain \\u001b[0m \\u00e9"}'), [key])).toBe(false);
    expect(mayContainSecret(Buffer.from('{"t":"short"}'), ['short'])).toBe(false);
  });
});
