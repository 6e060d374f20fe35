'use strict';
/**
 * Lets this process require the workspace's TypeScript sources (the libs, the executors) through swc, with the
 * workspace's compiler options. Used wherever built JavaScript first needs a lib: the executors' entry
 * (executors/index.cjs) and the plugin's hooks.
 *
 * swc-node reads ./tsconfig.json of the working directory unless SWC_NODE_PROJECT names one, and the root has
 * no tsconfig.json on purpose (tsconfig.workspace.json says why). The variable is set on process.env, so the
 * processes a stage starts (`node -r @swc-node/register …` children) compile with the same options.
 */
const { join } = require('node:path');

if (!process.env.SWC_NODE_PROJECT && !process.env.TS_NODE_PROJECT) {
  process.env.SWC_NODE_PROJECT = join(__dirname, '..', '..', '..', 'tsconfig.workspace.json');
}
if (!require.extensions['.ts']) require('@swc-node/register');
