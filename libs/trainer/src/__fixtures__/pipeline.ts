// Test helpers for the train stage (not shipped in any stage's inputs: __fixtures__ is excluded).
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { registerDataset } from '@trajgen/llamafactory';
import { glaiveRows, tempWorkspace, REPO_ROOT, type TempWorkspace } from '../../../../test/support/training-workspace';

export { REPO_ROOT, LLAMAFACTORY_CLI_TEST_DOUBLE } from '../../../../test/support/training-workspace';

/** A temp workspace with pipeline "p": config, the demo base model, `rows` glaive rows registered as the pipeline's LF data. */
export async function trainingWorkspace(configYaml: string, rows = 8): Promise<TempWorkspace> {
  const ws = tempWorkspace(configYaml);
  cpSync(join(REPO_ROOT, 'pipelines/demo/base-model'), join(ws.root, 'pipelines/p/base-model'), { recursive: true });
  ws.write('artifacts/p/data/lf_data/tdata.json', JSON.stringify(glaiveRows(rows, { asPipeline: true, withToolsOnly: true })));
  await registerDataset(ws.load());
  return ws;
}

export function captureIO() {
  const lines: string[] = [];
  return { lines, io: { log: (l: string) => lines.push(l), warn: (l: string) => lines.push(`warning: ${l}`) } };
}
