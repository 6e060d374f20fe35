import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import pg from 'pg';
import { TrajgenError } from '@trajgen/core';
import type { PipelinePaths } from '@trajgen/config';
import { planExclusions, planStatusEdits, type StatusEdit } from './edits';
import { EntryStore } from './entry-store';
import { LedgerView, type RecordResult } from './ledger';
import { planReconcile, type EntryLookup } from './reconcile';
import { applyTrialOutcome } from './status-rule';
import { taskIdProblem } from './task-id';
import { TERMINAL_STATUSES, emptyEntry, type LedgerEntry, type LedgerStatus, type OpenReport, type ReconcileReport, type TrialOutcome } from './types';

/**
 * The consumption ledger on PostgreSQL (`ledger.backend: postgres`): one
 * ledger shared by several machines, with the YAML ledger's statuses, rules,
 * notes and history.
 *
 * Claims are leases: `claim` takes pending rows with `FOR UPDATE SKIP LOCKED`
 * (two machines never get one task), marks them running with
 * `lease_owner`/`lease_expires`, and a heartbeat renews the leases while the
 * process lives. Reconcile treats a running row whose lease expired like the
 * YAML ledger treats a running entry after a kill: finalized from its trial on
 * disk when there is one, otherwise back to pending — and another machine
 * claims it. Rows with a live lease are never touched by anyone else.
 *
 * The schema is created and migrated by the project (`trajgen_schema_version`,
 * migrations below, under an advisory lock). Every change of a row's ledger
 * fields (not a lease renewal) takes a new `rev` from a sequence (a trigger),
 * so `count(*)` and `max(rev)` of a pipeline — one index lookup — are the
 * digest prepare's Nx fingerprint hashes (ledger-digest.cjs).
 *
 * Reads (`get`, `status`, `summary`, …) come from a snapshot loaded at open
 * and kept up to date by this process's own changes; `refresh()` reloads it.
 */

export const PG_SCHEMA_VERSION = 2;

/** Migrations: index i takes the schema from version i to i + 1. Never edit one that shipped; append. */
const MIGRATIONS: string[] = [
  `CREATE SEQUENCE trajgen_ledger_rev;
   CREATE TABLE trajgen_ledger (
     pipeline text NOT NULL,
     id text NOT NULL,
     status text NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'skipped')),
     attempts integer NOT NULL DEFAULT 0,
     job text, trial text, reward double precision, trajectory_path text, trajectory_digest text,
     started_at text, finished_at text, exception_type text, note text,
     history jsonb NOT NULL DEFAULT '[]'::jsonb,
     lease_owner text,
     lease_expires timestamptz,
     rev bigint NOT NULL DEFAULT nextval('trajgen_ledger_rev'),
     PRIMARY KEY (pipeline, id)
   );
   CREATE INDEX trajgen_ledger_status ON trajgen_ledger (pipeline, status);`,
  `CREATE INDEX trajgen_ledger_rev_idx ON trajgen_ledger (pipeline, rev);
   CREATE FUNCTION trajgen_ledger_bump() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN NEW.rev := nextval('trajgen_ledger_rev'); RETURN NEW; END $$;
   CREATE TRIGGER trajgen_ledger_changed BEFORE UPDATE OF status, attempts, job, trial, reward, trajectory_path,
     trajectory_digest, started_at, finished_at, exception_type, note, history
     ON trajgen_ledger FOR EACH ROW EXECUTE FUNCTION trajgen_ledger_bump();`,
];

const COLUMNS = ['status', 'attempts', 'job', 'trial', 'reward', 'trajectory_path', 'trajectory_digest', 'started_at', 'finished_at', 'exception_type', 'note', 'history'] as const;

export interface PostgresLedgerOptions {
  /** Connection string (from the environment variable ledger.postgres.url_env names). */
  url: string;
  /** Shown in errors: where the URL came from. */
  urlSource: string;
  purpose: string;
  maxRetries: number;
  resampleMaxAttempts?: number;
  leaseSec: number;
  heartbeatSec: number;
  connectTimeoutSec: number;
  reconcile?: boolean;
  by?: string;
  now?: () => Date;
}

/** A table row: the entry's fields as columns, plus the lease and the row's revision. */
interface Row extends LedgerEntry {
  id: string;
  lease_owner: string | null;
  lease_live: boolean;
  rev: string;
}

function entryOf(r: Row): LedgerEntry {
  const e = emptyEntry(r.status);
  for (const c of COLUMNS) (e as unknown as Record<string, unknown>)[c] = r[c];
  e.attempts = Number(r.attempts);
  e.reward = r.reward === null ? null : Number(r.reward);
  e.history = Array.isArray(r.history) ? r.history : [];
  return e;
}

