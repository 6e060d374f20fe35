import { existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TrajgenError, resetDir, sha256File } from '@trajgen/core';
import { readReceiptFile, writeReceiptFile, type RegisterReceipt } from '@trajgen/contracts';
import { resolveConfigPath, type LoadedPipeline, type PipelinePaths } from '@trajgen/config';
import { detectLfLayout, scanLfFile, type LfVariant } from './lf-file';
import { entryForHub, entryForLayout, writeDatasetEntry, type DatasetEntry } from './dataset-info';
import { fromWorkspacePath, isInside, workspacePath } from './paths';

export const REGISTER_RECEIPT_VERSION = 1;

// `artifacts/<p>/register/receipt.json` (what register did, for train): its type is its contract's (libs/contracts).
export type { RegisterReceipt } from '@trajgen/contracts';

export interface RegisterResult {
  receipt: RegisterReceipt;
  receiptPath: string;
  datasetInfoPath: string;
  warnings: string[];
  summary: string;
}

export function registerReceiptPath(paths: PipelinePaths): string {
  return join(paths.registerOut, 'receipt.json');
}

/** Read register's receipt; a clear error when register has not run. */
export function readRegisterReceipt(paths: PipelinePaths): RegisterReceipt {
  const file = registerReceiptPath(paths);
  if (!existsSync(file)) {
    throw new TrajgenError(`${relative(paths.workspaceRoot, file)} is missing: the dataset is not registered`, {
      hint: `Run the register stage first (nx run ${relative(join(paths.workspaceRoot, 'artifacts'), paths.artifacts)}:register).`,
    });
  }
  return readReceiptFile(file, { root: paths.workspaceRoot });
}

/** The absolute dataset_dir named in a receipt. */
export function receiptDatasetDir(paths: PipelinePaths, receipt: RegisterReceipt): string {
  return fromWorkspacePath(paths.workspaceRoot, receipt.dataset_dir);
}

/**
 * `file_name` as LLaMA-Factory resolves it (os.path.join(dataset_dir, file_name)):
 * the bare name inside dataset_dir; a relative path when both lie in the
 * workspace (so a cache entry restores into another clone); else absolute
 * (the prior art's choice for local and downloaded files).
 */
export function fileNameFor(datasetDir: string, file: string, workspaceRoot: string): string {
  if (isInside(datasetDir, file)) return relative(datasetDir, file);
  if (isInside(workspaceRoot, datasetDir) && isInside(workspaceRoot, file)) return relative(datasetDir, file);
  return file;
}

const SHAREGPT_ROLES = new Set(['human', 'gpt', 'function_call', 'observation', 'system']);
const RENDERED_ROLES = new Set(['user', 'assistant', 'system', 'tool']);

/** What registering an LF file found in it, and the dataset_info entry it makes. */
interface FileEntry {
  entry: DatasetEntry;
  file: string;
  fileName: string;
  rows: number;
  variant: LfVariant;
  digest: string;
}

/** The LF file to register: the pipeline's own (score writes it) or dataset.local_path, checked. */
function lfFileToRegister(pipeline: LoadedPipeline): string {
  const { paths, config } = pipeline;
  const ds = config.dataset;
  if (ds.source === 'pipeline') {
    const dataName = config.conversion.data_name ?? pipeline.name;
    const file = join(paths.lfData, `${dataName}.json`);
    if (!existsSync(file)) {
      throw new TrajgenError(`${relative(paths.workspaceRoot, file)} does not exist: there is no LF data to register`, {
        hint: `The score stage writes it (nx run ${pipeline.name}:score); or register an existing file with dataset.source: local_lf and dataset.local_path.`,
      });
    }
    return file;
  }
  const file = resolveConfigPath(paths, ds.local_path!);
  if (!existsSync(file)) {
    throw new TrajgenError(`dataset.local_path ${file} does not exist`, { hint: 'Point dataset.local_path at an LF .json/.jsonl file (relative paths resolve against the pipeline folder).' });
  }
  if (statSync(file).isDirectory()) {
    throw new TrajgenError(`dataset.local_path ${file} is a directory`, { hint: 'Point it at one .json or .jsonl file.' });
  }
  if (!/\.(json|jsonl)$/i.test(file)) {
    throw new TrajgenError(`dataset.local_path ${file} is not a .json or .jsonl file`, { hint: 'LLaMA-Factory picks the loader by extension; the score stage writes .json.' });
  }
  return file;
}

