export declare function processStartTime(pid: number): string | undefined;
export declare function isProcessAlive(pid: number | null | undefined, startTime?: string | null): boolean;
export declare function isGroupAlive(pgid: number): boolean;
export declare function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean;
export declare function registerProcessGroup(pgid: number, options?: { killOnSignal?: boolean }): void;
export declare function unregisterProcessGroup(pgid: number): void;
export declare function killAllProcessGroups(graceMs?: number, filter?: (pgid: number) => boolean): void;
export declare function liveProcessGroups(): number[];
