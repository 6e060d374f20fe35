import { basename, dirname } from 'node:path';
import type { CreateNodes } from '@nx/devkit';
import { libDepsReader, pipelineTargets, productionPatterns } from './plugin/targets';

export { pipelineTargets, listPipelines, libClosure, STAGES, type StageName } from './plugin/targets';
/** The run recorder: index.yaml, archives/run_NNN and the report's history, for runs that succeed, fail or are interrupted. */
export { preTasksExecution, postTasksExecution } from './hooks/tasks-execution';

/**
 * Every `pipelines/<name>/config.yaml` is an Nx project named `<name>` with
 * the pipeline targets of `plugin/targets.ts`: the seven stages (prepare …
 * archive) plus check, ledger, generate-excluded-repos and clean. Adding a
 * pipeline is adding a folder.
 */
export const createNodes: CreateNodes = [
  'pipelines/*/config.yaml',
  (configFiles, _options, context) => {
    // Every pipeline's stages read the same libs' package.json and nx.json's production input: once per command.
    const deps = libDepsReader(context.workspaceRoot);
    const production = productionPatterns(context.nxJsonConfiguration);
    return configFiles.map((file) => {
      const root = dirname(file);
      const name = basename(root);
      return [
        file,
        {
          projects: {
            [root]: {
              name,
              root,
              projectType: 'application',
              tags: ['type:pipeline'],
              targets: pipelineTargets(context.workspaceRoot, name, deps, production),
            },
          },
        },
      ] as const;
    });
  },
];
