import { z } from 'zod';

/**
 * The single source of truth for `pipelines/<name>/config.yaml`.
 *
 * Every key has a description and, where it has one, a default; the generator's
 * commented template (`tools/trajgen/src/generators/pipeline/files`) documents
 * the same keys and a test keeps the two in step.
 *
 * Relative paths resolve against the pipeline folder unless a key says
 * otherwise; `{workspaceRoot}` and `{artifacts}` (= artifacts/<pipeline>) may be
 * used as prefixes.
 */

export const ENV_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const envVar = (description: string) =>
  z.string().regex(ENV_VAR_NAME, 'an environment variable name like ANTHROPIC_API_KEY').describe(description);

const safeName = (description: string) =>
  z.string().regex(SAFE_NAME, 'letters, digits, ".", "_" or "-", starting with a letter or digit').describe(description);

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

// ---------------------------------------------------------------- meta_info
export const metaInfoSchema = z
  .strictObject({
    name: safeName('Pipeline name; must equal the folder name under pipelines/.').optional(),
    description: z.string().default('').describe('What this pipeline produces, for people and the report.'),
    dependencies: z
      .array(
        z.strictObject({
          name: z.string().min(1).describe('Upstream block or pipeline that feeds this one.'),
          provides: z.enum(['tasks', 'data', 'model']).default('tasks').describe('What it provides.'),
          path: z.string().optional().describe('Where its output lives (informational).'),
        }),
      )
      .default([])
      .describe('Upstream dependencies (e.g. the block that verifies tasks).'),
  })
  .prefault({});

// ---------------------------------------------------------------- task_source
export const taskSourceSchema = z
  .strictObject({
    path: z
      .string()
      .min(1)
      .default('tasks')
      .describe('Task pool: a directory of Harbor task directories (relative to the pipeline folder).'),
    manifest: z
      .string()
      .min(1)
      .default('verifiable_tasks.txt')
      .describe('Manifest of verified task ids, one per line, relative to the task root.'),
    allow_unverified: z
      .boolean()
      .default(false)
      .describe('Stage every valid task when the manifest is missing. Off: a missing manifest is an error.'),
    dataset: safeName('Name of the staged dataset (default: basename of the task root).').optional(),
    staging: z
      .enum(['link', 'copy'])
      .default('link')
      .describe('How tasks are staged into artifacts/<p>/tasks/<dataset>: symlinks or copies.'),
  })
  .prefault({});

// ---------------------------------------------------------------- ledger
export const ledgerSchema = z
  .strictObject({
    excluded_tasks_file: z
      .string()
      .default('excluded_tasks.txt')
      .describe('Git-tracked list of task ids excluded for good by a person (relative to the pipeline folder).'),
    compact_every: positiveInt
      .default(1000)
      .describe('Fold the append-only journal into consumption_ledger.yaml after this many records (and once the journal is half the YAML\'s size); always on close.'),
    resample_unresolved: z
      .boolean()
      .default(false)
      .describe('Sample a task again when its verified trial is unresolved (reward < 1), up to max_attempts attempts; every trial is kept (convert sees them all).'),
    max_attempts: positiveInt
      .default(3)
      .describe('With resample_unresolved: attempts per task (counted in the ledger) before an unresolved task stays done.'),
    backend: z
      .enum(['yaml', 'postgres'])
      .default('yaml')
      .describe('yaml: artifacts/<p>/consumption_ledger.yaml, one clone. postgres: one ledger shared by several machines (leases with a heartbeat).'),
    postgres: z
      .strictObject({
        url_env: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
          .default('TRAJGEN_LEDGER_DATABASE_URL')
          .describe('Environment variable holding the connection string (postgres://user:pass@host:5432/db); never the URL itself.'),
        lease_sec: z.number().positive().default(300).describe('A claimed task whose machine stopped renewing its lease for this long is handed to another machine.'),
        heartbeat_sec: z.number().positive().default(30).describe('How often a running rollout renews the leases of its tasks (well below lease_sec).'),
        connect_timeout_sec: z.number().positive().default(10).describe('Give up connecting after this long: a clear error before any trial starts.'),
      })
      .prefault({}),
  })
  .prefault({});

