import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parse, stringify } from 'yaml';
import type { PipelinePaths } from '@trajgen/config';
import { jsonlLines } from '../support/files';

export const REPO_ROOT = join(__dirname, '../..');

export interface NxRun {
  code: number;
  output: string;
  /** Tasks that executed (`project:target`). */
  ran: string[];
  /** Tasks restored from a cache (local or remote). */
  cached: string[];
  remote: string[];
}

export interface TempWorkspace {
  root: string;
  cacheDir: string;
  /** TMPDIR of everything the tests start in this copy (nx, agents, Harbor, Python): removed with the copy. */
  tmp: string;
  env: NodeJS.ProcessEnv;
  nx(args: string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): NxRun;
  nxAsync(args: string[], opts?: { env?: NodeJS.ProcessEnv }): Promise<NxRun>;
  git(args: string[]): string;
  read(rel: string): string;
  write(rel: string, text: string): void;
  edit(rel: string, fn: (text: string) => string): void;
  remove(): void;
}

/**
 * node_modules for the copy: every package links to the real install, except
 * the workspace's own @trajgen/* packages, which link to the copy's libs (so
 * lib edits in the copy are the code that runs).
 */
function linkNodeModules(copyRoot: string): void {
  const src = join(REPO_ROOT, 'node_modules');
  const dst = join(copyRoot, 'node_modules');
  mkdirSync(dst, { recursive: true });
  for (const entry of readdirSync(src)) {
    if (entry === '@trajgen' || entry === '.bin' || entry === '.cache') continue;
    symlinkSync(join(src, entry), join(dst, entry));
  }
  mkdirSync(join(dst, '.bin'));
  for (const bin of readdirSync(join(src, '.bin'))) {
    try {
      symlinkSync(realpathSync(join(src, '.bin', bin)), join(dst, '.bin', bin));
    } catch {
      /* dangling bin link in the real install: skip */
    }
  }
  mkdirSync(join(dst, '@trajgen'));
  for (const pkg of readdirSync(join(src, '@trajgen'))) {
    const target = realpathSync(join(src, '@trajgen', pkg));
    symlinkSync(join(copyRoot, relative(REPO_ROOT, target)), join(dst, '@trajgen', pkg));
  }
}

function parseNxOutput(output: string): Pick<NxRun, 'ran' | 'cached' | 'remote'> {
  const ran: string[] = [];
  const cached: string[] = [];
  const remote: string[] = [];
  for (const line of output.split('\n')) {
    const m = line.match(/^\s*>\s+nx run ([^\s]+)(.*)$/);
    if (!m) continue;
    const task = m[1];
    if (/\[remote cache\]/.test(m[2])) {
      cached.push(task);
      remote.push(task);
    } else if (/\[(local cache|existing outputs match the cache, left as is)\]/.test(m[2])) cached.push(task);
    else ran.push(task);
  }
  return { ran: [...new Set(ran)], cached: [...new Set(cached)], remote: [...new Set(remote)] };
}

/**
 * A temporary copy of the workspace (tracked and untracked-but-not-ignored
 * files, as on a fresh clone), committed to its own git repo, with its own Nx
 * cache and workspace data.
 */
