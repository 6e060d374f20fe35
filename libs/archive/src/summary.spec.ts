import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipelinePaths } from '@trajgen/config';
import { pipelineWorkspace } from '../../../test/support/pipeline-workspace';
import { trackedTempDirs } from '../../../test/support/temp-dirs';
import { seedPipelineOutputs } from './__fixtures__/seed';
import { collectSummary, ledgerCounts, pipelineFacts, readLossCurve, readScoreValues } from './summary';

const tempDir = trackedTempDirs();
function workspace(config = 'meta_info:\n  description: seeded\nconversion:\n  data_name: d1\ntraining:\n  model_name_or_path: m\n  output_dir: o\n'): string {
  return pipelineWorkspace({ prefix: 'archive-summary-', config, tempDir }).root;
}

describe('collectSummary', () => {
  it('says "not available", with the reason, for every part a stage has not produced', () => {
    const root = workspace();
    const s = collectSummary(root, pipelineFacts(root, 'p'));
    expect(s.pipeline).toBe('p');
    expect(s.description).toBe('seeded');
    for (const part of ['tasks', 'trials', 'usage', 'conversion', 'score', 'register', 'training'] as const) expect(s[part].available, part).toBe(false);
    expect(s.trials).toEqual({ available: false, reason: 'artifacts/p/rollout/trials.json does not exist' });
    expect(s.conversion).toEqual({ available: false, reason: 'artifacts/p/data/im_data/d1.stats.json does not exist' });
  });

  it('summarises every stage output: tasks, trials and rewards per task, tokens and cost, conversion, score, register, training', () => {
    const root = workspace();
    seedPipelineOutputs(root, 'p', { dataName: 'd1' });
    const s = collectSummary(root, pipelineFacts(root, 'p'));
    if (!s.tasks.available || !s.trials.available || !s.usage.available || !s.conversion.available || !s.score.available || !s.register.available || !s.training.available) {
      throw new Error(`a part is missing: ${JSON.stringify(s)}`);
    }
    expect(s.tasks.ledger).toEqual({ total: 5, counts: { pending: 0, running: 0, done: 3, failed: 1, skipped: 1 } });
    expect(s.tasks.batch).toEqual({ size: 4, counts: { listed: 5, staged: 4, consumed: 0, excluded: 1, missing: 0, invalid: 0 } });
    expect(s.trials).toMatchObject({ total: 8, jobs: 1, resolved: 5, unresolved: 2, errors: 1, pass_rate: 0.7143, by_exception: { EnvironmentStartTimeoutError: 1 }, by_agent: { 'claude-code': 8 } });
    expect(s.trials.rewards).toEqual({ count: 7, min: 0, mean: 0.7143, max: 1 });
    expect(s.trials.per_task.map((r) => [r.task_id, r.trials, r.resolved, r.pass_rate])).toEqual([
      ['add-greeting', 2, 2, 1],
      ['fix-off-by-one', 2, 0, 0],
      ['parse-csv', 2, 1, 1],
      ['rename-symbol', 2, 2, 1],
    ]);
    // Tokens: sum of the 8 trials' agent_result (1000 + 100 i in, 300 + 10 i out, 200 cached, $0.01 each).
    expect(s.usage).toMatchObject({ input_tokens: 10800, output_tokens: 2680, cache_tokens: 1600, cost_usd: 0.08, trials_with_usage: 8, trials_total: 8 });
    expect(s.usage.last_run).toEqual({ job: expect.stringMatching(/^p-claude-code/), input_tokens: 12000, output_tokens: 3400, cost_usd: 0.087 });
    expect(s.trials.per_task[0]).toMatchObject({ input_tokens: 1000 + 1100, output_tokens: 300 + 310, cost_usd: 0.02 });
    expect(s.conversion).toMatchObject({ data_name: 'd1', rows: 5, instances: 3, trials: { seen: 8, selected: 6, converted: 5 }, not_selected: { unresolved: 2 }, dropped: { no_trajectory: 1 }, by_scaffold: { 'claude-code': 5 } });
    expect(s.score).toMatchObject({ rows: { lf: 4, excluded: 2 }, exclusions: { min_score: 1, max_tokens: 1 }, hack_flags: { confirmed: 0, suspected: 1 }, tool_error_rate: 0.075 });
    expect(s.score.scores.all).toEqual({ count: 5, min: 0.38, mean: 0.678, max: 0.91 });
    expect(s.register).toMatchObject({ dataset: 'd1', action: 'registered', file_name: 'd1.json' });
    expect(s.training).toMatchObject({ run: 'demo-lora', steps: 16, checkpoint_path: 'artifacts/p/model/demo-lora/checkpoint-16', runtime_sec: 42.5 });
  });

  it('reads trials without jobs (a clone restored from the cache): rewards yes, tokens from run.json only', () => {
    const root = workspace();
    seedPipelineOutputs(root, 'p', { stages: ['rollout'] });
    const s = collectSummary(root, pipelineFacts(root, 'p'));
    expect(s.trials.available).toBe(true);
    expect(s.usage).toMatchObject({ available: true, trials_with_usage: 0, input_tokens: 0, last_run: { input_tokens: 12000 } });
  });

  it('never throws on malformed or foreign files; it says what is wrong', () => {
    const root = workspace();
    const a = join(root, 'artifacts/p');
    mkdirSync(join(a, 'rollout'), { recursive: true });
    mkdirSync(join(a, 'train'), { recursive: true });
    writeFileSync(join(a, 'rollout/trials.json'), '{"trials": [');
    writeFileSync(join(a, 'train/result.json'), '[1,2]');
    writeFileSync(join(a, 'consumption_ledger.yaml'), 'tasks: [: bad');
    mkdirSync(join(a, 'register'), { recursive: true });
    writeFileSync(join(a, 'register/receipt.json'), JSON.stringify({ schema_version: 1, dataset: 'd', action: 'registered' }));
    const s = collectSummary(root, pipelineFacts(root, 'p'));
    expect(s.trials).toMatchObject({ available: false, reason: expect.stringMatching(/^artifacts\/p\/rollout\/trials.json is not valid JSON/) });
    // A file that breaks its contract is not half read: the part says which file, which key and what was expected.
    expect(s.training).toEqual({ available: false, reason: expect.stringMatching(/^artifacts\/p\/train\/result.json does not follow the train → archive contract \(train\/result.json\): \(the top level\): /) });
    expect(s.register).toEqual({ available: false, reason: expect.stringMatching(/^artifacts\/p\/register\/receipt.json does not follow the register → train, archive contract .*: source: .* \(and \d+ more\)$/) });
    expect(s.tasks).toMatchObject({ available: false, reason: expect.stringContaining('consumption_ledger.yaml') });
  });

  it('still summarises a pipeline whose config is invalid (the run that broke it gets recorded)', () => {
    const root = workspace('conversion:\n  data_name: d2\n  bogus_key: 1\n');
    const facts = pipelineFacts(root, 'p');
    expect(facts).toMatchObject({ dataName: 'd2', configProblem: expect.stringContaining('problem') });
  });
});

