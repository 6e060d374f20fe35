import { join } from 'node:path';
import { resetDir, writeJsonAtomic } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';

/**
 * A pipeline whose source is existing Harbor jobs (`conversion.from_jobs`)
 * has nothing to prepare or roll out. The targets stay (a pipeline's targets
 * never depend on its config: docs/architecture.md), and these two stages say
 * so, empty their declared output and leave a small note in it, so
 * `nx run <p>:archive` goes straight to convert.
 */
export function skipForExistingJobs(pipeline: LoadedPipeline, stage: 'prepare' | 'rollout', outputDir: string): string | undefined {
  const jobs = pipeline.config.conversion.from_jobs;
  if (!jobs.length) return undefined;
  resetDir(outputDir);
  writeJsonAtomic(join(outputDir, 'from-jobs.json'), { schema_version: 1, stage, skipped: true, from_jobs: jobs });
  return `nothing to ${stage === 'prepare' ? 'prepare' : 'roll out'}: this pipeline converts existing Harbor jobs (conversion.from_jobs: ${jobs.join(', ')})`;
}
