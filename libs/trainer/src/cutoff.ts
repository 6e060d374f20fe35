import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { countAbove } from '@trajgen/core';
import { readScoreStatsFile } from '@trajgen/contracts';

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
  const statsFile = scoreStatsBeside(datasetDir, dataset);
  if (!statsFile) return undefined;
  // Score's stats through their contract: a malformed file stops the run with what is wrong, never a silent skip.
  const lengths = readScoreStatsFile(statsFile).token_lengths;
  return { rows: lengths.length, over: countAbove(lengths, cutoffLen), longest: lengths.length ? lengths[lengths.length - 1] : 0, cutoffLen };
}

/** `<name>.stats.json` beside the dataset's LF `.json` file, when the score stage wrote one there. */
function scoreStatsBeside(datasetDir: string, dataset: string): string | undefined {
  let info: Record<string, { file_name?: string } | undefined>;
  try {
    info = JSON.parse(readFileSync(join(datasetDir, 'dataset_info.json'), 'utf8'));
  } catch {
    return undefined; // register reports a missing or broken dataset_info.json; this check only adds a warning
  }
  const fileName = info?.[dataset]?.file_name;
  if (typeof fileName !== 'string' || !fileName.endsWith('.json')) return undefined;
  const statsFile = (isAbsolute(fileName) ? fileName : join(datasetDir, fileName)).replace(/\.json$/, '.stats.json');
  return existsSync(statsFile) && isScoreStats(statsFile) ? statsFile : undefined;
}

/** Only stats the score stage wrote (`producer`): a person's own LF file may sit beside a stats file of another tool. */
function isScoreStats(file: string): boolean {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))?.producer === 'trajgen score';
  } catch {
    return true; // ours but torn: the contract's reader says so
  }
}

export function formatCutoffWarning(r: CutoffReport): string {
  return (
    `${r.over} of ${r.rows} training rows are longer than cutoff_len ${r.cutoffLen} (estimated tokens; longest ~${r.longest}): ` +
    'LLaMA-Factory silently drops the later turns of those rows. Raise training.cutoff_len, or drop them with scoring.filters.max_tokens.'
  );
}