export function createTempWorkspace(opts: { prefix?: string; cacheDir?: string; keepArtifacts?: boolean } = {}): TempWorkspace {
  const root = mkdtempSync(join(tmpdir(), opts.prefix ?? 'trajgen-e2e-'));
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const f of files) {
    const from = join(REPO_ROOT, f);
    if (!existsSync(from)) continue; // deleted but not yet committed
    mkdirSync(dirname(join(root, f)), { recursive: true });
    cpSync(from, join(root, f), { dereference: false });
  }
  linkNodeModules(root);
  // Nx's own places in a workspace (.nx/). Elsewhere in the copy, the Nx daemon takes every write of the cache and
  // of its own log for a workspace change and each command waits for them to settle (a warm-daemon no-op of the
  // demo took 0.85 s instead of 0.50 s).
  const cacheDir = opts.cacheDir ?? join(root, '.nx', 'cache');
  // The tools' own per-user caches and scratch (an agent's HOME for --version, torch's inductor cache,
  // native libraries a Bun-built CLI unpacks, the rollout's working copies) land in the copy, not the run's temp dir.
  const tmp = join(root, '.test-tmp');
  mkdirSync(tmp);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    NX_DEFAULT_OUTPUT_STYLE: 'static',
    NX_CACHE_DIRECTORY: cacheDir,
    NX_WORKSPACE_DATA_DIRECTORY: join(root, '.nx', 'workspace-data'),
    NX_ISOLATE_PLUGINS: 'false',
    NX_VERBOSE_LOGGING: 'false',
    CI: 'true',
    // One Python env each (embedded trainer, LLaMA-Factory, LiteLLM, Harbor) per machine, not one per temporary workspace.
    TRAJGEN_HF_TRAINER_ENV: process.env.TRAJGEN_HF_TRAINER_ENV ?? join(REPO_ROOT, 'artifacts', 'env', 'hf-trainer'),
    TRAJGEN_LLAMAFACTORY_ENV: process.env.TRAJGEN_LLAMAFACTORY_ENV ?? join(REPO_ROOT, 'artifacts', 'env', 'llamafactory'),
    TRAJGEN_LITELLM_ENV: process.env.TRAJGEN_LITELLM_ENV ?? join(REPO_ROOT, 'artifacts', 'env', 'litellm'),
    TRAJGEN_HARBOR_ENV: process.env.TRAJGEN_HARBOR_ENV ?? join(REPO_ROOT, 'artifacts', 'env', 'harbor'),
    FORCE_COLOR: '0',
    TMPDIR: tmp,
    GIT_AUTHOR_NAME: 'trajgen-test',
    GIT_AUTHOR_EMAIL: 'test@trajgen.invalid',
    GIT_COMMITTER_NAME: 'trajgen-test',
    GIT_COMMITTER_EMAIL: 'test@trajgen.invalid',
  };
  // Agent detection switches Nx's output style; the tests parse the static style.
  for (const k of ['CLAUDECODE', 'OPENCODE', 'GEMINI_CLI', 'REPL_ID', 'CURSOR_TRACE_ID']) delete env[k];
  writeFileSync(join(root, '.gitignore'), readFileSync(join(REPO_ROOT, '.gitignore'), 'utf8') + '.test-tmp/\n');
  const git = (args: string[]) => execFileSync('git', args, { cwd: root, env, encoding: 'utf8' });
  git(['init', '-q', '-b', 'main']);
  git(['add', '-A']);
  git(['commit', '-qm', 'test workspace']);

  const nxBin = join(root, 'node_modules', '.bin', 'nx');
  return {
    root,
    cacheDir,
    tmp,
    env,
    nx(args, o = {}) {
      const r = spawnSync(nxBin, args, { cwd: root, env: { ...env, ...o.env }, encoding: 'utf8', timeout: o.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 });
      const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
      return { code: r.status ?? 1, output, ...parseNxOutput(output) };
    },
    nxAsync(args, o = {}) {
      return new Promise((resolve) => {
        const child = spawn(nxBin, args, { cwd: root, env: { ...env, ...o.env } });
        let output = '';
        child.stdout.on('data', (d) => (output += d));
        child.stderr.on('data', (d) => (output += d));
        child.on('close', (code) => resolve({ code: code ?? 1, output, ...parseNxOutput(output) }));
      });
    },
    git,
    read: (rel) => readFileSync(join(root, rel), 'utf8'),
    write: (rel, text) => {
      mkdirSync(dirname(join(root, rel)), { recursive: true });
      writeFileSync(join(root, rel), text);
    },
    edit(rel, fn) {
      this.write(rel, fn(this.read(rel)));
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface CacheServer {
  url: string;
  /** Entries stored (one file per task hash). */
  entries(): string[];
  log(): string;
  stop(): Promise<void>;
}

/**
 * The project's cache server as a team runs it (`node tools/cache-server/server.cjs …`), in its own
 * process: the tests drive nx synchronously, which would starve an in-process server.
 */
export function startCacheServer(dir: string, token: string): Promise<CacheServer> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'tools/cache-server/server.cjs'), '--dir', dir, '--port', '0', '--token-env', 'TEAM_CACHE_TOKEN'], {
    env: { ...process.env, TEAM_CACHE_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      log += d;
      const m = log.match(/nx remote cache on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        child.stdout.off('data', onData);
        child.stdout.on('data', (more) => (log += more));
        resolve({
          url: m[1],
          entries: () => readdirSync(dir).filter((f) => !f.startsWith('.')),
          log: () => log,
          stop: () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', () => r()), child.kill('SIGTERM')))),
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => (log += d));
    child.once('exit', (code) => reject(new Error(`cache server exited (${code}): ${log}`)));
  });
}

/** Processes whose cwd is under `prefix` and that are not zombies (an agent, verifier or tmux left running). */
export function processesUnder(prefix: string): string[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readlinkSync(`/proc/${d}/cwd`).startsWith(prefix) && !/ Z /.test(readFileSync(`/proc/${d}/stat`, 'utf8'));
      } catch {
        return false;
      }
    });
}

