import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TrajgenError } from './errors';
import { acquireLock } from './lock';
import { formatDuration } from './text';
import { sha256 } from './digest';
import { writeJsonAtomic } from './fs';
import type { StageIO } from './stage-io';

/** pip flags for every install: fail fast when an index is unreachable (no retries, short timeouts). */
export const PIP_FLAGS = ['--retries', '0', '--timeout', '5', '--disable-pip-version-check'];

export interface PythonEnvSpec {
  /** The venv directory, e.g. artifacts/env/hf-trainer. */
  dir: string;
  /** For messages: "embedded trainer", "LLaMA-Factory". */
  label: string;
  /** pip requirement specifiers (their digest decides whether an existing env is reused). */
  requirements: string[];
  /** Turns `requirements` into what pip installs, only when the env is (re)created (e.g. pins a CPU torch build). */
  resolveInstall?: (requirements: string[]) => string[];
  /** Interpreter that creates the venv (default: $TRAJGEN_PYTHON or python3). */
  python?: string;
  /** Wait this long for another process creating the same env (default 20 min). */
  lockWaitMs?: number;
  /** A script run with the env's Python after pip succeeded (before the env is marked usable); a non-zero exit fails the creation. */
  postInstall?: string[];
  /** Explains a failed install (e.g. "not in the index"); returns undefined to use the default message. */
  explainFailure?: (pipOutput: string) => { message: string; hint: string } | undefined;
}

export interface EnvMarker {
  digest: string;
  requirements: string[];
  /** What pip was asked to install. */
  installed: string[];
  python: string;
  created_at: string;
  seconds: number;
}

export interface PythonEnv {
  dir: string;
  python: string;
  /** True when this call created it. */
  created: boolean;
  marker: EnvMarker;
}

const MARKER = '.trajgen-env.json';

export function envPython(dir: string): string {
  return process.platform === 'win32' ? join(dir, 'Scripts', 'python.exe') : join(dir, 'bin', 'python');
}

export function envDigest(requirements: string[], python: string): string {
  return sha256(JSON.stringify({ requirements: [...requirements].sort(), python }));
}

export function readEnvMarker(dir: string): EnvMarker | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as EnvMarker;
  } catch {
    return undefined;
  }
}

/** The interpreter that creates managed envs, with its version; throws when missing or too old. */
export function basePython(python = process.env.TRAJGEN_PYTHON || 'python3'): { python: string; version: string } {
  const r = spawnSync(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new TrajgenError(`${python} is not available to create a Python environment`, {
      hint: 'Install Python ≥ 3.10 (with the venv module), or point TRAJGEN_PYTHON at one.',
    });
  }
  const version = r.stdout.trim();
  const [major, minor] = version.split('.').map(Number);
  if (major < 3 || (major === 3 && minor < 10)) {
    throw new TrajgenError(`${python} is Python ${version}; the managed environments need ≥ 3.10`, { hint: 'Point TRAJGEN_PYTHON at a newer interpreter.' });
  }
  return { python, version };
}

/** Is the env at `dir` complete and made for exactly these requirements? */
export function envIsCurrent(dir: string, requirements: string[], pythonVersion: string): boolean {
  const marker = readEnvMarker(dir);
  return !!marker && marker.digest === envDigest(requirements, pythonVersion) && existsSync(envPython(dir));
}

function run(command: string, args: string[], log: NodeJS.WritableStream, onLine: (line: string) => void): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PIP_NO_INPUT: '1' } });
    let output = '';
    let pending = '';
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      const text = chunk.toString('utf8');
      output += text;
      if (output.length > 200_000) output = output.slice(-100_000);
      const lines = (pending + text).split(/\r?\n/);
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      if (pending) onLine(pending);
      resolve({ code, output });
    });
  });
}

/**
 * A venv with `requirements` installed, created on first use from the
 * machine's package index and reused while the requirements (and the base
 * Python) stay the same: a marker holding their digest is written last, so an
 * interrupted creation is redone, never half-used. Creation is locked: two
 * pipelines needing the env at once build it once.
 */
