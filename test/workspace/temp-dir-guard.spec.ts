import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describeLeftovers, setup, tempPrefix } from '../support/temp-dir-guard';

/** The vitest globalSetup that gives each run a private TMPDIR and reports what tests leave in it. */
describe('temp-dir guard', () => {
  afterEach(() => vi.restoreAllMocks());

  it('names the mkdtemp prefix of a leftover, grouped', () => {
    expect(tempPrefix('tg-rec-AbC123')).toBe('tg-rec-');
    expect(tempPrefix('dsinfo-5ac6V5')).toBe('dsinfo-');
    expect(tempPrefix('plain')).toBe('plain');
    expect(describeLeftovers(['tg-rec-AbC123', 'x', 'tg-rec-zzzzzz'])).toEqual([
      `  ${'tg-rec-'.padEnd(24)} 2× tg-rec-AbC123 tg-rec-zzzzzz`,
      `  ${'x'.padEnd(24)} 1× x`,
    ]);
  });

  it('points TMPDIR at one fresh dir for all projects, warns about leftovers at the last teardown, removes the dir', () => {
    const before = process.env.TMPDIR;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const teardownA = setup();
    const dir = process.env.TMPDIR!;
    expect(dirname(dir)).toBe(before ?? '/tmp');
    expect(basename(dir)).toMatch(/^trajgen-test-run-/);
    expect(tmpdir()).toBe(dir);
    const teardownB = setup();
    expect(process.env.TMPDIR).toBe(dir);
    mkdirSync(join(dir, 'tg-leak-Ab12Cd'));
    mkdirSync(join(dir, 'swc-node-0'));
    writeFileSync(join(dir, 'tg-leak-Ab12Cd', 'f'), 'x');

    teardownA();
    expect(existsSync(dir)).toBe(true);
    expect(warn).not.toHaveBeenCalled();
    teardownB();
    expect(existsSync(dir)).toBe(false);
    expect(process.env.TMPDIR).toBe(before);
    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0][0]);
    expect(message).toContain('left 1 entry');
    expect(message).toContain('tg-leak-');
    expect(message).not.toContain('swc-node-0');
  });
});
