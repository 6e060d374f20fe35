export interface PipelineGeneratorSchema {
  name: string;
  description?: string;
  scaffold?: 'claude-code' | 'opencode' | 'openhands-sdk' | 'terminus-2';
  engine?: 'local' | 'harbor';
  /** Existing Harbor job dirs, comma-separated: the pipeline converts them instead of rolling out. */
  fromJobs?: string;
}
