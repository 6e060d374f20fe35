import type { ExecutorContext } from '@nx/devkit';
import { runLedgerCommandFor } from '@trajgen/ledger';
import { resolveTaskSource } from '@trajgen/tasks';
import { runStage } from '../shared/run-stage';
import type { LedgerExecutorOptions } from './schema';

/** `nx run <p>:ledger`: status summary; --resetFailed / --reset / --skip with --note edit statuses under the lock. */
export default async function ledgerExecutor(options: LedgerExecutorOptions, context: ExecutorContext) {
  return runStage(context, 'ledger', async (pipeline, io) =>
    (await runLedgerCommandFor(pipeline, options, {
      log: io.log,
      // The manifest's ids: --skip may name a listed task that was never handed out.
      knownIds: () => {
        try {
          return resolveTaskSource(pipeline).ids;
        } catch {
          return [];
        }
      },
    })).line,
  );
}
