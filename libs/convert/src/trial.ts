import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { serialiseImRow, type ReasoningCheck } from '@trajgen/im';
import { buildRows } from './rows';
import type { TrialConfig, TrialResult } from '@trajgen/harbor';
import { convertClaudeCodeTrial } from './claude-code';
import { convertOpenCodeTrial } from './opencode';
import { convertOpenHandsTrial } from './openhands-sdk';
import { convertTerminusTrial } from './terminus-2';
import { scaffoldFromAgentName, scaffoldFromContent } from './detect';
import { readTaskMetadata, resolveTaskDir } from './task-metadata';
import type { TrialRef } from './trials';
import { ConvertRejection, SCAFFOLD_NAMES, type Conversation, type ScaffoldName, type ScaffoldOutput } from './types';

export interface TrialConvertOptions {
  scaffold: 'auto' | ScaffoldName;
  reasoningCheck: ReasoningCheck;
  reasoningRatio: number;
  workspaceRoot: string;
  /** artifacts/<p>/tasks: staged task copies, a fallback to find task.toml. */
  tasksStaging?: string;
}

/** The result of converting one trial: what the memo stores and the output is rebuilt from. */
export interface TrialOutcome {
  job: string;
  trial: string;
  instance_id: string;
  scaffold?: ScaffoldName;
  /** How the scaffold was chosen: config override, recorded agent name, or log content. */
  scaffold_from?: 'config' | 'agent' | 'content';
  status: 'converted' | 'dropped';
  reason?: string;
  message?: string;
  source?: string;
  counts: Record<string, number>;
  /** IM rows, serialised (one JSONL line each). */
  rows: string[];
}

export const SCAFFOLD_CONVERTERS: Record<ScaffoldName, (trialDir: string) => ScaffoldOutput> = {
  'claude-code': convertClaudeCodeTrial,
  opencode: convertOpenCodeTrial,
  'openhands-sdk': convertOpenHandsTrial,
  'terminus-2': convertTerminusTrial,
};

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

const DAY = /^(\d{4}-\d{2}-\d{2})/;

/**
 * The date of a row: the trial's end (else its start, else the last call's
 * timestamp), never "today" — reconverting the same input gives the same bytes.
 */
function rowDate(result: TrialResult | undefined, conversation: Conversation): string {
  for (const t of [result?.finished_at, result?.started_at, conversation.timestamp]) {
    const m = typeof t === 'string' ? DAY.exec(t) : null;
    if (m) return m[1];
  }
  return '1970-01-01';
}

function chooseScaffold(ref: TrialRef, config: TrialConfig | undefined, result: TrialResult | undefined, forced: TrialConvertOptions['scaffold']) {
  if (forced !== 'auto') return { scaffold: forced, from: 'config' as const };
  const byName = scaffoldFromAgentName(ref.agent) ?? scaffoldFromAgentName(config?.agent?.name) ?? scaffoldFromAgentName(result?.agent_info?.name);
  if (byName) return { scaffold: byName, from: 'agent' as const };
  const byContent = scaffoldFromContent(ref.dir);
  if (byContent) return { scaffold: byContent, from: 'content' as const };
  return undefined;
}

/** What was recorded about a trial whose scaffold is unknown: the agent name and version, where they came from, the raw files present. */
function unknownScaffoldMessage(ref: TrialRef, config: TrialConfig | undefined, result: TrialResult | undefined): string {
  const recorded: string[] = [];
  if (ref.agent) recorded.push(`agent "${ref.agent}" (trial index)`);
  if (result?.agent_info?.name) recorded.push(`agent "${result.agent_info.name}"${result.agent_info.version ? ` version ${result.agent_info.version}` : ''} (result.json agent_info)`);
  if (config?.agent?.name) recorded.push(`agent "${config.agent.name}" (config.json agent.name)`);
  if (typeof config?.agent?.import_path === 'string') recorded.push(`import_path "${config.agent.import_path}" (config.json)`);
  let files: string[] = [];
  try {
    files = readdirSync(join(ref.dir, 'agent')).sort().map((n) => `agent/${n}`);
  } catch {
    // no agent/ dir: "none"
  }
  const what = recorded.length ? [...new Set(recorded)].join(', ') : 'no agent name';
  return `recorded: ${what}; raw files: ${files.length ? files.slice(0, 6).join(', ') : 'none'} — none is a scaffold trajgen converts (${SCAFFOLD_NAMES.join(', ')}) nor a recognisable log; set conversion.scaffold to force one`;
}

export function convertTrial(ref: TrialRef, options: TrialConvertOptions): TrialOutcome {
  const base = { job: ref.job, trial: ref.trial, instance_id: ref.instanceId };
  const result = ref.result ?? readJson<TrialResult>(join(ref.dir, 'result.json'));
  const config = ref.config ?? readJson<TrialConfig>(join(ref.dir, 'config.json')) ?? result?.config;
  const dropped = (reason: string, message: string, extra: Partial<TrialOutcome> = {}): TrialOutcome => ({ ...base, status: 'dropped', reason, message, counts: {}, rows: [], ...extra });
  if (!existsSync(ref.dir)) return dropped('missing_trial_dir', `trial dir ${ref.dir} does not exist`);

  const chosen = chooseScaffold(ref, config, result, options.scaffold);
  if (!chosen) return dropped('unknown_scaffold', unknownScaffoldMessage(ref, config, result));
  const withScaffold = { scaffold: chosen.scaffold, scaffold_from: chosen.from };

  let out: ScaffoldOutput;
  try {
    out = SCAFFOLD_CONVERTERS[chosen.scaffold](ref.dir);
  } catch (e) {
    if (e instanceof ConvertRejection) return dropped(e.reason, e.message, withScaffold);
    return dropped('convert_error', `${(e as Error).message}`, withScaffold);
  }
  const counts: Record<string, number> = { ...out.counts };

  // Task metadata from task.toml [metadata]; a missing task dir is counted, not fatal.
  let metadata: Record<string, unknown> | undefined;
  const taskDir = resolveTaskDir(config?.task?.path, ref.instanceId, {
    trialDir: ref.dir,
    workspaceRoot: options.workspaceRoot,
    jobDir: dirname(ref.dir),
    tasksStaging: options.tasksStaging,
  });
  if (!taskDir) counts.metadata_missing = 1;
  else {
    try {
      metadata = readTaskMetadata(taskDir);
    } catch {
      counts.metadata_invalid = 1;
    }
  }

  const agentModel = result?.agent_info?.model_info?.name ?? (typeof config?.agent?.model_name === 'string' ? config.agent.model_name : undefined);
  const built = buildRows(out.conversations, {
    instanceId: ref.instanceId,
    teacher: agentModel,
    date: (c) => rowDate(result, c),
    extra: { ...(metadata ? { _instance_metadata: metadata } : {}), _job: ref.job, _trial: ref.trial, _scaffold: chosen.scaffold, _reward: ref.reward },
    reasoningCheck: options.reasoningCheck,
    reasoningRatio: options.reasoningRatio,
  });
  const duplicates = built.duplicates;
  if (built.failure) {
    return dropped(built.failure.reason, built.failure.message, { ...withScaffold, source: out.source, counts: { ...counts, duplicate_rows: duplicates } });
  }
  const rows = built.rows.map(serialiseImRow);
  counts.duplicate_rows = duplicates;
  counts.rows = rows.length;
  if (!rows.length) return dropped('empty_trajectory', `${out.source}: no conversation left`, { ...withScaffold, source: out.source, counts });
  return { ...base, ...withScaffold, status: 'converted', source: out.source, counts, rows };
}
