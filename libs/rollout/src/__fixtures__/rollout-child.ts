/**
 * Child process for the shared-ledger tests: one "machine" rolling out a
 * pipeline (the real rollout stage, local engine). The parent SIGKILLs it.
 *
 *   node -r @swc-node/register rollout-child.ts <workspaceRoot> <pipeline>
 */
import { loadPipeline } from '@trajgen/config';
import { rolloutPipeline } from '../stage';

const [root, name] = process.argv.slice(2);
rolloutPipeline(loadPipeline(root, name), { log: (l) => console.log(l), warn: (l) => console.log(`warning: ${l}`) }, { handleSignals: false, tty: false })
  .then((r) => {
    console.log(`DONE ${r.summary}`);
    process.exit(0);
  })
  .catch((e) => {
    console.log(`FAILED ${(e as Error).message}`);
    process.exit(1);
  });