// ---------------------------------------------------------------- rollout
export const SCAFFOLDS = ['claude-code', 'opencode', 'openhands-sdk', 'terminus-2'] as const;
export type Scaffold = (typeof SCAFFOLDS)[number];

const faultSchema = z.enum(['http_429', 'http_500', 'disconnect', 'wrong_answer', 'slow']);

export const llmApiSchema = z
  .strictObject({
    provider: z
      .enum(['oracle', 'anthropic', 'openai'])
      .default('oracle')
      .describe(
        'Protocol the upstream speaks. "oracle" starts the embedded scripted demo/test model; real runs use anthropic or openai.',
      ),
    base_url: z.url().optional().describe('Upstream endpoint (required unless provider is oracle).'),
    model: z.string().min(1).optional().describe('Upstream model id (default: rollout.model).'),
    api_key_env: envVar('Name of the environment variable holding the upstream key (never the key itself).').optional(),
    prices: z
      .strictObject({
        input_per_mtok: z.number().nonnegative().default(0).describe('USD per million input tokens.'),
        output_per_mtok: z.number().nonnegative().default(0).describe('USD per million output tokens.'),
        cache_read_per_mtok: z.number().nonnegative().default(0).describe('USD per million cached input tokens.'),
      })
      .prefault({})
      .describe('Prices used for cost totals in progress and summaries.'),
    oracle: z
      .strictObject({
        latency_ms: nonNegativeInt.default(0).describe('Delay before each oracle response.'),
        faults: z
          .record(z.string(), z.union([faultSchema, z.array(faultSchema)]))
          .default({})
          .describe('Per task id: faults the oracle injects (demo and reliability tests only).'),
      })
      .prefault({})
      .describe('Settings of the embedded oracle (provider: oracle only).'),
  })
  .prefault({});

export const rolloutSchema = z
  .strictObject({
    engine: z
      .enum(['local', 'harbor'])
      .default('local')
      .describe('local: trials run here, no containers (trusted tasks only). harbor: `harbor run` with containers or a cloud env.'),
    scaffold: z.enum(SCAFFOLDS).default('claude-code').describe('Agent scaffold.'),
    model: z.string().min(1).default('trajgen-oracle').describe('Model alias the agent asks the proxy for.'),
    llm_api: llmApiSchema.describe('Upstream the proxy forwards to.'),
    n_concurrent: positiveInt.default(1).describe('Trials run at once.'),
    max_retries: nonNegativeInt
      .default(2)
      .describe('Attempts after an infrastructure failure, counted across runs (agent timeouts are never retried).'),
    n_tasks: positiveInt.nullable().default(null).describe('Cap on tasks per run (null: the whole batch).'),
    timeouts: z
      .strictObject({
        agent_sec: z.number().positive().default(900).describe("Agent timeout per trial: caps the task's [agent].timeout_sec (tasks without one get this)."),
        verifier_sec: z.number().positive().default(300).describe("Verifier (tests/test.sh) timeout: caps the task's [verifier].timeout_sec (Harbor default 600)."),
        multiplier: z.number().positive().default(1).describe('Scales both timeouts (Harbor timeout_multiplier).'),
      })
      .prefault({}),
    agent: z
      .strictObject({
        version: z.string().optional().describe('Agent CLI version to install (harbor engine).'),
        max_turns: positiveInt.optional().describe('Turn limit (claude-code max_turns, openhands-sdk max_iterations).'),
        temperature: z.number().min(0).max(2).optional().describe('Sampling temperature passed to the agent.'),
        env: z
          .record(z.string().regex(ENV_VAR_NAME), z.string())
          .default({})
          .describe('Extra non-secret environment for the agent.'),
        pass_env: z
          .array(z.string().regex(ENV_VAR_NAME))
          .default([])
          .describe('Names of host variables passed through to the agent.'),
      })
      .prefault({}),
    harbor: z
      .strictObject({
        executable: z.string().default('harbor').describe('Harbor CLI (used when managed_env is false).'),
        managed_env: z
          .boolean()
          .default(false)
          .describe('Install Harbor (pinned) into artifacts/env/harbor on first use, with a Python ≥ 3.12, and run that one.'),
        environment: z
          .enum(['docker', 'daytona', 'modal', 'e2b', 'runloop', 'host'])
          .default('docker')
          .describe('Harbor environment: docker locally, a cloud sandbox to scale out, or host (trajgen\'s own: no containers, trusted tasks only).'),
        proxy_host: z
          .string()
          .optional()
          .describe('Address containers use to reach the proxy (default: this host\'s first non-loopback IP).'),
        agent_kwargs: z.record(z.string(), z.unknown()).default({}).describe('Extra Harbor agent kwargs.'),
        n_attempts: positiveInt.default(1).describe('Harbor n_attempts.'),
      })
      .prefault({}),
  })
  .prefault({});

