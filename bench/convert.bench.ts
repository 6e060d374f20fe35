/**
 * Benchmark of the convert stage (issue #5, "Performance").
 *
 *   node -r @swc-node/register bench/convert.bench.ts [--keep] [--trials N] [--mb M]
 *
 * 1. Builds a corpus of ≥ 200 MB of raw trial logs in a temp workspace by
 *    scaling the real fixtures (OpenHands SDK completion logs, Terminus-2
 *    ATIF, their texts as tool output) and the documented Claude Code /
 *    OpenCode wire shapes (proxy logs whose size grows quadratically with the
 *    turns, as real ones do), 5,000 trials plus a few very long ones, with a
 *    rollout/trials.json carrying the file digests.
 * 2. Each measurement runs in its own child process (clean peak RSS):
 *    - `parse`: JSON.parse alone over the same raw bytes (lines pre-split) —
 *      the ceiling;
 *    - `full`: convertPipeline from an empty memo — throughput vs the ceiling
 *      (target ≥ 50 %), peak RSS vs the largest single trajectory;
 *    - `incremental`: 10 new trials added to the 5,000 converted ones —
 *      time vs the full run (target ≤ 5 %).
 * 3. Prints the figures and writes bench/results/convert.json.
 *
 * Hook: MEASUREMENTS is a list; another stage's measurement on the same
 * corpus (e.g. the score stage's throughput over the IM this produces) is one
 * more entry — a phase function run in a child process, returning figures.
 */
import { benchmarkScore } from './score.bench';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { conversionSchema, pipelinePaths, type PipelinePaths } from '@trajgen/config';
import { convertPipeline } from '@trajgen/convert';
import { CC_TOOLS, OC_TOOLS } from '../libs/convert/src/__fixtures__/synthetic/build';
import { pipelineWorkspace } from '../test/support/pipeline-workspace';

const REPO = join(__dirname, '..');
const REAL = join(REPO, 'test/fixtures/real');
const PIPELINE = 'bench';

type Json = Record<string, any>;

// ------------------------------------------------------------------ corpus

/** Deterministic PRNG so every run builds the same corpus. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Material {
  system: string;
  outputs: string[];
  ohFc: Buffer[];
  terminus: Buffer[];
}

/** Real text to scale with: the OpenHands system prompt, real observations and terminal screens. */
function material(): Material {
  const oh1 = JSON.parse(readFileSync(join(REAL, 'openhands-sdk/litellm_proxy__anthropic__claude-sonnet-4-20250514-1757015025.972.json'), 'utf8'));
  const nonfc = JSON.parse(readFileSync(join(REAL, 'openhands-sdk/litellm_proxy__deepseek__deepseek-chat-1757015054.055.json'), 'utf8'));
  const pass = JSON.parse(readFileSync(join(REAL, 'harbor/trajectory_pass.json'), 'utf8'));
  const outputs: string[] = [];
  for (const s of pass.steps) for (const r of s.observation?.results ?? []) if (typeof r.content === 'string' && r.content.length > 200) outputs.push(r.content);
  const example: string = nonfc.messages[1].content;
  for (let i = 0; i + 1500 < example.length; i += 1500) outputs.push(example.slice(i, i + 1500));
  return {
    system: oh1.messages[0].content[0].text,
    outputs,
    ohFc: ['1757015025.972', '1757015029.090'].map((t) => readFileSync(join(REAL, `openhands-sdk/litellm_proxy__anthropic__claude-sonnet-4-20250514-${t}.json`))),
    terminus: ['hello-world-invalid-json', 'hello-world-timeout'].map((n) => readFileSync(join(REAL, `harbor/${n}.trajectory.json`))),
  };
}

