/**
 * The trial viewer's data: one small list of every trial
 * (`report/trials/index.js`) and one file per trial (`report/trials/<id>.js`)
 * that the trial page loads on demand with a script tag (file:// forbids
 * fetch). Built from rollout/trials.json, each trial's Harbor result.json and
 * verifier output, the (scored) IM rows, conversion stats, and, for a trial
 * that produced no IM row, its raw model calls.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { join, relative } from 'node:path';
import type { PipelinePaths } from '@trajgen/config';
import { readConvertStatsFile, readTrialsFile, type ConvertStats, type TrialsIndexEntry } from '@trajgen/contracts';
import { atomicWriteFileSync } from '@trajgen/core';
import { renderTrialScript, renderTrialsIndexScript, type TrialDataStatus, type TrialDetail, type TrialListRow, type ViewerConversation } from '@trajgen/report';
import { finite, isRecord, readContract, readJson, str } from './read';
import { textScrubber, type TextScrubber } from './redact';
import { imConversation, linkSubagents, rawConversations, type Clip } from './viewer-convert';

/** Longest text kept per message or tool result; the page shows less and expands to this. */
export const MAX_KEPT_CHARS = 40_000;
/** Verifier output: the last lines of each file. */
const VERIFIER_TAIL_LINES = 80;
/** Raw proxy logs larger than this are summarised, not rendered (they repeat the history in every call). */
const MAX_RAW_BYTES = 64 * 1024 * 1024;
const CHUNK_BYTES = 16 * 1024 * 1024;

export interface TrialViewerOptions {
  dataName: string;
  /** conversion.instance_status: which outcomes conversion takes. */
  instanceStatus: string;
  scrub?: TextScrubber;
  /** Read size when indexing the IM file (tests use a tiny one to cross chunk boundaries). */
  chunkBytes?: number;
  /** Shown beside costs that are not a provider's bill. */
  costNote?: string;
  log?: (line: string) => void;
}

export interface TrialViewerResult {
  trials: number;
  files: number;
  bytes: number;
  indexBytes: number;
  rows: TrialListRow[];
}

/** Stable file id of a trial (job + trial), safe in a file name and a URL fragment. */
export function trialFileId(job: string, trial: string): string {
  return 't' + createHash('sha1').update(`${job}/${trial}`).digest('hex').slice(0, 14);
}

/** About this many trials share one data file: creating a file costs ~2 ms on a busy VM disk, 20,000 of them 40 s. */
const TRIALS_PER_SHARD = 48;

/** How many data files: one per ~48 trials (1 for the demo, 417 at 20,000 trials). */
export function shardCount(trials: number): number {
  return Math.max(1, Math.ceil(trials / TRIALS_PER_SHARD));
}

/** The data file of a trial: links carry it (`trial.html#<shard>/<id>`), so any stable spread works. */
export function shardOf(id: string, shards: number): string {
  return shards <= 1 ? 's' : `s${parseInt(id.slice(1, 9), 16) % shards}`;
}

/** Trial scripts collected per shard and appended in blocks, so memory stays bounded and each file is opened a few times. */
class ShardWriter {
  private readonly pending = new Map<string, { parts: string[]; size: number }>();
  bytes = 0;
  constructor(private readonly dir: string) {}
  add(shard: string, text: string): void {
    const p = this.pending.get(shard) ?? { parts: [], size: 0 };
    this.pending.set(shard, p);
    p.parts.push(text);
    p.size += text.length;
    this.bytes += Buffer.byteLength(text);
    if (p.size > 256 * 1024) this.flush(shard);
  }
  flush(shard: string): void {
    const p = this.pending.get(shard);
    if (!p || !p.parts.length) return;
    appendFileSync(join(this.dir, `${shard}.js`), p.parts.join(''));
    p.parts = [];
    p.size = 0;
  }
  close(): number {
    for (const shard of this.pending.keys()) this.flush(shard);
    return this.pending.size;
  }
}

function clipper(scrub: TextScrubber, source: string): Clip {
  return (text: string) => {
    if (!text) return '';
    const kept = text.length > MAX_KEPT_CHARS ? text.slice(0, MAX_KEPT_CHARS) : text;
    const clean = scrub(kept);
    return text.length > MAX_KEPT_CHARS ? `${clean}\n[… ${text.length - MAX_KEPT_CHARS} more characters not kept in the report; the full text is in ${source}]` : clean;
  };
}

type TrialRef = TrialsIndexEntry;

/** rollout/trials.json through its contract; none (no rollout yet, or an index that breaks it) is no trial pages, as the summary's trials part says. */
function readTrialList(paths: PipelinePaths): TrialRef[] {
  return readContract(readTrialsFile, join(paths.rolloutOut, 'trials.json'), paths.workspaceRoot).value?.trials ?? [];
}

