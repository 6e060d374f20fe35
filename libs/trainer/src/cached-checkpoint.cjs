'use strict';
/**
 * Whether a train output restored from a cache lacks its checkpoint: the cheap
 * gate in front of restoreCachedCheckpoint (materialize.ts). CommonJS and free
 * of other libs because the plugin's postTasksExecution hook runs it after every
 * restored train task, from built JavaScript with no TypeScript loader: one
 * small JSON read when nothing is missing. The path is config's `trainOut`
 * (libs/config/src/paths.ts).
 */
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

function cachedCheckpointMissing(workspaceRoot, pipeline) {
  const resultFile = join(workspaceRoot, 'artifacts', pipeline, 'train', 'result.json');
  if (!existsSync(resultFile)) return false;
  const checkpoint = JSON.parse(readFileSync(resultFile, 'utf8')).checkpoint_path;
  return typeof checkpoint === 'string' && checkpoint !== '' && !existsSync(join(workspaceRoot, checkpoint));
}

module.exports = { cachedCheckpointMissing };
