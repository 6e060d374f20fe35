import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi, type Mock } from 'vitest';
import type { ExecutorContext } from '@nx/devkit';
import { TrajgenError } from '@trajgen/core';
import { trackedTempDirs } from '../../../../../../test/support/temp-dirs';

/** The smallest valid config.yaml: every other section has defaults. */
export const MINIMAL_CONFIG = 'training:\n  model_name_or_path: m\n  output_dir: o\n';

/**
 * What every executor spec needs: a temporary workspace holding
 * `pipelines/p/config.yaml`, the Nx context of project `p` in it, and the
 * console captured (log, warn and error in one list, in order). Call at the
 * top level of a spec file.
 */
export function executorHarness() {
  const tempDir = trackedTempDirs();
  const out: string[] = [];
  beforeEach(() => {
    out.length = 0;
    for (const m of ['log', 'warn', 'error'] as const) vi.spyOn(console, m).mockImplementation((line: string) => void out.push(line));
  });
  afterEach(() => vi.restoreAllMocks());
  return {
    /** Everything printed so far, one string. */
    printed: () => out.join('\n'),
    /** A fresh workspace with `pipelines/p/config.yaml` holding `config`. */
    workspace(config = MINIMAL_CONFIG) {
      const root = tempDir(join(tmpdir(), 'executor-'));
      mkdirSync(join(root, 'pipelines/p'), { recursive: true });
      writeFileSync(join(root, 'pipelines/p/config.yaml'), config);
      const context = { root, projectName: 'p', cwd: root, isVerbose: false } as unknown as ExecutorContext;
      return { root, context };
    },
  };
}

type Executor = (options: Record<string, never>, context: ExecutorContext) => Promise<{ success: boolean }>;

/**
 * The contract of an executor whose lib is replaced by a test double (`lib`,
 * a vi.fn standing for its run<Stage>): it calls the lib once with the loaded
 * pipeline (`config` must show up in it as `expectConfig`), the console IO
 * and its options, and prints the summary; an invalid config fails before the
 * lib runs, with key and line; the lib's TrajgenError is printed with its
 * hint and no stack trace. Call inside a describe.
 */
export function itKeepsTheStageContract(
  h: ReturnType<typeof executorHarness>,
  stage: { name: string; executor: Executor; lib: Mock<(...args: never[]) => Promise<string>>; config: string; expectConfig: Record<string, unknown> },
) {
  const { name, executor, lib } = stage;
  it(`runs the lib once with (pipeline, io, options) and prints its summary`, async () => {
    const { context } = h.workspace(stage.config);
    lib.mockReset();
    lib.mockResolvedValueOnce('the summary');
    expect(await executor({}, context)).toEqual({ success: true });
    expect(lib).toHaveBeenCalledTimes(1);
    const [pipeline, io, options] = lib.mock.calls[0] as unknown as [unknown, { warn(line: string): void }, unknown];
    expect(pipeline).toMatchObject({ name: 'p', config: stage.expectConfig });
    expect(options).toEqual({});
    io.warn('careful');
    expect(h.printed()).toMatch(new RegExp(`✔ p:${name} done in \\d+s — the summary \\(finished .*Z\\)\\nwarning: careful`));
  });

  it('fails on an invalid config with the key and line, without starting the stage', async () => {
    const { context } = h.workspace(MINIMAL_CONFIG + 'rollout:\n  n_concurent: 2\n');
    lib.mockReset();
    expect(await executor({}, context)).toEqual({ success: false });
    expect(lib).not.toHaveBeenCalled();
    expect(h.printed()).toMatch(new RegExp(`✖ p:${name} failed after \\d+s\\n.*1 problem in the pipeline config\\n.*config\\.yaml:5:3 rollout\\.n_concurent: unknown key\\. Did you mean "n_concurrent"\\?`));
  });

  it("reports the stage's own failure with its hint, not a stack trace", async () => {
    const { context } = h.workspace();
    lib.mockReset();
    lib.mockRejectedValueOnce(new TrajgenError('the stage cannot start', { hint: 'Do the step before.' }));
    expect(await executor({}, context)).toEqual({ success: false });
    expect(h.printed()).toMatch(new RegExp(`✖ p:${name} failed after \\d+s\\nthe stage cannot start\\n {2}→ Do the step before\\.`));
    expect(h.printed()).not.toMatch(/\bat .*\.ts:\d+/);
  });
}
