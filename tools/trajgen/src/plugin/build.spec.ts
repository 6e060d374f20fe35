import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildPlugin, staleFiles } = require('../../../../scripts/build-plugin.cjs') as {
  buildPlugin(root: string): Map<string, string>;
  staleFiles(root: string): string[];
};

const root = join(__dirname, '../../../..');

describe('the built plugin (tools/trajgen/dist, what Nx loads on every command)', () => {
  it('is exactly what a fresh build of its sources gives (run npm run build:plugin after editing them)', () => {
    expect(staleFiles(root)).toEqual([]);
  });

  it('is what package.json points Nx at, and covers everything the entry imports', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'tools/trajgen/package.json'), 'utf8')) as { main: string };
    expect(pkg.main).toBe('./dist/index.js');
    const built = buildPlugin(root);
    expect([...built.keys()]).toEqual(expect.arrayContaining(['index.js', 'plugin/targets.js', 'hooks/tasks-execution.js']));
    for (const [rel, text] of built) {
      // Every relative require of a built file resolves to a built file or a plain .cjs/.json next to the sources.
      for (const [, spec] of text.matchAll(/require\("(\.[^"]+)"\)/g)) {
        const target = join(root, 'tools/trajgen/dist', rel, '..', spec);
        expect(existsSync(target) || existsSync(`${target}.js`), `${rel} requires ${spec}`).toBe(true);
      }
    }
  });

  it('loads as plain JavaScript, without a TypeScript loader', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, ['-e', `const p = require(${JSON.stringify(join(root, 'tools/trajgen/dist/index.js'))}); console.log(typeof p.createNodes[1], typeof p.preTasksExecution, !!require.extensions['.ts'])`], { encoding: 'utf8' });
    expect(out.trim()).toBe('function function false');
  });
});
