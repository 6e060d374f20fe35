/**
 * Benchmark (not a test): what a no-op rerun costs next to bare Nx, all in one run.
 *
 *  1. no-op `nx run demo:archive` (the full demo graph, everything cached) in a
 *     temporary copy of the workspace, vs the anchor: a cached trivial target
 *     (`echo`) in a BARE Nx workspace the bench creates (same Nx, no plugins)
 *     — the goal is a ratio ≤ 1.2 — run with this workspace's plugin setting
 *     (NX_ISOLATE_PLUGINS=false) and as Nx ships it; plus the same trivial
 *     target inside this workspace (what the workspace adds to every Nx
 *     command), and the demo's graph shape in the bare workspace (seven chained
 *     cached targets with the demo's output files: what Nx itself costs for it),
 *     also in a bare workspace holding this workspace's projects (its npm
 *     workspaces and lockfile, no plugin) and made there by a minimal local
 *     plugin (eleven executors, nothing else): the floors under the no-op;
 *  2. scale: `nx run-many -t archive` no-op over 1 pipeline and over 10 (the
 *     demo plus small copies of it, one task each, run once for real) — the
 *     goal is < 0.15 s more per pipeline;
 *  3. the same no-op with the Nx daemon (interactive use), after a warm-up;
 *  4. Nx cache growth per incremental run (one new verified task each run).
 * Commands are interleaved round by round (demo no-op, bare trivial, …) so
 * that load from elsewhere on the machine hits anchor and subject alike.
 * Environment as `npm run nx` sets it (no daemon unless stated; plugins in
 * Nx's own process, from .env). Prints figures and ratios, writes
 * bench/results/nx-cache.json.
 *
 *   npm run bench -- nx-cache [--runs=N] [--increments=N] [--pipelines=N]
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTempWorkspace, type TempWorkspace } from '../test/e2e/harness';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
// Nine interleaved runs per command: on a shared 2-core machine single commands vary by ±20 %, and five left the medians unsteady.
const RUNS = Number(args.runs ?? 9);
const INCREMENTS = Number(args.increments ?? 1);
const PIPELINES = Number(args.pipelines ?? 10);
const REPO = join(__dirname, '..');

function dirSize(path: string, filter: (p: string) => boolean = () => true): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return filter(path) ? st.size : 0;
  let total = 0;
  for (const e of readdirSync(path)) total += dirSize(join(path, e), filter);
  return total;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** The environment `npm run nx` gives Nx (scripts/trajgen.cjs), minus the harness's test-only settings. */
function userEnv(ws: TempWorkspace, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...ws.env, ...extra };
  delete env.NX_ISOLATE_PLUGINS;
  return env;
}

function timedNx(ws: TempWorkspace, nxArgs: string[], env?: NodeJS.ProcessEnv): { ms: number; ran: string[] } {
  const t0 = process.hrtime.bigint();
  const r = ws.nx(nxArgs, { env: env ?? userEnv(ws) });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.code !== 0) throw new Error(`nx ${nxArgs.join(' ')} failed:\n${r.output.slice(-4000)}`);
  return { ms, ran: r.ran };
}

/**
 * A bare Nx workspace (same Nx install, no plugins) with one cached trivial target (and, after `addChain`, the
 * demo's graph shape: `runChain()`). `run()` gives it this
 * workspace's settings (plugins in Nx's own process: NX_ISOLATE_PLUGINS=false), `runAsShipped()` Nx's defaults
 * (its built-in plugins in worker processes), which is what a new Nx workspace costs.
 */
