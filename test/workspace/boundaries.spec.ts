import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { builtinModules } from 'node:module';

/**
 * The lib boundaries, checked: a lib imports only the libs it declares in its
 * package.json (tests and fixtures may also use its devDependencies), never
 * reaches into another lib's files by a relative path, and declares nothing it
 * does not use. The plugin gives each stage exactly its libs' closure as
 * inputs (from these package.json files), so an undeclared import is a stage
 * that does not rerun when it should.
 */

const ROOT = resolve(__dirname, '../..');
const LIBS = readdirSync(join(ROOT, 'libs')).filter((d) => existsSync(join(ROOT, 'libs', d, 'package.json')));
const ROOT_PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Pkg;
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

interface Pkg {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

// Tests, fixtures and a lib's dev scripts may use its devDependencies too.
const isTestFile = (file: string) => /\.(spec|test)\.ts$/.test(file) || file.split(sep).includes('__fixtures__') || file.split(sep).includes('scripts');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|cts|cjs|mjs|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.d.cts')) out.push(path);
  }
  return out;
}

/** Module specifiers of static imports, `import()` and `require()` calls. */
export function specifiersOf(text: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s+['"]([^'"]+)['"]/gm];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1]);
  return found;
}

/** `@trajgen/x/sub` → `@trajgen/x`; `pkg/sub` → `pkg`. */
const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

interface Violation {
  file: string;
  problem: string;
}

function checkLib(lib: string): Violation[] {
  const libDir = join(ROOT, 'libs', lib);
  const pkg = JSON.parse(readFileSync(join(libDir, 'package.json'), 'utf8')) as Pkg;
  const deps = new Set(Object.keys(pkg.dependencies ?? {}));
  const devDeps = new Set(Object.keys(pkg.devDependencies ?? {}));
  const rootDeps = new Set([...Object.keys(ROOT_PKG.dependencies ?? {}), ...Object.keys(ROOT_PKG.devDependencies ?? {})]);
  const used = new Set<string>();
  const violations: Violation[] = [];
  for (const file of sourceFiles(libDir)) {
    const rel = relative(ROOT, file);
    const text = readFileSync(file, 'utf8');
    const test = isTestFile(file);
    for (const spec of specifiersOf(text)) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        // Tests may use the workspace's shared test helpers (test/support); nothing reaches into another lib.
        const sharedTestHelper = test && target.startsWith(join(ROOT, 'test', 'support') + sep);
        if (!target.startsWith(libDir + sep) && !sharedTestHelper) violations.push({ file: rel, problem: `reaches outside its lib by a relative import: ${spec}` });
        continue;
      }
      if (BUILTINS.has(spec) || BUILTINS.has(packageOf(spec))) continue;
      const name = packageOf(spec);
      if (name.startsWith('@trajgen/')) {
        if (name === pkg.name) continue;
        used.add(name);
        if (spec !== name && /__fixtures__|\/src\//.test(spec)) violations.push({ file: rel, problem: `imports another lib's internals: ${spec}` });
        if (!deps.has(name) && !(test && devDeps.has(name))) violations.push({ file: rel, problem: `imports ${name}, which ${lib}'s package.json does not declare${test ? ' (dependencies or devDependencies)' : ' (dependencies)'}` });
      } else if (!rootDeps.has(name) && !deps.has(name) && !devDeps.has(name)) {
        violations.push({ file: rel, problem: `imports the npm package ${name}, declared nowhere` });
      }
    }
    // Paths built from strings (resolve(__dirname, '../../im/src')) reach into a lib as surely as an import.
    for (const m of text.matchAll(/['"`]((?:\.\.\/)+)([a-z-]+)\/(src|python|__fixtures__)\b/g)) {
      const target = resolve(dirname(file), m[1], m[2]);
      if (dirname(target) === join(ROOT, 'libs') && basename(target) !== lib) violations.push({ file: rel, problem: `builds a path into another lib: ${m[0].slice(1)}` });
    }
  }
  for (const dep of [...deps, ...devDeps]) {
    if (dep.startsWith('@trajgen/') && !used.has(dep)) violations.push({ file: `libs/${lib}/package.json`, problem: `declares ${dep} but never imports it` });
  }
  return violations;
}

describe('lib boundaries', () => {
  it('finds the libs', () => {
    expect(LIBS.length).toBeGreaterThan(10);
  });

  it.each(LIBS)('libs/%s imports only what it declares, stays inside itself, declares nothing unused', (lib) => {
    expect(checkLib(lib).map((v) => `${v.file}: ${v.problem}`)).toEqual([]);
  });

  it('reads every form of import', () => {
    const text = [
      "import { a } from '@trajgen/core';",
      "import type { B } from '../../x/src/y';",
      "const c = require('@trajgen/im');",
      "const d = await import('node:fs');",
      "import 'side-effect';",
    ].join('\n');
    expect(specifiersOf(text).sort()).toEqual(['../../x/src/y', '@trajgen/core', '@trajgen/im', 'node:fs', 'side-effect']);
  });
});
