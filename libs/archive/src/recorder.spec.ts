import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSummaryFile } from '@trajgen/contracts';
import { summarySample } from '../../../test/support/contract-samples';
import { parse } from 'yaml';
import { pipelinePaths } from '@trajgen/config';
import { pipelineWorkspace } from '../../../test/support/pipeline-workspace';
import { trackedTempDirs } from '../../../test/support/temp-dirs';
import { seedPipelineOutputs } from './__fixtures__/seed';
import { recordInvocation, recoverInterruptedRuns, type TaskOutcome } from './recorder';
import { readRunIndex } from './run-index';

const tempDir = trackedTempDirs();
function workspace(pipelines = ['p']): string {
  const ws = pipelineWorkspace({ prefix: 'archive-rec-', config: null, tempDir });
  for (const p of pipelines) {
    ws.writeConfig(
      `meta_info:\n  description: test pipeline\nrollout:\n  llm_api:\n    provider: anthropic\n    base_url: https://api.example.com\n    api_key_env: UPSTREAM_KEY\n  agent:\n    env:\n      UPSTREAM_TOKEN: sk-ant-api03-abcdefghijklmnopqrstuvwx\ntraining:\n  model_name_or_path: m\n  output_dir: o\n`,
      p,
    );
  }
  return ws.root;
}

const T0 = Date.parse('2026-11-21T10:00:00Z');
const task = (project: string, target: string, status: string, extra: Partial<TaskOutcome> = {}): TaskOutcome => ({
  project,
  target,
  status,
  hash: `h-${target}`,
  startTime: T0 + 1000,
  endTime: T0 + 4000,
  code: status === 'failure' ? 1 : 0,
  ...extra,
});
const invoke = (root: string, tasks: TaskOutcome[], extra: { invocation?: string; note?: string } = {}) =>
  recordInvocation({ workspaceRoot: root, invocation: extra.invocation ?? 'inv-1', argv: ['/usr/bin/node', '/x/nx', 'run', 'p:archive'], startTime: T0, endTime: T0 + 5000, tasks, note: extra.note });

const yamlOf = (path: string) => parse(readFileSync(path, 'utf8'));