const SELECT = `SELECT id, ${COLUMNS.join(', ')}, lease_owner, (lease_expires IS NOT NULL AND lease_expires > now()) AS lease_live, rev FROM trajgen_ledger`;

/** A clear error for a database that cannot be reached or used: nothing was claimed. */
function unreachable(error: unknown, source: string): TrajgenError {
  const e = error as { message?: string; code?: string };
  return new TrajgenError(`The PostgreSQL ledger is unreachable (${source}): ${e.message ?? String(error)}${e.code ? ` [${e.code}]` : ''}`, {
    hint: 'Nothing was claimed and no trial started. Check the connection string in that variable, that the server runs and accepts this client (pg_isready -h HOST), then run again.',
  });
}

/** Connect and bring the schema up to date (idempotent, safe when several machines start at once). */
export async function connectLedgerDatabase(url: string, source: string, connectTimeoutSec: number): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, max: 3, connectionTimeoutMillis: Math.round(connectTimeoutSec * 1000), application_name: 'trajgen-ledger' });
  pool.on('error', () => {
    /* an idle client lost its connection: the next query reports it */
  });
  try {
    await migrateLedgerSchema(pool);
  } catch (error) {
    await pool.end().catch(() => {});
    throw unreachable(error, source);
  }
  return pool;
}

export async function migrateLedgerSchema(pool: pg.Pool): Promise<number> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(`SELECT pg_advisory_xact_lock(hashtext('trajgen_ledger_schema'))`);
    await c.query('CREATE TABLE IF NOT EXISTS trajgen_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM trajgen_schema_version');
    const current = rows[0]?.v ?? 0;
    if (current > PG_SCHEMA_VERSION) {
      throw new TrajgenError(`The ledger database has schema version ${current}, newer than this trajgen knows (${PG_SCHEMA_VERSION})`, { hint: 'Update trajgen on this machine.' });
    }
    for (let v = current; v < PG_SCHEMA_VERSION; v++) {
      await c.query(MIGRATIONS[v]);
      await c.query('INSERT INTO trajgen_schema_version (version) VALUES ($1)', [v + 1]);
    }
    await c.query('COMMIT');
    return PG_SCHEMA_VERSION;
  } catch (error) {
    await c.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    c.release();
  }
}

/** The cheap digest of a pipeline's ledger: row count and the newest change's rev (the same as ledger-digest.cjs computes). */
export async function postgresDigest(pool: pg.Pool | pg.PoolClient, pipeline: string): Promise<string> {
  const { rows } = await pool.query<{ n: string; rev: string | null }>('SELECT count(*)::text AS n, max(rev)::text AS rev FROM trajgen_ledger WHERE pipeline = $1', [pipeline]);
  return `pg:${rows[0].n}:${rows[0].rev ?? 0}`;
}

/** Upsert entries in one statement (leases cleared unless given). */
async function writeEntries(c: pg.PoolClient, pipeline: string, changes: Map<string, LedgerEntry>, lease?: { owner: string; sec: number }): Promise<void> {
  if (changes.size === 0) return;
  const rows = [...changes].map(([id, e]) => ({ id, ...e, history: e.history }));
  const cols = ['id', ...COLUMNS];
  const types: Record<string, string> = { attempts: 'integer', reward: 'double precision', history: 'jsonb' };
  await c.query(
    `INSERT INTO trajgen_ledger (pipeline, ${cols.join(', ')}, lease_owner, lease_expires)
     SELECT $1, ${cols.map((k) => `x.${k}`).join(', ')}, $3::text, CASE WHEN $3::text IS NULL THEN NULL ELSE now() + make_interval(secs => $4::double precision) END
     FROM jsonb_to_recordset($2::jsonb) AS x(${cols.map((k) => `${k} ${types[k] ?? 'text'}`).join(', ')})
     ON CONFLICT (pipeline, id) DO UPDATE SET ${[...COLUMNS, 'lease_owner', 'lease_expires'].map((k) => `${k} = EXCLUDED.${k}`).join(', ')}`,
    [pipeline, JSON.stringify(rows), lease?.owner ?? null, lease?.sec ?? 0],
  );
}

/** The ledger of one pipeline on PostgreSQL. Use openPostgresLedger(). */
export class PostgresLedger extends LedgerView {
  readonly backend = 'postgres' as const;
  openReport: OpenReport = { journalRecords: 0, slowParse: false, trusted: true, reconcile: { finalized: [], returned: [], adopted: [] } };
  /** This process's lease owner id: host, pid and a random part. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly pipeline: string;
  private readonly live = new Set<string>();
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  /** Prepare's changes, planned synchronously and written by flush() (see stagedForPrepare). */
  private staged: { register: string[]; excluded?: ReadonlySet<string> } = { register: [] };

