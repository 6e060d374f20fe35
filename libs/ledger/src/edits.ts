import { TrajgenError } from '@trajgen/core';
import type { EntryLookup } from './reconcile';
import { taskIdProblem } from './task-id';
import { EXCLUDED_NOTE, TERMINAL_STATUSES, emptyEntry, type LedgerEntry, type LedgerStatus } from './types';

/** One status change made by a person (or excluded_tasks.txt). */
export interface StatusEdit {
  id: string;
  from: LedgerStatus | null;
  to: LedgerStatus;
}

/**
 * People's edits, all or nothing, planned against the current entries (both
 * backends commit the changes their own way):
 *  - → pending: from done, failed or skipped (a fresh attempt budget: attempts = 0); a done
 *    task's trial is retired (kept on disk and in the data, never adopted back by reconcile);
 *  - → skipped: from pending or failed, or for an id the ledger does not know yet.
 * Every change goes into the entry's history with the note, time and `by`.
 */
export function planStatusEdits(entries: EntryLookup, edits: { id: string; status: 'pending' | 'skipped' }[], note: string, by: string, at: string): { changes: Map<string, LedgerEntry>; result: StatusEdit[] } {
  const why = (note ?? '').trim();
  if (!why) throw new TrajgenError('A note is required for every ledger edit', { hint: 'Say why, e.g. --note="flaky network on 11-21, retry".' });
  const problems: string[] = [];
  const changes = new Map<string, LedgerEntry>();
  const result: StatusEdit[] = [];
  for (const { id, status } of edits) {
    const p = taskIdProblem(id);
    if (p) {
      problems.push(`${JSON.stringify(id)}: the id ${p}`);
      continue;
    }
    if (changes.has(id)) {
      problems.push(`${id}: named twice`);
      continue;
    }
    const e = entries.get(id);
    if (status === 'pending') {
      if (!e) {
        problems.push(`${id}: not in the ledger (nothing to reset)`);
        continue;
      }
      if (e.status === 'pending') continue;
      if (e.status === 'running') {
        problems.push(`${id}: is running; only done, failed or skipped tasks can be reset to pending`);
        continue;
      }
      // A done task rolled out again on purpose: its trial stays on disk (and in the data) but is retired, so reconcile never adopts it back.
      const retired = e.status === 'done' && e.job && e.trial ? `; reward ${e.reward}; retired trial ${e.job}/${e.trial}` : '';
      const was = `was ${e.status} after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}${e.exception_type ? `, last ${e.exception_type}` : ''}${e.job ? ` in ${e.job}` : ''}${retired}`;
      changes.set(id, {
        ...emptyEntry('pending'),
        note: why,
        history: [...e.history, { at, change: `${e.status} → pending`, note: `${why} (${was})`, by }],
      });
      result.push({ id, from: e.status, to: 'pending' });
    } else {
      if (e && e.status === 'skipped') continue;
      if (e && e.status !== 'pending' && e.status !== 'failed') {
        problems.push(`${id}: is ${e.status}; only pending or failed tasks can be skipped`);
        continue;
      }
      const base = e ?? emptyEntry('pending');
      changes.set(id, { ...base, status: 'skipped', note: why, history: [...base.history, { at, change: `${e ? e.status : '(none)'} → skipped`, note: why, by }] });
      result.push({ id, from: e ? e.status : null, to: 'skipped' });
    }
  }
  if (problems.length === 1) throw new TrajgenError(`No ledger edit was made: ${problems[0]}`);
  if (problems.length > 1) throw new TrajgenError(`No ledger edit was made: ${problems.length} problems`, { details: problems });
  return { changes, result };
}

/**
 * excluded_tasks.txt: listed ids that are pending/failed (or unknown) become
 * skipped with note "excluded_tasks.txt"; ids skipped that way and no longer
 * listed get back the status they had before.
 */
export function planExclusions(entries: EntryLookup, excluded: ReadonlySet<string>, at: string): { changes: Map<string, LedgerEntry>; skipped: string[]; restored: StatusEdit[] } {
  const changes = new Map<string, LedgerEntry>();
  const skipped: string[] = [];
  const restored: StatusEdit[] = [];
  for (const id of [...excluded].sort()) {
    const e = entries.get(id);
    if (e && (TERMINAL_STATUSES.has(e.status) || e.status === 'running')) continue;
    if (taskIdProblem(id)) continue;
    const base = e ?? emptyEntry('pending');
    changes.set(id, {
      ...base,
      status: 'skipped',
      note: EXCLUDED_NOTE,
      history: [...base.history, { at, change: `${e ? e.status : '(none)'} → skipped`, note: `listed in ${EXCLUDED_NOTE}`, by: EXCLUDED_NOTE }],
    });
    skipped.push(id);
  }
  for (const [id, status] of entries.statuses()) {
    if (status !== 'skipped' || excluded.has(id)) continue;
    const e = entries.get(id)!;
    if (e.note !== EXCLUDED_NOTE) continue;
    let before: LedgerStatus = 'pending';
    for (let i = e.history.length - 1; i >= 0; i--) {
      const h = e.history[i];
      const m = h.by === EXCLUDED_NOTE ? /^(\w+) → skipped$/.exec(h.change) : null;
      if (m) {
        before = m[1] === 'failed' ? 'failed' : 'pending';
        break;
      }
    }
    changes.set(id, {
      ...e,
      status: before,
      note: null,
      history: [...e.history, { at, change: `skipped → ${before}`, note: `no longer listed in ${EXCLUDED_NOTE}`, by: EXCLUDED_NOTE }],
    });
    restored.push({ id, from: 'skipped', to: before });
  }
  return { changes, skipped, restored };
}
