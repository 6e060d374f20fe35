/**
 * Test helpers: a temporary workspace with one pipeline (pipelines/<p>/config.yaml,
 * a task pool of Harbor-format task dirs, a manifest) — just the layout, no nx.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LoadedPipeline, PipelinePaths } from '@trajgen/config';
import { pipelineWorkspace } from '../../../../test/support/pipeline-workspace';

export interface TaskSpec {
  /** task.toml text; default: a [task] name and [metadata]. null: leave the file out. */
  toml?: string | null;
  instruction?: string | null;
  /** false: no environment/ dir. */
  environment?: boolean;
  testSh?: string | null;
  solveSh?: string | null;
  /** Extra files, relative to the task dir. */
  files?: Record<string, string>;
}

export interface TempWorkspace {
  root: string;
  name: string;
  paths: PipelinePaths;
  /** pipelines/<p>/<rel> */
  pipelineFile(rel: string): string;
  write(relToPipeline: string, text: string): void;
  /** Create a task dir under the pool (pipelines/<p>/<pool>/<id>). */
  task(id: string, spec?: TaskSpec, pool?: string): string;
  manifest(lines: string[] | string, pool?: string): void;
  config(extraYaml?: string): void;
  load(): LoadedPipeline;
  remove(): void;
}

export function defaultToml(id: string): string {
  return `schema_version = "1.4"\n\n[task]\nname = "trajgen/${id}"\n\n[metadata]\ndifficulty = "easy"\ntags = ["test"]\n\n[verifier]\ntimeout_sec = 60.0\n`;
}

export function tempWorkspace(name = 'p'): TempWorkspace {
  const base = pipelineWorkspace({ prefix: 'tg-tasks-', name, config: null });
  const root = base.root;
  const pdir = join(root, 'pipelines', name);
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(pdir, rel)), { recursive: true });
    writeFileSync(join(pdir, rel), text);
  };
  const ws: TempWorkspace = {
    root,
    name,
    paths: undefined as unknown as PipelinePaths,
    pipelineFile: (rel) => join(pdir, rel),
    write,
    task(id, spec = {}, pool = 'tasks') {
      const dir = join(pdir, pool, id);
      mkdirSync(dir, { recursive: true });
      if (spec.toml !== null) writeFileSync(join(dir, 'task.toml'), spec.toml ?? defaultToml(id));
      if (spec.instruction !== null) writeFileSync(join(dir, 'instruction.md'), spec.instruction ?? `Do ${id}.\n`);
      if (spec.environment !== false) {
        mkdirSync(join(dir, 'environment'), { recursive: true });
        writeFileSync(join(dir, 'environment', 'Dockerfile'), 'FROM ubuntu:24.04\nWORKDIR /app\n');
      }
      if (spec.testSh !== null) {
        mkdirSync(join(dir, 'tests'), { recursive: true });
        writeFileSync(join(dir, 'tests', 'test.sh'), spec.testSh ?? '#!/bin/bash\necho 1 > /logs/verifier/reward.txt\n');
      }
      if (spec.solveSh !== null && spec.solveSh !== undefined) {
        mkdirSync(join(dir, 'solution'), { recursive: true });
        writeFileSync(join(dir, 'solution', 'solve.sh'), spec.solveSh);
      }
      for (const [rel, text] of Object.entries(spec.files ?? {})) {
        mkdirSync(dirname(join(dir, rel)), { recursive: true });
        writeFileSync(join(dir, rel), text);
      }
      return dir;
    },
    manifest(lines, pool = 'tasks') {
      write(join(pool, 'verifiable_tasks.txt'), Array.isArray(lines) ? lines.join('\n') + '\n' : lines);
    },
    config(extraYaml = '') {
      write(
        'config.yaml',
        `meta_info:\n  name: ${name}\n${extraYaml.includes('task_source:') ? '' : 'task_source:\n  path: tasks\n'}${extraYaml}\nrollout:\n  max_retries: 1\ntraining:\n  model_name_or_path: base\n  output_dir: out\n`,
      );
    },
    load() {
      const p = base.load();
      ws.paths = p.paths;
      return p;
    },
    remove: base.remove,
  };
  ws.config();
  ws.paths = ws.load().paths;
  return ws;
}