// ---------------------------------------------------------------- proxy
export const proxySchema = z
  .strictObject({
    backend: z
      .enum(['builtin', 'litellm'])
      .default('builtin')
      .describe('builtin: Node recording proxy. litellm: a per-job LiteLLM proxy with our logger callback.'),
    host: z.string().default('127.0.0.1').describe('Interface the proxy listens on.'),
    port: z.number().int().min(0).max(65535).default(0).describe('Port (0: a free port per job; never 4000 for LiteLLM).'),
    request_timeout_sec: z.number().positive().default(600).describe('Upstream request timeout.'),
    trial_header: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'an HTTP header name like x-trajgen-trial')
      .default('x-trajgen-trial')
      .describe('Header each agent sends with its trial name; the proxy routes log lines by it.'),
    litellm: z
      .strictObject({
        managed_env: z
          .boolean()
          .default(true)
          .describe('Install litellm[proxy] into artifacts/env/litellm on first use and run its litellm (false: run executable).'),
        executable: z.string().default('litellm').describe('LiteLLM CLI, when managed_env is false.'),
        startup_timeout_sec: z.number().positive().default(120).describe('Wait for /health/readiness at most this long.'),
        num_workers: positiveInt.default(1).describe('LiteLLM workers (1 keeps one writer per trajectory file).'),
      })
      .prefault({}),
  })
  .prefault({});

// ---------------------------------------------------------------- conversion
export const conversionSchema = z
  .strictObject({
    data_name: safeName('Dataset name: im_data/<data_name>.jsonl, lf_data/<data_name>.json.').optional(),
    scaffold: z
      .enum(['auto', ...SCAFFOLDS])
      .default('auto')
      .describe('Converter: auto-detect per trial, or force one.'),
    instance_status: z
      .enum(['resolved', 'unresolved', 'all'])
      .default('resolved')
      .describe('Which trials to convert: reward 1.0, the others, or all.'),
    reasoning_check: z
      .enum(['fast', 'strict', 'adaptive'])
      .default('adaptive')
      .describe('fast: no requirement; strict: every assistant turn has reasoning; adaptive: at least the ratio below.'),
    reasoning_ratio_threshold: z.number().min(0).max(1).default(0.2).describe('Share of assistant turns with reasoning (adaptive).'),
    exclude_repos_file: z
      .string()
      .default('{workspaceRoot}/artifacts/data/excluded_repos.txt')
      .describe('Benchmark repos never trained on ("" disables).'),
    max_instances: positiveInt.nullable().default(null).describe('Cap on converted instances (null: all).'),
    from_jobs: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Existing Harbor job dirs to convert instead of this pipeline\'s own rollouts (relative to the pipeline folder, or absolute, or {workspaceRoot}/…). Non-empty: prepare and rollout do nothing, convert reads these dirs.',
      ),
  })
  .prefault({});

