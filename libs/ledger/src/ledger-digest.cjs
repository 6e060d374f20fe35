'use strict';
// Plain CommonJS on purpose: shared with tools/trajgen/bin/fingerprint.cjs,
// which runs on every Nx hash without a TypeScript transpiler.
const { readFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { join } = require('node:path');

const LEDGER_FILE = 'consumption_ledger.yaml';
const JOURNAL_FILE = join('.ledger', 'journal.jsonl');

function readOr(path, fallback) {
  try {
    return readFileSync(path);
  } catch {
    return Buffer.from(fallback);
  }
}

/** Digest of the ledger as stored: the YAML plus any journal not yet compacted into it. */
function ledgerStateDigest(artifactsDir) {
  return createHash('sha256')
    .update(readOr(join(artifactsDir, LEDGER_FILE), '\u0000absent'))
    .update('\u0000')
    .update(readOr(join(artifactsDir, JOURNAL_FILE), ''))
    .digest('hex');
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The ledger state prepare depends on. Rollout consumes exactly the batch that
 * prepare handed out; that expected change must not make prepare hand out a
 * new batch on the next run (the rerun would execute prepare and rollout for
 * nothing). So when the ledger is byte-for-byte what the last *completed*
 * rollout of the current batch left, prepare sees the state it saw when it
 * made that batch. Any other change — a person editing a status, a killed
 * rollout, another process — shows as the real current digest.
 */
function effectiveLedgerDigest(artifactsDir) {
  return effectiveDigestOf(artifactsDir, ledgerStateDigest(artifactsDir));
}

/** effectiveLedgerDigest for a current digest from either backend (YAML bytes, or the PostgreSQL count/rev). */
function effectiveDigestOf(artifactsDir, current) {
  const batch = readJson(join(artifactsDir, 'prepare', 'batch.json'));
  const run = readJson(join(artifactsDir, 'rollout', 'run.json'));
  if (
    batch &&
    run &&
    typeof batch.batch_digest === 'string' &&
    run.batch_digest === batch.batch_digest &&
    run.ledger_digest_after === current &&
    typeof batch.ledger_digest_before === 'string'
  ) {
    return batch.ledger_digest_before;
  }
  return current;
}

/**
 * `ledger.backend: postgres`: the shared ledger's state as the database answers
 * it cheaply — row count and newest rev of the pipeline (a sequence value a
 * trigger stamps on every change of a row's ledger fields; libs/ledger
 * postgres.ts). A task a teammate consumed changes it, so prepare reruns here.
 * An unreachable database or missing variable gives a digest of its own (prepare
 * then runs and fails with the clear error).
 */
async function postgresLedgerDigest(url, pipeline, timeoutMs = 10000) {
  if (!url) return 'pg:no-url';
  const { Client } = require('pg');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, application_name: 'trajgen-fingerprint' });
  try {
    await client.connect();
    const { rows } = await client.query('SELECT count(*)::text AS n, max(rev)::text AS rev FROM trajgen_ledger WHERE pipeline = $1', [pipeline]);
    return `pg:${rows[0].n}:${rows[0].rev || 0}`;
  } catch (error) {
    return `pg:unavailable:${(error && error.code) || 'error'}`;
  } finally {
    await client.end().catch(() => {});
  }
}

module.exports = { ledgerStateDigest, effectiveLedgerDigest, effectiveDigestOf, postgresLedgerDigest, LEDGER_FILE, JOURNAL_FILE };