/**
 * A pipeline `name` in `ws` derived from the pipeline `from`'s config.yaml (`edit` changes the parsed
 * config), with its own copies of some demo tasks and extra task dirs, and an empty exclusion list.
 */
export function derivePipeline(ws: TempWorkspace, opts: { from: string; name: string; ids: string[]; edit?: (cfg: Record<string, any>) => void; extra?: Record<string, Record<string, string>> }): void {
  const { name, ids, extra = {} } = opts;
  const cfg = parse(ws.read(`pipelines/${opts.from}/config.yaml`));
  cfg.meta_info.name = name;
  cfg.task_source = { path: 'tasks', manifest: 'verifiable_tasks.txt', staging: 'link' };
  cfg.conversion.data_name = name;
  opts.edit?.(cfg);
  ws.write(`pipelines/${name}/config.yaml`, stringify(cfg));
  ws.write(`pipelines/${name}/excluded_tasks.txt`, '');
  for (const id of ids) cpSync(join(ws.root, 'pipelines/demo/tasks', id), join(ws.root, 'pipelines', name, 'tasks', id), { recursive: true });
  for (const [id, files] of Object.entries(extra)) for (const [rel, text] of Object.entries(files)) ws.write(`pipelines/${name}/tasks/${id}/${rel}`, text);
  ws.write(`pipelines/${name}/tasks/verifiable_tasks.txt`, [...ids, ...Object.keys(extra)].join('\n') + '\n');
}

/**
 * Polls until a rollout of pipeline `p` holds the ledger, one trial of its job has finished and
 * another is mid-way (its proxy log started): the moment the kill tests SIGKILL it. Returns the
 * rollout's pid and job dir.
 */
export async function waitForKillPoint(p: PipelinePaths, timeoutMs: number, pollMs: number): Promise<{ pid: number; jobDir: string }> {
  let pid = 0;
  let jobDir = '';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (Date.now() >= deadline) throw new Error(`the rollout never reached the kill point within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
    try {
      const holder = JSON.parse(readFileSync(join(p.artifacts, '.ledger', 'lock'), 'utf8'));
      if (String(holder.purpose).startsWith('rollout ')) {
        pid = holder.pid;
        jobDir = join(p.jobs, String(holder.purpose).slice('rollout '.length));
      }
    } catch {
      continue;
    }
    if (!pid || !existsSync(jobDir)) continue;
    const trials = readdirSync(jobDir).filter((n) => n.includes('__'));
    const finished = trials.filter((n) => existsSync(join(jobDir, n, 'result.json')));
    const midway = trials.filter((n) => !existsSync(join(jobDir, n, 'result.json')) && jsonlLines(join(jobDir, n, 'agent', 'litellm-trajectory.jsonl')).length > 0);
    if (finished.length >= 1 && midway.length >= 1) return { pid, jobDir };
  }
}
