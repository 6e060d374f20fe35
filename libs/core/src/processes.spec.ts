import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isGroupAlive,
  isProcessAlive,
  killAllProcessGroups,
  liveProcessGroups,
  processStartTime,
  registerProcessGroup,
  signalGroup,
  unregisterProcessGroup,
} from './index';

const linux = process.platform === 'linux';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(20);
  }
  return check();
}

/** A detached bash (its own process group) with a background `sleep` in the same group; prints the sleep's pid. */
async function startGroup(script = 'sleep 30 & echo $!; wait'): Promise<{ pgid: number; member: number }> {
  const child = spawn('bash', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  child.unref();
  const member = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
  return { pgid: child.pid!, member };
}

const started: number[] = [];
afterEach(() => {
  for (const pgid of started.splice(0)) {
    signalGroup(pgid, 'SIGKILL');
    unregisterProcessGroup(pgid);
  }
});

describe('isProcessAlive', () => {
  it('is true for this process, false for nonsense pids and for a pid that has exited and been reaped', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(0)).toBe(false);
    expect(isProcessAlive(-1)).toBe(false);
    expect(isProcessAlive(null)).toBe(false);
    const done = spawnSync('true');
    expect(isProcessAlive(done.pid!)).toBe(false);
  });

  it.runIf(linux)('a reused pid (other start time) is not the recorded process', () => {
    const start = processStartTime(process.pid);
    expect(start).toMatch(/^\d+$/);
    expect(isProcessAlive(process.pid, start)).toBe(true);
    expect(isProcessAlive(process.pid, String(Number(start) + 1))).toBe(false);
  });

  it.runIf(linux)('the zombie rule: an exited, unreaped child is not alive (though kill -0 still reaches it)', async () => {
    // bash starts a short background sleep, then execs a long `sleep` in its own place: the short one's
    // parent is now a program that never waits, so when it exits it stays a zombie.
    const parent = spawn('bash', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = await new Promise<number>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
      expect(await until(() => /^\S+ \(.*\) Z/.test(statOf(zombie)))).toBe(true);
      expect(() => process.kill(zombie, 0)).not.toThrow(); // signal 0 alone would call it alive
      expect(isProcessAlive(zombie)).toBe(false);
      expect(isProcessAlive(parent.pid!)).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

function statOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

describe('process groups', () => {
  it('a detached group is alive while any member runs, and gone once signalled', async () => {
    const { pgid, member } = await startGroup();
    started.push(pgid);
    expect(isGroupAlive(pgid)).toBe(true);
    expect(isProcessAlive(member)).toBe(true);
    expect(signalGroup(pgid, 'SIGKILL')).toBe(true);
    expect(await until(() => !isGroupAlive(pgid))).toBe(true);
    expect(await until(() => !isProcessAlive(member))).toBe(true);
  });

  it('the registry: register/unregister, and killAll SIGTERMs first then SIGKILLs what ignores it after the grace', async () => {
    const polite = await startGroup(); // dies of SIGTERM
    const stubborn = await startGroup("trap '' TERM; sleep 30 & echo $!; while :; do wait; done");
    started.push(polite.pgid, stubborn.pgid);
    registerProcessGroup(polite.pgid);
    registerProcessGroup(stubborn.pgid);
    expect(liveProcessGroups()).toEqual(expect.arrayContaining([polite.pgid, stubborn.pgid]));

    const t0 = Date.now();
    killAllProcessGroups(400);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(350); // the stubborn group used up the grace
    expect(liveProcessGroups()).not.toContain(polite.pgid);
    expect(liveProcessGroups()).not.toContain(stubborn.pgid);
    expect(await until(() => !isGroupAlive(polite.pgid) && !isGroupAlive(stubborn.pgid))).toBe(true);

    const third = await startGroup();
    started.push(third.pgid);
    registerProcessGroup(third.pgid);
    unregisterProcessGroup(third.pgid);
    expect(liveProcessGroups()).not.toContain(third.pgid);
    killAllProcessGroups();
    expect(isGroupAlive(third.pgid)).toBe(true); // unregistered: not ours to kill any more
  });

  it('registered groups die with this process on exit; a killOnSignal group also on SIGTERM', async () => {
    // A node child registers two groups and prints their pgids; then it is SIGTERMed (it has no other handler).
    const script = `
      const { spawn } = require('node:child_process');
      const { registerProcessGroup } = require(${JSON.stringify(join(__dirname, 'processes.cjs'))});
      const a = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
      const b = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
      registerProcessGroup(a.pid, { killOnSignal: true });
      registerProcessGroup(b.pid);
      console.log(a.pid + ' ' + b.pid);
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [a, b] = await new Promise<number[]>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(String(d).trim().split(' ').map(Number))));
    started.push(a, b);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM'); // re-raised: dies of the signal, as without the handler
    expect(await until(() => !isGroupAlive(a))).toBe(true);
    // b is not killOnSignal, and a death by signal runs no exit hook: its owner (a watchdog) handles that.
    expect(isGroupAlive(b)).toBe(true);

    const child2 = spawn(process.execPath, ['-e', script.replace('setInterval(() => {}, 1000);', 'setTimeout(() => process.exit(3), 200);')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [c, d] = await new Promise<number[]>((resolve) => child2.stdout!.once('data', (x: Buffer) => resolve(String(x).trim().split(' ').map(Number))));
    started.push(c, d);
    await new Promise((resolve) => child2.once('exit', resolve));
    expect(await until(() => !isGroupAlive(c) && !isGroupAlive(d))).toBe(true);
  });
});