/** A Claude Code proxy log (Anthropic-native) of `turns` tool turns: one record per call, each with the whole history. */
function claudeCodeLog(m: Material, rand: () => number, id: string, turns: number, outputScale: number): string {
  const system = [
    { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: { type: 'ephemeral' } },
    { type: 'text', text: `x-anthropic-billing-header: cch=${id.length.toString(16)}ab;\n${m.system.slice(0, 6000)}`, cache_control: { type: 'ephemeral' } },
  ];
  const history: Json[] = [{ role: 'user', content: [{ type: 'text', text: `Fix issue ${id}: the greeting is wrong.` }] }];
  const lines: string[] = [JSON.stringify({ success: true, request_time: 1, request_body: { model: 'claude-sonnet-4-5', max_tokens: 32000, system, messages: [{ role: 'user', content: 'Warmup' }] }, response_body: { content: [{ type: 'text', text: 'ok' }] } })];
  for (let t = 0; t < turns; t++) {
    const last = t === turns - 1;
    const callId = `toolu_${id}_${t}`;
    const response = last
      ? [{ type: 'thinking', thinking: 'Done; summarise.', signature: 's' }, { type: 'text', text: 'The fix is in place and the tests pass.' }]
      : [
          { type: 'thinking', thinking: `Step ${t}: inspect and act.`, signature: 'sig' },
          { type: 'text', text: `Running step ${t}.` },
          { type: 'tool_use', id: callId, name: t % 3 === 0 ? 'Read' : 'Bash', input: t % 3 === 0 ? { file_path: `/app/src/file_${t}.py` } : { command: `pytest -q tests/test_${t}.py`, description: 'run' } },
        ];
    lines.push(
      JSON.stringify({
        session_id: id,
        success: true,
        request_time: 1000 + t * 1000,
        request_body: { model: 'claude-sonnet-4-5', max_tokens: 32000, system, tools: CC_TOOLS, messages: history },
        response_body: { id: `msg_${t}`, type: 'message', role: 'assistant', content: response, stop_reason: last ? 'end_turn' : 'tool_use', usage: { input_tokens: 1000 + t * 500, output_tokens: 80 } },
      }),
    );
    if (last) break;
    history.push({ role: 'assistant', content: response.filter((b) => b.type !== 'thinking') });
    let out = '';
    while (out.length < outputScale) out += m.outputs[Math.floor(rand() * m.outputs.length)] + '\n';
    history.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: callId, content: out.slice(0, outputScale) }] });
  }
  return lines.join('\n') + '\n';
}

/** An OpenCode proxy log (OpenAI chat) with a title-generator call. */
function openCodeLog(m: Material, rand: () => number, id: string, turns: number): string {
  const messages: Json[] = [
    { role: 'system', content: `You are opencode, an interactive CLI tool.\n${m.system.slice(0, 3000)}` },
    { role: 'user', content: `Fix issue ${id}.` },
  ];
  const lines = [JSON.stringify({ success: true, request_time: 1, request_body: { model: 'glm-5', messages: [{ role: 'system', content: 'You are a title generator.' }, { role: 'user', content: id }] }, response_body: { choices: [{ message: { role: 'assistant', content: 'Title' } }] } })];
  for (let t = 0; t < turns; t++) {
    const last = t === turns - 1;
    const call = { id: `call_${id}_${t}`, type: 'function', function: { name: 'bash', arguments: JSON.stringify({ description: 'run', command: `ls src/${t}` }) } };
    const message = last ? { role: 'assistant', content: 'Done.' } : { role: 'assistant', content: '', reasoning_content: `step ${t}`, tool_calls: [call] };
    lines.push(JSON.stringify({ success: true, request_time: 1000 + t, request_body: { model: 'glm-5', messages, tools: OC_TOOLS, max_tokens: 32000 }, response_body: { object: 'chat.completion', choices: [{ index: 0, message }], usage: { prompt_tokens: 900, completion_tokens: 30 } } }));
    if (last) break;
    messages.push({ role: 'assistant', content: '', tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: m.outputs[Math.floor(rand() * m.outputs.length)] });
  }
  return lines.join('\n') + '\n';
}

/**
 * An OpenHands SDK run of `calls` calls as per-call completion logs
 * (agent/completions/*.json), grown from the real fixture: its system prompt,
 * task, tools, kwargs and response shape, with real observations as tool output.
 */