// ---------------------------------------------------------------- scoring
export const scoringSchema = z
  .strictObject({
    weights: z
      .strictObject({
        submission: z.number().nonnegative().default(0.33).describe('SUB: submission completeness.'),
        steps: z.number().nonnegative().default(0.27).describe('STP: assistant-turn count.'),
        tests: z.number().nonnegative().default(0.23).describe('TVR: test verification.'),
        edit_concentration: z.number().nonnegative().default(0.1).describe('FEC: file-edit concentration.'),
        dead_paths: z.number().nonnegative().default(0.07).describe('DPI: dead-path/loop/repeated-error penalties.'),
      })
      .prefault({}),
    exponents: z
      .strictObject({
        edit_concentration: z.number().positive().default(5).describe('FEC is raised to this power.'),
        dead_paths: z.number().positive().default(3).describe('DPI is raised to this power.'),
      })
      .prefault({}),
    step_curve: z
      .strictObject({
        optimum_min: positiveInt.default(5).describe('Below this many assistant turns STP = turns / optimum_min.'),
        optimum_max: positiveInt.default(80).describe('STP = 1 up to this many turns.'),
        zero_at: positiveInt.default(200).describe('STP = 0 at or above this many turns.'),
      })
      .prefault({}),
    filters: z
      .strictObject({
        min_score: z.number().min(0).max(1).nullable().default(null).describe('Drop main-agent rows scoring below this.'),
        min_assistant_turns: nonNegativeInt.nullable().default(null).describe('Drop rows with fewer assistant turns.'),
        max_assistant_turns: positiveInt.nullable().default(null).describe('Drop rows with more assistant turns.'),
        max_tokens: positiveInt.nullable().default(null).describe('Drop rows longer than this (estimated tokens).'),
        max_per_instance: positiveInt.nullable().default(null).describe('Keep at most N trajectories per instance (best first).'),
        drop_tool_errors: z.boolean().default(false).describe('Remove tool-error exchanges (call + error result).'),
        bundle_by_best_main: z
          .boolean()
          .default(false)
          .describe('Keep or drop a whole instance bundle (main + sub-agents) by its best main score.'),
      })
      .prefault({}),
    lf_format: z
      .enum(['sharegpt', 'rendered'])
      .default('sharegpt')
      .describe('sharegpt: native LLaMA-Factory tool-call data. rendered: text rendered with the student chat template.'),
    tokenizer_config: z
      .string()
      .optional()
      .describe('Student tokenizer_config.json (chat template) for lf_format: rendered.'),
    stats_cutoff_tokens: positiveInt.default(131072).describe('Rows longer than this are counted in stats.'),
  })
  .prefault({});

// ---------------------------------------------------------------- dataset (register)
export const datasetSchema = z
  .strictObject({
    name: safeName('Entry name in dataset_info.json (default: conversion.data_name).').optional(),
    source: z
      .enum(['pipeline', 'local_lf', 'hf'])
      .default('pipeline')
      .describe('pipeline: our LF output; local_lf: an existing LF file; hf: a Hugging Face dataset.'),
    local_path: z.string().optional().describe('LF JSON file (source: local_lf).'),
    hf_hub_url: z.string().optional().describe('Hugging Face dataset id (source: hf).'),
    subset: z.string().optional().describe('Hub subset (source: hf).'),
    split: z.string().default('train').describe('Split (source: hf).'),
    num_samples: positiveInt.optional().describe('Subsample to this many rows.'),
    columns: z
      .record(z.string(), z.string())
      .optional()
      .describe('Column mapping of the entry (default: detected from the rows; source hf: messages→conversations, tools→tools).'),
    tags: z.record(z.string(), z.string()).optional().describe('Role/content tag mapping of the entry (ShareGPT tags; default: detected).'),
    dataset_dir: z
      .string()
      .optional()
      .describe('LLaMA-Factory data dir holding dataset_info.json (default: artifacts/<p>/data/lf_data).'),
  })
  .prefault({});

