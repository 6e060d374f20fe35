import type { Ledger } from '../ledger';

/** What SIGKILL leaves of an open ledger: its journal descriptor and its lock dropped, nothing compacted. */
export function simulateCrash(l: Ledger): void {
  (l as unknown as { writer: { close(): void } }).writer.close();
  (l as unknown as { lock: { release(): void } }).lock.release();
}
