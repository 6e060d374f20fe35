import { constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TrajgenError } from '@trajgen/core';
import { lineChartSvg } from '@trajgen/charts';
import type { ParsedTrainerLog } from '@trajgen/llamafactory';

export const TRAIN_RESULT_VERSION = 1;

// `artifacts/<p>/train/result.json` (the train stage's declared result; every path workspace-relative): its type is its contract's (libs/contracts).
export type { TrainResult } from '@trajgen/contracts';

/** Copy a file without sharing its inode (a reflink where the filesystem can). */
function copyFile(src: string, dst: string): void {
  copyFileSync(src, dst, constants.COPYFILE_FICLONE);
}

/** Copy a directory tree (files reflinked when possible, never hardlinked: the Nx cache restores into these paths). */
export function copyTree(src: string, dst: string): number {
  let bytes = 0;
  mkdirSync(dst, { recursive: true });
  for (const e of readdirSync(src, { withFileTypes: true })) {
    const s = join(src, e.name);
    const d = join(dst, e.name);
    if (e.isDirectory()) bytes += copyTree(s, d);
    else if (e.isFile()) {
      copyFile(s, d);
      bytes += statSync(s).size;
    }
  }
  return bytes;
}

/** The loss curve as an SVG (training loss, and eval loss when logged). */
export function lossPlotSvg(parsed: ParsedTrainerLog, run: string): string {
  const series = [{ name: 'loss', points: parsed.loss }];
  if (parsed.evalLoss.length) series.push({ name: 'eval_loss', points: parsed.evalLoss });
  return lineChartSvg(series, { title: `training loss — ${run}`, xLabel: 'step', yLabel: 'loss', width: 560, height: 300 });
}

export function readJsonIfExists<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    throw new TrajgenError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

export interface TrainResults {
  train_loss?: number;
  train_runtime?: number;
  train_samples_per_second?: number;
  train_steps_per_second?: number;
  total_flos?: number;
  epoch?: number;
}
