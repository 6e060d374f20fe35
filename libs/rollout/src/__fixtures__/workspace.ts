/**
 * Test helper: a temporary workspace with one pipeline whose tasks are copies
 * of demo tasks (plus any extra task dirs a test writes), node_modules linked
 * to the real install (the real agent CLIs), and helpers to run prepare and
 * the rollout stage in-process.
 */
import { cpSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedPipeline } from '@trajgen/config';
import { prepareBatch, preparePipeline } from '@trajgen/tasks';
import { pipelineWorkspace } from '../../../../test/support/pipeline-workspace';

export const REPO_ROOT = join(__dirname, '../../../..');
export const DEMO_TASKS = join(REPO_ROOT, 'pipelines/demo/tasks');
export const FAKE_HARBOR = join(__dirname, 'fake-harbor.cjs');
export const REAL_FIXTURES = join(REPO_ROOT, 'test/fixtures/real');

export interface TestWorkspace {
  root: string;
  name: string;
  load(): LoadedPipeline;
  prepare(): void;
  /** prepare on the configured ledger backend. */
  prepareFor(): Promise<void>;
  /** Write an extra task dir (files relative to the task dir) and list it in the manifest. */
  addTask(id: string, files: Record<string, string>): void;
  read(rel: string): string;
  remove(): void;
}

export interface WorkspaceOptions {
  name?: string;
  /** Demo task ids to copy. */
  demoTasks?: string[];
  /** The rollout section (merged over a small default). */
  rollout?: Record<string, unknown>;
  proxy?: Record<string, unknown>;
  /** The ledger section (e.g. backend: postgres). */
  ledger?: Record<string, unknown>;
  /** The mkdtemp prefix (benchmarks name theirs). */
  prefix?: string;
}

/** A minimal valid task: instruction, environment file, test.sh by the local-engine convention. */
export function simpleTask(opts: { instruction?: string; testSh?: string; solve?: string; agentTimeout?: number; verifierTimeout?: number }): Record<string, string> {
  return {
    'task.toml': `schema_version = "1.4"\n\n[metadata]\ndifficulty = "easy"\n\n[agent]\ntimeout_sec = ${opts.agentTimeout ?? 120}.0\n\n[verifier]\ntimeout_sec = ${opts.verifierTimeout ?? 60}.0\n`,
    'instruction.md': opts.instruction ?? 'Create a file named done.txt containing the word done.\n',
    'environment/Dockerfile': 'FROM python:3.11-slim\nWORKDIR /app\nCOPY . /app\n',
    'environment/README.md': 'scratch\n',
    'solution/solve.sh': opts.solve ?? '#!/usr/bin/env bash\n# write the file\necho done > done.txt\n',
    'tests/test.sh':
      opts.testSh ??
      '#!/usr/bin/env bash\nAPP_DIR="${TRAJGEN_APP_DIR:-/app}"\nLOGS_DIR="${TRAJGEN_LOGS_DIR:-/logs}"\nmkdir -p "$LOGS_DIR/verifier"\nif grep -q done "$APP_DIR/done.txt" 2>/dev/null; then echo 1 > "$LOGS_DIR/verifier/reward.txt"; else echo 0 > "$LOGS_DIR/verifier/reward.txt"; fi\n',
  };
}

export function createWorkspace(options: WorkspaceOptions = {}): TestWorkspace {
  const name = options.name ?? 'p';
  const ws = pipelineWorkspace({ prefix: options.prefix ?? 'tg-rollout-', name, config: null, linkNodeModules: true });
  const root = ws.root;
  const taskRoot = join(root, 'pipelines', name, 'tasks');
  mkdirSync(taskRoot, { recursive: true });
  const ids: string[] = [];
  for (const id of options.demoTasks ?? []) {
    cpSync(join(DEMO_TASKS, id), join(taskRoot, id), { recursive: true });
    ids.push(id);
  }
  const writeManifest = () => writeFileSync(join(taskRoot, 'verifiable_tasks.txt'), ids.join('\n') + '\n');
  writeManifest();
  const config = {
    meta_info: { name, description: 'rollout test workspace' },
    task_source: { path: 'tasks', manifest: 'verifiable_tasks.txt', staging: 'link' },
    rollout: {
      engine: 'local',
      scaffold: 'claude-code',
      model: 'trajgen-oracle',
      llm_api: { provider: 'oracle', prices: { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3 } },
      n_concurrent: 2,
      max_retries: 1,
      timeouts: { agent_sec: 120, verifier_sec: 60 },
      ...(options.rollout ?? {}),
    },
    proxy: { backend: 'builtin', ...(options.proxy ?? {}) },
    ...(options.ledger ? { ledger: options.ledger } : {}),
    training: { backend: 'hf', model_name_or_path: 'base-model', output_dir: 'x-lora' },
  };
  ws.writeConfig(config);
  return {
    root,
    name,
    load: () => ws.load(),
    prepare() {
      prepareBatch(ws.load());
    },
    prepareFor: async () => void (await preparePipeline(ws.load())),
    addTask(id, files) {
      for (const [rel, text] of Object.entries(files)) {
        const p = join(taskRoot, id, rel);
        mkdirSync(join(p, '..'), { recursive: true });
        writeFileSync(p, text);
        if (rel.endsWith('.sh')) chmodSync(p, 0o755);
      }
      ids.push(id);
      writeManifest();
    },
    read: ws.read,
    remove: ws.remove,
  };
}

/** Collects io lines. */
export function captureIO() {
  const lines: string[] = [];
  const out = { text: '', write: (s: string) => ((out.text += s), true), isTTY: false };
  return { lines, out, io: { log: (l: string) => lines.push(l), warn: (l: string) => lines.push(`warning: ${l}`), out } };
}