/** Where each trial's IM rows lie in the (scored) IM file: byte ranges, so a trial is read when its file is written. */
interface RowIndex {
  file: string | null;
  ranges: Map<string, [number, number][]>;
}

function indexImRows(paths: PipelinePaths, dataName: string, chunkBytes = CHUNK_BYTES): RowIndex {
  const scored = join(paths.imData, `${dataName}.scored.jsonl`);
  const plain = join(paths.imData, `${dataName}.jsonl`);
  const file = existsSync(scored) ? scored : existsSync(plain) ? plain : null;
  const ranges = new Map<string, [number, number][]>();
  if (!file) return { file, ranges };
  // Chunked, so a scored file of any size is indexed in bounded memory; each row names its job and trial
  // in unique_info, which a byte search finds without parsing the row.
  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(chunkBytes);
    let carry = Buffer.alloc(0);
    let carryOffset = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunkBytes, null);
      const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let start = 0;
      for (;;) {
        let end = buf.indexOf(10, start);
        if (end < 0) {
          if (n > 0) break;
          end = buf.length;
        }
        if (end > start) {
          const key = rowKey(buf, start, end);
          if (key) {
            const list = ranges.get(key) ?? [];
            list.push([carryOffset + start, end - start]);
            ranges.set(key, list);
          }
        }
        start = end + 1;
        if (start >= buf.length) break;
      }
      if (n === 0) break;
      carryOffset += Math.min(start, buf.length);
      carry = Buffer.from(buf.subarray(Math.min(start, buf.length)));
    }
  } finally {
    closeSync(fd);
  }
  return { file, ranges };
}

const JOB_FIELD = Buffer.from('"_job":"');
const TRIAL_FIELD = Buffer.from('"_trial":"');

function fieldValue(buf: Buffer, start: number, end: number, field: Buffer): string | null {
  const at = buf.indexOf(field, start);
  if (at < 0 || at >= end) return null;
  const from = at + field.length;
  const to = buf.indexOf(34, from);
  return to < 0 || to > end ? null : buf.toString('utf8', from, to);
}

function rowKey(buf: Buffer, start: number, end: number): string | null {
  const job = fieldValue(buf, start, end, JOB_FIELD);
  const trial = fieldValue(buf, start, end, TRIAL_FIELD);
  return job !== null && trial !== null ? `${job}/${trial}` : null;
}

function readRows(fd: number, ranges: [number, number][]): Record<string, any>[] {
  const rows: Record<string, any>[] = [];
  for (const [offset, length] of ranges) {
    const b = Buffer.allocUnsafe(length);
    readSync(fd, b, 0, length, offset);
    try {
      rows.push(JSON.parse(b.toString('utf8')));
    } catch {
      /* a torn line: the score stage validates its input, nothing to show */
    }
  }
  return rows;
}

function seconds(a: unknown, b: unknown): number | null {
  const d = (Date.parse(String(b)) - Date.parse(String(a))) / 1000;
  return Number.isFinite(d) && d >= 0 ? Math.round(d * 10) / 10 : null;
}

function tail(text: string, lines: number): { text: string; omitted: number } {
  const all = text.replace(/\s+$/, '').split('\n');
  return all.length <= lines ? { text: all.join('\n'), omitted: 0 } : { text: all.slice(-lines).join('\n'), omitted: all.length - lines };
}

