#!/usr/bin/env node
'use strict';
/**
 * Builds the part of the local Nx plugin that Nx loads on every command —
 * tools/trajgen/src/index.ts and the modules it imports (target inference,
 * the run-recorder hooks) — into plain CommonJS under tools/trajgen/dist/
 * (checked in; package.json `main` points there). Nx then loads the plugin
 * without registering a TypeScript transpiler (swc cost ~1.5 s per command).
 * Executors stay TypeScript: Nx loads them only in the task processes that
 * run them.
 *
 *   npm run build:plugin            write tools/trajgen/dist/
 *   node scripts/build-plugin.cjs --check   exit 1 when dist/ differs from a fresh build
 *
 * One file per source file (ts.transpileModule: no bundling, no type check —
 * `npm run typecheck` does that), so a stale dist is easy to see in a diff;
 * tools/trajgen/src/plugin/build.spec.ts fails when it is stale.
 */
const { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } = require('node:fs');
const { dirname, join, relative, resolve } = require('node:path');

const PLUGIN = 'tools/trajgen';
const ENTRY = 'src/index.ts';

/** Relative imports of a TypeScript file that are TypeScript files themselves. */
function localImports(ts, file, source) {
  const out = [];
  for (const ref of ts.preProcessFile(source, true, true).importedFiles) {
    const spec = ref.fileName;
    if (!spec.startsWith('.')) continue;
    const base = resolve(dirname(file), spec);
    const candidate = [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p));
    if (candidate) out.push(candidate);
  }
  return out;
}

/** relative path under dist/ → file content, for the plugin of the workspace at `root`. */
function buildPlugin(root) {
  const ts = require(require.resolve('typescript', { paths: [root] }));
  const pluginRoot = join(root, PLUGIN);
  const srcRoot = join(pluginRoot, 'src');
  const outputs = new Map();
  const seen = new Set();
  const queue = [join(pluginRoot, ENTRY)];
  while (queue.length) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    queue.push(...localImports(ts, file, source));
    const rel = relative(srcRoot, file);
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true, resolveJsonModule: true, removeComments: false },
    });
    const header = `// Generated from ${PLUGIN}/src/${rel.split('\\').join('/')} by scripts/build-plugin.cjs (npm run build:plugin). Do not edit.\n`;
    outputs.set(rel.replace(/\.ts$/, '.js').split('\\').join('/'), header + outputText);
  }
  return new Map([...outputs].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function listFiles(dir, base = dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), base) : [relative(base, join(dir, e.name)).split('\\').join('/')]));
}

/** Files of dist/ that differ from a fresh build, are missing, or should not be there. */
function staleFiles(root) {
  const dist = join(root, PLUGIN, 'dist');
  const built = buildPlugin(root);
  const stale = [];
  for (const [rel, text] of built) {
    const p = join(dist, rel);
    if (!existsSync(p) || readFileSync(p, 'utf8') !== text) stale.push(rel);
  }
  for (const rel of listFiles(dist)) if (!built.has(rel)) stale.push(rel);
  return stale.sort();
}

function writePlugin(root) {
  const dist = join(root, PLUGIN, 'dist');
  const built = buildPlugin(root);
  for (const rel of listFiles(dist)) if (!built.has(rel)) rmSync(join(dist, rel));
  for (const [rel, text] of built) {
    const p = join(dist, rel);
    mkdirSync(dirname(p), { recursive: true });
    if (!existsSync(p) || readFileSync(p, 'utf8') !== text) writeFileSync(p, text);
  }
  return [...built.keys()];
}

module.exports = { buildPlugin, staleFiles, writePlugin };

if (require.main === module) {
  const root = resolve(__dirname, '..');
  if (process.argv.includes('--check')) {
    const stale = staleFiles(root);
    if (stale.length) {
      console.error(`${PLUGIN}/dist is stale (${stale.join(', ')}): run npm run build:plugin and commit the result.`);
      process.exit(1);
    }
    console.log(`${PLUGIN}/dist matches its sources.`);
  } else {
    const files = writePlugin(root);
    console.log(`built ${files.length} files into ${PLUGIN}/dist/`);
  }
}
