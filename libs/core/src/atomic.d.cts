export declare function atomicWriteFileSync(path: string, data: string | Buffer, options?: { durable?: boolean }): void;
export declare function writeFileDurablySync(path: string, data: string | Buffer): void;
export declare function fsyncDirSync(dir: string): void;