function openHandsSession(m: Material, rand: () => number, calls: number, outputScale: number): Record<string, string> {
  const base = JSON.parse(m.ohFc[0].toString('utf8'));
  const files: Record<string, string> = {};
  const history: Json[] = [base.messages[0], base.messages[1]];
  const t0 = 1757015025.972;
  for (let k = 0; k < calls; k++) {
    const last = k === calls - 1;
    const id = `toolu_${k.toString().padStart(4, '0')}`;
    const call = last
      ? { index: 1, function: { arguments: JSON.stringify({ message: 'Created hello.py.' }), name: 'finish' }, id, type: 'function' }
      : { index: 1, function: { arguments: JSON.stringify({ command: `python3 step_${k}.py`, security_risk: 'LOW' }), name: 'terminal' }, id, type: 'function' };
    const response = { ...base.response, id: `chatcmpl-${k}`, choices: [{ finish_reason: 'tool_calls', index: 0, message: { content: `Step ${k}.`, role: 'assistant', tool_calls: [call], function_call: null } }] };
    const ts = (t0 + k * 3.1).toFixed(3);
    files[`agent/completions/litellm_proxy__anthropic__claude-sonnet-4-20250514-${ts}.json`] = JSON.stringify({ ...base, messages: history.slice(), response, timestamp: Number(ts) });
    let out = '';
    while (out.length < outputScale) out += m.outputs[Math.floor(rand() * m.outputs.length)] + '\n';
    history.push({ role: 'assistant', content: [{ type: 'text', text: `Step ${k}.` }], tool_calls: [{ id, type: 'function', function: call.function }] });
    history.push({ role: 'tool', content: [{ type: 'text', text: out.slice(0, outputScale) }], tool_call_id: id, name: call.function.name });
  }
  return files;
}

/** A Terminus-2 ATIF trajectory of `episodes` command turns, grown from the real golden. */
function terminusTrajectory(m: Material, rand: () => number, episodes: number): string {
  const base = JSON.parse(m.terminus[0].toString('utf8'));
  const [user, , bash] = base.steps;
  const steps: Json[] = [user];
  for (let e = 0; e < episodes; e++) {
    const screen = m.outputs[Math.floor(rand() * m.outputs.length)].slice(0, 1500);
    steps.push({ ...bash, step_id: steps.length + 1, tool_calls: [{ ...bash.tool_calls[0], tool_call_id: `call_${e}_1`, arguments: { keystrokes: `ls -la /app/${e}\n`, duration: 0.1 } }], observation: { results: [{ content: `New Terminal Output:\n\n${screen}` }] } });
  }
  const done = base.steps[base.steps.length - 1];
  steps.push({ ...done, step_id: steps.length + 1 });
  return JSON.stringify({ ...base, steps }, null, 2);
}

interface CorpusTrial {
  job: string;
  trial: string;
  task_id: string;
  agent: string;
  reward: number;
  exception_type: null;
  files: Record<string, string>;
  bytes: number;
}

function writeTrial(paths: PipelinePaths, t: Omit<CorpusTrial, 'files' | 'bytes'>, files: Record<string, string | Buffer>): CorpusTrial {
  const dir = join(paths.jobs, t.job, t.trial);
  mkdirSync(join(dir, 'agent', 'completions'), { recursive: true });
  const config = { task: { path: `/tasks/${t.task_id}` }, trial_name: t.trial, trials_dir: join(paths.jobs, t.job), agent: { name: t.agent } };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'result.json'), JSON.stringify({ trial_name: t.trial, task_name: t.task_id, config, agent_info: { name: t.agent, version: '1', model_info: null }, verifier_result: { rewards: { reward: t.reward } }, exception_info: null, started_at: '2026-03-01T09:00:00+00:00', finished_at: '2026-03-01T09:30:00+00:00' }));
  const digests: Record<string, string> = {};
  let bytes = 0;
  for (const [rel, content] of Object.entries(files)) {
    writeFileSync(join(dir, rel), content);
    digests[rel] = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    bytes += Buffer.byteLength(content);
  }
  return { ...t, files: digests, bytes };
}

