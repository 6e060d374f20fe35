import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileForNode } from '../../../test/support/compile-child';
import { tempWorkspace, type TempWorkspace } from './__fixtures__/workspace';

/** Two prepare processes on one pipeline at once: exactly one proceeds, the other fails fast naming the holder. */

interface Child {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  waitFor(pred: (line: string) => boolean, ms?: number): Promise<string>;
}

function start(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { pred: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.splice(0)) (w.pred(line) ? w.resolve(line) : waiters.push(w));
    }
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  return {
    proc,
    lines,
    exited,
    waitFor(pred, ms = 20_000) {
      const seen = lines.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out; output so far:\n${lines.join('\n')}\n${stderr}`)), ms);
        waiters.push({ pred, resolve: (l) => (clearTimeout(t), resolve(l)) });
      });
    },
  };
}

describe('prepare concurrency', () => {
  let ws: TempWorkspace;
  const build = mkdtempSync(join(tmpdir(), 'tg-prepare-child-'));
  let script = '';
  beforeAll(() => {
    script = compileForNode(join(__dirname, '__fixtures__', 'prepare-child.ts'), build);
  });
  afterAll(() => {
    ws?.remove();
    rmSync(build, { recursive: true, force: true });
  });

  it('two prepare processes on one pipeline: exactly one proceeds, the other fails fast naming the holder', { timeout: 60_000 }, async () => {
    ws = tempWorkspace();
    for (const id of ['a', 'b', 'c']) ws.task(id);
    ws.manifest(['a', 'b', 'c']);
    const startFile = join(ws.root, 'start');
    const goFile = join(ws.root, 'go');
    const children = [start(script, [ws.root, 'p', startFile, goFile]), start(script, [ws.root, 'p', startFile, goFile])];
    await Promise.all(children.map((c) => c.waitFor((l) => l === 'READY')));
    writeFileSync(startFile, '');
    // Both race for the lock at the same moment.
    const firsts = await Promise.all(children.map((c) => c.waitFor((l) => l === 'LOCKED' || l.startsWith('FAIL '))));
    const winner = firsts.indexOf('LOCKED');
    expect(firsts.filter((l) => l === 'LOCKED')).toHaveLength(1);
    const loser = children[1 - winner];
    const t0 = Date.now();
    expect(await loser.exited).toBe(1); // fails fast, while the winner still holds the lock
    expect(Date.now() - t0).toBeLessThan(5000);
    const fail = firsts[1 - winner];
    expect(fail).toMatch(new RegExp(`^FAIL The ledger of pipeline "p" is in use: .*locked by pid ${children[winner].proc.pid} on ${hostname()} \\(prepare, since `));
    writeFileSync(goFile, '');
    expect(await children[winner].exited).toBe(0);
    expect(children[winner].lines.at(-1)).toBe('OK batch of 3 (listed 3, consumed 0, excluded 0, missing 0, invalid 0)');
    expect(JSON.parse(readFileSync(ws.paths.batchFile, 'utf8')).tasks).toHaveLength(3);
  });
});
