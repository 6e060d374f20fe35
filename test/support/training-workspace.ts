/**
 * Test helpers for the register and train stages: LLaMA-Factory's published
 * fixtures, and the one builder of a training workspace (a pipeline workspace
 * with a base model and registered LF data).
 */
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { registerDataset } from '@trajgen/llamafactory';
import { pipelineWorkspace, REPO_ROOT, type PipelineWorkspace } from './pipeline-workspace';

export { REPO_ROOT };
/** Real fixtures published by LLaMA-Factory (see test/fixtures/real/SOURCES.md). */
export const LF_FIXTURES = join(REPO_ROOT, 'test/fixtures/real/llama-factory');
export const GLAIVE = join(LF_FIXTURES, 'glaive_toolcall_en_demo.json');
export const REAL_DATASET_INFO = join(LF_FIXTURES, 'dataset_info.json');
/** The test double standing in for LLaMA-Factory's CLI in the distributed modes (GPUs, several nodes), which cannot run here. */
export const LLAMAFACTORY_CLI_TEST_DOUBLE = join(REPO_ROOT, 'libs/llamafactory/src/__fixtures__/llamafactory-cli-test-double');

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

export interface TrainingWorkspaceOptions {
  prefix?: string;
  /** Pipeline name (`p`). */
  name?: string;
  /** Glaive rows written as the pipeline's LF data. */
  rows?: number;
  /** The LF data file's name (`conversion.data_name` of the config). */
  dataName?: string;
  /** Keep only rows with tools. */
  withToolsOnly?: boolean;
  /** The demo pipeline whose base model is copied (`demo`, or `demo-llamafactory` for its Qwen3 tokenizer). */
  baseModelFrom?: string;
}

/** A pipeline workspace with `configYaml`, a demo base model in `pipelines/<name>/base-model` and glaive rows registered as its LF data. */
export async function trainingWorkspace(configYaml: string, options: TrainingWorkspaceOptions = {}): Promise<PipelineWorkspace> {
  const name = options.name ?? 'p';
  const ws = pipelineWorkspace({ prefix: options.prefix ?? 'trajgen-train-', name, config: configYaml });
  cpSync(join(REPO_ROOT, 'pipelines', options.baseModelFrom ?? 'demo', 'base-model'), join(ws.root, 'pipelines', name, 'base-model'), { recursive: true });
  ws.write(`artifacts/${name}/data/lf_data/${options.dataName ?? 'tdata'}.json`, JSON.stringify(glaiveRows(options.rows ?? 8, { asPipeline: true, withToolsOnly: options.withToolsOnly ?? false })));
  await registerDataset(ws.load());
  return ws;
}
