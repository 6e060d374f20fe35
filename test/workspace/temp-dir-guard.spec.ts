import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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

  /** The guard runs inside this spec's worker: its exit code and env are put back after each test. */
  let exitCode: typeof process.exitCode;
  beforeEach(() => {
    exitCode = process.exitCode;
    vi.stubEnv('TORCHINDUCTOR_CACHE_DIR', undefined);
    vi.stubEnv('TRAJGEN_TEMP_GUARD', undefined);
  });
  afterEach(() => {
    process.exitCode = exitCode;
    vi.unstubAllEnvs();
  });

  it('points TMPDIR at one fresh dir for all projects, fails the run over leftovers at the last teardown, removes the dir', () => {
    const before = process.env.TMPDIR;
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const teardownA = setup();
    const dir = process.env.TMPDIR!;
    expect(dirname(dir)).toBe(before ?? '/tmp');
    expect(basename(dir)).toMatch(/^trajgen-test-run-/);
    expect(tmpdir()).toBe(dir);
    expect(process.env.TORCHINDUCTOR_CACHE_DIR).toBe(join(dir, 'tool-caches', 'torchinductor'));
    const teardownB = setup();
    expect(process.env.TMPDIR).toBe(dir);
    mkdirSync(join(dir, 'tg-leak-Ab12Cd'));
    mkdirSync(join(dir, 'swc-node-0'));
    mkdirSync(join(dir, 'tool-caches', 'torchinductor'), { recursive: true });
    writeFileSync(join(dir, '.bcffe57ff7d7f2ac-00000000.so'), '');
    writeFileSync(join(dir, 'tg-leak-Ab12Cd', 'f'), 'x');

    teardownA();
    expect(existsSync(dir)).toBe(true);
    expect(error).not.toHaveBeenCalled();
    expect(process.exitCode).toBe(exitCode);
    teardownB();
    expect(existsSync(dir)).toBe(false);
    expect(process.env.TMPDIR).toBe(before);
    expect(process.env.TORCHINDUCTOR_CACHE_DIR).toBeUndefined();
    expect(error).toHaveBeenCalledTimes(1);
    expect(process.exitCode).toBe(1);
    const message = String(error.mock.calls[0][0]);
    expect(message).toContain('left 1 entry');
    expect(message).toContain('tg-leak-');
    for (const toolCache of ['swc-node-0', 'tool-caches', '.so']) expect(message).not.toContain(toolCache);
  });

  it('with TRAJGEN_TEMP_GUARD=warn, warns about leftovers and leaves the exit code alone; a clean run neither warns nor fails', () => {
    vi.stubEnv('TRAJGEN_TEMP_GUARD', 'warn');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    let teardown = setup();
    mkdirSync(join(process.env.TMPDIR!, 'tg-leak-Zz99Yy'));
    teardown();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toContain('tg-leak-');
    expect(process.exitCode).toBe(exitCode);

    vi.stubEnv('TRAJGEN_TEMP_GUARD', undefined);
    teardown = setup();
    teardown();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(error).not.toHaveBeenCalled();
    expect(process.exitCode).toBe(exitCode);
  });
});