describe('ledgerCounts', () => {
  it('counts entries by status as the ledger reads them', () => {
    const root = workspace();
    seedPipelineOutputs(root, 'p', { stages: ['ledger'] });
    expect(ledgerCounts(pipelinePaths(root, 'p'))).toEqual({ total: 5, counts: { pending: 0, running: 0, done: 3, failed: 1, skipped: 1 } });
  });

  it('is a problem, not counts, for a layout the ledger never writes', () => {
    const root = workspace();
    mkdirSync(join(root, 'artifacts/p'), { recursive: true });
    writeFileSync(join(root, 'artifacts/p/consumption_ledger.yaml'), 'runs:\n  - {task_id: a, status: done}\n  - {task_id: b, status: failed}\n');
    expect(ledgerCounts(pipelinePaths(root, 'p'))).toEqual({ problem: expect.stringContaining('artifacts/p/consumption_ledger.yaml') });
  });

  it('skips a torn last journal line (a writer killed mid-append), as the ledger does', () => {
    const root = workspace();
    seedPipelineOutputs(root, 'p', { stages: ['ledger'] });
    appendFileSync(join(root, 'artifacts/p/.ledger/journal.jsonl'), '{"v":1,"set":{"rename-sym');
    expect(ledgerCounts(pipelinePaths(root, 'p'))).toMatchObject({ total: 5, counts: { done: 3, failed: 1 } });
  });
});

describe('report series', () => {
  it('reads main-row scores from the scored IM and the loss curve (the later line of a replayed step wins)', async () => {
    const root = workspace();
    seedPipelineOutputs(root, 'p', { dataName: 'd1' });
    const paths = pipelinePaths(root, 'p');
    expect((await readScoreValues(paths, 'd1')).values).toEqual([0.91, 0.72, 0.55, 0.83, 0.38]);
    const s = collectSummary(root, pipelineFacts(root, 'p'));
    const curve = readLossCurve(paths, s.training);
    expect(curve.loss).toHaveLength(16);
    expect(curve.loss!.find(([step]) => step === 8)![1]).not.toBe(9.99);
    expect(curve.loss!.map(([step]) => step)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('explains a missing series', async () => {
    const root = workspace();
    const paths = pipelinePaths(root, 'p');
    expect(await readScoreValues(paths, 'd1')).toEqual({ note: 'artifacts/p/data/im_data/d1.scored.jsonl does not exist' });
    expect(readLossCurve(paths, { available: false, reason: 'x' })).toEqual({ lossNote: 'no trainer_log.jsonl under artifacts/p/train' });
  });
});