/** Trials of realistic size (0.2–5 MB each, like real 20–60-turn runs) until `targetMb` of raw logs. */
function buildThroughputCorpus(root: string, targetMb: number): { paths: PipelinePaths; trials: CorpusTrial[] } {
  const paths = pipelinePaths(root, PIPELINE);
  const m = material();
  const rand = rng(42);
  const trials: CorpusTrial[] = [];
  let bytes = 0;
  for (let i = 0; bytes < targetMb * 1e6; i++) {
    const task = `acme__repo${i % 97}-${i}`;
    const base = { job: `job-${String(Math.floor(i / 50)).padStart(3, '0')}`, trial: `${task}__T${i}`, task_id: task, reward: 1, exception_type: null };
    let t: CorpusTrial;
    switch (i % 4) {
      case 0:
        t = writeTrial(paths, { ...base, agent: 'claude-code' }, { 'agent/litellm-trajectory.jsonl': claudeCodeLog(m, rand, `t${i}`, 20 + Math.floor(rand() * 40), 1500) });
        break;
      case 1:
        t = writeTrial(paths, { ...base, agent: 'opencode' }, { 'agent/litellm-trajectory.jsonl': openCodeLog(m, rand, `t${i}`, 20 + Math.floor(rand() * 20)) });
        break;
      case 2:
        t = writeTrial(paths, { ...base, agent: 'openhands-sdk' }, openHandsSession(m, rand, 15 + Math.floor(rand() * 25), 1500));
        break;
      default:
        t = writeTrial(paths, { ...base, agent: 'terminus-2' }, { 'agent/trajectory.json': terminusTrajectory(m, rand, 30 + Math.floor(rand() * 50)) });
    }
    trials.push(t);
    bytes += t.bytes;
  }
  return { paths, trials };
}

/** Many small trials (the incremental case: 5,000 converted, 10 new). */
function buildManyTrialsCorpus(root: string, nTrials: number): { paths: PipelinePaths; trials: CorpusTrial[] } {
  const paths = pipelinePaths(root, PIPELINE);
  const m = material();
  const rand = rng(43);
  const trials: CorpusTrial[] = [];
  for (let i = 0; i < nTrials; i++) {
    const task = `acme__repo${i % 97}-${i}`;
    const base = { job: `job-${String(Math.floor(i / 500)).padStart(3, '0')}`, trial: `${task}__T${i}`, task_id: task, reward: 1, exception_type: null };
    const kind = i % 4;
    if (kind === 0) trials.push(writeTrial(paths, { ...base, agent: 'claude-code' }, { 'agent/litellm-trajectory.jsonl': claudeCodeLog(m, rand, `t${i}`, 2 + Math.floor(rand() * 4), 800) }));
    else if (kind === 1) trials.push(writeTrial(paths, { ...base, agent: 'opencode' }, { 'agent/litellm-trajectory.jsonl': openCodeLog(m, rand, `t${i}`, 2 + Math.floor(rand() * 5)) }));
    else if (kind === 2) trials.push(writeTrial(paths, { ...base, agent: 'openhands-sdk' }, openHandsSession(m, rand, 2, 800)));
    else trials.push(writeTrial(paths, { ...base, agent: 'terminus-2' }, { 'agent/trajectory.json': m.terminus[i % 2] }));
  }
  return { paths, trials };
}

function writeTrialsJson(paths: PipelinePaths, trials: CorpusTrial[]): void {
  mkdirSync(paths.rolloutOut, { recursive: true });
  writeFileSync(join(paths.rolloutOut, 'trials.json'), JSON.stringify({ schema_version: 1, trials: trials.map(({ bytes: _b, ...t }) => t) }));
}

// ------------------------------------------------------------------ phases (child processes)

function rawFiles(paths: PipelinePaths): string[] {
  const out: string[] = [];
  for (const job of readdirSync(paths.jobs)) {
    for (const trial of readdirSync(join(paths.jobs, job))) {
      const agent = join(paths.jobs, job, trial, 'agent');
      for (const f of readdirSync(agent)) if (f.endsWith('.json') || f.endsWith('.jsonl')) out.push(join(agent, f));
      for (const f of readdirSync(join(agent, 'completions'))) out.push(join(agent, 'completions', f));
    }
  }
  return out;
}

const config = () => ({ ...conversionSchema.parse({ exclude_repos_file: join(REPO, 'artifacts/data/excluded_repos.txt') }), data_name: PIPELINE });
const peakRssMb = () => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;

