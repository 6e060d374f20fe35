import { TrajgenError, closestMatch, formatTable } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';
import { postgresUrlOf } from './backend';
import { LEDGER_FILE } from './ledger-digest.cjs';
import { ledgerRuleOptions, openLedger, readLedger, readLedgerReconciled, type LedgerView, type StatusEdit } from './ledger';
import { openPostgresLedger, type PostgresLedger } from './postgres';
import { formatReconcileReport, reconcileIsEmpty } from './reconcile';
import { LEDGER_STATUSES, type LedgerEntry, type LedgerSummary } from './types';

/** Options of `nx run <p>:ledger` (tools/trajgen/src/executors/ledger/schema.json). */
export interface LedgerCommandOptions {
  /** Every failed task → pending. */
  resetFailed?: boolean;
  /** Ids to reset to pending (done, failed or skipped ones), comma separated or a list. */
  reset?: string | string[];
  /** Ids to skip, comma separated or a list. */
  skip?: string | string[];
  /** Why: required for any edit, recorded in each changed entry's history. */
  note?: string;
  /** Print the summary as JSON. */
  json?: boolean;
  /** How many ids to list per status in the text output (default 20). */
  limit?: number;
  /** Copy the PostgreSQL ledger into consumption_ledger.yaml. */
  export?: boolean;
  /** Copy consumption_ledger.yaml into the PostgreSQL ledger. */
  import?: boolean;
}

export interface LedgerCommandContext {
  log: (line: string) => void;
  /** Ids the pipeline knows besides the ledger's (the manifest): --skip may name one not handed out yet. */
  knownIds?: () => Iterable<string>;
}

export interface LedgerCommandResult {
  summary: LedgerSummary;
  edits: StatusEdit[];
  /** One line for runStage. */
  line: string;
}

function idList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  const parts = Array.isArray(v) ? v.flatMap((x) => String(x).split(',')) : String(v).split(',');
  return parts.map((s) => s.trim()).filter(Boolean);
}

function listIds(ids: string[], limit: number): string {
  return ids.length <= limit ? ids.join(', ') : `${ids.slice(0, limit).join(', ')}, … and ${ids.length - limit} more`;
}

/** The status table and per-status ids, for people. */
export function formatLedgerSummary(s: LedgerSummary, limit = 20): string[] {
  const lines = [formatTable(['status', 'tasks'], [...LEDGER_STATUSES.map((st) => [st, s.counts[st]] as [string, number]), ['total', s.total]])];
  for (const st of LEDGER_STATUSES) {
    if (st === 'failed' || s.ids[st].length === 0) continue;
    lines.push(`${st}: ${listIds(s.ids[st], limit)}`);
  }
  if (s.failed.length > 0) {
    lines.push('failed:');
    for (const f of s.failed.slice(0, limit)) lines.push(`  ${f.id}  ${f.exception_type ?? 'no exception recorded'}  (${f.attempts} attempt${f.attempts === 1 ? '' : 's'}${f.job ? `, last in ${f.job}` : ''})`);
    if (s.failed.length > limit) lines.push(`  … and ${s.failed.length - limit} more`);
  }
  return lines;
}

/**
 * Named ids the pipeline does not know (a typo) are refused before anything
 * changes, with the closest known id suggested: a skip of a misspelt id would
 * otherwise add a new skipped entry and leave the intended task pending.
 */
function refuseUnknownIds(ledger: LedgerView, reset: string[], skip: string[], knownIds?: () => Iterable<string>): void {
  let known: Set<string> | undefined;
  const problems: string[] = [];
  for (const id of [...reset, ...skip]) {
    if (ledger.has(id)) continue;
    known ??= new Set(knownIds ? knownIds() : []);
    if (known.has(id) && skip.includes(id)) continue;
    const candidates = [...new Set(Object.values(ledger.summary().ids).flat().concat([...known]))];
    const guess = closestMatch(id, candidates);
    problems.push(`${id}: no such task in the ledger${knownIds ? ' or the manifest' : ''}${guess ? `. Did you mean "${guess}"?` : ''}`);
  }
  if (problems.length === 1) throw new TrajgenError(`No ledger edit was made: ${problems[0]}`, { hint: 'Check the id (nx run <p>:ledger lists them).' });
  if (problems.length > 1) throw new TrajgenError(`No ledger edit was made: ${problems.length} unknown ids`, { details: problems, hint: 'Check the ids (nx run <p>:ledger lists them).' });
}

