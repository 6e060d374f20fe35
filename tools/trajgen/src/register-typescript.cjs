'use strict';
/**
 * Lets this process require the workspace's TypeScript sources (the libs, the executors) through swc, with the
 * workspace's compiler options. Used wherever built JavaScript first needs a lib: the executors' entry
 * (executors/index.cjs) and the plugin's hooks. The options are named on process.env (swc-project.cjs), so the
 * processes a stage starts (`node -r @swc-node/register …` children) compile with the same ones.
 */
require('./swc-project.cjs').useWorkspaceTsconfig(process.env);
if (!require.extensions['.ts']) require('@swc-node/register');
