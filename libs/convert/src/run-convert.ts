import { isAbsolute, join, resolve } from 'node:path';
import type { StageIO } from '@trajgen/core';
import { resolveConfigPath, type LoadedPipeline } from '@trajgen/config';
import { generateExcludedRepos } from './exclude';
import { convertPipeline } from './pipeline';

/** Options of `nx run <p>:convert` (tools/trajgen/src/executors/convert/schema.json). */
export interface ConvertStageOptions {
  /** Overrides conversion.exclude_repos_file; "" disables repo exclusion. */
  excludeReposFile?: string;
}

/** The convert stage (`nx run <p>:convert`): every finished trial → IM rows + stats. Returns the summary line. */
export async function runConvert(pipeline: LoadedPipeline, io: StageIO, options: ConvertStageOptions = {}): Promise<string> {
  return (await convertPipeline(pipeline.paths, pipeline.config.conversion, { excludeReposFile: options.excludeReposFile, log: io.log })).summary;
}

/** Options of `nx run <p>:generate-excluded-repos` (tools/trajgen/src/executors/generate-excluded-repos/schema.json). */
export interface GenerateExcludedReposStageOptions {
  /** Comma-separated dataset exports with a repo column (relative to the workspace root). */
  from?: string;
  /** Use the Hugging Face datasets-server API. */
  hf?: boolean;
  /** Output file (default: conversion.exclude_repos_file, else artifacts/data/excluded_repos.txt). */
  output?: string;
}

/** `nx run <p>:generate-excluded-repos`: rewrite the exclusion list from benchmark exports, print the diff. Returns the summary line. */
export async function runGenerateExcludedRepos(pipeline: LoadedPipeline, io: StageIO, options: GenerateExcludedReposStageOptions = {}): Promise<string> {
  const { paths } = pipeline;
  const configured = pipeline.config.conversion.exclude_repos_file;
  const output = options.output
    ? resolveConfigPath(paths, options.output)
    : configured
      ? resolveConfigPath(paths, configured)
      : join(paths.workspaceRoot, 'artifacts', 'data', 'excluded_repos.txt');
  const from = (options.from ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => (isAbsolute(f) ? f : resolve(paths.workspaceRoot, f)));
  const diff = await generateExcludedRepos({ from, hf: options.hf, output, log: io.log });
  return `${diff.total} repos, ${diff.added.length} added, ${diff.removed.length} removed`;
}
