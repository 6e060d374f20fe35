import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

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
  const cacheDir = opts.cacheDir ?? join(root, '.nx-test-cache');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    NX_DEFAULT_OUTPUT_STYLE: 'static',
    NX_CACHE_DIRECTORY: cacheDir,
    NX_WORKSPACE_DATA_DIRECTORY: join(root, '.nx-test-data'),
    NX_ISOLATE_PLUGINS: 'false',
    NX_VERBOSE_LOGGING: 'false',
    CI: 'true',
    // One Python env each (embedded trainer, LLaMA-Factory, LiteLLM, Harbor) per machine, not one per temporary workspace.
    TRAJGEN_HF_TRAINER_ENV: process.env.TRAJGEN_HF_TRAINER_ENV ?? join(REPO_ROOT, 'artifacts', 'env', 'hf-trainer'),
    TRAJGEN_LLAMAFACTORY_ENV: process.env.TRAJGEN_LLAMAFACTORY_ENV ?? join(REPO_ROOT, 'artifacts', 'env', 'llamafactory'),
    TRAJGEN_LITELLM_ENV: process.env.TRAJGEN_LITELLM_ENV ?? join(REPO_ROOT, 'artifacts', 'env', 'litellm'),
    TRAJGEN_HARBOR_ENV: process.env.TRAJGEN_HARBOR_ENV ?? join(REPO_ROOT, 'artifacts', 'env', 'harbor'),
    FORCE_COLOR: '0',
    GIT_AUTHOR_NAME: 'trajgen-test',
    GIT_AUTHOR_EMAIL: 'test@trajgen.invalid',
    GIT_COMMITTER_NAME: 'trajgen-test',
    GIT_COMMITTER_EMAIL: 'test@trajgen.invalid',
  };
  // Agent detection switches Nx's output style; the tests parse the static style.
  for (const k of ['CLAUDECODE', 'OPENCODE', 'GEMINI_CLI', 'REPL_ID', 'CURSOR_TRACE_ID']) delete env[k];
  writeFileSync(join(root, '.gitignore'), readFileSync(join(REPO_ROOT, '.gitignore'), 'utf8') + '.nx-test-cache/\n.nx-test-data/\n');
  const git = (args: string[]) => execFileSync('git', args, { cwd: root, env, encoding: 'utf8' });
  git(['init', '-q', '-b', 'main']);
  git(['add', '-A']);
  git(['commit', '-qm', 'test workspace']);

  const nxBin = join(root, 'node_modules', '.bin', 'nx');
  return {
    root,
    cacheDir,
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
