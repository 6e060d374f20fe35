import { TrajgenError, type StageIO } from '@trajgen/core';
import { runPreflight, type PreflightOptions } from './preflight';
import { formatCheckReport } from './report';

/** Options of `nx run <p>:check` (tools/trajgen/src/executors/check/schema.json): none on the command line; tests set the probes'. */
export type CheckStageOptions = PreflightOptions;

/**
 * `nx run <p>:check`: every check in one table (through io.log), then the
 * fixes. Takes the pipeline's name, not a loaded pipeline, because an invalid
 * or missing config.yaml is one of the things it reports. Throws when a check
 * fails (after the report); returns the verdict otherwise.
 */
export async function runCheck(workspaceRoot: string, pipeline: string, io: StageIO, options: CheckStageOptions = {}): Promise<string> {
  const results = await runPreflight(workspaceRoot, pipeline, options);
  io.log(formatCheckReport(results));
  const failing = results.filter((r) => r.status === 'fail').length;
  const warnings = results.filter((r) => r.status === 'warn').length;
  if (failing) {
    throw new TrajgenError(`${failing} of ${results.length} checks fail`, { hint: 'Fix them in the order listed under "To fix" above, then run check again.' });
  }
  return `${results.length} checks pass${warnings ? `, ${warnings} with a warning` : ''}`;
}
