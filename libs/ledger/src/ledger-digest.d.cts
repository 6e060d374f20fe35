export declare function ledgerStateDigest(artifactsDir: string): string;
export declare function effectiveLedgerDigest(artifactsDir: string): string;
export declare const LEDGER_FILE: string;
export declare const JOURNAL_FILE: string;
export declare function effectiveDigestOf(artifactsDir: string, current: string): string;
export declare function postgresLedgerDigest(url: string | undefined, pipeline: string, timeoutMs?: number): Promise<string>;
