import type { StageIO } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';
import { runLedgerCommandFor, type LedgerCommandOptions } from '@trajgen/ledger';
import { resolveTaskSource } from './prepare';

/** Options of `nx run <p>:ledger` (tools/trajgen/src/executors/ledger/schema.json). */
export type LedgerStageOptions = LedgerCommandOptions;

/**
 * `nx run <p>:ledger`: the status summary; --resetFailed / --reset / --skip
 * with --note edit statuses under the lock. Here and not in libs/ledger
 * because --skip may name a task the manifest lists but the ledger has not
 * seen yet, and the manifest is this lib's (ledger cannot depend on tasks).
 */
export async function runLedger(pipeline: LoadedPipeline, io: StageIO, options: LedgerStageOptions): Promise<string> {
  const knownIds = () => {
    try {
      return resolveTaskSource(pipeline).ids;
    } catch {
      // An unreadable manifest only narrows what --skip accepts to the ledger's ids.
      return [];
    }
  };
  return (await runLedgerCommandFor(pipeline, options, { log: io.log, knownIds })).line;
}
