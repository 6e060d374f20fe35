import { randomBytes } from 'node:crypto';
import { cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '@trajgen/core';

/**
 * Staging: `artifacts/<p>/tasks/<dataset>/<id>` for every task of the batch,
 * as a symlink to the source task dir (default) or a copy. Refreshed on every
 * run (the prior art staged once and never refreshed, so edited or removed
 * source tasks stayed stale):
 *  - new batch tasks are added;
 *  - a link pointing elsewhere, or a copy whose source checksum changed, is replaced;
 *  - tasks already consumed stay staged while they are listed (jobs reference
 *    their paths, e.g. for `harbor job resume`); they are neither re-checked nor re-copied;
 *  - everything else (no longer listed, excluded, invalid, leftovers of an
 *    interrupted refresh) is removed.
 * Replacements are atomic per entry (temp name + rename).
 */

export const STAGING_INDEX = '.trajgen-staging.json';

export interface StagingTask {
  id: string;
  /** Absolute source task dir. */
  source: string;
  checksum: string;
}

export interface StagingPlan {
  dir: string;
  mode: 'link' | 'copy';
  tasks: StagingTask[];
  /** Whether an entry already present and not in `tasks` stays (consumed tasks still listed). */
  keep: (id: string) => boolean;
}

export interface StagingReport {
  added: string[];
  replaced: string[];
  unchanged: number;
  kept: number;
  removed: string[];
  /** Entries present after the refresh. */
  staged: number;
}

interface StagingIndex {
  schema_version: 1;
  mode: 'link' | 'copy';
  tasks: Record<string, { checksum: string }>;
}

function readIndex(dir: string): StagingIndex | undefined {
  try {
    const v = JSON.parse(readFileSync(join(dir, STAGING_INDEX), 'utf8')) as StagingIndex;
    return v && typeof v.tasks === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}

function kindOf(p: string): 'link' | 'dir' | 'other' | undefined {
  try {
    const st = lstatSync(p);
    return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'other';
  } catch {
    return undefined;
  }
}

const tmpName = (id: string) => `.${id}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;

export function refreshStaging(plan: StagingPlan): StagingReport {
  mkdirSync(plan.dir, { recursive: true });
  const previous = readIndex(plan.dir);
  const report: StagingReport = { added: [], replaced: [], unchanged: 0, kept: 0, removed: [], staged: 0 };
  const index: StagingIndex = { schema_version: 1, mode: plan.mode, tasks: {} };
  const wanted = new Set<string>();
  for (const t of plan.tasks) {
    wanted.add(t.id);
    const dest = join(plan.dir, t.id);
    const kind = kindOf(dest);
    index.tasks[t.id] = { checksum: t.checksum };
    if (plan.mode === 'link') {
      if (kind === 'link' && readlinkSync(dest) === t.source) {
        report.unchanged++;
        continue;
      }
      const tmp = join(plan.dir, tmpName(t.id));
      symlinkSync(t.source, tmp, 'dir');
      if (kind === 'dir' || kind === 'other') rmSync(dest, { recursive: true, force: true });
      renameSync(tmp, dest);
    } else {
      if (kind === 'dir' && previous?.mode === 'copy' && previous.tasks[t.id]?.checksum === t.checksum) {
        report.unchanged++;
        continue;
      }
      const tmp = join(plan.dir, tmpName(t.id));
      cpSync(realpathSync(t.source), tmp, { recursive: true, verbatimSymlinks: true });
      if (kind !== undefined) rmSync(dest, { recursive: true, force: true });
      renameSync(tmp, dest);
    }
    (kind === undefined ? report.added : report.replaced).push(t.id);
  }
  for (const name of readdirSync(plan.dir).sort()) {
    if (wanted.has(name) || name === STAGING_INDEX) continue;
    if (!name.startsWith('.') && plan.keep(name)) {
      report.kept++;
      const prev = previous?.tasks[name];
      if (prev) index.tasks[name] = prev;
      continue;
    }
    rmSync(join(plan.dir, name), { recursive: true, force: true });
    report.removed.push(name);
  }
  report.staged = wanted.size + report.kept;
  writeJsonAtomic(join(plan.dir, STAGING_INDEX), index);
  return report;
}
