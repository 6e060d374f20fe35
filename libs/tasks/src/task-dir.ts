import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { basename, join } from 'node:path';
import { TomlError, parseToml, type TomlTable } from './toml';

/**
 * A Harbor task directory (Harbor's task format): task.toml (parses),
 * instruction.md, environment/, tests/test.sh (tests/test.bat for
 * `[environment].os = "windows"`), optional solution/solve.sh.
 */

export interface TaskDirInspection {
  /** Why the dir is not a usable task ("missing tests/test.sh", "task.toml:3:5: …"); empty when valid. */
  problems: string[];
  /** Parsed task.toml when it parsed. */
  config?: TomlTable;
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

export function inspectTaskDir(dir: string): TaskDirInspection {
  const st = statOrUndefined(dir);
  if (!st) return { problems: ['does not exist'] };
  if (!st.isDirectory()) return { problems: ['is not a directory'] };
  const problems: string[] = [];
  let config: TomlTable | undefined;
  const toml = statOrUndefined(join(dir, 'task.toml'));
  if (!toml?.isFile()) problems.push('missing task.toml');
  else {
    try {
      config = parseToml(readFileSync(join(dir, 'task.toml'), 'utf8'), 'task.toml');
    } catch (error) {
      problems.push(error instanceof TomlError ? `task.toml does not parse: ${error.message}` : `task.toml unreadable: ${(error as Error).message}`);
    }
  }
  if (!statOrUndefined(join(dir, 'instruction.md'))?.isFile()) problems.push('missing instruction.md');
  if (!statOrUndefined(join(dir, 'environment'))?.isDirectory()) problems.push('missing environment/');
  const env = config?.environment;
  const windows = typeof env === 'object' && env !== null && !Array.isArray(env) && (env as TomlTable).os === 'windows';
  const testScripts = windows ? ['tests/test.bat', 'tests/test.sh'] : ['tests/test.sh'];
  if (!testScripts.some((t) => statOrUndefined(join(dir, t))?.isFile())) problems.push(`missing ${testScripts[0]}`);
  return { problems, config };
}

/** `[task].name` from task.toml if present, else the directory name (Harbor's TrialResult.task_name rule). */
export function taskNameOf(config: TomlTable | undefined, dir: string): string {
  const t = config?.task;
  if (t && typeof t === 'object' && !Array.isArray(t) && typeof (t as TomlTable).name === 'string' && (t as TomlTable).name) return (t as TomlTable).name as string;
  return basename(dir);
}

/** The `[metadata]` table of task.toml ({} when absent). */
export function taskMetadataOf(config: TomlTable | undefined): Record<string, unknown> {
  const m = config?.metadata;
  return m && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : {};
}

/**
 * Content digest of a task dir, `sha256:<hex>`: every entry under it sorted
 * by relative path (`/`-separated, code-unit order); a file contributes its
 * path and bytes, a symlink its path and target text (not followed), a
 * directory its path. Independent of mtimes, owners and modes.
 */
export function taskChecksum(dir: string): string {
  const entries: { rel: string; abs: string; kind: 'F' | 'L' | 'D' | 'O' }[] = [];
  const walk = (abs: string, rel: string) => {
    for (const d of readdirSync(abs, { withFileTypes: true })) {
      const a = join(abs, d.name);
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isSymbolicLink()) entries.push({ rel: r, abs: a, kind: 'L' });
      else if (d.isDirectory()) {
        entries.push({ rel: r, abs: a, kind: 'D' });
        walk(a, r);
      } else if (d.isFile()) entries.push({ rel: r, abs: a, kind: 'F' });
      else entries.push({ rel: r, abs: a, kind: 'O' });
    }
  };
  walk(dir, '');
  entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const h = createHash('sha256');
  for (const e of entries) {
    if (e.kind === 'F') {
      const bytes = readFileSync(e.abs);
      h.update(`F\0${e.rel}\0${bytes.length}\0`);
      h.update(bytes);
    } else if (e.kind === 'L') h.update(`L\0${e.rel}\0${readlinkSync(e.abs)}\0`);
    else h.update(`${e.kind}\0${e.rel}\0`);
  }
  return `sha256:${h.digest('hex')}`;
}
