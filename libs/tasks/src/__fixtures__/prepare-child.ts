/**
 * Child process of the concurrency test (prepare.concurrency.spec.ts): runs
 * prepare on a pipeline once a start file appears, and (if it gets the
 * ledger lock) holds it until a go file appears.
 *
 *   node prepare-child.js <workspaceRoot> <pipeline> <startFile> <goFile>
 * Lines: READY, LOCKED, OK <summary> | FAIL <first line of the error>
 */
import { existsSync, writeSync } from 'node:fs';
import { loadPipeline } from '@trajgen/config';
import { formatError } from '@trajgen/core';
import { prepareBatch } from '../prepare';

const [root, name, startFile, goFile] = process.argv.slice(2);
const out = (line: string) => writeSync(1, line + '\n');
const pause = new Int32Array(new SharedArrayBuffer(4));
const waitFor = (file: string) => {
  while (!existsSync(file)) Atomics.wait(pause, 0, 0, 2);
};

const pipeline = loadPipeline(root, name);
out('READY');
waitFor(startFile);
try {
  const result = prepareBatch(pipeline, {
    afterLock: () => {
      out('LOCKED');
      waitFor(goFile);
    },
  });
  out(`OK ${result.summary}`);
} catch (error) {
  out(`FAIL ${formatError(error).split('\n')[0]}`);
  process.exitCode = 1;
}