/**
 * `nx run <p>:ledger`: print the status summary; with --resetFailed, --reset
 * or --skip (and a --note), change statuses under the lock, each change
 * recorded in the entry's history.
 */
export function runLedgerCommand(pipeline: LoadedPipeline, options: LedgerCommandOptions, io: LedgerCommandContext): LedgerCommandResult {
  const reset = idList(options.reset);
  const skip = idList(options.skip);
  const editing = Boolean(options.resetFailed) || reset.length > 0 || skip.length > 0;
  const limit = options.limit ?? 20;
  let view: LedgerView;
  let edits: StatusEdit[] = [];
  if (!editing) {
    if (options.note) throw new TrajgenError('--note given without an edit', { hint: 'Use it with --resetFailed, --reset=<ids> or --skip=<ids>.' });
    const read = readLedgerReconciled(pipeline.paths, ledgerRuleOptions(pipeline.config));
    view = read;
    if (!options.json) {
      if (!reconcileIsEmpty(read.pendingReconcile)) {
        for (const line of formatReconcileReport(read.pendingReconcile)) io.log(line.replace(/^reconcile: /, 'reconcile (shown, written by the next stage that opens the ledger): '));
      }
      if (read.holder) io.log(`note: the ledger is held by pid ${read.holder.pid} on ${read.holder.host} (${read.holder.purpose}, since ${read.holder.acquired_at}); showing its current state`);
      if (read.tornJournalLine) io.log(`note: the journal ends in a torn line (line ${read.tornJournalLine.line}, ${read.tornJournalLine.bytes} bytes) from an interrupted write; it is ignored`);
    }
  } else {
    if (!options.note || !options.note.trim()) {
      throw new TrajgenError('Ledger edits need a note', { hint: 'Add --note="why" (it is recorded in each changed entry\'s history).' });
    }
    const both = reset.filter((id) => skip.includes(id));
    if (both.length) throw new TrajgenError(`Both --reset and --skip name ${both.join(', ')}`, { hint: 'Pick one per task.' });
    const ledger = openLedger(pipeline.paths, { purpose: 'ledger edit', ...ledgerRuleOptions(pipeline.config) });
    try {
      if (!options.json) for (const line of formatReconcileReport(ledger.openReport.reconcile)) io.log(line);
      refuseUnknownIds(ledger, reset, skip, io.knownIds);
      const wanted = new Map<string, 'pending' | 'skipped'>();
      if (options.resetFailed) for (const id of ledger.summary().ids.failed) wanted.set(id, 'pending');
      for (const id of reset) wanted.set(id, 'pending');
      for (const id of skip) wanted.set(id, 'skipped');
      edits = ledger.setStatuses([...wanted].map(([id, status]) => ({ id, status })), options.note);
      view = ledger;
      if (!options.json) {
        if (edits.length === 0) io.log('no change: every named task already has that status');
        for (const e of edits) io.log(`${e.id}: ${e.from ?? '(none)'} → ${e.to}`);
      }
      const summary = ledger.summary();
      ledger.close();
      return finish(summary);
    } finally {
      ledger.close();
    }
  }
  return finish(view.summary());

  function finish(summary: LedgerSummary): LedgerCommandResult {
    return finishCommand(pipeline.name, summary, edits, options, io);
  }
}

function finishCommand(pipeline: string, summary: LedgerSummary, edits: StatusEdit[], options: LedgerCommandOptions, io: { log: (line: string) => void }): LedgerCommandResult {
  if (options.json) io.log(JSON.stringify({ pipeline, ...summary, edits }, null, 2));
  else for (const line of formatLedgerSummary(summary, options.limit ?? 20)) io.log(line);
  const line = `${summary.total} tasks: ${LEDGER_STATUSES.map((s) => `${summary.counts[s]} ${s}`).join(', ')}${edits.length ? `; ${edits.length} changed` : ''}`;
  return { summary, edits, line };
}

/**
 * `nx run <p>:ledger` on the configured backend, plus --export (PostgreSQL →
 * consumption_ledger.yaml) and --import (consumption_ledger.yaml →
 * PostgreSQL), which need ledger.postgres.url_env set whatever the backend.
 */
