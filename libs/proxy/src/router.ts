import { lstatSync, mkdirSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { TrajgenError } from '@trajgen/core';

/** File name of a trial's proxy log (the name the LegoX/harbor LiteLLM logger uses). */
export const TRAJECTORY_FILE = 'litellm-trajectory.jsonl';

/** Default routing header: each agent sends `x-trajgen-trial: <trial name>`. */
export const DEFAULT_TRIAL_HEADER = 'x-trajgen-trial';

/** Trial names as Harbor makes them (`<task prefix>__<suffix>`): one path segment, no leading dot. */
const TRIAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function isSafeTrialName(name: string): boolean {
  return TRIAL_NAME.test(name) && !name.includes('..');
}

/** Maps the trial id a request carries to the file its log lines go to. */
export interface TrialRouter {
  /** The job dir trials live in, when the router is job-based (the LiteLLM backend passes it to its callback). */
  readonly jobDir?: string;
  /** Whether unregistered `<jobDir>/<trial>/` dirs are accepted too. */
  readonly acceptExistingTrialDirs?: boolean;
  /** The absolute jsonl path of a trial, or undefined when the id is unknown (the proxy answers 400). */
  resolve(trial: string): string | undefined;
  /** Every known trial → path (the LiteLLM backend mirrors this into a file its callback reads). */
  snapshot(): Record<string, string>;
  /** Called after every change of the known trials; returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}

export interface JobTrialRouterOptions {
  /**
   * Also accept a trial that was not registered when `<jobDir>/<trial>/` exists
   * as a real directory (e.g. trial dirs made by another process such as
   * Harbor). Default false: only registered trials are accepted.
   */
  acceptExistingTrialDirs?: boolean;
}

/**
 * The router of one job: trial `T` logs to `<jobDir>/T/agent/litellm-trajectory.jsonl`.
 * The engine registers each trial before starting its agent; unknown ids and
 * anything that is not a single safe path segment are refused, so a request
 * can never write outside the job dir.
 */
export class JobTrialRouter implements TrialRouter {
  readonly jobDir: string;
  private readonly trials = new Map<string, string>();
  private readonly listeners = new Set<() => void>();

  readonly acceptExistingTrialDirs: boolean;

  constructor(jobDir: string, options: JobTrialRouterOptions = {}) {
    this.jobDir = resolve(jobDir);
    this.acceptExistingTrialDirs = options.acceptExistingTrialDirs ?? false;
  }

  /** The log path a trial would get (no registration, no checks beyond the name). */
  pathFor(trial: string): string {
    if (!isSafeTrialName(trial)) {
      throw new TrajgenError(`Trial name ${JSON.stringify(trial)} cannot be routed`, {
        hint: 'Trial names are one path segment of letters, digits, ".", "_" and "-" (Harbor: <task>__<suffix>).',
      });
    }
    return join(this.jobDir, trial, 'agent', TRAJECTORY_FILE);
  }

  /** Accept `trial` from now on; creates `<jobDir>/<trial>/agent/`. Returns its log path. */
  register(trial: string): string {
    const path = this.pathFor(trial);
    mkdirSync(join(this.jobDir, trial, 'agent'), { recursive: true });
    this.trials.set(trial, path);
    this.emit();
    return path;
  }

  unregister(trial: string): void {
    if (this.trials.delete(trial)) this.emit();
  }

  resolve(trial: string): string | undefined {
    const known = this.trials.get(trial);
    if (known) return known;
    if (!this.acceptExistingTrialDirs || !isSafeTrialName(trial)) return undefined;
    try {
      const st = lstatSync(join(this.jobDir, trial));
      if (!st.isDirectory() || st.isSymbolicLink()) return undefined;
    } catch {
      return undefined;
    }
    const path = this.pathFor(trial);
    return path.startsWith(this.jobDir + sep) ? path : undefined;
  }

  snapshot(): Record<string, string> {
    return Object.fromEntries(this.trials);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit() {
    for (const l of this.listeners) l();
  }
}
