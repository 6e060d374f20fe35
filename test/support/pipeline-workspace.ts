/**
 * Test helper: the one builder of a minimal pipeline workspace for specs and
 * benchmarks that call a lib in-process (no nx): a temporary root with an
 * `nx.json` (how `loadPipeline` finds the root) and `pipelines/<name>/config.yaml`.
 * Specs add what their stage reads (task pools, jobs, IM rows) on top; the e2e
 * tests, which run real `nx`, copy the whole workspace instead
 * (`createTempWorkspace` in test/e2e/harness.ts).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { loadPipeline, pipelinePaths, type LoadedPipeline, type PipelinePaths } from '@trajgen/config';

export const REPO_ROOT = join(__dirname, '../..');

/** The least config.yaml that loads: the two keys `training` requires. */
export const MINIMAL_CONFIG = 'training:\n  model_name_or_path: m\n  output_dir: o\n';

export interface PipelineWorkspace {
  root: string;
  /** The pipeline's name (`p` unless given). */
  name: string;
  paths: PipelinePaths;
  /** Write a file relative to the workspace root (parent dirs made); returns its absolute path. */
  write(rel: string, text: string): string;
  read(rel: string): string;
  /** Write `pipelines/<name>/config.yaml` (text, or an object written as YAML). */
  writeConfig(config: string | object, name?: string): void;
  load(name?: string): LoadedPipeline;
  remove(): void;
}

export interface PipelineWorkspaceOptions {
  /** The mkdtemp prefix: names the spec that made a leftover (the temp-dir guard reports it). */
  prefix: string;
  name?: string;
  /** config.yaml as text or an object; MINIMAL_CONFIG when left out; null writes none (the pipeline dir only). */
  config?: string | object | null;
  /** node_modules linked to the real install (the agent CLIs a rollout starts). */
  linkNodeModules?: boolean;
  /** Makes the root dir from the prefix (e.g. `trackedTempDirs()`, removed after the file's tests); default mkdtemp under the temp dir. */
  tempDir?: (prefix: string) => string;
}

export function pipelineWorkspace(options: PipelineWorkspaceOptions): PipelineWorkspace {
  const name = options.name ?? 'p';
  const root = (options.tempDir ?? mkdtempSync)(join(tmpdir(), options.prefix));
  const ws: PipelineWorkspace = {
    root,
    name,
    paths: pipelinePaths(root, name),
    write(rel, text) {
      const p = join(root, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
      return p;
    },
    read: (rel) => readFileSync(join(root, rel), 'utf8'),
    writeConfig: (config, pipeline = name) => void ws.write(`pipelines/${pipeline}/config.yaml`, typeof config === 'string' ? config : stringify(config)),
    load: (pipeline = name) => loadPipeline(root, pipeline),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  ws.write('nx.json', '{}\n');
  mkdirSync(join(root, 'pipelines', name), { recursive: true });
  if (options.config !== null) ws.writeConfig(options.config ?? MINIMAL_CONFIG);
  if (options.linkNodeModules) symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
  return ws;
}
