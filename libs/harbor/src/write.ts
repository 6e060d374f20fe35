import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { writeJsonAtomic } from '@trajgen/core';
import { computeJobStats } from './stats';
import { naiveLocalIso } from './names';
import type { JobResult, TrialConfig, TrialResult } from './types';

/**
 * Writes a job in Harbor's job and trial dir layout, so the
 * local engine's jobs read exactly like `harbor run`'s:
 *   <job>/{config.json, result.json, job.log}
 *   <job>/<trial>/{config.json, result.json, trial.log, agent/, verifier/}
 * Every JSON write is atomic; a trial's result.json is written once, at its end.
 */
export class JobWriter {
  readonly dir: string;
  private readonly result: JobResult;
  private readonly finished: TrialResult[] = [];
  private running = 0;
  private retries = 0;

  constructor(
    readonly jobsDir: string,
    readonly jobName: string,
    config: Record<string, unknown>,
    totalTrials: number,
  ) {
    this.dir = join(jobsDir, jobName);
    mkdirSync(this.dir, { recursive: true });
    writeJsonAtomic(join(this.dir, 'config.json'), config);
    const now = naiveLocalIso();
    this.result = {
      id: randomUUID(),
      started_at: now,
      updated_at: now,
      finished_at: null,
      n_total_trials: totalTrials,
      stats: computeJobStats([], { total: totalTrials, running: 0, retries: 0 }),
    };
    this.flush();
  }

  get id(): string {
    return this.result.id;
  }

  log(line: string): void {
    appendFileSync(join(this.dir, 'job.log'), `${new Date().toISOString()} ${line}\n`);
  }

  /** Create the trial dir with its config.json, agent/ and verifier/. */
  startTrial(config: TrialConfig): string {
    const dir = join(this.dir, config.trial_name);
    mkdirSync(join(dir, 'agent'), { recursive: true });
    mkdirSync(join(dir, 'verifier'), { recursive: true });
    writeJsonAtomic(join(dir, 'config.json'), config);
    writeFileSync(join(dir, 'trial.log'), '');
    this.running += 1;
    this.flush();
    return dir;
  }

  /** A retry replaces a failed attempt (Harbor deletes the failed trial dir first). */
  noteRetry(): void {
    this.retries += 1;
    this.running = Math.max(0, this.running - 1);
    this.flush();
  }

  finishTrial(result: TrialResult): void {
    writeJsonAtomic(join(this.dir, result.trial_name, 'result.json'), result);
    this.finished.push(result);
    this.running = Math.max(0, this.running - 1);
    this.flush();
  }

  finish(): JobResult {
    this.result.finished_at = naiveLocalIso();
    this.flush();
    return this.result;
  }

  private flush(): void {
    this.result.updated_at = naiveLocalIso();
    this.result.stats = computeJobStats(this.finished, { total: this.result.n_total_trials, running: this.running, retries: this.retries });
    writeJsonAtomic(join(this.dir, 'result.json'), this.result);
  }
}
