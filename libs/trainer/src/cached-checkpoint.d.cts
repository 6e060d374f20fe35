/** Whether `artifacts/<pipeline>/train/result.json` names a checkpoint_path that is not on disk (a train output restored from a cache). */
export declare function cachedCheckpointMissing(workspaceRoot: string, pipeline: string): boolean;