/** Scan an LF file, detect its layout and build its dataset_info entry; what looks wrong goes to `warnings`. */
async function entryForFile(file: string, datasetDir: string, pipeline: LoadedPipeline, warnings: string[]): Promise<FileEntry> {
  const ws = pipeline.paths.workspaceRoot;
  const ds = pipeline.config.dataset;
  const where = relative(ws, file).startsWith('..') ? file : relative(ws, file);
  const scan = scanLfFile(file);
  const layout = detectLfLayout(scan.sample, where);
  const known = layout.variant === 'sharegpt' ? SHAREGPT_ROLES : RENDERED_ROLES;
  const unknown = layout.roles.filter((r) => !known.has(r));
  if (unknown.length && !ds.tags) {
    warnings.push(`${where}: roles ${unknown.map((r) => JSON.stringify(r)).join(', ')} are not ${layout.variant} roles; LLaMA-Factory drops such rows ("Invalid role tag"). Set dataset.tags if the file uses other role names.`);
  }
  if (ds.num_samples !== undefined && ds.num_samples > scan.rows) {
    warnings.push(`dataset.num_samples ${ds.num_samples} > ${scan.rows} rows: LLaMA-Factory oversamples with replacement.`);
  }
  const fileName = fileNameFor(datasetDir, file, ws);
  const entry = entryForLayout(fileName, layout, { num_samples: ds.num_samples });
  if (ds.columns) entry.columns = { ...entry.columns, ...ds.columns };
  if (ds.tags) entry.tags = { ...(entry.tags ?? {}), ...ds.tags };
  return { entry, file, fileName, rows: scan.rows, variant: layout.variant, digest: `sha256:${await sha256File(file)}` };
}

/**
 * The register stage: put the pipeline's LF data (or a local LF file, or a
 * Hugging Face dataset) into LLaMA-Factory's dataset_info.json, locked,
 * atomically and idempotently, and write the receipt train reads.
 */
export async function registerDataset(pipeline: LoadedPipeline): Promise<RegisterResult> {
  const { paths, config } = pipeline;
  const ds = config.dataset;
  const name = ds.name ?? config.conversion.data_name ?? pipeline.name;
  const datasetDir = ds.dataset_dir ? resolveConfigPath(paths, ds.dataset_dir) : paths.lfData;
  const datasetInfoPath = join(datasetDir, 'dataset_info.json');
  const ws = paths.workspaceRoot;
  const warnings: string[] = [];

  if (ds.dataset_dir && existsSync(datasetDir) && !statSync(datasetDir).isDirectory()) {
    throw new TrajgenError(`dataset.dataset_dir ${datasetDir} is not a directory`, { hint: 'Point it at the LLaMA-Factory data directory holding dataset_info.json.' });
  }

  const fromFile = ds.source === 'hf' ? undefined : await entryForFile(lfFileToRegister(pipeline), datasetDir, pipeline, warnings);
  const entry = fromFile
    ? fromFile.entry
    : entryForHub({ hf_hub_url: ds.hf_hub_url!, subset: ds.subset, split: ds.split, num_samples: ds.num_samples, columns: ds.columns, tags: ds.tags });
  const file = fromFile?.file ?? null;
  const rows = fromFile?.rows ?? null;
  const variant = fromFile?.variant ?? null;

  const write = writeDatasetEntry(datasetInfoPath, name, entry);
  const receipt: RegisterReceipt = {
    schema_version: REGISTER_RECEIPT_VERSION,
    dataset: name,
    source: ds.source,
    dataset_dir: workspacePath(ws, datasetDir),
    dataset_info: workspacePath(ws, datasetInfoPath),
    file_name: fromFile?.fileName ?? null,
    file: file ? workspacePath(ws, file) : null,
    file_digest: fromFile?.digest ?? null,
    rows,
    variant,
    hf_hub_url: ds.source === 'hf' ? ds.hf_hub_url! : null,
    action: write.action,
    changes: write.changes,
    previous_entry: write.previous ?? null,
    entry,
  };
  resetDir(paths.registerOut);
  const receiptPath = registerReceiptPath(paths);
  writeReceiptFile(receiptPath, receipt);

  const what = ds.source === 'hf' ? `hub dataset ${ds.hf_hub_url}` : `${variant}, ${rows} row${rows === 1 ? '' : 's'}`;
  const where = workspacePath(ws, datasetInfoPath);
  const summary =
    write.action === 'registered'
      ? `registered "${name}" (${what}) in ${where}`
      : write.action === 'updated'
        ? `updated "${name}" (${what}) in ${where}, from: ${write.changes.join('; ')}`
        : `"${name}" unchanged in ${where} (${what})`;
  return { receipt, receiptPath, datasetInfoPath, warnings, summary };
}
