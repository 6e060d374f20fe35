import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// An ES module (.mts): the package is CommonJS, and Vite warns on every run about ESM syntax in a .ts config.
// Child processes the tests start with `node -r @swc-node/register` compile with the workspace's options.
createRequire(import.meta.url)('./tools/trajgen/src/swc-project.cjs').useWorkspaceTsconfig(process.env);

const unit = (name: string, dir: string) => ({
  extends: true as const,
  test: { name, include: [`${dir}/**/*.spec.ts`] },
});

export default defineConfig({
  test: {
    pool: 'forks',
    // A private TMPDIR per run; warns about what tests leave in it, then removes it.
    globalSetup: ['./test/support/temp-dir-guard.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      unit('core', 'libs/core/src'),
      unit('contracts', 'libs/contracts/src'),
      unit('config', 'libs/config/src'),
      unit('preflight', 'libs/preflight/src'),
      unit('tasks', 'libs/tasks/src'),
      unit('ledger', 'libs/ledger/src'),
      unit('harbor', 'libs/harbor/src'),
      unit('proxy', 'libs/proxy/src'),
      unit('oracle', 'libs/oracle/src'),
      unit('rollout', 'libs/rollout/src'),
      unit('im', 'libs/im/src'),
      unit('wire', 'libs/wire/src'),
      unit('convert', 'libs/convert/src'),
      unit('score', 'libs/score/src'),
      unit('lf', 'libs/lf/src'),
      unit('llamafactory', 'libs/llamafactory/src'),
      unit('charts', 'libs/charts/src'),
      unit('trainer', 'libs/trainer/src'),
      unit('archive', 'libs/archive/src'),
      unit('report', 'libs/report/src'),
      unit('plugin', 'tools/trajgen/src'),
      unit('cache-server', 'tools/cache-server'),
      unit('workspace', 'test/workspace'),
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