describe('recordInvocation', () => {
  it('records a completed run: index entry, archive dir with redacted config and metadata, history.js', () => {
    const root = workspace();
    seedPipelineOutputs(root, 'p');
    const runs = invoke(root, [task('p', 'prepare', 'local-cache'), task('p', 'rollout', 'remote-cache'), task('p', 'convert', 'success'), task('p', 'score', 'success')]);
    expect(runs).toEqual([expect.objectContaining({ pipeline: 'p', id: 'run_001', status: 'completed', stagesRan: ['convert', 'score'], notes: 'ran convert, score; cached prepare, rollout' })]);
    const index = yamlOf(join(root, 'artifacts/p/index.yaml'));
    expect(index.runs).toEqual([
      {
        id: 'run_001',
        started_at: '2026-11-21T10:00:00Z',
        completed_at: '2026-11-21T10:00:05Z',
        status: 'completed',
        archive: 'artifacts/p/archives/run_001',
        stages_ran: ['convert', 'score'],
        notes: 'ran convert, score; cached prepare, rollout',
        nx_invocation: 'inv-1',
      },
    ]);
    const meta = yamlOf(join(root, 'artifacts/p/archives/run_001/metadata.yaml'));
    expect(meta.stages.prepare).toMatchObject({ status: 'cached', cache: 'local', hash: 'h-prepare', exit_code: null });
    expect(meta.stages.rollout).toMatchObject({ status: 'cached', cache: 'remote' });
    expect(meta.stages.convert).toEqual({ status: 'ran', cache: null, hash: 'h-convert', started_at: '2026-11-21T10:00:01Z', completed_at: '2026-11-21T10:00:04Z', duration_sec: 3, exit_code: 0 });
    expect(meta.stages.train).toEqual({ status: 'not-run' });
    expect(meta.nx).toEqual({ invocation: 'inv-1', command: 'nx run p:archive' });
    expect(meta.git).toEqual({ commit: null, branch: null, dirty: null });
    expect(meta.summary.trials).toMatchObject({ available: true, total: 8 });
    expect(meta.summary.training).toMatchObject({ available: true, checkpoint_path: 'artifacts/p/model/demo-lora/checkpoint-16' });
    const archived = readFileSync(join(root, 'artifacts/p/archives/run_001/config.yaml'), 'utf8');
    expect(archived).not.toContain('sk-ant-api03');
    expect(archived).toContain('api_key_env: UPSTREAM_KEY');
    expect(meta.config.blanked).toEqual(['rollout.agent.env.UPSTREAM_TOKEN']);
    const history = readFileSync(join(root, 'artifacts/p/report/history.js'), 'utf8');
    expect(history).toMatch(/^\/\/ .*\nwindow\.TRAJGEN_HISTORY = \[/);
    expect(history).toContain('"id": "run_001"');
  });

  it('records nothing for a fully cached rerun, and nothing for non-stage targets or non-pipeline projects', () => {
    const root = workspace();
    expect(invoke(root, [task('p', 'prepare', 'local-cache'), task('p', 'archive', 'local-cache-kept-existing'), task('p', 'check', 'success'), task('@trajgen/core', 'test', 'success')])).toEqual([]);
    expect(existsSync(join(root, 'artifacts/p/index.yaml'))).toBe(false);
    expect(existsSync(join(root, 'artifacts/p/archives'))).toBe(false);
  });

  it('records a failed run with the failing stage, and skipped dependents', () => {
    const root = workspace();
    const [run] = invoke(root, [task('p', 'prepare', 'success'), task('p', 'rollout', 'failure', { code: 2 }), task('p', 'convert', 'skipped', { startTime: undefined, endTime: undefined })]);
    expect(run).toMatchObject({ status: 'failed', notes: 'failed at rollout (exit 2); ran prepare', stagesRan: ['prepare', 'rollout'] });
    const meta = yamlOf(join(root, 'artifacts/p/archives/run_001/metadata.yaml'));
    expect(meta.stages.convert).toMatchObject({ status: 'skipped', exit_code: null });
    expect(meta.summary.trials).toEqual({ available: false, reason: 'artifacts/p/rollout/trials.json does not exist' });
  });

  it('records a run Nx stopped (SIGINT/SIGTERM) as interrupted, naming the signal from the stage marker', () => {
    const root = workspace();
    const dir = join(root, 'artifacts/p/.runs/inv-9');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'rollout.json'), JSON.stringify({ invocation: 'inv-9', pipeline: 'p', stage: 'rollout', started_at: '2026-11-21T10:00:01Z', status: 'interrupted', signal: 'SIGTERM', host: hostname() }));
    const [run] = invoke(root, [task('p', 'prepare', 'local-cache'), task('p', 'rollout', 'stopped')], { invocation: 'inv-9', note: 'first real batch' });
    expect(run).toMatchObject({ status: 'interrupted', notes: 'first real batch — interrupted during rollout (SIGTERM); cached prepare' });
    expect(existsSync(dir)).toBe(false); // its markers are removed once recorded
  });

  it('allocates ids after the highest of archives/ and index.yaml, and records each pipeline of one invocation', () => {
    const root = workspace(['p', 'q']);
    mkdirSync(join(root, 'artifacts/p/archives/run_007'), { recursive: true });
    mkdirSync(join(root, 'artifacts/p/archives/notes'), { recursive: true });
    const runs = invoke(root, [task('p', 'score', 'success'), task('q', 'train', 'failure')]);
    expect(runs.map((r) => [r.pipeline, r.id, r.status])).toEqual([
      ['p', 'run_008', 'completed'],
      ['q', 'run_001', 'failed'],
    ]);
    expect(invoke(root, [task('p', 'score', 'success')], { invocation: 'inv-2' })[0].id).toBe('run_009');
  });

  it('uses the archive stage summary when the archive stage ran in this invocation', () => {
    const root = workspace();
    mkdirSync(join(root, 'artifacts/p/archive'), { recursive: true });
    writeSummaryFile(join(root, 'artifacts/p/archive/summary.json'), { ...summarySample, pipeline: 'p', description: 'from the stage' });
    invoke(root, [task('p', 'archive', 'success')]);
    expect(yamlOf(join(root, 'artifacts/p/archives/run_001/metadata.yaml')).summary).toEqual({ ...summarySample, pipeline: 'p', description: 'from the stage' });
  });

  it('collects the summary from disk when the stage summary breaks its contract', () => {
    const root = workspace();
    mkdirSync(join(root, 'artifacts/p/archive'), { recursive: true });
    writeFileSync(join(root, 'artifacts/p/archive/summary.json'), JSON.stringify({ schema_version: 1, pipeline: 'p', description: 'from the stage' }));
    invoke(root, [task('p', 'archive', 'success')]);
    expect(yamlOf(join(root, 'artifacts/p/archives/run_001/metadata.yaml')).summary).toMatchObject({ description: 'test pipeline', trials: { available: false } });
  });

  it('keeps an unreadable index.yaml aside and rebuilds the entries from the archives', () => {
    const root = workspace();
    invoke(root, [task('p', 'score', 'success')]);
    writeFileSync(join(root, 'artifacts/p/index.yaml'), 'runs: [: torn');
    const [run] = invoke(root, [task('p', 'score', 'success')], { invocation: 'inv-2' });
    expect(run.id).toBe('run_002');
    expect(run.indexSetAside).toMatch(/^artifacts\/p\/index\.yaml\.unreadable-/);
    expect(readRunIndex(pipelinePaths(root, 'p')).runs.map((r) => r.id)).toEqual(['run_001', 'run_002']);
  });

  it('adds history.js beside a report restored from a cache (nothing recorded)', () => {
    const root = workspace();
    mkdirSync(join(root, 'artifacts/p/report'), { recursive: true });
    writeFileSync(join(root, 'artifacts/p/report/index.html'), '<html></html>');
    expect(invoke(root, [task('p', 'archive', 'remote-cache')])).toEqual([]);
    expect(readFileSync(join(root, 'artifacts/p/report/history.js'), 'utf8')).toContain('window.TRAJGEN_HISTORY = []');
  });

  it('gives unique ids to concurrent recorders (separate processes, one lock)', () => {
    const root = workspace();
    const script = join(root, 'record.ts');
    writeFileSync(
      script,
      `const { recordInvocation } = require(${JSON.stringify(join(__dirname, 'recorder.ts'))});\nfor (let i = 0; i < 3; i++) recordInvocation({ workspaceRoot: ${JSON.stringify(root)}, invocation: process.argv[2] + '-' + i, argv: [], startTime: ${T0}, endTime: ${T0 + 1}, tasks: [{ project: 'p', target: 'score', status: 'success' }] });\n`,
    );
    const procs = [0, 1, 2, 3].map((n) => `node -r @swc-node/register ${script} w${n}`);
    const r = spawnSync('bash', ['-c', `${procs.map((c) => `${c} &`).join(' ')} wait`], { cwd: join(__dirname, '../../..'), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const ids = readRunIndex(pipelinePaths(root, 'p')).runs.map((x) => x.id);
    expect(ids.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `run_${String(i + 1).padStart(3, '0')}`));
    expect(readdirSync(join(root, 'artifacts/p/archives')).filter((d) => d.startsWith('run_'))).toHaveLength(12);
  }, 60_000);
});

