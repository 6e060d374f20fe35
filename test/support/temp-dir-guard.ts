/**
 * Vitest globalSetup: a private temporary directory for each test run, and a
 * failed run when tests leave anything in it.
 *
 * Before the workers start, TMPDIR points at a fresh `trajgen-test-run-XXXXXX`
 * under the system temp dir. Vitest builds each worker's environment from
 * `process.env` when it starts the pool (after the global setups), so every
 * test's `os.tmpdir()` — and every child it spawns (nx, Harbor, agents,
 * Python) — lands there. Nx keeps its daemon sockets under a literal `/tmp/.nx`,
 * not `os.tmpdir()`, so nothing in Nx's own bookkeeping moves. At teardown the
 * guard lists what is left in the directory (each entry with the mkdtemp prefix
 * that names the spec to look at), sets a failing exit code when there is
 * anything, then removes the directory so CI machines do not fill up. (Vitest
 * only logs an error thrown in a global teardown and still exits 0, so the
 * guard sets `process.exitCode`.)
 *
 * Tools that keep a per-user cache in the temp dir on purpose are either
 * pointed elsewhere in the run's directory (torch's inductor cache, through
 * TORCHINDUCTOR_CACHE_DIR) or listed in TOOL_CACHES. TRAJGEN_TEMP_GUARD=warn
 * turns the failure back into a warning. A problem of the guard itself (a dir
 * it cannot list or remove) only warns.
 *
 * Each Vitest project that extends the root config runs this setup (and its
 * teardown) once, all in the main process: the first setup creates the
 * directory, the last teardown reports and removes it.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'trajgen-test-run-';
/** A run's directory older than this is from a run that was killed before its teardown. */
const STALE_MS = 24 * 60 * 60 * 1000;
const KEY = Symbol.for('trajgen.test-temp-dir');
/**
 * Caches that third-party tools keep in their temp dir, per user, on purpose:
 * not a test's leftovers (removed with the run's directory all the same).
 * @swc-node/register's compile cache (children run with `-r @swc-node/register`),
 * Claude Code's per-project scratch, OpenCode's, and the native library that
 * OpenCode (a Bun executable) unpacks as `.<content hash>-<n>.so` and never
 * removes.
 */
const TOOL_CACHES = [/^swc-node-\d+$/, /^claude-\d+$/, /^opencode$/, /^\.[0-9a-f]{16}-[0-9a-f]{8}\.so$/, /^tool-caches$/];
/** Where torch's inductor cache goes during a run (its default is `<temp dir>/torchinductor_<user>`). */
const TOOL_CACHE_DIR = 'tool-caches';

interface RunTempDir {
  dir: string;
  previous: string | undefined;
  previousInductor: string | undefined;
  users: number;
}

const state = globalThis as typeof globalThis & { [KEY]?: RunTempDir };

function warn(message: string): void {
  console.warn(`\n[trajgen temp-dir guard] ${message}`);
}

function fail(message: string): void {
  console.error(`\n[trajgen temp-dir guard] ${message}`);
  process.exitCode = 1;
}

/** The mkdtemp prefix of a name (`tg-rec-AbC123` → `tg-rec-`); other names as they are. */
export function tempPrefix(name: string): string {
  const m = /^(.*[-_.])[A-Za-z0-9]{6}$/.exec(name);
  return m ? m[1] : name;
}

/** Leftover entries grouped by prefix, as lines of a report. */
export function describeLeftovers(names: string[]): string[] {
  const groups = new Map<string, string[]>();
  for (const name of [...names].sort()) {
    const p = tempPrefix(name);
    groups.set(p, [...(groups.get(p) ?? []), name]);
  }
  return [...groups].map(([p, ns]) => `  ${p.padEnd(24)} ${ns.length}× ${ns.slice(0, 5).join(' ')}${ns.length > 5 ? ' …' : ''}`);
}

/** Run directories of earlier runs that were killed before their teardown. */
function removeStaleRunDirs(base: string): void {
  for (const name of readdirSync(base)) {
    if (!name.startsWith(PREFIX)) continue;
    const path = join(base, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // another user's, or removed meanwhile
    }
  }
}

export function setup(): () => void {
  try {
    let run = state[KEY];
    if (!run) {
      const base = tmpdir();
      removeStaleRunDirs(base);
      const dir = mkdtempSync(join(base, PREFIX));
      // The same mode as /tmp (world-writable, sticky): a child running as another user (a container's
      // user, a service) can still make its own temp files, as it could without the guard.
      chmodSync(dir, 0o1777);
      run = { dir, previous: process.env.TMPDIR, previousInductor: process.env.TORCHINDUCTOR_CACHE_DIR, users: 0 };
      state[KEY] = run;
      process.env.TMPDIR = run.dir;
      // Python children (the trainer, LLaMA-Factory's argument parser) import torch, which makes its cache there.
      process.env.TORCHINDUCTOR_CACHE_DIR ??= join(run.dir, TOOL_CACHE_DIR, 'torchinductor');
    }
    run.users++;
  } catch (e) {
    warn(`could not set up a private temp dir for this run (${(e as Error).message}); tests use ${tmpdir()}.`);
  }
  return teardown;
}

function teardown(): void {
  const run = state[KEY];
  if (!run || --run.users > 0) return;
  state[KEY] = undefined;
  try {
    const left = readdirSync(run.dir).filter((n) => !TOOL_CACHES.some((re) => re.test(n)));
    if (left.length > 0) {
      const report = [
        `tests left ${left.length} entr${left.length === 1 ? 'y' : 'ies'} in their temp dir (grep the specs for the prefix; remove it in afterAll/afterEach):`,
        ...describeLeftovers(left),
      ].join('\n');
      if (process.env.TRAJGEN_TEMP_GUARD === 'warn') warn(report);
      else fail(`${report}\nThe run fails for it (TRAJGEN_TEMP_GUARD=warn only warns).`);
    }
  } catch (e) {
    warn(`could not list ${run.dir}: ${(e as Error).message}`);
  }
  try {
    rmSync(run.dir, { recursive: true, force: true, maxRetries: 3 });
  } catch (e) {
    warn(`could not remove ${run.dir}: ${(e as Error).message}`);
  }
  if (run.previous === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = run.previous;
  if (run.previousInductor === undefined) delete process.env.TORCHINDUCTOR_CACHE_DIR;
  else process.env.TORCHINDUCTOR_CACHE_DIR = run.previousInductor;
}
