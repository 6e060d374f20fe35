import { describe, expect, it } from 'vitest';
import { createStageIO, formatProgressLine } from './stage-io';

describe('StageIO', () => {
  it('throttles progress: nothing before the first interval, then at most one line per interval', () => {
    let t = 0;
    const lines: string[] = [];
    const io = createStageIO({ log: (l) => lines.push(l), progressEveryMs: 5000, now: () => t });
    for (let done = 1; done <= 100; done++) {
      t = done * 100; // 10 s of work in 100 steps
      io.progress(done, 100, 'rows scored');
    }
    expect(lines).toEqual(['  50/100 rows scored (50%, 5s, ~5s left)', '  100/100 rows scored (100%, 10s)']);
  });

  it('prints every call with progressEveryMs: 0 and keeps log and warn apart', () => {
    const lines: string[] = [];
    const io = createStageIO({ log: (l) => lines.push(l), warn: (l) => lines.push(`warn: ${l}`), progressEveryMs: 0, now: () => 0 });
    io.progress(1, null, 'trials seen');
    io.warn('careful');
    io.log('plain');
    expect(lines).toEqual(['  1 trials seen (0s)', 'warn: careful', 'plain']);
  });

  it('defaults to a slower cadence off a TTY', () => {
    let t = 0;
    const count = (tty: boolean) => {
      const lines: string[] = [];
      t = 0;
      const io = createStageIO({ log: (l) => lines.push(l), tty, now: () => t });
      for (t = 0; t <= 10_000; t += 500) io.progress(t, 10_000, 'ms');
      return lines.length;
    };
    expect(count(true)).toBe(5);
    expect(count(false)).toBe(2);
  });

  it('formats unknown totals and estimates what is left from the rate so far', () => {
    expect(formatProgressLine(250, 1000, 'tasks checked', 60_000)).toBe('250/1000 tasks checked (25%, 1m00s, ~3m00s left)');
    expect(formatProgressLine(3, 0, 'steps', 1000)).toBe('3 steps (1s)');
  });
});
