/**
 * Test helper: compile a TypeScript child script and everything it imports
 * (relative files and @trajgen/* libs) to CommonJS in a temp dir with
 * @swc/core, the compiler @swc-node/register uses. Crash and concurrency tests
 * spawn such children many times; plain `node` starts them in ~0.2 s where
 * `node -r @swc-node/register` needs ~0.7 s (it loads the compiler and
 * compiles every file on each start).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { transformSync } from '@swc/core';

const REPO = resolve(__dirname, '../..');
const BUILTIN = new Set(builtinModules);

function resolveFile(base: string): string {
  for (const candidate of [base, `${base}.ts`, `${base}.js`, `${base}.cjs`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`compile-child: cannot resolve ${base}`);
}

/** Compile `entry` (absolute .ts path) and its imports into `outDir`; returns the compiled entry. */
export function compileForNode(entry: string, outDir: string): string {
  const outPath = (file: string) => join(outDir, relative(REPO, file)).replace(/\.ts$/, '.js');
  const queue = [resolve(entry)];
  const seen = new Set<string>();
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    let code = readFileSync(file, 'utf8');
    if (file.endsWith('.ts')) {
      code = transformSync(code, { filename: file, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }).code;
    }
    const target = outPath(file);
    code = code.replace(/require\((["'])([^"']+)\1\)/g, (whole, _q: string, spec: string) => {
      if (spec.startsWith('node:') || BUILTIN.has(spec)) return whole;
      let dep: string;
      if (spec.startsWith('.')) dep = resolveFile(resolve(dirname(file), spec));
      else if (spec.startsWith('@trajgen/')) dep = resolveFile(join(REPO, 'libs', spec.slice('@trajgen/'.length), 'src', 'index'));
      else return `require(${JSON.stringify(require.resolve(spec, { paths: [REPO] }))})`;
      if (dep.endsWith('.json')) return `require(${JSON.stringify(dep)})`;
      queue.push(dep);
      let rel = relative(dirname(target), outPath(dep)).replace(/\.js$/, '');
      if (!rel.startsWith('.')) rel = `./${rel}`;
      return `require(${JSON.stringify(rel)})`;
    });
    mkdirSync(dirname(target), { recursive: true });
    if (file.endsWith('.ts') || code !== readFileSync(file, 'utf8')) writeFileSync(target, code);
    else copyFileSync(file, target);
  }
  return outPath(resolve(entry));
}