const PHASES: Record<string, (paths: PipelinePaths) => Promise<Json>> = {
  /**
   * JSON.parse alone over the same raw bytes (files already in memory, split
   * into lines): `JSON.parse(line.toString())` — the ceiling — and, for
   * reference, JSON.parse of the already-decoded strings. Best of 3.
   */
  async parse(paths) {
    const lines: Buffer[] = [];
    let bytes = 0;
    for (const f of rawFiles(paths)) {
      const buf = readFileSync(f);
      bytes += buf.length;
      if (!f.endsWith('.jsonl')) {
        lines.push(buf);
        continue;
      }
      let from = 0;
      for (let nl = buf.indexOf(10); nl >= 0; from = nl + 1, nl = buf.indexOf(10, from)) if (nl > from) lines.push(buf.subarray(from, nl));
      if (from < buf.length) lines.push(buf.subarray(from));
    }
    const best = (f: () => void) => {
      let wall = Infinity;
      let cpu = Infinity;
      for (let round = 0; round < 3; round++) {
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        f();
        wall = Math.min(wall, Number(process.hrtime.bigint() - t0) / 1e6);
        const c = process.cpuUsage(c0);
        cpu = Math.min(cpu, (c.user + c.system) / 1000);
      }
      return { wall, cpu };
    };
    const withDecode = best(() => {
      for (const l of lines) JSON.parse(l.toString('utf8'));
    });
    const texts = lines.map((l) => l.toString('utf8'));
    const parseOnly = best(() => {
      for (const t of texts) JSON.parse(t);
    });
    const mbs = (ms: number) => Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10;
    return {
      bytes,
      parse_ms: Math.round(withDecode.wall),
      parse_cpu_ms: Math.round(withDecode.cpu),
      parse_mb_s: mbs(withDecode.wall),
      parse_cpu_mb_s: mbs(withDecode.cpu),
      parse_only_ms: Math.round(parseOnly.wall),
      parse_only_mb_s: mbs(parseOnly.wall),
    };
  },
  /** A full conversion from an empty memo. */
  async full(paths) {
    rmSync(join(paths.cache, 'convert'), { recursive: true, force: true });
    rmSync(paths.imData, { recursive: true, force: true });
    const baseline = peakRssMb();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const r = await convertPipeline(paths, config());
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    return { ms: Math.round(ms), cpu_ms: Math.round((c.user + c.system) / 1000), baseline_rss_mb: baseline, rows: r.stats.rows, trials: r.stats.trials, dropped: r.stats.dropped, memo: r.stats.memo, peak_rss_mb: peakRssMb(), output_mb: Math.round(statSync(r.outputFile).size / 1e5) / 10, output_path: r.outputFile };
  },
  /** 10 new trials on top of the converted ones. */
  async incremental(paths) {
    const t0 = process.hrtime.bigint();
    const r = await convertPipeline(paths, config());
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { ms: Math.round(ms * 10) / 10, memo: r.stats.memo, rows: r.stats.rows, peak_rss_mb: peakRssMb(), timings: r.timings };
  },
  /** The same run again with nothing new (what a cache-missed rerun costs). */
  async noop(paths) {
    const t0 = process.hrtime.bigint();
    const r = await convertPipeline(paths, config());
    return { ms: Math.round((Number(process.hrtime.bigint() - t0) / 1e6) * 10) / 10, memo: r.stats.memo, timings: r.timings };
  },
};

