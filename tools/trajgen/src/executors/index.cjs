'use strict';
/**
 * The executors' entry for Nx (executors.json: `./src/executors/index.cjs#<name>`). The executors are
 * TypeScript; Nx loads a TypeScript executor only through a root tsconfig.json, which this workspace does not
 * have (tsconfig.workspace.json says why). This plain CommonJS entry registers swc with the workspace's options
 * and loads the one executor a task runs, when it runs: a cached task never gets here.
 */
require('../register-typescript.cjs');

// One lazy export per executor that executors.json names; each executor lives in ./<name>/executor.ts.
const { executors } = require('../../executors.json');
for (const name of Object.keys(executors)) {
  Object.defineProperty(module.exports, name, { enumerable: true, get: () => require(`./${name}/executor`).default });
}
