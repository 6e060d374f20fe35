import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '@trajgen/core';

/**
 * The working copies of a run's trials live in $TMPDIR, outside the
 * workspace, in one dir the run removes at its end; an owner file lets the
 * next run remove what a killed (-9) run left behind.
 */
const SCRATCH_OWNER = '.trajgen-owner.json';

/** A fresh scratch dir for `job` (after removing those killed runs of this pipeline left). */
export function newScratch(pipeline: string, job: string, warn: (line: string) => void): string {
  removeStaleScratch(pipeline, warn);
  const scratch = mkdtempSync(join(tmpdir(), `trajgen-${pipeline}-`));
  writeFileSync(join(scratch, SCRATCH_OWNER), JSON.stringify({ pid: process.pid, host: hostname(), job }));
  return scratch;
}

/**
 * Working copies of a rollout that was killed (-9) stay in $TMPDIR: remove
 * those of this pipeline whose owner process on this host is gone.
 */
function removeStaleScratch(pipeline: string, warn: (line: string) => void): void {
  const prefix = `trajgen-${pipeline}-`;
  let names: string[] = [];
  try {
    names = readdirSync(tmpdir()).filter((n) => n.startsWith(prefix));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(tmpdir(), name);
    let owner: { pid?: number; host?: string } | undefined;
    try {
      owner = JSON.parse(readFileSync(join(dir, SCRATCH_OWNER), 'utf8'));
    } catch {
      continue; // not ours, or still being created
    }
    if (!owner?.pid || owner.host !== hostname()) continue;
    if (isProcessAlive(owner.pid)) continue;
    rmSync(dir, { recursive: true, force: true });
    warn(`removed ${dir}: working copies left by a rollout that was killed (pid ${owner.pid})`);
  }
}