function runPhase(phase: string, root: string): Json {
  const r = spawnSync(process.execPath, ['-r', '@swc-node/register', __filename, '--phase', phase, '--root', root], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`phase ${phase} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line.slice('RESULT '.length));
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const phaseAt = args.indexOf('--phase');
  if (phaseAt >= 0) {
    const root = args[args.indexOf('--root') + 1];
    const result = await PHASES[args[phaseAt + 1]](pipelinePaths(root, PIPELINE));
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return;
  }
  const nTrials = args.includes('--trials') ? Number(args[args.indexOf('--trials') + 1]) : 5000;
  const targetMb = args.includes('--mb') ? Number(args[args.indexOf('--mb') + 1]) : 210;
  const big = pipelineWorkspace({ prefix: 'tg-bench-convert-', name: PIPELINE, config: null }).root;
  const many = pipelineWorkspace({ prefix: 'tg-bench-convert-many-', name: PIPELINE, config: null }).root;
  try {
    // ---- throughput: ≥ 200 MB of realistic-size trials
    let t0 = Date.now();
    const corpus = buildThroughputCorpus(big, targetMb);
    writeTrialsJson(corpus.paths, corpus.trials);
    const rawBytes = corpus.trials.reduce((s, t) => s + t.bytes, 0);
    const largest = Math.max(...corpus.trials.map((t) => t.bytes));
    console.log(`throughput corpus: ${corpus.trials.length} trials, ${(rawBytes / 1e6).toFixed(1)} MB raw, largest trajectory ${(largest / 1e6).toFixed(2)} MB (built in ${Date.now() - t0} ms)`);
    const parse = runPhase('parse', big);
    console.log(`JSON.parse alone on the same bytes: ${parse.parse_mb_s} MB/s with UTF-8 decoding (${parse.parse_ms} ms), ${parse.parse_only_mb_s} MB/s on decoded strings`);
    // Best of two runs, like the ceiling's best of three: the machine may be shared.
    const fulls = [runPhase('full', big), runPhase('full', big)];
    const full = fulls.reduce((a, b) => (b.ms < a.ms ? b : a));
    const fullCpu = Math.min(...fulls.map((f) => f.cpu_ms));
    const throughput = Math.round((rawBytes / 1e6 / (full.ms / 1000)) * 10) / 10;
    const cpuThroughput = Math.round((rawBytes / 1e6 / (fullCpu / 1000)) * 10) / 10;
    const share = Math.round((throughput / parse.parse_mb_s) * 1000) / 1000;
    const cpuShare = Math.round((cpuThroughput / parse.parse_cpu_mb_s) * 1000) / 1000;
    console.log(
      `full conversion: ${full.ms} ms = ${throughput} MB/s = ${Math.round(share * 100)} % of the JSON.parse ceiling (CPU time: ${cpuThroughput} vs ${parse.parse_cpu_mb_s} MB/s = ${Math.round(cpuShare * 100)} %; ${Math.round((throughput / parse.parse_only_mb_s) * 100)} % of parse-only); ${full.rows} rows; peak RSS ${full.peak_rss_mb} MB (${full.baseline_rss_mb} MB before converting), largest trajectory ${(largest / 1e6).toFixed(2)} MB`,
    );

    // ---- incremental: 5,000 converted trials, 10 new
    t0 = Date.now();
    const small = buildManyTrialsCorpus(many, nTrials);
    writeTrialsJson(small.paths, small.trials);
    const smallBytes = small.trials.reduce((s, t) => s + t.bytes, 0);
    console.log(`incremental corpus: ${small.trials.length} trials, ${(smallBytes / 1e6).toFixed(1)} MB raw (built in ${Date.now() - t0} ms)`);
    const scored = await benchmarkScore({ input: full.output_path as string });
    console.log(`score stage on that IM (${(scored.input.bytes / 1e6).toFixed(1)} MB, ${scored.input.rows} rows): ${scored.stage.seconds.toFixed(2)} s = ${Math.round(scored.stage.rows_per_s)} rows/s, ${scored.stage.mb_per_s.toFixed(1)} MB/s (scoring alone ${scored.scoring_only.mb_per_s.toFixed(0)} MB/s)`);
    const fullMany = runPhase('full', many);
    console.log(`full conversion of ${small.trials.length} trials: ${fullMany.ms} ms (${Math.round((smallBytes / 1e6 / (fullMany.ms / 1000)) * 10) / 10} MB/s with per-trial file work); peak RSS ${fullMany.peak_rss_mb} MB (${fullMany.baseline_rss_mb} MB before)`);
    const noop = runPhase('noop', many);
    console.log(`rerun, nothing new: ${noop.ms} ms ${JSON.stringify(noop.timings)}`);
    // Two rounds of 10 new trials (each on ≥ 5,000 converted ones), best of the two: the machine may be shared.
    const m = material();
    const rand = rng(7);
    let listed = small.trials;
    const rounds: Json[] = [];
    for (const round of ['a', 'b']) {
      const fresh: CorpusTrial[] = [];
      for (let i = 0; i < 10; i++) {
        const task = `acme__fresh-${round}${i}`;
        fresh.push(writeTrial(small.paths, { job: `job-zzz-new-${round}`, trial: `${task}__N${i}`, task_id: task, agent: 'claude-code', reward: 1, exception_type: null }, { 'agent/litellm-trajectory.jsonl': claudeCodeLog(m, rand, `n${round}${i}`, 4, 800) }));
      }
      listed = [...listed, ...fresh];
      writeTrialsJson(small.paths, listed);
      rounds.push(runPhase('incremental', many));
    }
    const incremental = rounds.reduce((a, b) => (b.ms < a.ms ? b : a));
    const incShare = Math.round((incremental.ms / fullMany.ms) * 10000) / 10000;
    console.log(`incremental: 10 new trials on ${small.trials.length}+ converted: ${rounds.map((r) => `${r.ms} ms ${JSON.stringify(r.timings)}`).join(', ')} → ${Math.round(incShare * 1000) / 10} % of the full run (memo ${incremental.memo.hits} hits, ${incremental.memo.misses} misses)`);

    const results = {
      benchmark: 'convert',
      date: new Date().toISOString(),
      node: process.version,
      cpus: (await import('node:os')).cpus().length,
      load_average: (await import('node:os')).loadavg().map((x) => Math.round(x * 100) / 100),
      corpora: {
        throughput: { trials: corpus.trials.length, raw_mb: Math.round(rawBytes / 1e5) / 10, largest_trajectory_mb: Math.round(largest / 1e4) / 100 },
        incremental: { trials: small.trials.length, raw_mb: Math.round(smallBytes / 1e5) / 10 },
      },
      measurements: [
        {
          name: 'json_parse_ceiling',
          corpus: 'throughput',
          what: 'JSON.parse(line.toString()) over every raw line/file held in memory, best of 3',
          mb_s: parse.parse_mb_s,
          ms: parse.parse_ms,
          cpu_mb_s: parse.parse_cpu_mb_s,
          parse_only_mb_s: parse.parse_only_mb_s,
          parse_only_ms: parse.parse_only_ms,
        },
        {
          name: 'full_conversion',
          corpus: 'throughput',
          ms: full.ms,
          mb_s: throughput,
          share_of_parse_ceiling: share,
          cpu_ms: fullCpu,
          cpu_mb_s: cpuThroughput,
          cpu_share_of_parse_ceiling: cpuShare,
          share_of_parse_only: Math.round((throughput / parse.parse_only_mb_s) * 1000) / 1000,
          target_share: 0.5,
          rows: full.rows,
          trials: full.trials,
          dropped: full.dropped,
          peak_rss_mb: full.peak_rss_mb,
          rss_before_mb: full.baseline_rss_mb,
          output_mb: full.output_mb,
        },
        { name: 'full_conversion_many_trials', corpus: 'incremental', ms: fullMany.ms, rows: fullMany.rows, peak_rss_mb: fullMany.peak_rss_mb, rss_before_mb: fullMany.baseline_rss_mb },
        { name: 'rerun_nothing_new', corpus: 'incremental', ms: noop.ms, memo: noop.memo, timings: noop.timings },
        { name: 'incremental_10_new', corpus: 'incremental', ms: incremental.ms, rounds_ms: rounds.map((r) => r.ms), share_of_full: incShare, target_share: 0.05, memo: incremental.memo, timings: incremental.timings },
        {
          name: 'score_stage_on_converted_im',
          corpus: 'throughput',
          what: 'the score stage (scoring, filters, scored IM + LF writes, validation, stats, plots) on the IM this conversion wrote',
          input_mb: scored.input.bytes / 1e6,
          rows: scored.input.rows,
          stage: scored.stage,
          scoring_only: scored.scoring_only,
          lf_only: scored.lf_only,
        },
      ],
    };
    mkdirSync(join(REPO, 'bench/results'), { recursive: true });
    writeFileSync(join(REPO, 'bench/results/convert.json'), JSON.stringify(results, null, 2) + '\n');
    console.log('→ bench/results/convert.json');
  } finally {
    if (!args.includes('--keep')) for (const d of [big, many]) rmSync(d, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
