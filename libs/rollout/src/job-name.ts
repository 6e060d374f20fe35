import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** One safe name segment: anything outside [A-Za-z0-9._-] becomes "-" (a model alias like `anthropic/x` included). */
export function nameSegment(s: string): string {
  const out = s
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+/, '')
    .replace(/-+$/, '');
  return out || 'unknown';
}

/** Local time `YYYYmmddHHMMSS` (as in the prior art, job and log names use local time). */
export function localStamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/**
 * A job name that says what ran: `<dataset>-<agent>-<agent version>-<model alias>-<local YYYYmmddHHMMSS>`
 * (the prior art's naming, so a directory listing says what ran), unique under `jobsDir` (`-2`, `-3`, … when taken).
 */
export function jobName(parts: { dataset: string; agent: string; version: string; model: string; at?: Date }, jobsDir?: string): string {
  const base = [parts.dataset, parts.agent, parts.version, parts.model].map(nameSegment).join('-') + `-${localStamp(parts.at)}`;
  if (!jobsDir) return base;
  let name = base;
  for (let i = 2; existsSync(join(jobsDir, name)); i++) name = `${base}-${i}`;
  return name;
}

/** Where a rollout job's files go: Harbor's job layout under `jobs/`, the run's own logs under `logs/<job>/`. */
export interface JobPlace {
  job: string;
  jobDir: string;
  logsDir: string;
  /** The run's log (every console line of the stage, warnings marked). */
  runLog: string;
}

export function jobPlace(paths: { jobs: string; logs: string }, job: string): JobPlace {
  const logsDir = join(paths.logs, job);
  return { job, jobDir: join(paths.jobs, job), logsDir, runLog: join(logsDir, 'rollout.log') };
}
