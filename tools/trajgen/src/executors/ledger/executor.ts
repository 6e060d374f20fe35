import type { ExecutorContext } from '@nx/devkit';
import { runLedger } from '@trajgen/tasks';
import { runStage } from '../shared/run-stage';
import type { LedgerExecutorOptions } from './schema';

/** `nx run <p>:ledger`: status summary; --resetFailed / --reset / --skip with --note edit statuses under the lock (libs/ledger, through libs/tasks for the manifest's ids). */
export default async function ledgerExecutor(options: LedgerExecutorOptions, context: ExecutorContext) {
  return runStage(context, 'ledger', (pipeline, io) => runLedger(pipeline, io, options));
}
