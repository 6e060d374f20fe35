import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Benchmarks run under plain Node (`npm run bench`, swc's CommonJS loader),
 * where a module that imports vitest throws at load time. They are not run by
 * the test suite, so a test helper that picks up a vitest hook would break
 * them unseen: follow every relative import from each bench and fail on any
 * module that imports vitest.
 */
const ROOT = resolve(__dirname, '../..');
const BENCH = join(ROOT, 'bench');

function resolveModule(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  return [base, `${base}.ts`, `${base}.cts`, `${base}.cjs`, join(base, 'index.ts')].find((p) => existsSync(p) && !p.endsWith('/'));
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]);
}

function vitestImporters(entry: string): string[] {
  const seen = new Set<string>();
  const bad: string[] = [];
  const stack = [entry];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of importsOf(file)) {
      if (spec === 'vitest' || spec.startsWith('vitest/')) bad.push(relative(ROOT, file));
      if (!spec.startsWith('.')) continue;
      const target = resolveModule(file, spec);
      if (target && /\.(ts|cts|cjs)$/.test(target)) stack.push(target);
    }
  }
  return bad;
}

describe('benchmarks', () => {
  const benches = readdirSync(BENCH).filter((f) => f.endsWith('.bench.ts'));

  it.each(benches)('%s reaches no module that imports vitest', (bench) => {
    expect(vitestImporters(join(BENCH, bench))).toEqual([]);
  });

  it('the check finds a vitest import behind a relative one', () => {
    expect(vitestImporters(join(ROOT, 'test/e2e/clones.ts'))).toEqual(['test/e2e/clones.ts']);
  });
});
