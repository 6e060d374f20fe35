import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trackedTempDirs } from '../../../test/support/temp-dirs';
import {
  batchSample,
  convertStatsSample,
  receiptSample,
  runSample,
  scoreStatsSample,
  summarySample,
  trainResultSample,
  trialsSample,
  workerTrainResultSample,
} from '../../../test/support/contract-samples';
import { ContractError, batchFile, convertStats, keyPath, registerReceipt, runRecord, scoreStats, summaryFile, trainResult, trialsIndex, type RunRecord } from './index';

const tempDir = trackedTempDirs();

const batch = batchSample;
const run = runSample;
const receipt = receiptSample;

const cases = [
  ['batch.json', batchFile, batchSample],
  ['trials.json', trialsIndex, trialsSample],
  ['run.json', runRecord, runSample],
  ['convert stats', convertStats, convertStatsSample],
  ['score stats', scoreStats, scoreStatsSample([3, 5, 8])],
  ['receipt.json', registerReceipt, receiptSample],
  ['train result', trainResult, trainResultSample],
  ['train result (worker node)', trainResult, workerTrainResultSample],
  ['summary.json', summaryFile, summarySample],
] as const;

describe('contracts', () => {
  it.each(cases)('%s: write then read gives the same value, written as given', (_name, contract, value) => {
    const file = join(tempDir(join(tmpdir(), 'contracts-')), 'f.json');
    (contract.write as (p: string, v: unknown) => void)(file, value);
    expect(readFileSync(file, 'utf8')).toBe(JSON.stringify(value, null, 2) + '\n');
    expect(contract.read(file)).toEqual(value);
  });

  it('a missing file says which stage writes it', () => {
    const root = tempDir(join(tmpdir(), 'contracts-'));
    const error = catchError(() => batchFile.read(join(root, 'artifacts/p/prepare/batch.json'), { root }));
    expect(error).toBeInstanceOf(ContractError);
    expect(error.problem).toBe('missing');
    expect(error.message).toBe('artifacts/p/prepare/batch.json does not exist');
    expect(error.hint).toBe('The prepare stage writes it: run it first (nx run p:prepare).');
  });

  it('a torn file is not valid JSON, with the parser message and what to do', () => {
    const root = tempDir(join(tmpdir(), 'contracts-'));
    writeFileSync(join(root, 'trials.json'), '{"trials": [');
    const error = catchError(() => trialsIndex.read(join(root, 'trials.json'), { root }));
    expect(error.problem).toBe('unreadable');
    expect(error.message).toMatch(/^trials\.json is not valid JSON \(/);
    expect(error.hint).toMatch(/Run the rollout stage again/);
  });

  it('a malformed file names the file, the contract, every key path and what was expected', () => {
    const root = tempDir(join(tmpdir(), 'contracts-'));
    mkdirSync(join(root, 'prepare'));
    const bad = { ...batch, schema_version: 2, tasks: [{ ...batch.tasks[0], staged_path: 7 }], counts: { ...batch.counts, listed: -1 } };
    writeFileSync(join(root, 'prepare/batch.json'), JSON.stringify(bad));
    const error = catchError(() => batchFile.read(join(root, 'prepare/batch.json'), { root }));
    expect(error.problem).toBe('invalid');
    expect(error.message).toBe('prepare/batch.json does not follow the prepare → rollout, archive contract (prepare/batch.json)');
    expect(error.details).toEqual([
      expect.stringMatching(/^schema_version: .*expected 1/),
      expect.stringMatching(/^tasks\[0\]\.staged_path: .*expected string, received number/),
      expect.stringMatching(/^counts\.listed: .*>=0/),
    ]);
    expect(error.format()).toContain('→ Run the prepare stage again to rewrite it (nx run <pipeline>:prepare).');
  });

  it('a foreign layout is rejected, not half read (the archive used to accept a ledger-like runs list)', () => {
    const root = tempDir(join(tmpdir(), 'contracts-'));
    writeFileSync(join(root, 'result.json'), '[1,2]');
    const error = catchError(() => trainResult.read(join(root, 'result.json'), { root }));
    expect(error.problem).toBe('invalid');
    expect(error.details[0]).toMatch(/^\(the top level\): /);
  });

  it('write refuses a value its readers would reject, and leaves no file', () => {
    const dir = tempDir(join(tmpdir(), 'contracts-'));
    const broken = { ...run, status: 'finished' } as unknown as RunRecord;
    const error = catchError(() => runRecord.write(join(dir, 'run.json'), broken));
    expect(error.details).toEqual([expect.stringMatching(/^status: /)]);
    expect(error.hint).toMatch(/a bug in trajgen/);
    expect(existsSync(join(dir, 'run.json'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reading strips keys the contract does not know (an older or newer producer adds one)', () => {
    const dir = tempDir(join(tmpdir(), 'contracts-'));
    writeFileSync(join(dir, 'r.json'), JSON.stringify({ ...receipt, extra: true }));
    expect(registerReceipt.read(join(dir, 'r.json'))).toEqual(receipt);
  });

  it('key paths read like the JSON', () => {
    expect(keyPath(['tasks', 3, 'id'])).toBe('tasks[3].id');
    expect(keyPath([])).toBe('(the top level)');
  });
});

function catchError(fn: () => unknown): ContractError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ContractError) return error;
    throw error;
  }
  throw new Error('expected a ContractError');
}
