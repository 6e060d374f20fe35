// Generated from tools/trajgen/src/plugin/targets.ts by scripts/build-plugin.cjs (npm run build:plugin). Do not edit.
"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.PLUGIN_ROOT = exports.STAGES = void 0;
exports.libDepsReader = libDepsReader;
exports.libClosure = libClosure;
exports.productionPatterns = productionPatterns;
exports.readProductionPatterns = readProductionPatterns;
exports.pipelineTargets = pipelineTargets;
exports.listPipelines = listPipelines;
const node_fs_1 = require("node:fs");
const node_path_1 = require("node:path");
const stage_graph_json_1 = __importDefault(require("../../stage-graph.json"));
const fingerprint_cjs_1 = require("../../bin/fingerprint.cjs");
exports.STAGES = stage_graph_json_1.default.stages;
const SPECS = stage_graph_json_1.default.targets;
exports.PLUGIN_ROOT = 'tools/trajgen';
const EXECUTOR = (name) => `@trajgen/plugin:${name}`;
/** Libs every stage loads (config parsing, fs helpers). */
const BASE_LIBS = ['config', 'core'];
function libDepsReader(workspaceRoot) {
    const read = new Map();
    return (lib) => {
        if (!read.has(lib)) {
            const pkgPath = (0, node_path_1.join)(workspaceRoot, 'libs', lib, 'package.json');
            const pkg = (0, node_fs_1.existsSync)(pkgPath) ? JSON.parse((0, node_fs_1.readFileSync)(pkgPath, 'utf8')) : undefined;
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
function libClosure(workspaceRoot, roots, deps = libDepsReader(workspaceRoot)) {
    const seen = new Set();
    const visit = (name) => {
        if (seen.has(name))
            return;
        seen.add(name);
        for (const dep of deps(name) ?? [])
            visit(dep);
    };
    for (const r of [...BASE_LIBS, ...roots])
        visit(r);
    return [...seen].filter((l) => (0, node_fs_1.existsSync)((0, node_path_1.join)(workspaceRoot, 'libs', l))).sort();
}
/** An executor's sources (its folder and `executors/shared`): everything but its tests and fixtures. */
function executorFileset(stage) {
    const dirs = `{workspaceRoot}/${exports.PLUGIN_ROOT}/src/executors/{${stage},shared}`;
    return [`${dirs}/**/*`, `!${dirs}/**/*.{spec,test}.ts`, `!${dirs}/**/__fixtures__/**`, `!${dirs}/README.md`];
}
/** nx.json's `production` named input (what of a lib a stage depends on): `{projectRoot}` patterns, named inputs expanded. */
function productionPatterns(nxJson) {
    const expand = (name, seen) => {
        const entries = nxJson.namedInputs?.[name];
        if (!entries)
            throw new Error(`nx.json: namedInputs.${name} is missing; the pipeline stages hash each lib they use through namedInputs.production (patterns under {projectRoot}). Add it back (docs/architecture.md, "Stages, targets and caching").`);
        return entries.flatMap((entry) => {
            if (typeof entry === 'string' && nxJson.namedInputs?.[entry] && !seen.includes(entry))
                return expand(entry, [...seen, entry]);
            if (typeof entry === 'string' && /^!?\{projectRoot\}\//.test(entry))
                return [entry];
            throw new Error(`nx.json: namedInputs.${name} holds ${JSON.stringify(entry)}; the pipeline stages can apply only "{projectRoot}/…" patterns ` +
                `(with "!" to exclude) and the names of other named inputs to the libs they use. Express it that way, ` +
                `or give the libs' tests a named input of their own.`);
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
function libFileset(libs, production) {
    const dirs = `{workspaceRoot}/libs/${libs.length === 1 ? libs[0] : `{${libs.join(',')}}`}`;
    return production.map((p) => p.replace('{projectRoot}', dirs));
}
/** nx.json's `production` patterns of the workspace at `workspaceRoot`. */
function readProductionPatterns(workspaceRoot) {
    return productionPatterns(JSON.parse((0, node_fs_1.readFileSync)((0, node_path_1.join)(workspaceRoot, 'nx.json'), 'utf8')));
}
function stageTarget(workspaceRoot, pipeline, stage, index, deps, production) {
    const spec = SPECS[stage];
    const upstream = index > 0 ? exports.STAGES[index - 1] : undefined;
    const artifacts = `artifacts/${pipeline}`;
    const inputs = [
        // Config keys and gitignored state (bin/fingerprint.cjs), computed for all stages at once by preTasksExecution.
        { env: (0, fingerprint_cjs_1.fingerprintEnvName)(pipeline, stage) },
        ...executorFileset(stage),
        `{workspaceRoot}/${exports.PLUGIN_ROOT}/executors.json`,
        `{workspaceRoot}/${exports.PLUGIN_ROOT}/stage-graph.json`,
        // How the executor is loaded and compiled: its CommonJS entry, the swc registration and the compiler options.
        `{workspaceRoot}/${exports.PLUGIN_ROOT}/src/executors/index.cjs`,
        `{workspaceRoot}/${exports.PLUGIN_ROOT}/src/register-typescript.cjs`,
        `{workspaceRoot}/${exports.PLUGIN_ROOT}/src/swc-project.cjs`,
        '{workspaceRoot}/tsconfig.workspace.json',
        // The libs it can load: each lib's "production" files (sources and package.json, not tests).
        ...libFileset(libClosure(workspaceRoot, spec.libs, deps), production),
        { externalDependencies: spec.external.filter((dep) => (0, node_fs_1.existsSync)((0, node_path_1.join)(workspaceRoot, 'node_modules', dep, 'package.json'))) },
    ];
    if (spec.pipelineFiles) {
        // Tasks, manifest and excluded_tasks.txt kept beside the config; the config itself goes through the fingerprint.
        inputs.push('{projectRoot}/**/*', '!{projectRoot}/config.yaml');
    }
    if (upstream) {
        inputs.push(spec.transitiveUpstream
            ? { dependentTasksOutputFiles: `${artifacts}/**/*`, transitive: true }
            : { dependentTasksOutputFiles: `${artifacts}/**/*` });
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
function pipelineTargets(workspaceRoot, pipeline, deps = libDepsReader(workspaceRoot), production = readProductionPatterns(workspaceRoot)) {
    const targets = {
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
    exports.STAGES.forEach((stage, i) => {
        targets[stage] = stageTarget(workspaceRoot, pipeline, stage, i, deps, production);
    });
    return targets;
}
function listPipelines(workspaceRoot) {
    const dir = (0, node_path_1.join)(workspaceRoot, 'pipelines');
    if (!(0, node_fs_1.existsSync)(dir))
        return [];
    return (0, node_fs_1.readdirSync)(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && (0, node_fs_1.existsSync)((0, node_path_1.join)(dir, e.name, 'config.yaml')))
        .map((e) => e.name)
        .sort();
}
