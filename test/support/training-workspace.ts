// Test helpers (not shipped in any stage's inputs: __fixtures__ is excluded).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadPipeline, type LoadedPipeline } from '@trajgen/config';

export const REPO_ROOT = join(__dirname, '../..');
/** Real fixtures published by LLaMA-Factory (see test/fixtures/real/SOURCES.md). */
export const LF_FIXTURES = join(REPO_ROOT, 'test/fixtures/real/llama-factory');
export const GLAIVE = join(LF_FIXTURES, 'glaive_toolcall_en_demo.json');
export const REAL_DATASET_INFO = join(LF_FIXTURES, 'dataset_info.json');
/** The test double standing in for LLaMA-Factory's CLI in the distributed modes (GPUs, several nodes), which cannot run here. */
export const LLAMAFACTORY_CLI_TEST_DOUBLE = join(REPO_ROOT, 'libs/llamafactory/src/__fixtures__/llamafactory-cli-test-double');

export interface TempWorkspace {
  root: string;
  name: string;
  write(rel: string, text: string): string;
  read(rel: string): string;
  load(): LoadedPipeline;
  remove(): void;
}

/** A throwaway workspace holding one pipeline `name` with `configYaml`. */
export function tempWorkspace(configYaml: string, name = 'p'): TempWorkspace {
  const root = mkdtempSync(join(tmpdir(), 'trajgen-lf-'));
  const ws: TempWorkspace = {
    root,
    name,
    write(rel, text) {
      const p = join(root, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
      return p;
    },
    read: (rel) => readFileSync(join(root, rel), 'utf8'),
    load: () => loadPipeline(root, name),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  ws.write('nx.json', '{}\n');
  ws.write(`pipelines/${name}/config.yaml`, configYaml);
  return ws;
}

/** The first `n` glaive rows, optionally shaped like the score stage's native rows (system, tools, _meta). */
export function glaiveRows(n: number, options: { asPipeline?: boolean; withToolsOnly?: boolean } = {}): Record<string, unknown>[] {
  let rows = JSON.parse(readFileSync(GLAIVE, 'utf8')) as { conversations: unknown[]; tools: string }[];
  if (options.withToolsOnly) rows = rows.filter((r) => r.tools !== '[]');
  return rows.slice(0, n).map((r, i) =>
    options.asPipeline
      ? { conversations: r.conversations, system: 'You are a careful coding agent.', tools: r.tools, _instance_id: `task-${i}`, _agent_type: 'main', _score: 0.9 }
      : r,
  );
}

export function copyFixture(src: string, dst: string): void {
  mkdirSync(dirname(dst), { recursive: true });
  cpSync(src, dst);
}
