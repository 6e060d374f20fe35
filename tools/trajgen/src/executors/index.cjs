'use strict';
/**
 * The executors' entry for Nx (executors.json: `./src/executors/index.cjs#<name>`). The executors are
 * TypeScript; Nx loads a TypeScript executor only through a root tsconfig.json, which this workspace does not
 * have (tsconfig.workspace.json says why). This plain CommonJS entry registers swc with the workspace's options
 * and loads the one executor a task runs, when it runs: a cached task never gets here.
 */
require('../register-typescript.cjs');

/** @param {string} name */
function load(name) {
  return require(`./${name}/executor`).default;
}

module.exports = {
  get check() {
    return load('check');
  },
  get clean() {
    return load('clean');
  },
  get prepare() {
    return load('prepare');
  },
  get rollout() {
    return load('rollout');
  },
  get convert() {
    return load('convert');
  },
  get score() {
    return load('score');
  },
  get register() {
    return load('register');
  },
  get train() {
    return load('train');
  },
  get archive() {
    return load('archive');
  },
  get ledger() {
    return load('ledger');
  },
  get 'generate-excluded-repos'() {
    return load('generate-excluded-repos');
  },
};
