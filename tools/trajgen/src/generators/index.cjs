'use strict';
/**
 * The generators' entry for Nx (generators.json: `./src/generators/index.cjs#<name>`), for the reason the
 * executors have one (executors/index.cjs): a TypeScript factory needs a root tsconfig.json, which this
 * workspace does not have (tsconfig.workspace.json says why).
 */
require('../register-typescript.cjs');

module.exports = {
  get pipeline() {
    return require('./pipeline/generator').default;
  },
};
