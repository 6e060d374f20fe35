import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';

/**
 * The converter version that keys the per-trial memo: a digest of the source
 * files that decide what a trial converts to — this lib's `src/` and the IM
 * lib's `src/` (normalisation, validation), tests and fixtures excluded —
 * computed at runtime. Any edit of that code reconverts every trial; nothing
 * to bump by hand, nothing to forget. (Nx already reruns the stage on such an
 * edit because these libs are its inputs; the memo must not then hand back
 * results of the old code.)
 */

// The IM lib's sources, found through its package (never a relative path into another lib).
const SOURCE_DIRS = [resolve(__dirname), join(dirname(require.resolve('@trajgen/im/package.json')), 'src')];
const SKIP = /(\.spec\.ts|\.test\.ts)$/;

function collect(dir: string, rel: string, out: [string, string][]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name === '__fixtures__' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) collect(p, `${rel}/${e.name}`, out);
    else if ((e.name.endsWith('.ts') || e.name.endsWith('.cjs') || e.name.endsWith('.json')) && !SKIP.test(e.name)) out.push([`${rel}/${e.name}`, p]);
  }
}

let cached: string | undefined;

export function converterVersion(): string {
  if (cached) return cached;
  const files: [string, string][] = [];
  SOURCE_DIRS.forEach((d, i) => collect(d, String(i), files));
  const h = createHash('sha256');
  for (const [rel, p] of files) {
    h.update(`${rel}\0`);
    h.update(readFileSync(p));
    h.update('\0');
  }
  cached = `src-${h.digest('hex').slice(0, 16)}`;
  return cached;
}
