export interface LedgerExecutorOptions {
  /** Reset every failed task to pending (needs note). */
  resetFailed?: boolean;
  /** Comma-separated ids to reset to pending (done, failed or skipped tasks; needs note). */
  reset?: string;
  /** Comma-separated ids to skip (needs note). */
  skip?: string;
  /** Why: required for edits; recorded in each changed entry's history. */
  note?: string;
  /** Copy the PostgreSQL ledger into consumption_ledger.yaml. */
  export?: boolean;
  /** Copy consumption_ledger.yaml into the PostgreSQL ledger. */
  import?: boolean;
  /** Print the summary as JSON. */
  json?: boolean;
  /** Ids listed per status in the text output. */
  limit?: number;
}
