// Generated from tools/trajgen/src/index.ts by scripts/build-plugin.cjs (npm run build:plugin). Do not edit.
"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.createNodes = exports.postTasksExecution = exports.preTasksExecution = exports.STAGES = exports.libClosure = exports.listPipelines = exports.pipelineTargets = void 0;
const node_path_1 = require("node:path");
const targets_1 = require("./plugin/targets");
var targets_2 = require("./plugin/targets");
Object.defineProperty(exports, "pipelineTargets", { enumerable: true, get: function () { return targets_2.pipelineTargets; } });
Object.defineProperty(exports, "listPipelines", { enumerable: true, get: function () { return targets_2.listPipelines; } });
Object.defineProperty(exports, "libClosure", { enumerable: true, get: function () { return targets_2.libClosure; } });
Object.defineProperty(exports, "STAGES", { enumerable: true, get: function () { return targets_2.STAGES; } });
/** The run recorder: index.yaml, archives/run_NNN and the report's history, for runs that succeed, fail or are interrupted. */
var tasks_execution_1 = require("./hooks/tasks-execution");
Object.defineProperty(exports, "preTasksExecution", { enumerable: true, get: function () { return tasks_execution_1.preTasksExecution; } });
Object.defineProperty(exports, "postTasksExecution", { enumerable: true, get: function () { return tasks_execution_1.postTasksExecution; } });
/**
 * Every `pipelines/<name>/config.yaml` is an Nx project named `<name>` with
 * the pipeline targets of `plugin/targets.ts`: the seven stages (prepare …
 * archive) plus check, ledger, generate-excluded-repos and clean. Adding a
 * pipeline is adding a folder.
 */
exports.createNodes = [
    'pipelines/*/config.yaml',
    (configFiles, _options, context) => {
        // Every pipeline's stages read the same libs' package.json and nx.json's production input: once per command.
        const deps = (0, targets_1.libDepsReader)(context.workspaceRoot);
        const production = (0, targets_1.productionPatterns)(context.nxJsonConfiguration);
        return configFiles.map((file) => {
            const root = (0, node_path_1.dirname)(file);
            const name = (0, node_path_1.basename)(root);
            return [
                file,
                {
                    projects: {
                        [root]: {
                            name,
                            root,
                            projectType: 'application',
                            tags: ['type:pipeline'],
                            targets: (0, targets_1.pipelineTargets)(context.workspaceRoot, name, deps, production),
                        },
                    },
                },
            ];
        });
    },
];
