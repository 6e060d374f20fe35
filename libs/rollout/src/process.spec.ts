import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveProcessGroups } from '@trajgen/core';
import { runInProcessGroup } from './index';
import { trackedTempDirs } from '../../../test/support/temp-dirs';

/** mkdtemp, removed after the file's tests. */
const temp = trackedTempDirs();

/** Running (a killed process whose new parent has not reaped it yet is a zombie: dead). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** The group kill is a signal: give the kernel a moment (a loaded CI machine) before calling a process dead. */
async function goneWithin(pid: number, ms = 3000): Promise<boolean> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await new Promise((r) => setTimeout(r, 50))) if (!alive(pid)) return true;
  return !alive(pid);
}

describe('runInProcessGroup', () => {
  it('kills the whole process group at the timeout (the agent and what it started)', async () => {
    const dir = temp(join(tmpdir(), 'tg-proc-'));
    const out = join(dir, 'out.txt');
    // The "agent" starts a background child that would outlive it, then hangs.
    const script = 'sleep 300 & echo "child $!"; echo started; sleep 300';
    const r = await runInProcessGroup('bash', ['-c', script], { cwd: dir, env: { PATH: process.env.PATH! }, timeoutMs: 700, outputFile: out, killGraceMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.durationMs).toBeLessThan(5000);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('started');
    const child = Number(/child (\d+)/.exec(text)![1]);
    expect(await goneWithin(child)).toBe(true);
    expect(liveProcessGroups()).not.toContain(r.pid);
  });

  it('cancels on abort, reports exit codes, and reaps leftovers of a group whose leader exited', async () => {
    const dir = temp(join(tmpdir(), 'tg-proc-'));
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const c = await runInProcessGroup('bash', ['-c', 'sleep 300'], { cwd: dir, env: { PATH: process.env.PATH! }, timeoutMs: Infinity, outputFile: join(dir, 'a.txt'), signal: abort.signal, killGraceMs: 200 });
    expect(c).toMatchObject({ cancelled: true, timedOut: false });

    const e = await runInProcessGroup('bash', ['-c', 'sleep 300 & echo "child $!"; exit 3'], { cwd: dir, env: { PATH: process.env.PATH! }, timeoutMs: 10_000, outputFile: join(dir, 'b.txt') });
    expect(e.code).toBe(3);
    const child = Number(/child (\d+)/.exec(readFileSync(join(dir, 'b.txt'), 'utf8'))![1]);
    expect(await goneWithin(child)).toBe(true);

    const missing = await runInProcessGroup(join(dir, 'no-such-binary'), [], { cwd: dir, env: {}, timeoutMs: 1000, outputFile: join(dir, 'c.txt') });
    expect(missing.spawnError).toBeDefined();
  });

  it('takes the agent down with it when the rollout process is SIGKILLed (watchdog in the group)', async () => {
    const dir = temp(join(tmpdir(), 'tg-proc-'));
    const pidFile = join(dir, 'agent.pid');
    const parent = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, '__fixtures__', 'orphan-child.ts'), pidFile], { stdio: 'ignore', cwd: join(__dirname, '../../..') });
    for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    const agent = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(agent)).toBe(true);
    parent.kill('SIGKILL');
    let gone = false;
    for (let i = 0; i < 60 && !gone; i++) {
      await new Promise((r) => setTimeout(r, 100));
      gone = !alive(agent);
    }
    expect(gone).toBe(true);
  });
});
