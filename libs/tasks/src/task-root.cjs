'use strict';
// Plain CommonJS on purpose: shared with tools/trajgen/bin/fingerprint.cjs,
// which runs on every Nx hash without a TypeScript transpiler.
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join, basename } = require('node:path');

function isDir(p) {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The prior art's test for a task dir: task.toml, instruction.md, environment/, tests/. */
function looksLikeTaskDir(dir) {
  return existsSync(join(dir, 'task.toml')) && existsSync(join(dir, 'instruction.md')) && isDir(join(dir, 'environment')) && isDir(join(dir, 'tests'));
}

function holdsTasks(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const e of entries) {
    if ((e.isDirectory() || e.isSymbolicLink()) && looksLikeTaskDir(join(dir, e.name))) return true;
  }
  return false;
}

/**
 * Find the task root of a source directory as the prior art does:
 * the source itself, `<source>/<basename>`, or an immediate subdirectory —
 * the first that holds the manifest or a valid task. Returns undefined when
 * none does.
 */
function findTaskRoot(source, manifestName) {
  if (!isDir(source)) return undefined;
  const candidates = [source, join(source, basename(source))];
  try {
    for (const e of readdirSync(source, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isDirectory() && e.name !== basename(source)) candidates.push(join(source, e.name));
    }
  } catch {
    /* unreadable: only the source itself */
  }
  for (const c of candidates) {
    if (!isDir(c)) continue;
    if ((manifestName && existsSync(join(c, manifestName))) || holdsTasks(c)) return c;
  }
  return undefined;
}

/** Parse manifest text: one id a line, `#` comments and blank lines ignored. */
function parseManifestText(text) {
  const ids = [];
  for (const line of text.split(/\r?\n/)) {
    const hash = line.indexOf('#');
    const id = (hash === -1 ? line : line.slice(0, hash)).trim();
    if (id) ids.push(id);
  }
  return ids;
}

/**
 * Like parseManifestText, with the 1-based line of each id (for error
 * messages). Same rules: `#` starts a comment, blank lines are skipped.
 */
function parseManifestLines(text) {
  const out = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const hash = line.indexOf('#');
    const id = (hash === -1 ? line : line.slice(0, hash)).trim();
    if (id) out.push({ id, line: i + 1 });
  }
  return out;
}

module.exports = { findTaskRoot, looksLikeTaskDir, parseManifestText, parseManifestLines };
