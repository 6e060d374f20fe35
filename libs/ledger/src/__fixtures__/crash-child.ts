/**
 * Child process of the crash test (ledger.crash.spec.ts): plays a rollout
 * against the ledger — claims tasks, writes each trial dir the way an engine
 * would (result.json last, not atomically), records the outcome — and prints
 * what is durable as it goes. The parent SIGKILLs it at random points.
 *
 *   node -r @swc-node/register crash-child.ts <workspaceRoot> <pipeline> <job> <maxRetries> <compactEvery> <seed> <maxTasks>
 *
 * Lines (each written synchronously, AFTER the call it reports returned):
 *   OPEN {json}            ledger opened and reconciled
 *   CLAIMED id,id,…        claim() returned these ids
 *   RECORDED id trial status attempts
 *   CLOSING                about to close (compact, release the lock)
 *   CLOSED
 */
import { mkdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pipelinePaths } from '@trajgen/config';
import { openLedger } from '../ledger';
import { trialPrefix } from '../reconcile';

const [root, pipeline, job, maxRetries, compactEvery, seedText, maxTasksText] = process.argv.slice(2);
const maxTasks = Number(maxTasksText);
const out = (line: string) => writeSync(1, line + '\n');

let seed = Number(seedText) >>> 0 || 1;
const rand = () => {
  // mulberry32
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* busy: a kill can land anywhere in here */
  }
};

const paths = pipelinePaths(root, pipeline);
const ledger = openLedger(paths, { purpose: `crash-child ${job}`, maxRetries: Number(maxRetries), compactEvery: Number(compactEvery) });
const r = ledger.openReport;
out(
  `OPEN ${JSON.stringify({
    stale: r.staleLock?.pid ?? null,
    torn: r.tornJournalLine ?? null,
    finalized: r.reconcile.finalized.map((i) => `${i.id}:${i.to}`),
    returned: r.reconcile.returned.map((i) => i.id),
  })}`,
);

const pending = ledger.pendingIds();
for (let i = pending.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [pending[i], pending[j]] = [pending[j], pending[i]];
}
let n = 0;
for (let i = 0; i < pending.length && n < maxTasks; ) {
  const chunk = pending.slice(i, i + 1 + Math.floor(rand() * 4));
  i += chunk.length;
  const claimed = ledger.claim(chunk, { job });
  out(`CLAIMED ${claimed.join(',')}`);
  for (const id of claimed) {
    const trial = `${trialPrefix(id)}__${job.slice(-4)}${String(n++).padStart(3, '0')}`;
    const dir = join(paths.jobs, job, trial);
    mkdirSync(join(dir, 'agent'), { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ task: { path: `tasks/${id}` }, trial_name: trial }));
    const x = rand();
    const kind = x < 0.55 ? 'done' : x < 0.7 ? 'timeout' : x < 0.95 ? 'infra' : 'cancel';
    const trajectory = kind === 'done';
    if (trajectory) writeFileSync(join(dir, 'agent', 'litellm-trajectory.jsonl'), `{"id":"${id}"}\n`);
    spin(rand() * 1);
    const reward = kind === 'done' ? (rand() < 0.7 ? 1 : 0) : null;
    const exception = kind === 'timeout' ? 'AgentTimeoutError' : kind === 'infra' ? 'NetworkConnectionError' : kind === 'cancel' ? 'CancelledError' : null;
    // Harbor writes result.json once, at the end of the trial (not atomically).
    writeFileSync(
      join(dir, 'result.json'),
      JSON.stringify({
        trial_name: trial,
        config: { task: { path: `tasks/${id}` } },
        verifier_result: reward === null ? null : { rewards: { reward } },
        exception_info: exception ? { exception_type: exception } : null,
        started_at: new Date().toISOString(),
        finished_at: new Date().toISOString(),
      }),
    );
    spin(rand() * 2);
    const res = ledger.recordTrialOutcome(id, {
      job,
      trial,
      reward,
      trajectory_path: trajectory ? `artifacts/${pipeline}/jobs/${job}/${trial}/agent/litellm-trajectory.jsonl` : null,
      trajectory_digest: trajectory ? 'sha256:test' : null,
      exception_type: exception,
    });
    out(`RECORDED ${id} ${trial} ${res.status} ${res.attempts}`);
  }
}
out('CLOSING');
ledger.close();
out('CLOSED');
