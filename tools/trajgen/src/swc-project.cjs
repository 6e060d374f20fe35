'use strict';
/**
 * Where swc finds the workspace's compiler options. swc-node reads ./tsconfig.json of the working directory
 * unless SWC_NODE_PROJECT names one, and the root has no tsconfig.json on purpose (tsconfig.workspace.json says
 * why). Every process that compiles TypeScript with swc, or starts `node -r @swc-node/register` children, sets it
 * through here: the swc registration (register-typescript.cjs), `npm run …` (scripts/trajgen.cjs) and Vitest.
 */
const { join } = require('node:path');

const WORKSPACE_TSCONFIG = join(__dirname, '..', '..', '..', 'tsconfig.workspace.json');

/** Point swc at tsconfig.workspace.json in `env`, unless a project is named there already. */
function useWorkspaceTsconfig(env) {
  if (!env.SWC_NODE_PROJECT && !env.TS_NODE_PROJECT) env.SWC_NODE_PROJECT = WORKSPACE_TSCONFIG;
  return env;
}

module.exports = { useWorkspaceTsconfig };
