import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';

type Json = Record<string, unknown>;

/**
 * The `[metadata]` table of a Harbor task.toml (free-form task facts), as
 * JSON: it goes into IM rows, so dates become their ISO text (a JSON round
 * trip). libs/tasks owns the task reader; convert needs only this one table
 * and must not depend on the tasks lib.
 */
export function parseTomlMetadata(text: string): Json {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (error) {
    if (error instanceof TomlError) throw new Error(`task.toml line ${error.line}, column ${error.column}: ${error.message.split('\n')[0]}`);
    throw error;
  }
  const meta = doc.metadata;
  return meta && typeof meta === 'object' && !Array.isArray(meta) ? (JSON.parse(JSON.stringify(meta)) as Json) : {};
}

/**
 * The task dir of a trial's `task.path`: absolute; relative to the trial dir
 * (Harbor resolves it so), the workspace root (the local engine writes
 * workspace-relative paths) or the job dir; else the staged copy
 * `artifacts/<p>/tasks/<dataset>/<id>`.
 */
export function resolveTaskDir(taskPath: string | undefined, taskId: string, where: { trialDir: string; workspaceRoot: string; jobDir: string; tasksStaging?: string }): string | undefined {
  const candidates: string[] = [];
  if (taskPath) {
    if (isAbsolute(taskPath)) candidates.push(taskPath);
    else candidates.push(resolve(where.trialDir, taskPath), resolve(where.workspaceRoot, taskPath), resolve(where.jobDir, taskPath));
  }
  if (where.tasksStaging) for (const dataset of stagedDatasets(where.tasksStaging)) candidates.push(join(where.tasksStaging, dataset, taskId));
  return candidates.find((d) => {
    try {
      return statSync(join(d, 'task.toml')).isFile();
    } catch {
      return false;
    }
  });
}

const datasetsCache = new Map<string, { at: number; names: string[] }>();
/** The dataset dirs under the staging dir (listed once a second at most: called per trial). */
function stagedDatasets(dir: string): string[] {
  const hit = datasetsCache.get(dir);
  if (hit && Date.now() - hit.at < 1000) return hit.names;
  let names: string[] = [];
  try {
    names = existsSync(dir) ? readdirSync(dir) : [];
  } catch {
    names = [];
  }
  datasetsCache.set(dir, { at: Date.now(), names });
  return names;
}

export function readTaskMetadata(taskDir: string): Json {
  return parseTomlMetadata(readFileSync(join(taskDir, 'task.toml'), 'utf8'));
}
