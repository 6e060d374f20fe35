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
