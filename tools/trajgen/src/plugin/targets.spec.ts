import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { matchGlobPaths } from 'nx/src/native';
import stageGraph from '../../stage-graph.json';
import { pipelineTargets, productionPatterns, readProductionPatterns, STAGES, libClosure } from './targets';
import { fingerprintEnvName } from '../../bin/fingerprint.cjs';

const root = join(__dirname, '../../../..');
const stageLibs = Object.fromEntries(Object.entries(stageGraph.targets).map(([stage, t]) => [stage, t.libs]));

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
    // One fileset over libs/{a,b,…}: the libs of the stage's closure.
    const libsOf = (s: string) => {
      const glob = (targets[s].inputs as unknown[]).find((i): i is string => typeof i === 'string' && i.startsWith('{workspaceRoot}/libs/'));
      const m = glob?.match(/^\{workspaceRoot\}\/libs\/(?:\{([^}]+)\}|([^/{]+))\//);
      return m ? (m[1] ?? m[2]).split(',') : [];
    };
    expect(libsOf('prepare')).toEqual(expect.arrayContaining(['config', 'core', 'tasks', 'ledger']));
    for (const s of ['rollout', 'convert', 'register', 'train', 'archive']) expect(libsOf(s)).not.toContain('score');
    expect(libsOf('score')).toEqual(expect.arrayContaining(['score', 'lf', 'charts', 'config', 'core']));
    expect(libClosure(root, [])).toEqual(['config', 'core']);
  });

  it("selects exactly the files nx.json's production input selects in each of those libs (Nx's own glob engine)", () => {
    const production = readProductionPatterns(root);
    const tracked = execFileSync('git', ['ls-files', 'libs'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const stage of STAGES) {
      const globs = (targets[stage].inputs as unknown[]).filter((i): i is string => typeof i === 'string' && i.replace(/^!/, '').startsWith('{workspaceRoot}/libs/'));
      const merged = matchGlobPaths(globs.map((g) => g.replace('{workspaceRoot}/', '')), tracked);
      // The old form: each lib of the closure with its own production input.
      const perLib = tracked.map((file) => {
        const lib = file.split('/')[1];
        if (!libClosure(root, stageLibs[stage]).includes(lib)) return false;
        return matchGlobPaths(production.map((p) => p.replace('{projectRoot}', `libs/${lib}`)), [file])[0];
      });
      expect(tracked.filter((_, i) => merged[i] !== perLib[i]), stage).toEqual([]);
      expect(merged.filter(Boolean).length, stage).toBeGreaterThan(10);
    }
    // Tests, fixtures and docs are not inputs; sources and package.json are.
    const score = (targets.score.inputs as string[]).filter((i) => typeof i === 'string' && i.replace(/^!/, '').startsWith('{workspaceRoot}/libs/')).map((g) => g.replace('{workspaceRoot}/', ''));
    expect(matchGlobPaths(score, ['libs/score/src/stats.ts', 'libs/charts/package.json', 'libs/score/src/stats.spec.ts', 'libs/score/README.md', 'libs/rollout/src/run.ts'])).toEqual([true, true, false, false, false]);
  });

  it('reads the production patterns from nx.json, named inputs expanded, and says what is wrong when it cannot', () => {
    expect(productionPatterns({ namedInputs: { default: ['{projectRoot}/**/*'], production: ['default', '!{projectRoot}/**/*.spec.ts'] } })).toEqual([
      '{projectRoot}/**/*',
      '!{projectRoot}/**/*.spec.ts',
    ]);
    expect(() => productionPatterns({ namedInputs: {} })).toThrow(/nx\.json: namedInputs\.production is missing/);
    expect(() => productionPatterns({ namedInputs: { production: ['^default'] } })).toThrow(/namedInputs\.production holds "\^default".*\{projectRoot\}/);
    expect(() => productionPatterns({ namedInputs: { production: [{ runtime: 'node -v' }] } })).toThrow(/namedInputs\.production holds \{"runtime"/);
  });

  it('declares outputs under artifacts/<pipeline>/ only', () => {
    for (const s of STAGES) {
      for (const o of targets[s].outputs ?? []) expect(o.replace(/^!/, '')).toMatch(/^\{workspaceRoot\}\/artifacts\/demo\//);
    }
  });
});