function verifierOutput(dir: string, clip: Clip): TrialDetail['verifier'] {
  const vdir = join(dir, 'verifier');
  let entries: Dirent[];
  try {
    entries = readdirSync(vdir, { withFileTypes: true });
  } catch {
    return [];
  }
  const order = (f: string) => (/stdout/.test(f) ? 0 : /stderr/.test(f) ? 1 : /reward/.test(f) ? 2 : 3);
  const files = entries
    .filter((e) => e.isFile() && /\.(txt|log|json)$/.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  return files.map((f) => {
    const t = tail(readFileSync(join(vdir, f), 'utf8'), VERIFIER_TAIL_LINES);
    return { file: `verifier/${f}`, text: clip(t.text), omitted_lines: t.omitted };
  });
}

/** Why a trial has no IM row, from what conversion says (stats, selection rule). */
function notConverted(t: TrialRef, options: TrialViewerOptions, stats: ConvertStats | null): TrialDataStatus {
  if (!stats) return { status: 'not_converted', reason: null, message: 'The convert stage has not run (no stats file it wrote; the report\'s conversion part says why).' };
  if (t.reward === null) return { status: 'not_selected', reason: 'no_reward', message: 'The verifier produced no reward, so conversion did not take this trial.' };
  const resolved = t.reward === 1;
  if (options.instanceStatus === 'resolved' && !resolved)
    return { status: 'not_selected', reason: 'unresolved', message: 'conversion.instance_status is "resolved" and this trial did not pass its tests.' };
  if (options.instanceStatus === 'unresolved' && resolved)
    return { status: 'not_selected', reason: 'resolved', message: 'conversion.instance_status is "unresolved" and this trial passed.' };
  const drop = stats.drops.find((e) => e.job === t.job && e.trial === t.trial);
  if (drop) return { status: 'dropped', reason: drop.reason, message: drop.message };
  return { status: 'dropped', reason: null, message: 'Selected but no IM row, and the convert stats name no reason for it; see the drop counts.' };
}

function dataStatus(rows: ViewerConversation[]): TrialDataStatus {
  const main = rows.find((r) => r.agent_type === 'main');
  const lf = main?.lf;
  if (!lf) return { status: 'converted', reason: null, message: 'Converted to IM; not scored yet.' };
  if (lf.included === false) return { status: 'filtered', reason: str(lf.reason), message: `Scored, then excluded from the training data (${lf.reason}${lf.problem ? `: ${lf.problem}` : ''}).` };
  return { status: 'in_lf', reason: null, message: 'Converted, scored and kept in the training data.' };
}

function flagOf(conv: ViewerConversation | undefined): string | null {
  const f = conv?.flags;
  if (!f) return null;
  if (f.hack === 'confirmed' || f.hack === 'suspected') return `hack ${f.hack}`;
  if (Array.isArray(f.pathology) && f.pathology.length) return String(f.pathology[0]);
  return null;
}

/**
 * Write `report/trials/` (the caller empties it first: it is a declared
 * output). Reads each trial's files once and keeps only the list in memory.
 */
export function writeTrialViewerData(paths: PipelinePaths, outDir: string, options: TrialViewerOptions): TrialViewerResult {
  const scrub = options.scrub ?? textScrubber();
  const trials = readTrialList(paths);
  const rowIndex = indexImRows(paths, options.dataName, options.chunkBytes);
  const stats = readContract(readConvertStatsFile, join(paths.imData, `${options.dataName}.stats.json`), paths.workspaceRoot).value ?? null;
  const rel = (p: string) => relative(paths.workspaceRoot, p);
  mkdirSync(outDir, { recursive: true });
  const list: TrialListRow[] = [];
  const nShards = shardCount(trials.length);
  const shards = new ShardWriter(outDir);
  let last = Date.now();
  const fd = rowIndex.file ? openSync(rowIndex.file, 'r') : -1;
  try {
    for (const t of trials) {
      const id = trialFileId(t.job, t.trial);
      const detail = trialDetail(paths, t, id, fd, rowIndex, stats, options, scrub, rel);
      const shard = shardOf(id, nShards);
      // Plain appends: the directory is emptied and regenerated as a whole (a crash leaves no cached output).
      shards.add(shard, renderTrialScript(detail));
      const main = detail.conversations.find((c) => c.agent_type === 'main');
      list.push({
        id,
        shard,
        task: t.task_id,
        trial: t.trial,
        job: t.job,
        scaffold: detail.agent.name ?? t.agent,
        reward: t.reward,
        outcome: detail.outcome,
        exception: detail.exception?.type ?? t.exception_type,
        score: main?.score?.composite ?? null,
        flag: flagOf(main),
        status: detail.data.status,
        reason: detail.data.reason,
        tokens: detail.usage.input_tokens === null && detail.usage.output_tokens === null ? null : (detail.usage.input_tokens ?? 0) + (detail.usage.output_tokens ?? 0),
        cost: detail.usage.cost_usd,
        duration: detail.duration_sec,
        subagents: detail.conversations.filter((c) => c.agent_type === 'subagent').length,
      });
      if (options.log && Date.now() - last > 3000) {
        last = Date.now();
        options.log(`  trial pages: ${list.length}/${trials.length}`);
      }
    }
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  const index = renderTrialsIndexScript(list, { costNote: options.costNote });
  const files = shards.close() + 1;
  atomicWriteFileSync(join(outDir, 'index.js'), index);
  return { trials: list.length, files, bytes: shards.bytes + Buffer.byteLength(index), indexBytes: Buffer.byteLength(index), rows: list };
}

function trialDetail(
  paths: PipelinePaths,
  t: TrialRef,
  id: string,
  fd: number,
  rowIndex: RowIndex,
  stats: ConvertStats | null,
  options: TrialViewerOptions,
  scrub: TextScrubber,
  rel: (p: string) => string,
): TrialDetail {
  const safe = !!t.job && !t.job.includes('..') && !t.trial.includes('..') && !t.trial.includes('/');
  const dir = join(paths.jobs, t.job, t.trial);
  const notes: string[] = [];
  const result = safe ? readJson<Record<string, any>>(join(dir, 'result.json')) : { problem: 'unsafe path' };
  const r: Record<string, any> = isRecord(result.value) ? result.value : {};
  if (!safe || (result.problem !== undefined && !existsSync(dir))) notes.push(`The trial directory ${rel(dir)} is not in this clone (rollout jobs are never in the Nx cache): verifier output and raw calls are missing.`);
  const a: Record<string, any> = isRecord(r.agent_result) ? r.agent_result : {};
  const ex = isRecord(r.exception_info) ? r.exception_info : null;
  const clip = clipper(scrub, rel(dir));

  const conversations: ViewerConversation[] = [];
  const ranges = rowIndex.ranges.get(`${t.job}/${t.trial}`);
  if (ranges && fd >= 0) {
    const rows = readRows(fd, ranges);
    let mains = 0;
    let subs = 0;
    rows.forEach((row, i) => {
      const sub = row?.meta_info?.unique_info?._agent_type === 'subagent';
      const title = sub ? `sub-agent ${++subs}` : ++mains === 1 ? 'main agent' : `main agent, segment ${mains}`;
      conversations.push(imConversation(row, `c${i}`, title, clipper(scrub, `${rel(rowIndex.file!)} (trial ${t.trial})`)));
    });
    linkSubagents(conversations);
  }
  let data: TrialDataStatus;
  let modelCalls = finite(a.metadata?.requests);
  if (conversations.length) data = dataStatus(conversations);
  else {
    data = notConverted(t, options, stats);
    const raw = join(dir, 'agent', 'litellm-trajectory.jsonl');
    if (safe && existsSync(raw)) {
      const size = statSync(raw).size;
      if (size <= MAX_RAW_BYTES) {
        const parsed = rawConversations(readFileSync(raw, 'utf8').split('\n'), clip);
        conversations.push(...parsed.conversations);
        modelCalls = modelCalls ?? parsed.calls;
        notes.push(`No IM row: the conversation below is rebuilt from the ${parsed.calls} raw model calls in ${rel(raw)}${parsed.unreadable ? ` (${parsed.unreadable} unreadable lines skipped)` : ''}.`);
      } else notes.push(`No IM row, and the raw log ${rel(raw)} is ${Math.round(size / 1e6)} MB: open it directly.`);
    } else if (safe && existsSync(dir)) notes.push('No IM row and no raw model calls (agent/litellm-trajectory.jsonl) for this trial.');
  }
  const rewards = isRecord(r.verifier_result) && isRecord(r.verifier_result.rewards) ? (r.verifier_result.rewards as Record<string, number>) : null;
  const info: Record<string, any> = isRecord(r.agent_info) ? r.agent_info : {};
  return {
    id,
    job: t.job,
    trial: t.trial,
    task: t.task_id,
    agent: { name: str(info.name) ?? t.agent, version: str(info.version), model: str(info.model_info?.name) ?? str(r.config?.agent?.model_name) },
    reward: t.reward,
    rewards,
    outcome: t.reward === null ? 'error' : t.reward >= 1 ? 'resolved' : 'unresolved',
    exception: ex ? { type: String(ex.exception_type ?? t.exception_type ?? 'error'), message: clip(String(ex.exception_message ?? '')), traceback: clip(tail(String(ex.exception_traceback ?? ''), 40).text) } : t.exception_type ? { type: t.exception_type, message: '', traceback: '' } : null,
    started_at: str(r.started_at),
    duration_sec: seconds(r.started_at, r.finished_at),
    phases: {
      environment: seconds(r.environment_setup?.started_at, r.environment_setup?.finished_at),
      agent_setup: seconds(r.agent_setup?.started_at, r.agent_setup?.finished_at),
      agent: seconds(r.agent_execution?.started_at, r.agent_execution?.finished_at),
      verifier: seconds(r.verifier?.started_at, r.verifier?.finished_at),
    },
    usage: { input_tokens: finite(a.n_input_tokens), output_tokens: finite(a.n_output_tokens), cache_tokens: finite(a.n_cache_tokens), cost_usd: finite(a.cost_usd), model_calls: modelCalls },
    verifier: safe ? verifierOutput(dir, clip) : [],
    data,
    conversations,
    notes,
    ...(options.costNote ? { cost_note: options.costNote } : {}),
  };
}