// ---------------------------------------------------------------- training
export const trainingSchema = z
  .looseObject({
    backend: z
      .enum(['hf', 'llamafactory'])
      .default('llamafactory')
      .describe('llamafactory: llamafactory-cli (production). hf: the embedded transformers/peft trainer (demo, CPU).'),
    model_name_or_path: z.string().min(1).describe('Base model: hub id or local path (hf backend: a local dir or a config file).'),
    template: z.string().default('qwen3_nothink').describe('LLaMA-Factory chat template.'),
    stage: z.literal('sft').default('sft').describe('Training stage (sft only).'),
    finetuning_type: z.enum(['lora', 'full', 'freeze', 'oft']).default('lora').describe('Fine-tuning method.'),
    lora_rank: positiveInt.default(8),
    lora_alpha: positiveInt.optional().describe('Default 2 × lora_rank.'),
    lora_dropout: z.number().min(0).max(1).default(0),
    lora_target: z.string().default('all').describe('Comma list of modules, or "all" linear layers.'),
    cutoff_len: positiveInt.default(2048).describe('Max tokens per example; LLaMA-Factory silently drops later turns.'),
    per_device_train_batch_size: positiveInt.default(1),
    gradient_accumulation_steps: positiveInt.default(8),
    learning_rate: z.number().positive().default(1e-4),
    num_train_epochs: z.number().positive().default(3),
    max_steps: z.number().int().optional().describe('Overrides num_train_epochs when > 0.'),
    lr_scheduler_type: z.string().default('cosine'),
    warmup_ratio: z.number().min(0).max(1).default(0.1),
    logging_steps: positiveInt.default(10),
    save_steps: positiveInt.default(500),
    save_total_limit: positiveInt.optional(),
    save_only_model: z.boolean().default(false).describe('true saves no optimizer state: such checkpoints cannot be resumed.'),
    bf16: z.boolean().default(false),
    seed: nonNegativeInt.default(42),
    report_to: z.string().default('none'),
    output_dir: z.string().min(1).describe('Run directory; relative values resolve to artifacts/<p>/model/<basename>.'),
    overwrite_output_dir: z.boolean().default(false).describe('Allow training into a non-empty output_dir.'),
    resume_from_checkpoint: z.string().nullable().default(null).describe('Checkpoint to resume (path or "latest").'),
    deepspeed: z.string().nullable().default(null).describe('DeepSpeed config JSON (needs a distributed launch).'),
    distributed: z
      .strictObject({
        mode: z
          .enum(['single', 'torchrun', 'multi-node', 'ray'])
          .default('single')
          .describe('single GPU/CPU; torchrun (one node, NPROC_PER_NODE); multi-node (NNODES/NODE_RANK/MASTER_*); ray.'),
        nproc_per_node: positiveInt.optional().describe('Processes per node (default: all visible GPUs).'),
        nnodes: positiveInt.default(1),
        node_rank: nonNegativeInt.default(0),
        master_addr: z.string().default('127.0.0.1'),
        master_port: z.number().int().min(1).max(65535).optional(),
        ray_num_workers: positiveInt.optional(),
      })
      .prefault({}),
    llamafactory: z
      .strictObject({
        executable: z.string().default('llamafactory-cli').describe('LLaMA-Factory CLI.'),
        managed_env: z
          .boolean()
          .default(false)
          .describe('Install LLaMA-Factory into artifacts/env/llamafactory and use it.'),
      })
      .prefault({}),
    cache_checkpoint: z
      .enum(['newest', 'none'])
      .default('newest')
      .describe('What the Nx cache keeps of a run: the newest checkpoint (shared with the team) or nothing.'),
  })
  .describe('LLaMA-Factory training keys plus trajgen launch settings. Unknown keys are checked against LLaMA-Factory.');

// ---------------------------------------------------------------- archive
export const archiveSchema = z
  .strictObject({
    report: z.boolean().default(true).describe('Regenerate artifacts/<p>/report/index.html on archive.'),
  })
  .prefault({});

// ---------------------------------------------------------------- whole file
export const runtimeInfoSchema = z
  .strictObject({
    output: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('Written back by the stages (checkpoint_path, final_loss, …). Edits here never invalidate a stage.'),
  })
  .prefault({});

export const pipelineConfigSchema = z.strictObject({
  meta_info: metaInfoSchema,
  task_source: taskSourceSchema,
  ledger: ledgerSchema,
  rollout: rolloutSchema,
  proxy: proxySchema,
  conversion: conversionSchema,
  scoring: scoringSchema,
  dataset: datasetSchema,
  training: trainingSchema,
  archive: archiveSchema,
  runtime_info: runtimeInfoSchema,
});

export type PipelineConfig = z.output<typeof pipelineConfigSchema>;
export type PipelineConfigInput = z.input<typeof pipelineConfigSchema>;
export type RolloutConfig = PipelineConfig['rollout'];
export type ProxyConfig = PipelineConfig['proxy'];
export type ConversionConfig = PipelineConfig['conversion'];
export type ScoringConfig = PipelineConfig['scoring'];
export type TrainingConfig = PipelineConfig['training'];
export type TaskSourceConfig = PipelineConfig['task_source'];
export type LedgerConfig = PipelineConfig['ledger'];
export type DatasetConfig = PipelineConfig['dataset'];

export const SECTIONS = Object.keys(pipelineConfigSchema.shape) as (keyof PipelineConfig)[];
