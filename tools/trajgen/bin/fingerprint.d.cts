/**
 * stage → sha256 of what the stage depends on beyond the files Nx sees, for every stage of one pipeline.
 * `trees`: tree digests shared by the pipelines of one pass (pass the same Map for each pipeline).
 */
export function pipelineFingerprints(workspaceRoot: string, pipeline: string, trees?: Map<string, string>): Promise<Record<string, string>>;
/** What goes into each stage's digest (the CLI prints one stage of it). */
export function describePipeline(workspaceRoot: string, pipeline: string, stages?: string[], trees?: Map<string, string>): Promise<Record<string, Record<string, unknown>>>;
/** The env var a stage's digest travels in (the stage's `{env}` input). */
export function fingerprintEnvName(pipeline: string, stage: string): string;
