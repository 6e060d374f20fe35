import { TrajgenError } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';
import { effectiveDigestOf, ledgerStateDigest } from './ledger-digest.cjs';
import { ledgerRuleOptions, openLedger, type Ledger, type OpenLedgerOptions } from './ledger';
import { connectLedgerDatabase, openPostgresLedger, postgresDigest, type PostgresLedger } from './postgres';

/** Either backend; every mutation may be awaited (the YAML ledger's are synchronous). */
export type AnyLedger = Ledger | PostgresLedger;

export function isPostgres(l: AnyLedger): l is PostgresLedger {
  return (l as PostgresLedger).backend === 'postgres';
}

/** The connection string of `ledger.backend: postgres`, from the environment variable config names. */
export function postgresUrlOf(pipeline: LoadedPipeline, env: NodeJS.ProcessEnv = process.env): { url: string; source: string } {
  const name = pipeline.config.ledger.postgres.url_env;
  const url = env[name];
  if (!url) {
    throw new TrajgenError(`ledger.backend is postgres but the environment variable ${name} (ledger.postgres.url_env) is not set`, {
      hint: `export ${name}=postgres://USER@HOST:5432/DATABASE before running; nothing was claimed.`,
    });
  }
  return { url, source: `$${name}` };
}

/** Open the pipeline's ledger on the configured backend (reconciled, as openLedger). */
export async function openPipelineLedger(pipeline: LoadedPipeline, opts: { purpose: string; waitMs?: number; reconcile?: boolean; env?: NodeJS.ProcessEnv }): Promise<AnyLedger> {
  const rules = ledgerRuleOptions(pipeline.config);
  if (pipeline.config.ledger.backend !== 'postgres') return openLedger(pipeline.paths, { ...rules, purpose: opts.purpose, waitMs: opts.waitMs, reconcile: opts.reconcile } as OpenLedgerOptions);
  const { url, source } = postgresUrlOf(pipeline, opts.env);
  const pg = pipeline.config.ledger.postgres;
  return openPostgresLedger(pipeline.paths, {
    url,
    urlSource: source,
    purpose: opts.purpose,
    maxRetries: rules.maxRetries,
    resampleMaxAttempts: rules.resampleMaxAttempts,
    leaseSec: pg.lease_sec,
    heartbeatSec: pg.heartbeat_sec,
    connectTimeoutSec: pg.connect_timeout_sec,
    reconcile: opts.reconcile,
  });
}

/** The ledger's state digest now: the YAML files' bytes, or the database's count and newest rev. */
export async function currentLedgerDigest(pipeline: LoadedPipeline): Promise<string> {
  if (pipeline.config.ledger.backend !== 'postgres') return ledgerStateDigest(pipeline.paths.artifacts);
  const { url, source } = postgresUrlOf(pipeline);
  const pool = await connectLedgerDatabase(url, source, pipeline.config.ledger.postgres.connect_timeout_sec);
  try {
    return await postgresDigest(pool, pipeline.name);
  } finally {
    await pool.end().catch(() => {});
  }
}

/** What prepare's fingerprint saw (see effectiveLedgerDigest in ledger-digest.cjs), for either backend. */
export async function effectivePipelineLedgerDigest(pipeline: LoadedPipeline): Promise<string> {
  return effectiveDigestOf(pipeline.paths.artifacts, await currentLedgerDigest(pipeline));
}
