import { describe, expect, it, vi } from 'vitest';
import { runTrain } from '@trajgen/trainer';
import { executorHarness, itKeepsTheStageContract, MINIMAL_CONFIG } from '../shared/__fixtures__/harness';
import trainExecutor from './executor';
import schema from './schema.json';

// A TEST DOUBLE for the stage lib: a real training run needs the managed Python env and minutes of CPU
// (libs/trainer's specs and test/e2e/caching.test.ts run it).
vi.mock('@trajgen/trainer', () => ({ runTrain: vi.fn() }));

const h = executorHarness();

describe('train executor', () => {
  itKeepsTheStageContract(h, {
    name: 'train',
    executor: trainExecutor,
    lib: vi.mocked(runTrain),
    config: MINIMAL_CONFIG.replace('output_dir: o', 'output_dir: o\n  num_train_epochs: 2'),
    expectConfig: { training: { num_train_epochs: 2 } },
  });

  it('takes no options (its settings live in config.yaml)', () => {
    expect(schema.properties).toEqual({});
    expect(schema.additionalProperties).toBe(false);
  });
});