export async function runLedgerCommandFor(pipeline: LoadedPipeline, options: LedgerCommandOptions, io: LedgerCommandContext): Promise<LedgerCommandResult> {
  if (options.export && options.import) throw new TrajgenError('--export and --import together', { hint: 'Pick one direction.' });
  if (options.export || options.import) return moveLedger(pipeline, options, io);
  if (pipeline.config.ledger.backend !== 'postgres') return runLedgerCommand(pipeline, options, io);
  const reset = idList(options.reset);
  const skip = idList(options.skip);
  const editing = Boolean(options.resetFailed) || reset.length > 0 || skip.length > 0;
  if (!editing && options.note) throw new TrajgenError('--note given without an edit', { hint: 'Use it with --resetFailed, --reset=<ids> or --skip=<ids>.' });
  if (editing && (!options.note || !options.note.trim())) throw new TrajgenError('Ledger edits need a note', { hint: 'Add --note="why" (it is recorded in each changed entry\'s history).' });
  const ledger = await openPostgresForCommand(pipeline, 'ledger');
  try {
    if (!options.json) for (const line of formatReconcileReport(ledger.openReport.reconcile)) io.log(line);
    let edits: StatusEdit[] = [];
    if (editing) {
      const both = reset.filter((id) => skip.includes(id));
      if (both.length) throw new TrajgenError(`Both --reset and --skip name ${both.join(', ')}`, { hint: 'Pick one per task.' });
      refuseUnknownIds(ledger, reset, skip, io.knownIds);
      const wanted = new Map<string, 'pending' | 'skipped'>();
      if (options.resetFailed) for (const id of ledger.summary().ids.failed) wanted.set(id, 'pending');
      for (const id of reset) wanted.set(id, 'pending');
      for (const id of skip) wanted.set(id, 'skipped');
      edits = await ledger.setStatuses([...wanted].map(([id, status]) => ({ id, status })), options.note!);
      if (!options.json) {
        if (edits.length === 0) io.log('no change: every named task already has that status');
        for (const e of edits) io.log(`${e.id}: ${e.from ?? '(none)'} → ${e.to}`);
      }
    }
    return finishCommand(pipeline.name, ledger.summary(), edits, options, io);
  } finally {
    await ledger.close();
  }
}

async function openPostgresForCommand(pipeline: LoadedPipeline, purpose: string): Promise<PostgresLedger> {
  const { url, source } = postgresUrlOf(pipeline);
  const pg = pipeline.config.ledger.postgres;
  return openPostgresLedger(pipeline.paths, {
    url,
    urlSource: source,
    purpose,
    ...ledgerRuleOptions(pipeline.config),
    leaseSec: pg.lease_sec,
    heartbeatSec: pg.heartbeat_sec,
    connectTimeoutSec: pg.connect_timeout_sec,
  });
}

/** --export / --import: every entry copied as it is (statuses, attempts, notes, history); running tasks of a live machine are left alone. */
async function moveLedger(pipeline: LoadedPipeline, options: LedgerCommandOptions, io: LedgerCommandContext): Promise<LedgerCommandResult> {
  const db = await openPostgresForCommand(pipeline, options.export ? 'ledger export' : 'ledger import');
  try {
    if (options.export) {
      const yaml = openLedger(pipeline.paths, { purpose: 'ledger export', ...ledgerRuleOptions(pipeline.config), reconcile: false });
      try {
        const rows = [...db.all()].map(([id, e]) => [id, { ...e }] as [string, LedgerEntry]);
        const changed = yaml.importEntries(rows);
        const extra = yaml.size - db.size;
        io.log(`exported ${db.size} entries from PostgreSQL into ${LEDGER_FILE} (${changed} changed)${extra > 0 ? `; ${extra} entries only in the YAML were kept` : ''}`);
        const summary = yaml.summary();
        yaml.close();
        return finishCommand(pipeline.name, summary, [], options, io);
      } finally {
        yaml.close();
      }
    }
    const yaml = readLedger(pipeline.paths);
    const rows = [...yaml.all()].filter(([id]) => db.status(id) !== 'running') as [string, LedgerEntry][];
    const held = yaml.size - rows.length;
    const n = await db.importEntries(rows);
    io.log(`imported ${n} entries from ${LEDGER_FILE} into PostgreSQL${held ? `; ${held} left alone (running in the database)` : ''}`);
    return finishCommand(pipeline.name, db.summary(), [], options, io);
  } finally {
    await db.close();
  }
}