export async function ensurePythonEnv(spec: PythonEnvSpec, io: Pick<StageIO, 'log'>): Promise<PythonEnv> {
  const base = basePython(spec.python);
  const digest = envDigest(spec.requirements, base.version);
  if (envIsCurrent(spec.dir, spec.requirements, base.version)) {
    return { dir: spec.dir, python: envPython(spec.dir), created: false, marker: readEnvMarker(spec.dir)! };
  }
  mkdirSync(dirname(spec.dir), { recursive: true });
  const lock = acquireLock(`${spec.dir}.lock`, { purpose: `create the ${spec.label} Python environment`, waitMs: spec.lockWaitMs ?? 20 * 60_000 });
  try {
    // Someone else may have built it while we waited.
    if (envIsCurrent(spec.dir, spec.requirements, base.version)) {
      return { dir: spec.dir, python: envPython(spec.dir), created: false, marker: readEnvMarker(spec.dir)! };
    }
    const started = Date.now();
    const logFile = `${spec.dir}.install.log`;
    const log = createWriteStream(logFile, { flags: 'w' });
    io.log(`Creating the ${spec.label} Python environment in ${spec.dir} (first use; Python ${base.version})…`);
    rmSync(spec.dir, { recursive: true, force: true });
    const venv = await run(base.python, ['-m', 'venv', spec.dir], log, () => undefined);
    if (venv.code !== 0) {
      log.end();
      throw new TrajgenError(`Could not create a venv with ${base.python}: ${venv.output.trim().split('\n').pop()}`, {
        hint: 'Install the venv module (e.g. apt-get install python3-venv) or point TRAJGEN_PYTHON at another interpreter.',
      });
    }
    const install = spec.resolveInstall ? spec.resolveInstall(spec.requirements) : spec.requirements;
    io.log(`  pip install ${install.join(' ')}`);
    let lastShown = Date.now();
    // pip is silent for minutes while it unpacks large wheels: a heartbeat keeps CI logs moving.
    const heartbeat = setInterval(() => {
      if (Date.now() - lastShown < 15_000) return;
      lastShown = Date.now();
      io.log(`  still installing (full log: ${logFile})  [${formatDuration(Date.now() - started)}]`);
    }, 5000);
    const pip = await run(envPython(spec.dir), ['-m', 'pip', 'install', ...PIP_FLAGS, ...install], log, (line) => {
      // A line every few seconds at most: what is being fetched or installed.
      if (/^(Collecting|Installing collected packages|Successfully installed)/.test(line) && (Date.now() - lastShown > 3000 || !line.startsWith('Collecting'))) {
        lastShown = Date.now();
        io.log(`  ${line.length > 160 ? line.slice(0, 157) + '…' : line}  [${formatDuration(Date.now() - started)}]`);
      }
    }).finally(() => clearInterval(heartbeat));
    await new Promise<void>((r) => log.end(r));
    if (pip.code !== 0) {
      const explained = spec.explainFailure?.(pip.output);
      const lastError = pip.output.split('\n').filter((l) => /^ERROR:/.test(l)).pop() ?? pip.output.trim().split('\n').pop() ?? '';
      throw new TrajgenError(explained?.message ?? `Installing the ${spec.label} environment failed: ${lastError}`, {
        details: [`pip install ${install.join(' ')} → exit ${pip.code}`, lastError],
        hint: `${explained?.hint ?? 'Check the package index configuration (pip config list).'} Full log: ${logFile}`,
      });
    }
    if (spec.postInstall) {
      const post = await run(envPython(spec.dir), spec.postInstall, createWriteStream(logFile, { flags: 'a' }), (line) => io.log(`  ${line}`));
      if (post.code !== 0) {
        throw new TrajgenError(`Preparing the ${spec.label} environment failed after pip: ${post.output.trim().split('\n').pop() ?? ''}`, {
          details: [`python ${spec.postInstall.join(' ')} → exit ${post.code}`],
          hint: `Full log: ${logFile}`,
        });
      }
    }
    const marker: EnvMarker = {
      digest,
      requirements: spec.requirements,
      installed: install,
      python: base.version,
      created_at: new Date().toISOString(),
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
    writeJsonAtomic(join(spec.dir, MARKER), marker);
    io.log(`  ${spec.label} environment ready in ${formatDuration(Date.now() - started)}.`);
    return { dir: spec.dir, python: envPython(spec.dir), created: true, marker };
  } finally {
    lock.release();
  }
}
