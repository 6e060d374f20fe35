import { randomUUID } from 'node:crypto';
import { fingerprintEnvName, pipelineFingerprints } from '../../bin/fingerprint.cjs';
import { listPipelines, STAGES } from './targets';

/**
 * Every stage fingerprint of every pipeline, as the env vars the stages
 * declare as inputs. Computed in the Nx process before any task is hashed
 * (preTasksExecution): one pass per pipeline, no process per stage. A
 * pipeline whose fingerprint cannot be computed gets a value that never
 * matches a cache entry, so its stages run (and report what is wrong)
 * instead of being restored from a cache they might not match.
 */
export async function fingerprintEnv(workspaceRoot: string, warn: (what: string, error: unknown) => void): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  // Pipelines sharing a task pool or a base model: each tree is walked once per pass.
  const trees = new Map<string, string>();
  for (const pipeline of listPipelines(workspaceRoot)) {
    let digests: Record<string, string>;
    try {
      digests = await pipelineFingerprints(workspaceRoot, pipeline, trees);
    } catch (error) {
      warn(`could not fingerprint pipeline ${pipeline}; its stages will run instead of using the cache`, error);
      const unmatched = `unfingerprinted-${randomUUID()}`;
      digests = Object.fromEntries(STAGES.map((s) => [s, unmatched]));
    }
    for (const [stage, digest] of Object.entries(digests)) env[fingerprintEnvName(pipeline, stage)] = digest;
  }
  return env;
}