describe('recoverInterruptedRuns', () => {
  function deadPid(): number {
    const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    return Number(r.stdout);
  }
  function marker(root: string, invocation: string, stage: string, fields: Record<string, unknown>): void {
    const dir = join(root, 'artifacts/p/.runs', invocation);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${stage}.json`), JSON.stringify({ schema_version: 1, invocation, pipeline: 'p', stage, hash: `h-${stage}`, host: hostname(), started_at: '2026-11-21T10:00:00.000Z', ended_at: null, status: 'running', ...fields }));
  }

  it('records a marker set whose nx and stage processes are gone as an interrupted run, then removes it', () => {
    const root = workspace();
    const dead = deadPid();
    marker(root, 'inv-dead', 'prepare', { nx_pid: dead, pid: dead, status: 'success', ended_at: '2026-11-21T10:00:02.000Z' });
    marker(root, 'inv-dead', 'rollout', { nx_pid: dead, pid: dead, started_at: '2026-11-21T10:00:03.000Z' });
    const [run] = recoverInterruptedRuns(root);
    expect(run).toMatchObject({ id: 'run_001', status: 'interrupted', stagesRan: ['prepare', 'rollout'] });
    expect(run.notes).toMatch(new RegExp(`^interrupted during rollout; nx \\(pid ${dead}\\) ended without recording the run`));
    const meta = yamlOf(join(root, 'artifacts/p/archives/run_001/metadata.yaml'));
    expect(meta.stages.prepare).toMatchObject({ status: 'ran', hash: 'h-prepare', duration_sec: 2 });
    expect(meta.stages.rollout).toMatchObject({ status: 'interrupted', completed_at: null });
    expect(meta.recorded_by).toMatch(/run markers/);
    expect(existsSync(join(root, 'artifacts/p/.runs/inv-dead'))).toBe(false);
    expect(recoverInterruptedRuns(root)).toEqual([]);
  });

  it('leaves live runs, other hosts, the caller\'s own invocation, and removes sets already recorded', () => {
    const root = workspace();
    const dead = deadPid();
    marker(root, 'inv-live', 'score', { nx_pid: process.pid, pid: dead });
    marker(root, 'inv-other-host', 'score', { nx_pid: dead, pid: dead, host: 'elsewhere' });
    marker(root, 'inv-mine', 'score', { nx_pid: dead, pid: dead });
    expect(recoverInterruptedRuns(root, { exceptInvocation: 'inv-mine' })).toEqual([]);
    expect(readdirSync(join(root, 'artifacts/p/.runs')).sort()).toEqual(['inv-live', 'inv-mine', 'inv-other-host']);
    // The hook recorded inv-mine but died before removing its markers: not recorded twice.
    invoke(root, [task('p', 'score', 'success')], { invocation: 'inv-mine' });
    marker(root, 'inv-mine', 'score', { nx_pid: dead, pid: dead });
    expect(recoverInterruptedRuns(root)).toEqual([]);
    expect(readRunIndex(pipelinePaths(root, 'p')).runs).toHaveLength(1);
  });

  it('drops a marker set of targets that are not stages (nothing to record)', () => {
    const root = workspace();
    const dead = deadPid();
    marker(root, 'inv-ledger', 'ledger', { nx_pid: dead, pid: dead });
    expect(recoverInterruptedRuns(root)).toEqual([]);
    expect(existsSync(join(root, 'artifacts/p/.runs/inv-ledger'))).toBe(false);
  });

  it('treats a live pid with another start time as a reused pid (the run is dead)', () => {
    const root = workspace();
    marker(root, 'inv-reused', 'train', { nx_pid: process.pid, nx_pid_start: '1', pid: process.pid, pid_start: '1' });
    expect(recoverInterruptedRuns(root).map((r) => r.status)).toEqual(process.platform === 'linux' ? ['interrupted'] : []);
  });
});