  constructor(
    paths: PipelinePaths,
    private readonly pool: pg.Pool,
    private readonly options: PostgresLedgerOptions,
  ) {
    super(paths, new EntryStore());
    this.pipeline = basename(paths.artifacts);
  }

  private stamp(): string {
    return (this.options.now ?? (() => new Date()))().toISOString();
  }

  private rule() {
    return { maxRetries: this.options.maxRetries, resampleMaxAttempts: this.options.resampleMaxAttempts };
  }

  private remember(rows: Row[]): void {
    for (const r of rows) {
      this.entries.set(r.id, entryOf(r));
      if (r.status === 'running' && r.lease_live) this.live.add(r.id);
      else this.live.delete(r.id);
    }
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new TrajgenError(`The ledger of pipeline "${this.pipeline}" was already closed; open it again to change it.`);
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (error) {
      throw unreachable(error, this.options.urlSource);
    }
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (error) {
      await c.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      c.release();
    }
  }

  /** One statement outside a transaction; a lost connection is the clear "unreachable" error. */
  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    if (this.closed) throw new TrajgenError(`The ledger of pipeline "${this.pipeline}" was already closed; open it again to change it.`);
    try {
      return await this.pool.query<R>(sql, params);
    } catch (error) {
      if ((error as { code?: string }).code && !/^(ECONN|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH)/.test(String((error as { code?: string }).code))) throw error;
      throw unreachable(error, this.options.urlSource);
    }
  }

  /** Reload the snapshot from the database (other machines' changes). */
  async refresh(): Promise<void> {
    const { rows } = await this.pool.query<Row>(`${SELECT} WHERE pipeline = $1`, [this.pipeline]);
    this.remember(rows);
  }

  /** Lock rows and return them fresh. */
  private async lockRows(c: pg.PoolClient, ids: string[]): Promise<Row[]> {
    const { rows } = await c.query<Row>(`${SELECT} WHERE pipeline = $1 AND id = ANY($2::text[]) FOR UPDATE`, [this.pipeline, ids]);
    this.remember(rows);
    return rows;
  }

  /** Entries as reconcile may see them: running rows with a live lease belong to a live machine and are left out. */
  private reconcileLookup(): EntryLookup {
    const live = this.live;
    const entries = this.entries;
    return {
      *statuses() {
        for (const [id, s] of entries.statuses()) if (!(s === 'running' && live.has(id))) yield [id, s] as [string, LedgerStatus];
      },
      get: (id) => (live.has(id) && entries.status(id) === 'running' ? { ...entries.get(id)!, status: 'done' } : entries.get(id)),
    };
  }

  /**
   * Expired leases and finished trials on disk, as the YAML ledger's
   * reconcile; each change is written only if its row did not change since it
   * was read (otherwise another machine got there first: left to it).
   */
  async reconcile(): Promise<ReconcileReport> {
    await this.refresh();
    const at = this.stamp();
    const { changes, report } = planReconcile(this.reconcileLookup(), { paths: this.paths, rule: this.rule(), at });
    if (changes.size === 0) return report;
    const before = new Map([...changes.keys()].map((id) => [id, this.entries.get(id)]));
    const applied = await this.tx(async (c) => {
      const fresh = new Map((await this.lockRows(c, [...changes.keys()])).map((r) => [r.id, r]));
      const ok = new Map<string, LedgerEntry>();
      for (const [id, next] of changes) {
        const r = fresh.get(id);
        const prev = before.get(id);
        if (r ? r.lease_live || !prev || JSON.stringify(entryOf(r)) !== JSON.stringify(prev) : prev !== undefined) continue;
        ok.set(id, next);
      }
      await writeEntries(c, this.pipeline, ok);
      return ok;
    });
    for (const [id, e] of applied) {
      this.entries.set(id, e);
      this.live.delete(id);
    }
    const keep = (i: { id: string }) => applied.has(i.id);
    return { finalized: report.finalized.filter(keep), returned: report.returned.filter(keep), adopted: report.adopted.filter(keep) };
  }

  async register(ids: Iterable<string>): Promise<string[]> {
    const list = [...new Set(ids)].filter((id) => !this.entries.has(id));
    for (const id of list) {
      const p = taskIdProblem(id);
      if (p) throw new TrajgenError(`Cannot register task ${JSON.stringify(id)}: the id ${p}`);
    }
    if (list.length === 0) return [];
    return this.tx(async (c) => {
      const { rows } = await c.query<{ id: string }>(
        `INSERT INTO trajgen_ledger (pipeline, id, status) SELECT $1, unnest($2::text[]), 'pending' ON CONFLICT (pipeline, id) DO NOTHING RETURNING id`,
        [this.pipeline, list],
      );
      for (const r of rows) this.entries.set(r.id, emptyEntry('pending'));
      return rows.map((r) => r.id);
    });
  }

  /**
   * The exactly-once gate across machines: pending (or unknown) → running
   * under a lease owned by this process, at most `limit` of them; rows another
   * transaction holds are skipped, never waited for. Starts the heartbeat.
   */
  async claim(ids: Iterable<string>, opts: { job: string; limit?: number }): Promise<string[]> {
    const jobProblem = taskIdProblem(opts.job);
    if (jobProblem) throw new TrajgenError(`Cannot claim tasks for job ${JSON.stringify(opts.job)}: the job name ${jobProblem}`);
    const list = [...new Set(ids)];
    const bad = list.filter((id) => taskIdProblem(id));
    if (bad.length) throw new TrajgenError(`Cannot claim unsafe task ids: ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
    if (list.length === 0) return [];
    const at = this.stamp();
    const unknown = list.filter((id) => !this.entries.has(id));
    // Only ids this snapshot still sees as pending (or does not know) are worth a look; another machine's claims are skipped rows anyway.
    const candidates = list.filter((id) => {
      const st = this.entries.status(id);
      return st === undefined || st === 'pending';
    });
    const claimSql = `WITH c AS (
         SELECT id FROM trajgen_ledger WHERE pipeline = $1 AND id = ANY($2::text[]) AND status = 'pending'
         ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
       UPDATE trajgen_ledger t SET status = 'running', job = $4, trial = NULL, reward = NULL, trajectory_path = NULL,
         trajectory_digest = NULL, started_at = $5, finished_at = NULL, exception_type = NULL, note = NULL,
         lease_owner = $6, lease_expires = now() + make_interval(secs => $7::double precision)
       FROM c WHERE t.pipeline = $1 AND t.id = c.id
       RETURNING t.id, ${COLUMNS.map((k) => `t.${k}`).join(', ')}, t.lease_owner, true AS lease_live, t.rev`;
    const params = [this.pipeline, candidates, opts.limit ?? null, opts.job, at, this.owner, this.options.leaseSec];
    // One statement is atomic on its own: a claim of known ids is one round trip, not a transaction of three.
    const claimed =
      unknown.length === 0
        ? (await this.query<Row>(claimSql, params)).rows
        : await this.tx(async (c) => {
            await c.query(`INSERT INTO trajgen_ledger (pipeline, id, status) SELECT $1, unnest($2::text[]), 'pending' ON CONFLICT (pipeline, id) DO NOTHING`, [this.pipeline, unknown]);
            return (await c.query<Row>(claimSql, params)).rows;
          });
    this.remember(claimed);
    if (claimed.length) this.startHeartbeat();
    const got = new Set(claimed.map((r) => r.id));
    return list.filter((id) => got.has(id));
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      this.pool
        .query(`UPDATE trajgen_ledger SET lease_expires = now() + make_interval(secs => $3::double precision) WHERE pipeline = $1 AND lease_owner = $2 AND status = 'running'`, [
          this.pipeline,
          this.owner,
          this.options.leaseSec,
        ])
        .catch(() => {
          /* the next renewal tries again; a lease lost for good is reported when its outcome is recorded */
        });
    }, Math.max(50, this.options.heartbeatSec * 1000));
    this.heartbeat.unref();
  }

  /** Record one finished trial of a task this process claimed (the status rule, as the YAML ledger). */
  async recordTrialOutcome(id: string, outcome: TrialOutcome): Promise<RecordResult> {
    const what = `trial ${outcome.job}/${outcome.trial} of task ${JSON.stringify(id)}`;
    for (const [field, value] of [['job', outcome.job], ['trial', outcome.trial]] as const) {
      const p = typeof value === 'string' ? taskIdProblem(value) : 'is missing';
      if (p) throw new TrajgenError(`Cannot record ${what}: the ${field} name ${p}`);
    }
    const at = this.stamp();
    return this.tx(async (c) => {
      const [r] = await this.lockRows(c, [id]);
      if (!r) throw new TrajgenError(`Cannot record ${what}: the ledger has no such task`, { hint: 'Claim tasks (ledger.claim) before running them.' });
      const e = entryOf(r);
      if (e.status !== 'running') {
        if (e.job === outcome.job && e.trial === outcome.trial) return { status: e.status, attempts: e.attempts, changed: false };
        throw new TrajgenError(`Cannot record ${what}: the task is ${e.status}, not running`, {
          hint: TERMINAL_STATUSES.has(e.status) ? 'It was already consumed; a task is never run twice.' : 'Claim it (ledger.claim) before running it.',
        });
      }
      if (e.job !== outcome.job) throw new TrajgenError(`Cannot record ${what}: the task was claimed by job ${e.job}`, { hint: 'Its lease expired and another machine took it over.' });
      const next = applyTrialOutcome(e, outcome, { ...this.rule(), at, by: 'rollout' });
      await writeEntries(c, this.pipeline, new Map([[id, next]]));
      this.entries.set(id, next);
      this.live.delete(id);
      return { status: next.status, attempts: next.attempts, changed: true };
    });
  }

  async setStatuses(edits: { id: string; status: 'pending' | 'skipped' }[], note: string, opts: { by?: string } = {}): Promise<StatusEdit[]> {
    const at = this.stamp();
    return this.tx(async (c) => {
      await this.lockRows(c, edits.map((e) => e.id));
      const { changes, result } = planStatusEdits(this.entries, edits, note, opts.by ?? this.options.by ?? 'unknown', at);
      await writeEntries(c, this.pipeline, changes);
      for (const [id, e] of changes) this.entries.set(id, e);
      return result;
    });
  }

  async applyExclusions(excluded: ReadonlySet<string>): Promise<{ skipped: string[]; restored: StatusEdit[] }> {
    const at = this.stamp();
    return this.tx(async (c) => {
      await this.lockRows(c, [...excluded, ...this.summary().ids.skipped]);
      const { changes, skipped, restored } = planExclusions(this.entries, excluded, at);
      await writeEntries(c, this.pipeline, changes);
      for (const [id, e] of changes) this.entries.set(id, e);
      return { skipped, restored };
    });
  }

  /** Replace entries wholesale (`ledger --import`): leases cleared. */
  async importEntries(entries: Iterable<[string, LedgerEntry]>): Promise<number> {
    const changes = new Map(entries);
    await this.tx((c) => writeEntries(c, this.pipeline, changes));
    for (const [id, e] of changes) this.entries.set(id, e);
    return changes.size;
  }

  /**
   * Prepare runs synchronously on the snapshot: it gets this view, whose
   * applyExclusions/register change the snapshot at once and are written to
   * the database by flush() (under row locks, planned again on fresh rows).
   */
  stagedForPrepare(): { openReport: OpenReport; isConsumed(id: string): boolean; applyExclusions(s: ReadonlySet<string>): { skipped: string[]; restored: StatusEdit[] }; register(ids: Iterable<string>): string[]; close(): void } {
    return {
      openReport: this.openReport,
      isConsumed: (id) => this.isConsumed(id),
      applyExclusions: (set) => {
        this.staged.excluded = set;
        const { skipped, restored } = planExclusions(this.entries, set, this.stamp());
        return { skipped, restored };
      },
      register: (ids) => {
        const list = [...new Set(ids)].filter((id) => !this.entries.has(id));
        this.staged.register.push(...list);
        return list;
      },
      close: () => {},
    };
  }

  async flush(): Promise<void> {
    const { register, excluded } = this.staged;
    this.staged = { register: [] };
    if (excluded) await this.applyExclusions(excluded);
    if (register.length) await this.register(register);
  }

  async digest(): Promise<string> {
    return postgresDigest(this.pool, this.pipeline);
  }

  /** Stop the heartbeat; tasks still running under this process's lease are released now (reconcile returns them). */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    try {
      await this.pool.query(`UPDATE trajgen_ledger SET lease_expires = now() WHERE pipeline = $1 AND lease_owner = $2 AND status = 'running'`, [this.pipeline, this.owner]);
    } catch {
      /* unreachable now: the leases expire on their own */
    } finally {
      this.closed = true;
      await this.pool.end().catch(() => {});
    }
  }
}

export async function openPostgresLedger(paths: PipelinePaths, opts: PostgresLedgerOptions): Promise<PostgresLedger> {
  const pool = await connectLedgerDatabase(opts.url, opts.urlSource, opts.connectTimeoutSec);
  const ledger = new PostgresLedger(paths, pool, opts);
  try {
    // reconcile() starts with a refresh: load the snapshot once.
    if (opts.reconcile !== false) ledger.openReport.reconcile = await ledger.reconcile();
    else await ledger.refresh();
  } catch (error) {
    await ledger.close();
    throw error;
  }
  return ledger;
}