function bareWorkspace(opts: { withWorkspaceProjects?: boolean; minimalPlugin?: boolean } = {}): {
  root: string;
  /** Lib and tool projects copied from this workspace. */
  projects: number;
  run(): number;
  runAsShipped(): number;
  addChain(shape: StageShape[]): void;
  runChain(): number;
  remove(): void;
} {
  const root = mkdtempSync(join(tmpdir(), 'trajgen-bench-bare-nx-'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'bare', version: '0.0.0', private: true }, null, 2));
  writeFileSync(join(root, 'nx.json'), JSON.stringify({ neverConnectToCloud: true }, null, 2));
  const projects = opts.withWorkspaceProjects ? copyProjectLayout(root) : 0;
  mkdirSync(join(root, 'trivial'));
  writeFileSync(join(root, 'trivial/project.json'), JSON.stringify({ name: 'trivial', targets: { noop: { command: 'echo trivial', cache: true, inputs: [] } } }, null, 2));
  writeFileSync(join(root, '.gitignore'), 'node_modules\n.nx\n');
  if (opts.minimalPlugin) linkNodeModulesWith(root, '@bench/min-plugin', 'tools/min-plugin');
  else symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  const env: NodeJS.ProcessEnv = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_DEFAULT_OUTPUT_STYLE: 'static', CI: 'true' };
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: root });
  execFileSync('git', ['add', '-A'], { cwd: root });
  execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@invalid', 'commit', '-qm', 'bare'], { cwd: root });
  const nxBin = join(root, 'node_modules', '.bin', 'nx');
  const asShipped = { ...env };
  delete asShipped.NX_ISOLATE_PLUGINS;
  const isolationOff = { ...env, NX_ISOLATE_PLUGINS: 'false' };
  const timed = (target: string, runEnv: NodeJS.ProcessEnv, allCached = false) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(nxBin, ['run', target], { cwd: root, env: runEnv, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`bare nx run ${target} failed: ${r.stdout}${r.stderr}`);
    // An anchor that executed something would not be a no-op.
    const hits = /Cache:\s+(\d+)\/(\d+) hit/.exec(r.stdout);
    if (allCached && (!hits || hits[1] !== hits[2])) throw new Error(`bare nx run ${target} was not fully cached: ${r.stdout.slice(-1500)}`);
    return ms;
  };
  let chainTarget = '';
  return {
    root,
    projects,
    run: () => timed('trivial:noop', isolationOff),
    runAsShipped: () => timed('trivial:noop', asShipped),
    addChain: (shape) => {
      if (opts.minimalPlugin) writeMinimalPlugin(root, shape);
      else writeChainProject(root, shape);
      execFileSync('git', ['add', '-A'], { cwd: root });
      execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@invalid', 'commit', '-qm', 'chain'], { cwd: root });
      chainTarget = `chain:${shape[shape.length - 1].stage}`;
      timed(chainTarget, isolationOff); // the first run executes the chain and fills the cache
    },
    runChain: () => timed(chainTarget, isolationOff, true),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * This workspace's projects without its plugin: the npm workspaces (every lib's and tool's package.json, whose
 * `test` scripts Nx infers as targets), the lockfile, nx.json's named inputs and target defaults. With the
 * demo's graph shape added, what Nx alone costs for this workspace's graph: the floor under the no-op.
 */
