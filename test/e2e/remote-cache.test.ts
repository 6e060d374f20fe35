/**
 * Issue #14, story 4: the remote cache without traps. Real `nx` in temporary
 * copies of the workspace, the project's self-hosted cache server (Nx's
 * OpenAPI remote-cache protocol), the real Claude Code CLI and the oracle (the
 * scripted demo/test model, not a real LLM).
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { clonesSharingACache } from './clones';

const TOKEN = 'remote-cache-test-token';

describe('local results reach the remote cache; a restored clone shows its consumed tasks at once', () => {
  const c = clonesSharingACache('trajgen-e2e-push-', TOKEN);

  it('work done before the remote cache existed is uploaded at the next run (local hits), and a teammate gets it', () => {
    const local = c.a.nx(['run', 'demo:rollout']);
    expect(local.code, local.output).toBe(0);
    expect(local.ran.sort()).toEqual(['demo:prepare', 'demo:rollout']);
    expect(c.server.entries()).toEqual([]);

    const again = c.a.nx(['run', 'demo:rollout'], { env: c.remote });
    expect(again.code, again.output).toBe(0);
    expect(again.ran, 'nothing executes: local cache hits').toEqual([]);
    expect(again.output).toMatch(/trajgen: uploaded 2 local cache hits to the remote cache \(demo:prepare, demo:rollout\)/);
    expect(c.server.entries()).toHaveLength(2);
    // Once uploaded, never again (a marker per server and hash).
    const third = c.a.nx(['run', 'demo:rollout'], { env: c.remote });
    expect(third.output).not.toMatch(/uploaded/);

    const fromB = c.b.nx(['run', 'demo:rollout'], { env: c.remote });
    expect(fromB.code, fromB.output).toBe(0);
    expect(fromB.remote.sort()).toEqual(['demo:prepare', 'demo:rollout']);
    expect(existsSync(join(c.b.root, 'artifacts/demo/jobs')), 'no agent ran in B').toBe(false);

    // B's ledger shows what A consumed at once (adopted from the restored rollout/trials.json), without writing it.
    const ledger = c.b.nx(['run', 'demo:ledger', '--json'], { env: { NX_SKIP_REMOTE_CACHE: 'true' } });
    expect(ledger.code, ledger.output).toBe(0);
    const json = JSON.parse(ledger.output.slice(ledger.output.indexOf('{'), ledger.output.lastIndexOf('}') + 1));
    expect(json.counts.done).toBe(8);
    expect(existsSync(join(c.b.root, 'artifacts/demo/consumption_ledger.yaml')), 'showing writes nothing').toBe(false);
    const text = c.b.nx(['run', 'demo:ledger'], { env: { NX_SKIP_REMOTE_CACHE: 'true' } });
    expect(text.output).toMatch(/reconcile \(shown, written by the next stage that opens the ledger\): .*8 adopted/);
  });
});
