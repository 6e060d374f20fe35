import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * `npm ci` refuses a lockfile that lacks an entry for any optional dependency
 * of a locked package, whatever the platform; a lockfile written on one machine
 * against a registry mirror that 404s other platforms' binaries (opencode's,
 * here) passed `npm install` but broke `npm ci` everywhere. Every optional
 * dependency must therefore be locked, with the os/cpu that keep npm from
 * fetching it on the wrong machine.
 */
const ROOT = resolve(__dirname, '../..');
interface LockEntry {
  version?: string;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
  optionalDependencies?: Record<string, string>;
}
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

describe('package-lock.json', () => {
  it('locks every optional dependency of every locked package, for every platform', () => {
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const [dep, range] of Object.entries(entry.optionalDependencies ?? {})) {
        // npm resolves a dependency next to its parent first, then up the tree.
        const candidates = [`${path ? `${path}/` : ''}node_modules/${dep}`, `node_modules/${dep}`];
        if (!candidates.some((c) => lock.packages[c])) missing.push(`${path || '(root)'} → ${dep}@${range}`);
      }
    }
    expect(missing, 'run `npm install` on a machine whose registry serves every platform, or add the entries (see opencode-* in the lockfile)').toEqual([]);
  });

  it('marks platform binaries optional with their os and cpu, so npm ci skips them elsewhere', () => {
    const opencode = Object.entries(lock.packages).filter(([p]) => /^node_modules\/opencode-(linux|darwin|windows)/.test(p));
    expect(opencode.length).toBe(Object.keys(lock.packages['node_modules/opencode-ai'].optionalDependencies ?? {}).length);
    for (const [path, entry] of opencode) {
      expect(entry.optional, path).toBe(true);
      expect(entry.os?.length, path).toBe(1);
      expect(entry.cpu?.length, path).toBe(1);
    }
  });
});