function copyProjectLayout(root: string): number {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { workspaces: string[] };
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'bare', version: '0.0.0', private: true, workspaces: pkg.workspaces }, null, 2));
  const nxJson = JSON.parse(readFileSync(join(REPO, 'nx.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(root, 'nx.json'), JSON.stringify({ neverConnectToCloud: true, namedInputs: nxJson.namedInputs, targetDefaults: nxJson.targetDefaults, parallel: nxJson.parallel }, null, 2));
  cpSync(join(REPO, 'package-lock.json'), join(root, 'package-lock.json'));
  let projects = 0;
  for (const pattern of pkg.workspaces) {
    const parent = pattern.replace(/\/\*$/, '');
    for (const dir of readdirSync(join(REPO, parent))) {
      const manifest = join(parent, dir, 'package.json');
      if (!existsSync(join(REPO, manifest))) continue;
      mkdirSync(join(root, parent, dir), { recursive: true });
      cpSync(join(REPO, manifest), join(root, manifest));
      projects++;
    }
  }
  return projects;
}

/**
 * node_modules as this workspace has it (one link per package) plus one more package linked to a folder of the
 * bench workspace, so that Node resolves that plugin by name as it resolves @trajgen/plugin here.
 */
function linkNodeModulesWith(root: string, name: string, target: string): void {
  mkdirSync(join(root, 'node_modules', name.split('/')[0]), { recursive: true });
  for (const entry of readdirSync(join(REPO, 'node_modules'))) {
    if (entry === name.split('/')[0]) continue;
    symlinkSync(join(REPO, 'node_modules', entry), join(root, 'node_modules', entry));
  }
  symlinkSync(join(root, target), join(root, 'node_modules', name));
}

/**
 * The demo's graph shape made by the smallest local Nx plugin that can make it: createNodes infers a project
 * from pipelines/chain/config.yaml with the pipeline's eleven targets (the seven chained cached stages with the
 * demo's outputs, each hashing its upstream's outputs, plus four uncached ones), each its own executor with a
 * schema, as trajgen's are. No fingerprints, no hooks, no richer inputs: what Nx's plugin machinery (resolving a
 * local plugin, loading it, reading eleven executors) costs before any of trajgen's own work.
 */
function writeMinimalPlugin(root: string, shape: StageShape[]): void {
  const dir = join(root, 'tools/min-plugin');
  mkdirSync(join(dir, 'schemas'), { recursive: true });
  const extra = ['check', 'ledger', 'generate-excluded-repos', 'clean'];
  const executors: Record<string, { implementation: string; schema: string; description: string }> = {};
  for (const name of [...shape.map((x) => x.stage), ...extra]) {
    executors[name] = { implementation: './executor.js', schema: `./schemas/${name}.json`, description: name };
    writeFileSync(join(dir, 'schemas', `${name}.json`), JSON.stringify({ version: 2, outputCapture: 'direct-nodejs', type: 'object', properties: { files: { type: 'number' }, bytes: { type: 'number' }, dir: { type: 'string' } } }, null, 2));
  }
  writeFileSync(join(dir, 'executors.json'), JSON.stringify({ executors }, null, 2));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@bench/min-plugin', version: '0.0.0', private: true, main: './index.js', executors: './executors.json' }, null, 2));
  writeFileSync(
    join(dir, 'executor.js'),
    `const fs = require('fs');
module.exports = async function (o) {
  if (!o.dir) return { success: true };
  fs.mkdirSync(o.dir, { recursive: true });
  for (let i = 0; i < o.files; i++) fs.writeFileSync(o.dir + '/f' + i, require('crypto').randomBytes(Math.max(1, Math.floor(o.bytes / o.files))));
  return { success: true };
};\n`,
  );
  const targets: Record<string, unknown> = {};
  shape.forEach((x, i) => {
    targets[x.stage] = { executor: `@bench/min-plugin:${x.stage}`, options: { dir: `out/${x.stage}`, files: Math.max(1, x.files), bytes: Math.max(1, x.bytes) }, ...chainStage(shape, i) };
  });
  for (const name of extra) targets[name] = { executor: `@bench/min-plugin:${name}`, cache: false, options: {} };
  writeFileSync(
    join(dir, 'index.js'),
    `const { basename, dirname } = require('path');
const targets = ${JSON.stringify(targets)};
exports.createNodes = ['pipelines/*/config.yaml', (files) => files.map((f) => [f, { projects: { [dirname(f)]: { name: basename(dirname(f)), root: dirname(f), targets } } }])];\n`,
  );
  mkdirSync(join(root, 'pipelines/chain'), { recursive: true });
  writeFileSync(join(root, 'pipelines/chain/config.yaml'), '# the plugin infers the chain from this file\n');
  const nxJson = JSON.parse(readFileSync(join(root, 'nx.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(root, 'nx.json'), JSON.stringify({ ...nxJson, plugins: [{ plugin: '@bench/min-plugin', include: ['pipelines/*/config.yaml'] }] }, null, 2));
  writeFileSync(join(root, '.gitignore'), 'node_modules\n.nx\nout\n');
}

/** One stage's cached outputs: how many files and bytes Nx restores for it. */
interface StageShape {
  stage: string;
  files: number;
  bytes: number;
  transitive: boolean;
}

/** Files under `dir` matching one of the stage's output patterns (a path, or `dir/*.ext`; `!` excludes). */
function outputFiles(artifacts: string, patterns: string[]): string[] {
  const walk = (p: string): string[] => (!existsSync(p) ? [] : statSync(p).isDirectory() ? readdirSync(p).flatMap((e) => walk(join(p, e))) : [p]);
  const expand = (pattern: string): string[] => {
    if (!pattern.includes('*')) return walk(join(artifacts, pattern));
    const dir = join(artifacts, pattern.slice(0, pattern.lastIndexOf('/')));
    const re = new RegExp(`^${pattern.slice(pattern.lastIndexOf('/') + 1).replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
    return existsSync(dir) ? readdirSync(dir).filter((n) => re.test(n)).map((n) => join(dir, n)) : [];
  };
  const excluded = new Set(patterns.filter((p) => p.startsWith('!')).flatMap((p) => expand(p.slice(1))));
  return patterns.filter((p) => !p.startsWith('!')).flatMap(expand).filter((f) => !excluded.has(f));
}

/** The demo's seven stages as Nx caches them after a run: outputs per stage (stage-graph.json), measured on disk. */
function demoShape(ws: TempWorkspace): StageShape[] {
  const graph = JSON.parse(readFileSync(join(REPO, 'tools/trajgen/stage-graph.json'), 'utf8')) as { stages: string[]; targets: Record<string, { outputs: string[]; transitiveUpstream?: boolean }> };
  return graph.stages.map((stage) => {
    const files = outputFiles(join(ws.root, 'artifacts/demo'), graph.targets[stage].outputs);
    return { stage, files: files.length, bytes: files.reduce((n, f) => n + statSync(f).size, 0), transitive: !!graph.targets[stage].transitiveUpstream };
  });
}

/** Stage i of the chain as Nx caches it: after stage i-1, hashing its outputs (all upstream ones for archive), writing out/<stage>. */
function chainStage(shape: StageShape[], i: number): Record<string, unknown> {
  const s = shape[i];
  return {
    cache: true,
    dependsOn: i > 0 ? [shape[i - 1].stage] : [],
    inputs: i > 0 ? [s.transitive ? { dependentTasksOutputFiles: 'out/**/*', transitive: true } : { dependentTasksOutputFiles: 'out/**/*' }] : [],
    outputs: [`{workspaceRoot}/out/${s.stage}`],
  };
}

/**
 * The same graph shape in the bare workspace: seven chained cached targets, each writing as many files and
 * bytes as the demo's stage, each later one hashing its upstream's outputs (dependentTasksOutputFiles, as the
 * stages do). What Nx itself costs for such a graph, with no plugin.
 */
function writeChainProject(root: string, shape: StageShape[]): void {
  mkdirSync(join(root, 'chain'), { recursive: true });
  writeFileSync(
    join(root, 'chain/write-outputs.cjs'),
    `const fs = require('fs'); const [dir, files, bytes] = process.argv.slice(2); fs.mkdirSync(dir, { recursive: true });
for (let i = 0; i < +files; i++) fs.writeFileSync(dir + '/f' + i, require('crypto').randomBytes(Math.max(1, Math.floor(+bytes / +files))));\n`,
  );
  const targets: Record<string, unknown> = {};
  shape.forEach((s, i) => {
    targets[s.stage] = { command: `node chain/write-outputs.cjs out/${s.stage} ${Math.max(1, s.files)} ${Math.max(1, s.bytes)}`, ...chainStage(shape, i) };
  });
  writeFileSync(join(root, 'chain/project.json'), JSON.stringify({ name: 'chain', targets }, null, 2));
  writeFileSync(join(root, '.gitignore'), 'node_modules\n.nx\nout\n');
}

/** A new verified task: a copy of an existing demo task under a new id, listed in the manifest. */
function addTask(ws: TempWorkspace, n: number): string {
  const tasksDir = join(ws.root, 'pipelines/demo/tasks');
  const template = readdirSync(tasksDir).find((d) => existsSync(join(tasksDir, d, 'task.toml')) && !d.includes('off-by-one') && d !== 'unverified-task')!;
  const id = `${template}-copy${n}`;
  cpSync(join(tasksDir, template), join(tasksDir, id), { recursive: true });
  const toml = join(tasksDir, id, 'task.toml');
  writeFileSync(toml, readFileSync(toml, 'utf8').replace(/name = "([^"]+)"/, `name = "$1-copy${n}"`));
  const manifest = join(tasksDir, 'verifiable_tasks.txt');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').trimEnd() + `\n${id}\n`);
  return id;
}

/** Pipelines demo-2, demo-3, … up to `total` pipelines in all: the demo's config and base model, its tasks, a manifest of one task. */
function addPipelines(ws: TempWorkspace, total: number): string[] {
  const names: string[] = [];
  const existing = readdirSync(join(ws.root, 'pipelines')).filter((d) => existsSync(join(ws.root, 'pipelines', d, 'config.yaml'))).length;
  const demo = join(ws.root, 'pipelines/demo');
  const firstTask = readFileSync(join(demo, 'tasks/verifiable_tasks.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('#') && !l.includes('off-by-one'))!;
  for (let i = 2; i <= total - existing + 1; i++) {
    const name = `demo-${i}`;
    const dir = join(ws.root, 'pipelines', name);
    cpSync(demo, dir, { recursive: true });
    writeFileSync(join(dir, 'tasks/verifiable_tasks.txt'), `${firstTask}\n`);
    // A two-step training: these pipelines exist to be cached, not to train.
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      readFileSync(config, 'utf8')
        .replace(/^( +)name: demo$/m, `$1name: ${name}`)
        .replace(/^( +)num_train_epochs: .*$/m, '$&\n$1max_steps: 2'),
    );
    names.push(name);
  }
  return names;
}

interface Series {
  median_ms: number;
  samples_ms: number[];
}
const series = (xs: number[]): Series => ({ median_ms: Math.round(median(xs)), samples_ms: xs.map(Math.round) });

function main() {
  const bare = bareWorkspace();
  const bareProjects = bareWorkspace({ withWorkspaceProjects: true });
  const barePlugin = bareWorkspace({ withWorkspaceProjects: true, minimalPlugin: true });
  const ws = createTempWorkspace({ prefix: 'trajgen-bench-' });
  const results: Record<string, unknown> = { benchmark: 'nx-cache', date: new Date().toISOString(), machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version } };
  try {
    // The bench workspace holds the demo and, for the scale figures, small copies of it (demo-opencode,
    // which runs a second agent CLI and trains for minutes on this machine, is left out).
    rmSync(join(ws.root, 'pipelines/demo-opencode'), { recursive: true, force: true });
    // The same trivial target inside this workspace: what the workspace itself adds to every Nx command.
    mkdirSync(join(ws.root, 'tools/bench-trivial'), { recursive: true });
    writeFileSync(join(ws.root, 'tools/bench-trivial/project.json'), JSON.stringify({ name: 'bench-trivial', targets: { noop: { command: 'echo trivial', cache: true, inputs: [] } } }, null, 2));
    ws.git(['add', '-A']);
    ws.git(['commit', '-qm', 'bench target']);

    console.log('first full run of the demo graph (real rollout and training)…');
    const first = timedNx(ws, ['run', 'demo:archive']);
    console.log(`  ${(first.ms / 1000).toFixed(1)} s, ran ${first.ran.length} tasks`);
    results.first_full_run_sec = r3(first.ms / 1000);

    // The demo's graph shape in bare Nx (seven chained cached targets with the demo's output sizes).
    const shape = demoShape(ws);
    results.demo_output_shape = shape;
    bare.addChain(shape);
    bareProjects.addChain(shape);
    barePlugin.addChain(shape);

    // Warm every path once (file system caches, Nx's workspace data).
    bare.run();
    bare.runChain();
    bareProjects.runChain();
    barePlugin.runChain();
    timedNx(ws, ['run', 'bench-trivial:noop']);
    timedNx(ws, ['run', 'demo:archive']);

    const noop: number[] = [];
    const bareTrivial: number[] = [];
    const bareShipped: number[] = [];
    const wsTrivial: number[] = [];
    const bareChain: number[] = [];
    const bareProjectsChain: number[] = [];
    const barePluginChain: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const a = timedNx(ws, ['run', 'demo:archive']);
      if (a.ran.length) throw new Error(`a no-op rerun executed ${a.ran.join(', ')}`);
      noop.push(a.ms);
      bareTrivial.push(bare.run());
      bareChain.push(bare.runChain());
      bareProjectsChain.push(bareProjects.runChain());
      barePluginChain.push(barePlugin.runChain());
      bareShipped.push(bare.runAsShipped());
      wsTrivial.push(timedNx(ws, ['run', 'bench-trivial:noop']).ms);
    }
    results.noop_demo_archive = series(noop);
    results.bare_nx_cached_trivial_target = series(bareTrivial);
    results.bare_nx_as_shipped_cached_trivial_target = series(bareShipped);
    results.workspace_cached_trivial_target = series(wsTrivial);
    results.bare_nx_same_graph_shape = series(bareChain);
    results.bare_nx_workspace_projects_same_graph_shape = series(bareProjectsChain);
    results.ratio_noop_over_bare_same_graph_shape = r3(median(noop) / median(bareChain));
    results.ratio_noop_over_bare_workspace_projects_same_graph_shape = r3(median(noop) / median(bareProjectsChain));
    results.ratio_bare_workspace_projects_same_graph_shape_over_bare_trivial = r3(median(bareProjectsChain) / median(bareTrivial));
    results.bare_nx_workspace_projects_minimal_plugin_same_graph_shape = series(barePluginChain);
    results.ratio_bare_minimal_plugin_over_bare_trivial = r3(median(barePluginChain) / median(bareTrivial));
    results.ratio_noop_over_bare_minimal_plugin = r3(median(noop) / median(barePluginChain));
    results.ratio_noop_over_bare_trivial = r3(median(noop) / median(bareTrivial));
    results.ratio_noop_over_bare_as_shipped = r3(median(noop) / median(bareShipped));
    console.log(`\nno-op nx run demo:archive:                 ${median(noop).toFixed(0)} ms (median of ${RUNS}: ${noop.map(Math.round).join(', ')})`);
    console.log(`anchor: bare Nx, cached trivial target:     ${median(bareTrivial).toFixed(0)} ms (${bareTrivial.map(Math.round).join(', ')}; NX_ISOLATE_PLUGINS=false as here)`);
    console.log(`anchor: the same, Nx as shipped:            ${median(bareShipped).toFixed(0)} ms (${bareShipped.map(Math.round).join(', ')}; plugin workers on)`);
    console.log(`same trivial target in this workspace:      ${median(wsTrivial).toFixed(0)} ms (${wsTrivial.map(Math.round).join(', ')})`);
    const files = shape.reduce((n, x) => n + x.files, 0);
    const mb = shape.reduce((n, x) => n + x.bytes, 0) / 1e6;
    console.log(`bare Nx, the demo's graph shape:            ${median(bareChain).toFixed(0)} ms (${bareChain.map(Math.round).join(', ')}; 7 chained cached targets, ${files} output files, ${mb.toFixed(1)} MB; ratio no-op / this ${(median(noop) / median(bareChain)).toFixed(2)})`);
    console.log(`the same in bare Nx with this workspace's ${bareProjects.projects} lib and tool projects (no plugin): ${median(bareProjectsChain).toFixed(0)} ms (${bareProjectsChain.map(Math.round).join(', ')}; ${(median(bareProjectsChain) / median(bareTrivial)).toFixed(2)}× bare trivial: what Nx alone costs for this graph; ratio no-op / this ${(median(noop) / median(bareProjectsChain)).toFixed(2)})`);
    console.log(`the same made by a minimal local plugin:   ${median(barePluginChain).toFixed(0)} ms (${barePluginChain.map(Math.round).join(', ')}; ${(median(barePluginChain) / median(bareTrivial)).toFixed(2)}× bare trivial: Nx's cost of a local plugin with eleven executors; ratio no-op / this ${(median(noop) / median(barePluginChain)).toFixed(2)})`);
    console.log(`ratio no-op / bare trivial:                 ${(median(noop) / median(bareTrivial)).toFixed(2)} (goal ≤ 1.2); / bare as shipped ${(median(noop) / median(bareShipped)).toFixed(2)}`);

    // The Nx daemon (interactive use): the first command starts it, later ones reuse the project graph and plugin.
    const daemonEnv = userEnv(ws, { NX_DAEMON: 'true' });
    try {
      timedNx(ws, ['run', 'demo:archive'], daemonEnv);
      const daemon: number[] = [];
      for (let i = 0; i < RUNS; i++) daemon.push(timedNx(ws, ['run', 'demo:archive'], daemonEnv).ms);
      results.noop_demo_archive_with_daemon = series(daemon);
      console.log(`no-op with the Nx daemon (warm):            ${median(daemon).toFixed(0)} ms (${daemon.map(Math.round).join(', ')}; ratio to bare ${(median(daemon) / median(bareTrivial)).toFixed(2)})`);
    } finally {
      ws.nx(['daemon', '--stop'], { env: daemonEnv });
    }

    // Scale: run-many with only the demo in the workspace vs with PIPELINES, round by round
    // (the extra pipelines are moved aside and back: same content, so the same cache entries).
    const extra = addPipelines(ws, PIPELINES);
    ws.git(['add', '-A']);
    ws.git(['commit', '-qm', 'more pipelines']);
    console.log(`\nfirst run of ${extra.length} more pipelines (one task each; ${PIPELINES} in all)…`);
    const firstMany = timedNx(ws, ['run-many', '-t', 'archive']);
    console.log(`  ${(firstMany.ms / 1000).toFixed(1)} s, ran ${firstMany.ran.length} tasks`);
    const aside = join(ws.root, '..', `${ws.root.split('/').pop()}-aside`);
    mkdirSync(aside, { recursive: true });
    const moveExtra = (out: boolean) => {
      for (const p of extra) renameSync(out ? join(ws.root, 'pipelines', p) : join(aside, p), out ? join(aside, p) : join(ws.root, 'pipelines', p));
    };
    const one: number[] = [];
    const many: number[] = [];
    const bareAgain: number[] = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        moveExtra(true);
        try {
          const r1 = timedNx(ws, ['run-many', '-t', 'archive']);
          if (r1.ran.length) throw new Error(`a no-op run-many executed ${r1.ran.join(', ')}`);
          one.push(r1.ms);
        } finally {
          moveExtra(false);
        }
        const r = timedNx(ws, ['run-many', '-t', 'archive']);
        if (r.ran.length) throw new Error(`a no-op run-many executed ${r.ran.join(', ')}`);
        many.push(r.ms);
        bareAgain.push(bare.run());
      }
    } finally {
      rmSync(aside, { recursive: true, force: true });
    }
    const perPipeline = (median(many) - median(one)) / (PIPELINES - 1);
    results.run_many_noop = { pipelines_1: series(one), [`pipelines_${PIPELINES}`]: series(many), added_per_pipeline_ms: Math.round(perPipeline), bare_trivial_same_rounds: series(bareAgain) };
    console.log(`no-op run-many -t archive, 1 pipeline:      ${median(one).toFixed(0)} ms (${one.map(Math.round).join(', ')})`);
    console.log(`no-op run-many -t archive, ${PIPELINES} pipelines:    ${median(many).toFixed(0)} ms (${many.map(Math.round).join(', ')})`);
    console.log(`added per pipeline:                         ${perPipeline.toFixed(0)} ms (goal < 150)`);
    for (const p of extra) rmSync(join(ws.root, 'pipelines', p), { recursive: true, force: true });
    ws.git(['add', '-A']);
    ws.git(['commit', '-qm', 'back to the demo']);

    // Cache growth per incremental run (one new verified task each).
    const increments: Record<string, unknown>[] = [];
    for (let i = 1; i <= INCREMENTS; i++) {
      const id = addTask(ws, i);
      const cacheBefore = dirSize(ws.cacheDir);
      const jobsBefore = dirSize(join(ws.root, 'artifacts/demo/jobs'));
      const r = timedNx(ws, ['run', 'demo:archive']);
      const inc = { new_task: id, cache_growth_bytes: dirSize(ws.cacheDir) - cacheBefore, new_job_bytes: dirSize(join(ws.root, 'artifacts/demo/jobs')) - jobsBefore, ran: r.ran };
      increments.push(inc);
      console.log(`+1 task (${id}): cache +${(inc.cache_growth_bytes / 1024).toFixed(1)} KiB; new raw job data ${(inc.new_job_bytes / 1024).toFixed(1)} KiB (never cached); ran ${r.ran.join(' ')}`);
    }
    results.increments = increments;
    results.raw_trajectory_bytes_in_cache = dirSize(ws.cacheDir, (p) => p.includes('/artifacts/demo/jobs/'));
    console.log(`raw trajectory bytes in the cache: ${results.raw_trajectory_bytes_in_cache}`);

    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results/nx-cache.json'), JSON.stringify(results, null, 2) + '\n');
    console.log('written to bench/results/nx-cache.json');
  } finally {
    ws.remove();
    bare.remove();
    bareProjects.remove();
    barePlugin.remove();
  }
}

main();
