import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '../../..');
const executorsJson = JSON.parse(readFileSync(join(root, 'tools/trajgen/executors.json'), 'utf8')) as {
  executors: Record<string, { implementation: string; schema: string }>;
};

/** A require hook that records, in `marker`, every process that loads the TypeScript compiler. */
function typescriptTracer(dir: string): { hook: string; marker: string } {
  const marker = join(dir, 'typescript-loaded');
  const hook = join(dir, 'trace-typescript.cjs');
  writeFileSync(
    hook,
    `const M = require('module'); const load = M._load;
M._load = function (request) {
  const out = load.apply(this, arguments);
  if (out && typeof out.createSourceFile === 'function' && typeof out.version === 'string') require('fs').appendFileSync(${JSON.stringify(marker)}, process.argv.slice(1).join(' ') + '\\n');
  return out;
};\n`,
  );
  return { hook, marker };
}

/** Loads a CommonJS entry in a process with no TypeScript loader and no tsconfig.json in its working directory, as Nx's task process is. */
function loadEntry(entry: string): { keys: string[]; types: string[]; project: string } {
  const cwd = mkdtempSync(join(tmpdir(), 'trajgen-plugin-entry-'));
  try {
    const script = `const e = require(${JSON.stringify(entry)});
console.log(JSON.stringify({ keys: Object.keys(e), types: Object.keys(e).map((k) => typeof e[k]), project: process.env.SWC_NODE_PROJECT }));`;
    const env = { ...process.env };
    delete env.SWC_NODE_PROJECT;
    delete env.TS_NODE_PROJECT;
    return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd, env, encoding: 'utf8' })) as { keys: string[]; types: string[]; project: string };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

describe("the plugin's CommonJS entries (src/executors/index.cjs, src/generators/index.cjs)", () => {
  it('are what executors.json points every executor at, one export per executor, each a function', () => {
    const names = Object.keys(executorsJson.executors);
    for (const name of names) expect(executorsJson.executors[name].implementation).toBe(`./src/executors/index.cjs#${name}`);
    const out = loadEntry(join(root, 'tools/trajgen/src/executors/index.cjs'));
    expect(out.keys.sort()).toEqual([...names].sort());
    expect(new Set(out.types)).toEqual(new Set(['function']));
    // swc compiles the executors and the libs with the workspace's options, not its defaults.
    expect(out.project).toBe(join(root, 'tsconfig.workspace.json'));
  });

  it('are what generators.json points every generator at, each a function', () => {
    const generators = (JSON.parse(readFileSync(join(root, 'tools/trajgen/generators.json'), 'utf8')) as { generators: Record<string, { factory: string }> }).generators;
    for (const name of Object.keys(generators)) expect(generators[name].factory).toBe(`./src/generators/index.cjs#${name}`);
    const out = loadEntry(join(root, 'tools/trajgen/src/generators/index.cjs'));
    expect(out.keys.sort()).toEqual(Object.keys(generators).sort());
    expect(new Set(out.types)).toEqual(new Set(['function']));
  });

  it('lets Nx read every target without loading the TypeScript compiler (no root tsconfig.json: ~0.2 s per command)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trajgen-nx-no-typescript-'));
    try {
      const { hook, marker } = typescriptTracer(dir);
      // The tracer works: a process that loads TypeScript is recorded.
      execFileSync(process.execPath, ['-r', hook, '-e', "require('typescript')"], { cwd: root });
      expect(existsSync(marker)).toBe(true);
      rmSync(marker);

      const env = {
        ...process.env,
        NODE_OPTIONS: `--require ${hook}`,
        NX_DAEMON: 'false',
        NX_NO_CLOUD: 'true',
        NX_TUI: 'false',
        NX_ISOLATE_PLUGINS: 'false',
        // A fresh workspace-data dir: Nx builds the project graph and resolves every executor's schema.
        NX_WORKSPACE_DATA_DIRECTORY: join(dir, 'nx-data'),
        NX_CACHE_DIRECTORY: join(dir, 'nx-cache'),
      };
      const shown = JSON.parse(execFileSync(join(root, 'node_modules/.bin/nx'), ['show', 'project', 'demo', '--json'], { cwd: root, env, encoding: 'utf8' })) as {
        targets: Record<string, { executor?: string }>;
      };
      expect(shown.targets.train.executor).toBe('@trajgen/plugin:train');
      expect(existsSync(marker) ? readFileSync(marker, 'utf8') : '').toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
