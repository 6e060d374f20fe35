import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NxJsonConfiguration, TargetConfiguration } from '@nx/devkit';
import stageGraph from '../../stage-graph.json';
import { fingerprintEnvName } from '../../bin/fingerprint.cjs';

export type StageName = 'prepare' | 'rollout' | 'convert' | 'score' | 'register' | 'train' | 'archive';

interface StageSpec {
  description: string;
  config: string[];
  fingerprint: string[];
  libs: string[];
  external: string[];
  outputs: string[];
  pipelineFiles?: boolean;
  transitiveUpstream?: boolean;
}

export const STAGES = stageGraph.stages as StageName[];
const SPECS = stageGraph.targets as Record<StageName, StageSpec>;
export const PLUGIN_ROOT = 'tools/trajgen';
const EXECUTOR = (name: string) => `@trajgen/plugin:${name}`;

/** Libs every stage loads (config parsing, fs helpers). */
const BASE_LIBS = ['config', 'core'];

/** The `@trajgen/*` libs each lib depends on, read from `libs/<name>/package.json` at most once per reader. */
export type LibDeps = (lib: string) => string[] | undefined;

export function libDepsReader(workspaceRoot: string): LibDeps {
  const read = new Map<string, string[] | undefined>();
  return (lib) => {
    if (!read.has(lib)) {
      const pkgPath = join(workspaceRoot, 'libs', lib, 'package.json');
      const pkg = existsSync(pkgPath) ? (JSON.parse(readFileSync(pkgPath, 'utf8')) as { dependencies?: Record<string, string> }) : undefined;
      read.set(lib, pkg && Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith('@trajgen/')).map((d) => d.slice('@trajgen/'.length)));
    }
    return read.get(lib);
  };
}

/**
 * Workspace libs a lib depends on, from `libs/<name>/package.json`
 * dependencies on `@trajgen/*`. Transitive closure, so a stage's inputs are
 * exactly the libs it can load.
 */
export function libClosure(workspaceRoot: string, roots: string[], deps: LibDeps = libDepsReader(workspaceRoot)): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const dep of deps(name) ?? []) visit(dep);
  };
  for (const r of [...BASE_LIBS, ...roots]) visit(r);
  return [...seen].filter((l) => existsSync(join(workspaceRoot, 'libs', l))).sort();
}

/** An executor's sources (its folder and `executors/shared`): everything but its tests and fixtures. */
function executorFileset(stage: StageName): string[] {
  const dirs = `{workspaceRoot}/${PLUGIN_ROOT}/src/executors/{${stage},shared}`;
  return [`${dirs}/**/*`, `!${dirs}/**/*.{spec,test}.ts`, `!${dirs}/**/__fixtures__/**`, `!${dirs}/README.md`];
}

