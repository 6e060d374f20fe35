/**
 * Dev script: run ONE demo task with a REAL agent CLI (Claude Code or OpenCode
 * from node_modules/.bin) through the builtin recording proxy against the
 * oracle, then run the task's verifier and compare the proxy's log lines
 * with the generation requests the oracle received.
 *
 *   node -r @swc-node/register libs/oracle/scripts/try-agent.ts \
 *     [--agent claude-code|opencode] [--task add-greeting] [--fault wrong_answer] \
 *     [--tasks-dir pipelines/demo/tasks] [--timeout-sec 180] [--keep]
 *
 * Exit 0 when the agent ran, the verifier wrote a reward and lines == requests.
 * Everything happens in a temp dir (HOME included); --keep leaves it for a look.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startOracle, trialPrefix, ORACLE_FAULTS, type OracleFault } from '@trajgen/oracle';
import {
  JobTrialRouter,
  startBuiltinProxy,
  claudeCodeEnv,
  claudeCodeArgs,
  openCodeConfig,
  openCodeEnv,
  openCodeArgs,
  type TrajectoryLine,
} from '@trajgen/proxy';

const ROOT = resolve(__dirname, '../../..');
const DOCKER_FILES = new Set(['Dockerfile', '.dockerignore', 'docker-compose.yaml', 'docker-compose.yml', 'compose.yaml', 'compose.yml']);

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; out: string }): Promise<{ code: number | null; signal: string | null; timedOut: boolean; ms: number }> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, opts.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      writeFileSync(opts.out, Buffer.concat(chunks));
      done({ code, signal, timedOut, ms: Date.now() - started });
    });
  });
}

/** The command line, checked. */
function readOptions() {
  const agent = arg('agent', 'claude-code')!;
  const taskId = arg('task', 'add-greeting')!;
  const fault = arg('fault') as OracleFault | undefined;
  const tasksDir = resolve(ROOT, arg('tasks-dir', 'pipelines/demo/tasks')!);
  if (!['claude-code', 'opencode'].includes(agent)) throw new Error(`--agent must be claude-code or opencode, not ${agent}`);
  if (fault && !ORACLE_FAULTS.includes(fault)) throw new Error(`--fault must be one of ${ORACLE_FAULTS.join(', ')}`);
  const taskDir = join(tasksDir, taskId);
  if (!existsSync(join(taskDir, 'task.toml'))) throw new Error(`no task ${taskId} in ${tasksDir}`);
  return { agent, taskId, fault, tasksDir, taskDir, timeoutMs: Number(arg('timeout-sec', '180')) * 1000, keep: process.argv.includes('--keep') };
}

/** The tasks the oracle can answer for: those with a solution script. */
function solvableTasks(tasksDir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(tasksDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(tasksDir, e.name, 'solution/solve.sh')))
      .map((e) => [e.name, join(tasksDir, e.name)]),
  );
}

/** A clean environment: nothing of the developer's HOME, keys or config leaks in. */
function cleanEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    USER: process.env.USER ?? 'trajgen',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    TMPDIR: tmpdir(),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_STATE_HOME: join(home, '.local/state'),
    XDG_CACHE_HOME: join(home, '.cache'),
  };
}

/** The agent CLI's command, arguments and environment, pointed at the proxy. */
function agentCommand(agent: string, conn: AgentConnection, dirs: { tmp: string; home: string; sessions: string }, instruction: string): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  const baseEnv = cleanEnv(dirs.home);
  if (agent === 'claude-code') {
    return { cmd: join(ROOT, 'node_modules/.bin/claude'), args: claudeCodeArgs(instruction, conn.model), env: { ...baseEnv, ...claudeCodeEnv(conn), CLAUDE_CONFIG_DIR: dirs.sessions } };
  }
  const configPath = join(dirs.tmp, 'opencode.json');
  writeFileSync(configPath, JSON.stringify(openCodeConfig(conn), null, 2));
  return { cmd: join(ROOT, 'node_modules/.bin/opencode'), args: openCodeArgs(instruction, conn.model), env: { ...baseEnv, ...openCodeEnv(configPath) } };
}

type AgentConnection = { proxyUrl: string; key: string; model: string; trial: string };

