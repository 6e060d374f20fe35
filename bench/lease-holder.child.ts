/**
 * Child of bench/shared-ledger.bench.ts: a machine that claims tasks on the
 * PostgreSQL ledger, renews their leases, then is SIGKILLed by the parent.
 *
 *   node -r @swc-node/register bench/lease-holder.child.ts <workspaceRoot> <pipeline> <url> <leaseSec> <n>
 */
import { pipelinePaths } from '@trajgen/config';
import { openPostgresLedger } from '@trajgen/ledger';

const [root, name, url, leaseSec, n] = process.argv.slice(2);
(async () => {
  const l = await openPostgresLedger(pipelinePaths(root, name), { url, urlSource: 'bench', purpose: 'bench holder', maxRetries: 0, leaseSec: Number(leaseSec), heartbeatSec: Number(leaseSec) / 4, connectTimeoutSec: 5 });
  const ids = l.pendingIds().slice(0, Number(n));
  const got = await l.claim(ids, { job: 'holder' });
  console.log(`CLAIMED ${got.join(',')}`);
  setInterval(() => {}, 1000); // stay alive, heartbeat running, until killed
})();
