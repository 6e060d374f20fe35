import { describe, expect, it, vi } from 'vitest';
import { runRollout } from '@trajgen/rollout';
import { executorHarness, itKeepsTheStageContract, MINIMAL_CONFIG } from '../shared/__fixtures__/harness';
import rolloutExecutor from './executor';
import schema from './schema.json';

// A TEST DOUBLE for the stage lib: a real rollout needs agent CLIs, containers and an upstream model
// (libs/rollout's specs and test/e2e/rollout.test.ts run it).
vi.mock('@trajgen/rollout', () => ({ runRollout: vi.fn() }));

const h = executorHarness();

describe('rollout executor', () => {
  itKeepsTheStageContract(h, {
    name: 'rollout',
    executor: rolloutExecutor,
    lib: vi.mocked(runRollout),
    config: MINIMAL_CONFIG + 'rollout:\n  n_concurrent: 3\n',
    expectConfig: { rollout: { n_concurrent: 3 } },
  });

  it('takes no options (its settings live in config.yaml)', () => {
    expect(schema.properties).toEqual({});
    expect(schema.additionalProperties).toBe(false);
  });
});
