import type { ExecutorContext } from '@nx/devkit';
import { consoleStageIO, formatError, formatDuration, type StageIO } from '@trajgen/core';
import { loadPipeline, type LoadedPipeline } from '@trajgen/config';
import { startStageMarker } from './run-marker';

/**
 * The common shell of every executor: load and validate the pipeline config,
 * run the stage body — one call of its lib's `run<Stage>(pipeline, io,
 * options)` — and print the one-line summary it returns; errors are printed
 * for people (what, where, what to do), never swallowed. Under Nx it also
 * keeps the stage's run marker (run-marker.ts), so a run whose nx process is
 * killed is still recorded, as interrupted.
 */
export async function runStage(
  context: ExecutorContext,
  stage: string,
  body: (pipeline: LoadedPipeline, io: StageIO) => Promise<void | string>,
): Promise<{ success: boolean }> {
  return runTarget(context, stage, (name, io) => body(loadPipeline(context.root, name), io));
}

/**
 * runStage without loading the config first: for `check`, whose job includes
 * reporting a config.yaml that does not load.
 */
export async function runTarget(
  context: ExecutorContext,
  stage: string,
  body: (pipeline: string, io: StageIO) => Promise<void | string>,
): Promise<{ success: boolean }> {
  const name = context.projectName;
  if (!name) {
    console.error(`trajgen ${stage}: no project in context; run it as \`nx run <pipeline>:${stage}\`.`);
    return { success: false };
  }
  const started = Date.now();
  const marker = startStageMarker(context.root, name, stage);
  const onSignal = (signal: NodeJS.Signals) => {
    marker?.finish('interrupted', signal);
    // Alone, exit as the default action would; a stage that installed its own handler does its cleanup and exits itself.
    if (process.listenerCount(signal) <= 1) process.exit(128 + (signal === 'SIGHUP' ? 1 : signal === 'SIGINT' ? 2 : 15));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  const io = consoleStageIO();
  try {
    const summary = await body(name, io);
    // The finish time is part of the line Nx replays from its cache: a replayed "done in 6m15s" shows when it really ran.
    const finished = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    console.log(`✔ ${name}:${stage} done in ${formatDuration(Date.now() - started)}${summary ? ` — ${summary}` : ''} (finished ${finished})`);
    marker?.finish('success');
    return { success: true };
  } catch (error) {
    console.error(`✖ ${name}:${stage} failed after ${formatDuration(Date.now() - started)}\n${formatError(error)}`);
    marker?.finish('failure');
    return { success: false };
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}
