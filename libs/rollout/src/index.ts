/**
 * @trajgen/rollout — the rollout stage: run an agent on every task of the
 * batch behind the job's recording proxy, verify, reward, and record each
 * trial in the ledger as it finishes. Docs: docs/rollout.md.
 *
 *   const summary = await runRollout(pipeline, io, options);   // the stage, as its executor runs it
 *   const { job, run, trials, summary } = await rolloutPipeline(pipeline, { log, warn }, { signal? });
 *
 * Flow: prepare/batch.json → openLedger (held for the whole run; reconciles)
 * → claim (the exactly-once gate) → job `<dataset>-<agent>-<version>-<model>-<YYYYmmddHHMMSS>`
 * → oracle (provider oracle) + proxy → engine → ledger.recordTrialOutcome per
 * finished trial → close → rollout/trials.json + rollout/run.json.
 *
 * Engines (both write Harbor's job and trial output layout):
 *  - local  (`runLocalEngine`): the real Claude Code / OpenCode CLIs on this
 *    machine, no containers — TRUSTED TASKS ONLY;
 *  - harbor (`runHarborEngine`): `harbor run -c <generated config> -y`,
 *    results recorded as their result.json appear, `harbor job resume` after
 *    an unexpected stop; scales out with Harbor's environment types.
 */
export { runRollout, type RolloutStageOptions } from './run-rollout';
export { rolloutPipeline, firstNonLoopbackIp, scaffoldProtocol, type RolloutIO, type RolloutOptions, type RolloutResult } from './stage';
export { runLocalEngine, type LocalEngineOptions, type LocalEngineResult } from './local-engine';
export { runHarborEngine, readHarborConfig, type HarborEngineOptions, type HarborEngineResult } from './harbor-engine';
export { localAgent, agentExecutable, agentVersion, LOCAL_SCAFFOLDS, OPENCODE_KEY_ENV, type LocalAgent, type LocalScaffold, type AgentLaunch, type AgentLaunchContext } from './agents';
export { cleanEnv, resolveTaskEnv, HOST_ALLOWLIST, type CleanEnvOptions, type TrialDirs } from './env';
export { runInProcessGroup, type GroupRunOptions, type GroupRunResult } from './process';
export { Progress, formatTokens, formatCost, type ProgressRow, type ProgressSink, type ProgressOptions } from './progress';
export { buildTrialsIndex, type TrialsIndex, type TrialsIndexEntry, type RunRecord } from './outputs';
export { jobName, localStamp, nameSegment } from './job-name';
export { readBatch, loadTask, effectiveTimeouts, HARBOR_DEFAULT_VERIFIER_TIMEOUT_SEC, type BatchFileLike, type TaskToRun } from './tasks';
export { assembleTrialResult, exceptionInfo, timing, type TrialFacts } from './trial-result';
export { usageOfLines, usageOfFile, addUsage, emptyUsage, type TrialUsage } from './usage';
export { shouldRetry, isUsableTrial, trajectoryFileOf, type FinishedTrial, type EngineEvents } from './engine';
export {
  ensureHarborEnv,
  resolveHarbor,
  harborVersion,
  harborInstallHint,
  findHarborPython,
  managedHarborDir,
  managedHarborExecutable,
  managedHarborState,
  HARBOR_VERSION,
  HARBOR_REQUIREMENTS,
  type HarborInstall,
} from './harbor-env';
