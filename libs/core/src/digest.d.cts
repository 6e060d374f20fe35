export declare function sortKeysDeep(value: unknown): unknown;
export declare function stableStringify(value: unknown): string;
export declare function sha256(data: string | Buffer): string;
export declare function digestValue(value: unknown): string;
