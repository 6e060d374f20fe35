// Test helpers for the train stage (not shipped in any stage's inputs: __fixtures__ is excluded).
import { trainingWorkspace as buildTrainingWorkspace } from '../../../../test/support/training-workspace';
import type { PipelineWorkspace } from '../../../../test/support/pipeline-workspace';

export { REPO_ROOT, LLAMAFACTORY_CLI_TEST_DOUBLE } from '../../../../test/support/training-workspace';

/** A training workspace for pipeline "p" (the demo base model, `rows` glaive rows with tools registered as its LF data "tdata"). */
export const trainingWorkspace = (configYaml: string, rows = 8): Promise<PipelineWorkspace> => buildTrainingWorkspace(configYaml, { rows, withToolsOnly: true });

export function captureIO() {
  const lines: string[] = [];
  return { lines, io: { log: (l: string) => lines.push(l), warn: (l: string) => lines.push(`warning: ${l}`) } };
}