/** nx.json's `production` named input (what of a lib a stage depends on): `{projectRoot}` patterns, named inputs expanded. */
export function productionPatterns(nxJson: Pick<NxJsonConfiguration, 'namedInputs'>): string[] {
  const expand = (name: string, seen: string[]): string[] => {
    const entries = nxJson.namedInputs?.[name];
    if (!entries) throw new Error(`nx.json: namedInputs.${name} is missing; the pipeline stages hash each lib they use through namedInputs.production (patterns under {projectRoot}). Add it back (docs/architecture.md, "Stages, targets and caching").`);
    return entries.flatMap((entry) => {
      if (typeof entry === 'string' && nxJson.namedInputs?.[entry] && !seen.includes(entry)) return expand(entry, [...seen, entry]);
      if (typeof entry === 'string' && /^!?\{projectRoot\}\//.test(entry)) return [entry];
      throw new Error(
        `nx.json: namedInputs.${name} holds ${JSON.stringify(entry)}; the pipeline stages can apply only "{projectRoot}/…" patterns ` +
          `(with "!" to exclude) and the names of other named inputs to the libs they use. Express it that way, ` +
          `or give the libs' tests a named input of their own.`,
      );
    });
  };
  return expand('production', ['production']);
}

/**
 * The libs' `production` files as ONE fileset over `libs/{a,b,…}`, not one
 * `{input: 'production', projects}` entry per lib: Nx hashes each project
 * entry on its own, per stage, and a no-op hashes the six downstream stages
 * one call at a time (each after its upstream is restored): the per-lib
 * entries cost ~4 of the ~34 ms a demo no-op spent hashing. The same files
 * either way (targets.spec.ts checks it with Nx's own glob engine).
 */
function libFileset(libs: string[], production: string[]): string[] {
  const dirs = `{workspaceRoot}/libs/${libs.length === 1 ? libs[0] : `{${libs.join(',')}}`}`;
  return production.map((p) => p.replace('{projectRoot}', dirs));
}

/** nx.json's `production` patterns of the workspace at `workspaceRoot`. */
export function readProductionPatterns(workspaceRoot: string): string[] {
  return productionPatterns(JSON.parse(readFileSync(join(workspaceRoot, 'nx.json'), 'utf8')) as NxJsonConfiguration);
}

function stageTarget(workspaceRoot: string, pipeline: string, stage: StageName, index: number, deps: LibDeps, production: string[]): TargetConfiguration {
  const spec = SPECS[stage];
  const upstream = index > 0 ? STAGES[index - 1] : undefined;
  const artifacts = `artifacts/${pipeline}`;
  const inputs: TargetConfiguration['inputs'] = [
    // Config keys and gitignored state (bin/fingerprint.cjs), computed for all stages at once by preTasksExecution.
    { env: fingerprintEnvName(pipeline, stage) },
    ...executorFileset(stage),
    `{workspaceRoot}/${PLUGIN_ROOT}/executors.json`,
    `{workspaceRoot}/${PLUGIN_ROOT}/stage-graph.json`,
    // How the executor is loaded and compiled: its CommonJS entry, the swc registration and the compiler options.
    `{workspaceRoot}/${PLUGIN_ROOT}/src/executors/index.cjs`,
    `{workspaceRoot}/${PLUGIN_ROOT}/src/register-typescript.cjs`,
    `{workspaceRoot}/${PLUGIN_ROOT}/src/swc-project.cjs`,
    '{workspaceRoot}/tsconfig.workspace.json',
    // The libs it can load: each lib's "production" files (sources and package.json, not tests).
    ...libFileset(libClosure(workspaceRoot, spec.libs, deps), production),
    { externalDependencies: spec.external.filter((dep) => existsSync(join(workspaceRoot, 'node_modules', dep, 'package.json'))) },
  ];
  if (spec.pipelineFiles) {
    // Tasks, manifest and excluded_tasks.txt kept beside the config; the config itself goes through the fingerprint.
    inputs.push('{projectRoot}/**/*', '!{projectRoot}/config.yaml');
  }
  if (upstream) {
    inputs.push(
      spec.transitiveUpstream
        ? { dependentTasksOutputFiles: `${artifacts}/**/*`, transitive: true }
        : { dependentTasksOutputFiles: `${artifacts}/**/*` },
    );
  }
  return {
    executor: EXECUTOR(stage),
    cache: true,
    dependsOn: upstream ? [upstream] : [],
    inputs,
    outputs: spec.outputs.map((o) => (o.startsWith('!') ? `!{workspaceRoot}/${artifacts}/${o.slice(1)}` : `{workspaceRoot}/${artifacts}/${o}`)),
    options: {},
    metadata: { description: spec.description, technologies: ['trajgen'] },
  };
}

/**
 * The targets of a pipeline. A pure function of the pipeline's name: nothing
 * from config.yaml goes into a target definition, because Nx hashes every
 * target's options and outputs of a project into every task of it — a value
 * from one section there would rerun all stages.
 */
export function pipelineTargets(
  workspaceRoot: string,
  pipeline: string,
  deps: LibDeps = libDepsReader(workspaceRoot),
  production: string[] = readProductionPatterns(workspaceRoot),
): Record<string, TargetConfiguration> {
  const targets: Record<string, TargetConfiguration> = {
    check: {
      executor: EXECUTOR('check'),
      cache: false,
      // A file input only so that `nx affected` notices config edits; check itself is never cached.
      inputs: ['{projectRoot}/config.yaml'],
      options: {},
      metadata: { description: 'Preflight: validate the config and every external requirement the chosen backends need. No side effects.' },
    },
    ledger: {
      executor: EXECUTOR('ledger'),
      cache: false,
      options: {},
      metadata: { description: 'Show the consumption ledger; reset failed tasks to pending or skip a task, each change with a note.' },
    },
    'generate-excluded-repos': {
      executor: EXECUTOR('generate-excluded-repos'),
      cache: false,
      options: {},
      metadata: { description: 'Regenerate artifacts/data/excluded_repos.txt from SWE-bench dataset files and report the diff.' },
    },
    clean: {
      executor: EXECUTOR('clean'),
      cache: false,
      options: {},
      metadata: { description: 'Remove temporary outputs. Keeps ledger, jobs, data and models unless explicitly asked (jobs: never).' },
    },
  };
  STAGES.forEach((stage, i) => {
    targets[stage] = stageTarget(workspaceRoot, pipeline, stage, i, deps, production);
  });
  return targets;
}

export function listPipelines(workspaceRoot: string): string[] {
  const dir = join(workspaceRoot, 'pipelines');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'config.yaml')))
    .map((e) => e.name)
    .sort();
}
