import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { countAbove } from '@trajgen/core';

export interface CutoffReport {
  rows: number;
  over: number;
  longest: number;
  cutoffLen: number;
}

/**
 * How many rows of the registered dataset are longer than `cutoff_len`,
 * from the token estimates the score stage records beside its LF file
 * (`<name>.stats.json` → `token_lengths`, ascending). LLaMA-Factory silently
 * drops the turns past the cutoff (its `cutoff_len` truncation), so the train
 * stage says so before training. Undefined when there are no such stats (a
 * local or hub dataset).
 */
export function rowsOverCutoff(datasetDir: string, dataset: string, cutoffLen: number): CutoffReport | undefined {
  try {
    const info = JSON.parse(readFileSync(join(datasetDir, 'dataset_info.json'), 'utf8')) as Record<string, { file_name?: string }>;
    const fileName = info[dataset]?.file_name;
    if (!fileName || !fileName.endsWith('.json')) return undefined;
    const lf = isAbsolute(fileName) ? fileName : join(datasetDir, fileName);
    const statsFile = lf.replace(/\.json$/, '.stats.json');
    if (!existsSync(statsFile)) return undefined;
    const lengths = (JSON.parse(readFileSync(statsFile, 'utf8')) as { token_lengths?: unknown }).token_lengths;
    if (!Array.isArray(lengths) || !lengths.every((n) => typeof n === 'number')) return undefined;
    return { rows: lengths.length, over: countAbove(lengths, cutoffLen), longest: lengths.length ? lengths[lengths.length - 1] : 0, cutoffLen };
  } catch {
    return undefined;
  }
}

export function formatCutoffWarning(r: CutoffReport): string {
  return (
    `${r.over} of ${r.rows} training rows are longer than cutoff_len ${r.cutoffLen} (estimated tokens; longest ~${r.longest}): ` +
    'LLaMA-Factory silently drops the later turns of those rows. Raise training.cutoff_len, or drop them with scoring.filters.max_tokens.'
  );
}