/** The proxy's log lines, one per model call. */
function readLogLines(logPath: string): TrajectoryLine[] {
  if (!existsSync(logPath)) return [];
  return readFileSync(logPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TrajectoryLine);
}

function describeLogLine(l: TrajectoryLine): string {
  const body = l.request_body as { model?: string; messages?: unknown[]; tools?: unknown[] };
  return (
    `  ${l.success ? 'ok  ' : 'FAIL'} ${l.endpoint} stream=${l.stream} model=${body.model} messages=${body.messages?.length ?? 0} tools=${body.tools?.length ?? 0} ${l.duration_ms} ms` +
    (l.failure ? ` ${l.failure.error_type} ${l.failure.status_code ?? ''}` : '')
  );
}

async function main() {
  const { agent, taskId, fault, tasksDir, taskDir, timeoutMs, keep } = readOptions();
  const tmp = mkdtempSync(join(tmpdir(), 'trajgen-try-'));
  const app = join(tmp, 'app');
  const home = join(tmp, 'home');
  const jobDir = join(tmp, 'job');
  mkdirSync(home, { recursive: true });
  cpSync(join(taskDir, 'environment'), app, { recursive: true, filter: (src) => !DOCKER_FILES.has(src.split('/').pop()!) });

  const oracle = await startOracle({ tasks: solvableTasks(tasksDir), faults: fault ? { [taskId]: fault } : {} });
  const trial = `${trialPrefix(taskId)}__${randomBytes(4).toString('hex').slice(0, 7)}`;
  const router = new JobTrialRouter(jobDir);
  const logPath = router.register(trial);
  const protocol = agent === 'claude-code' ? 'anthropic' : 'openai';
  const proxy = await startBuiltinProxy({ upstream: { baseUrl: oracle.url, protocol }, routes: router, prices: { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3 } });
  const conn: AgentConnection = { proxyUrl: proxy.url, key: proxy.key, model: 'trajgen-oracle', trial };
  const instruction = readFileSync(join(taskDir, 'instruction.md'), 'utf8').trim();
  const { cmd, args, env } = agentCommand(agent, conn, { tmp, home, sessions: join(jobDir, trial, 'agent', 'sessions') }, instruction);
  console.log(`task ${taskId}  agent ${agent}  trial ${trial}  fault ${fault ?? '-'}`);
  console.log(`tmp ${tmp}`);
  const agentOut = join(jobDir, trial, 'agent', `${agent}.txt`);
  const result = await run(cmd, args, { cwd: app, env, timeoutMs, out: agentOut });
  console.log(`agent exit ${result.code}${result.signal ? ` (${result.signal})` : ''}${result.timedOut ? ' TIMED OUT' : ''} in ${(result.ms / 1000).toFixed(1)} s`);

  await proxy.stop();
  const stats = oracle.stats();
  await oracle.stop();

  const verifier = await run('bash', [join(taskDir, 'tests/test.sh')], {
    cwd: app,
    env: { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', TRAJGEN_APP_DIR: app, TRAJGEN_LOGS_DIR: join(jobDir, trial) },
    timeoutMs: 60_000,
    out: join(jobDir, trial, 'verifier', 'test-stdout.txt'),
  });
  const rewardFile = join(jobDir, trial, 'verifier', 'reward.txt');
  const reward = existsSync(rewardFile) ? readFileSync(rewardFile, 'utf8').trim() : 'missing';
  const lines = readLogLines(logPath);
  const requests = stats.generation.by_trial[trial] ?? 0;
  console.log(`verifier exit ${verifier.code}  reward ${reward}`);
  console.log(`log lines ${lines.length}  oracle generation requests ${requests}  count_tokens ${stats.count_tokens}  kinds ${JSON.stringify(stats.generation.by_kind)}`);
  for (const l of lines) console.log(describeLogLine(l));
  const leaked = [proxy.key].filter((k) => readFileSync(logPath, 'utf8').includes(k));
  if (leaked.length) console.log('SECRET LEAK: the per-job key appears in the log');
  if (!keep) rmSync(tmp, { recursive: true, force: true });
  else console.log(`kept ${tmp}`);
  const ok = reward !== 'missing' && lines.length === requests && !leaked.length && !result.timedOut;
  process.exitCode = ok ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
