import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pipelineTargets, STAGES, libClosure } from './targets';
import { fingerprintEnvName } from '../../bin/fingerprint.cjs';

const root = join(__dirname, '../../../..');

describe('pipelineTargets', () => {
  const targets = pipelineTargets(root, 'demo');

  it('has the seven stage targets plus check, ledger, generate-excluded-repos and clean, stages chained with dependsOn', () => {
    expect(Object.keys(targets).sort()).toEqual(['archive', 'check', 'clean', 'convert', 'generate-excluded-repos', 'ledger', 'prepare', 'register', 'rollout', 'score', 'train']);
    expect(STAGES.map((s) => targets[s].dependsOn)).toEqual([[], ['prepare'], ['rollout'], ['convert'], ['score'], ['register'], ['train']]);
    for (const s of STAGES) expect(targets[s].cache).toBe(true);
    expect(targets.check.cache).toBe(false);
    expect(targets.clean.cache).toBe(false);
  });

  it('is a pure function of the pipeline name (nothing from config.yaml in target definitions)', () => {
    expect(JSON.stringify(pipelineTargets(root, 'demo'))).toBe(JSON.stringify(targets));
    expect(JSON.stringify(pipelineTargets(root, 'other')).replaceAll('other', 'demo')).toBe(JSON.stringify(targets));
  });

  it('hashes each stage by its own fingerprint, never config.yaml as a file', () => {
    for (const s of STAGES) {
      const inputs = targets[s].inputs as unknown[];
      // Computed in-process by preTasksExecution, not by a process per stage per hash.
      expect(inputs).toContainEqual({ env: fingerprintEnvName('demo', s) });
      expect(inputs.filter((i) => typeof i === 'object' && i !== null && 'runtime' in i)).toEqual([]);
      expect(inputs).not.toContain('{projectRoot}/config.yaml');
    }
    expect(new Set(STAGES.map((s) => fingerprintEnvName('demo', s))).size).toBe(STAGES.length);
    expect(fingerprintEnvName('a-b', 'train')).not.toBe(fingerprintEnvName('a_b', 'train'));
  });

  it('gives each stage only the libs it uses', () => {
    const libsOf = (s: string) => ((targets[s].inputs as any[]).find((i) => i.input === 'production')?.projects ?? []) as string[];
    expect(libsOf('prepare')).toEqual(expect.arrayContaining(['@trajgen/config', '@trajgen/core', '@trajgen/tasks', '@trajgen/ledger']));
    for (const s of ['rollout', 'convert', 'register', 'train', 'archive']) expect(libsOf(s)).not.toContain('@trajgen/score');
    expect(libClosure(root, [])).toEqual(['config', 'core']);
  });

  it('declares outputs under artifacts/<pipeline>/ only', () => {
    for (const s of STAGES) {
      for (const o of targets[s].outputs ?? []) expect(o.replace(/^!/, '')).toMatch(/^\{workspaceRoot\}\/artifacts\/demo\//);
    }
  });
});
