import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TrajgenError, atomicWriteFileSync, countAbove, formatBytes, quietStageIO, type StageIO } from '@trajgen/core';
import { resolveConfigPath, type LoadedPipeline, type ScoringConfig } from '@trajgen/config';
import { writeScoreStatsFile, type ScoreStats } from '@trajgen/contracts';
import type { ImRow } from '@trajgen/im';
import {
  AtomicFileWriter,
  JsonArrayFileWriter,
  RENDERED_COLUMNS,
  RENDERED_TAGS,
  SHAREGPT_COLUMNS,
  ShareGptValidator,
  estimateLfRowTokens,
  formatValidation,
  imToShareGpt,
  loadChatTemplate,
  renderImRow,
  renderedDatasetInfoEntry,
  shareGptDatasetInfoEntry,
  type ChatTemplate,
  type RenderedRow,
  type ShareGptRow,
  type ShareGptValidateOptions,
  type ShareGptValidation,
} from '@trajgen/lf';
import { imRowProblems, readImLines } from './im-io';
import { EXCLUSION_REASONS, applyFilters, errorExchangePlan, trajectoryKey, withoutErrorExchanges, type ErrorExchangePlan, type ExclusionReason, type RowMeta } from './filters';
import { analyseRow, COMPONENTS, type TqsScore, type ToolErrorStats } from './score';
import type { HackFlags } from './flags';
import { Summary, plots, r6 } from './stats';

/**
 * The score stage: IM in → scored IM + LLaMA-Factory file + stats + plots out.
 *
 * Two streaming passes over the IM file keep memory to a small record per row:
 * pass 1 scores every row and sizes its LF form; the filters then decide over
 * all rows (max_per_instance and bundles need the whole picture); pass 2
 * writes the scored IM (every input row, `_score`, `_flags`, `_lf`) and the LF
 * rows, validating each with the LLaMA-Factory-equivalent validator. Files are
 * replaced atomically; nothing is written when scoring fails.
 */

export const STATS_SCHEMA_VERSION = 1;
export const STATS_PRODUCER = 'trajgen score';
export const PLOT_NAMES = ['scores', 'turns', 'tokens', 'exclusions'] as const;


export interface ScoreRunOptions {
  /** Root that paths in the stats are relative to. */
  workspaceRoot: string;
  input: string;
  imDataDir: string;
  lfDataDir: string;
  dataName: string;
  scoring: ScoringConfig;
  /** Resolved tokenizer_config.json (lf_format: rendered). */
  tokenizerConfig?: string;
  io?: StageIO;
  /** Write the SVG plots (default true). */
  plots?: boolean;
}

export interface ScoreResult {
  dataName: string;
  rows: { in: number; main: number; subagent: number; lf: number; excluded: number };
  exclusions: Partial<Record<ExclusionReason, number>>;
  scoreMean: number | null;
  overCutoff: number;
  hackFlags: { confirmed: number; suspected: number };
  validation: Omit<ShareGptValidation, 'rows'>;
  files: { scored: string; lf: string; stats: string; plots: string[] };
  bytes: { input: number; scored: number; lf: number };
  seconds: { pass1: number; pass2: number; total: number };
}

interface RowRecord {
  meta: RowMeta;
  score: TqsScore | null;
  flags: { hack: HackFlags; pathology: string[]; tool_errors: ToolErrorStats };
  plan?: ErrorExchangePlan;
  lfProblem?: string;
  repairs: string[];
}

type LfRow = ShareGptRow | RenderedRow;

/** Build the LF form of a row: ShareGPT or rendered, after drop_tool_errors. */
function lfRowOf(
  row: ImRow,
  score: number | null,
  plan: ErrorExchangePlan | undefined,
  template: ChatTemplate | undefined,
): { ok: true; row: LfRow; repairs: string[] } | { ok: false; problem: string } {
  const source = plan ? withoutErrorExchanges(row, plan) : row;
  return template ? renderImRow(source, template, { score }) : imToShareGpt(source, { score });
}

const lfTurns = (row: LfRow): number =>
  'conversations' in row ? row.conversations.filter((c) => c.from === 'gpt' || c.from === 'function_call').length : row.messages.filter((m) => m.role === 'assistant').length;

function validatorOptions(rendered: boolean): ShareGptValidateOptions {
  return rendered ? { tags: { ...RENDERED_TAGS }, columns: { ...RENDERED_COLUMNS } } : { columns: { ...SHAREGPT_COLUMNS } };
}

/**
 * Remove outputs this stage wrote for another data name (a renamed
 * conversion.data_name): every other `*.scored.jsonl` in im_data (all are
 * score outputs), every `*.svg` in lf_data not of this data name, and the
 * `X.json` + `X.stats.json` pairs whose stats say we wrote them. Never
 * dataset_info.json or an LF file another stage or a person put there.
 */
export function removeStaleOutputs(imDataDir: string, lfDataDir: string, dataName: string): string[] {
  const removed: string[] = [];
  const rm = (p: string) => {
    rmSync(p, { force: true });
    removed.push(p);
  };
  if (existsSync(imDataDir)) {
    for (const f of readdirSync(imDataDir)) if (f.endsWith('.scored.jsonl') && f !== `${dataName}.scored.jsonl`) rm(join(imDataDir, f));
  }
  if (existsSync(lfDataDir)) {
    for (const f of readdirSync(lfDataDir)) {
      if (f.endsWith('.svg') && !f.startsWith(`${dataName}.`)) rm(join(lfDataDir, f));
      if (!f.endsWith('.stats.json') || f === `${dataName}.stats.json`) continue;
      const name = f.slice(0, -'.stats.json'.length);
      try {
        const stats = JSON.parse(readFileSync(join(lfDataDir, f), 'utf8'));
        if (stats?.producer !== STATS_PRODUCER) continue;
      } catch {
        continue;
      }
      rm(join(lfDataDir, f));
      if (name !== 'dataset_info' && existsSync(join(lfDataDir, `${name}.json`))) rm(join(lfDataDir, `${name}.json`));
    }
  }
  return removed;
}

/** What the parts of one score run share. */
interface ScoreRun {
  options: ScoreRunOptions;
  io: StageIO;
  rel: (p: string) => string;
  started: number;
  inputBytes: number;
  rendered: boolean;
  template: ChatTemplate | undefined;
  settings: Parameters<typeof analyseRow>[1];
}

/** The LF side of pass 2, committed. */
interface ScoreWritten {
  scoredPath: string;
  lfPath: string;
  lfOut: JsonArrayFileWriter;
  validation: ShareGptValidation;
  lfTokens: number[];
  lfTurnValues: number[];
  lfScores: Summary;
  repairs: Record<string, number>;
}

/** Check the inputs (data name, IM file, tokenizer for rendered) before anything is read. */
function startScoreRun(options: ScoreRunOptions): ScoreRun {
  const io = options.io ?? quietStageIO;
  const { scoring, dataName } = options;
  const rel = (p: string) => relative(options.workspaceRoot, p) || p;
  const started = Date.now();
  if (dataName === 'dataset_info') {
    throw new TrajgenError('conversion.data_name "dataset_info" would overwrite LLaMA-Factory\'s registry (lf_data/dataset_info.json)', {
      hint: 'Choose another conversion.data_name.',
    });
  }
  if (!existsSync(options.input)) {
    throw new TrajgenError(`No IM data to score: ${rel(options.input)} does not exist`, {
      hint: 'Run the convert stage first (`nx run <pipeline>:convert`); its output is im_data/<conversion.data_name>.jsonl.',
    });
  }
  const rendered = scoring.lf_format === 'rendered';
  let template: ChatTemplate | undefined;
  if (rendered) {
    if (!options.tokenizerConfig) {
      throw new TrajgenError('lf_format: rendered needs scoring.tokenizer_config', { hint: "Set scoring.tokenizer_config to the student model's tokenizer_config.json." });
    }
    template = loadChatTemplate(options.tokenizerConfig);
  }
  const inputBytes = statSync(options.input).size;
  const settings = { weights: scoring.weights, exponents: scoring.exponents, step_curve: scoring.step_curve };
  return { options, io, rel, started, inputBytes, rendered, template, settings };
}

/** Pass 1: score every row and size its LF form; throws (nothing written) when a row cannot be scored. */
async function scoreRows(run: ScoreRun): Promise<RowRecord[]> {
  const { options, io, rel, template, settings } = run;
  const { scoring } = options;
  const records: RowRecord[] = [];
  const problems: string[] = [];
  const rowCheck = new ShareGptValidator({ ...validatorOptions(run.rendered), keepRows: false });
  for await (const { line, row } of readImLines(options.input)) {
    const issues = imRowProblems(row);
    if (issues.length) {
      problems.push(`line ${line}: ${issues.join('; ')}`);
      continue;
    }
    const analysis = analyseRow(row, settings);
    const ui = row.meta_info.unique_info;
    const plan = scoring.filters.drop_tool_errors ? errorExchangePlan(analysis.trace) : undefined;
    const composite = analysis.score?.composite ?? null;
    const meta: RowMeta = {
      index: records.length,
      instance: ui._instance_id,
      agent: ui._agent_type,
      trajectory: trajectoryKey(ui),
      score: composite,
      turns: 0,
      tokens: 0,
    };
    const record: RowRecord = {
      meta,
      score: analysis.score,
      flags: { hack: analysis.hack, pathology: analysis.pathology, tool_errors: analysis.toolErrors },
      plan: plan && plan.exchanges ? plan : undefined,
      repairs: [],
    };
    const lf = lfRowOf(row, composite, record.plan, template);
    if (!lf.ok) {
      const original = record.plan ? lfRowOf(row, composite, undefined, template) : lf;
      meta.unwritable = record.plan && original.ok ? 'drop_tool_errors' : 'lf_invalid';
      record.lfProblem = lf.problem;
    } else {
      const check = rowCheck.add(lf.row);
      if (!check.kept || check.errors.length) {
        meta.unwritable = 'lf_invalid';
        record.lfProblem = `LLaMA-Factory would ${check.errors.length ? 'abort' : 'drop it'}: ${check.errors[0] ?? check.logs[0]}`;
      }
      meta.turns = lfTurns(lf.row);
      meta.tokens = estimateLfRowTokens(lf.row as unknown as Record<string, unknown>);
      record.repairs = lf.repairs;
    }
    records.push(record);
    io.progress(records.length, null, 'rows scored');
  }
  if (problems.length) {
    throw new TrajgenError(`${rel(options.input)}: ${problems.length} row${problems.length === 1 ? '' : 's'} cannot be scored`, {
      details: problems.slice(0, 10).concat(problems.length > 10 ? [`… ${problems.length - 10} more`] : []),
      hint: 'The IM file is written by the convert stage; re-run convert (or fix the rows) and score again. Nothing was written.',
    });
  }
  return records;
}

/**
 * Pass 2: write the scored IM (every row) and the LF rows, validating them;
 * on success remove stale outputs and commit both files, else write nothing.
 */
async function writeRows(run: ScoreRun, records: RowRecord[], reasons: (ExclusionReason | null)[]): Promise<ScoreWritten> {
  const { options, io, rel, template } = run;
  const { dataName } = options;
  const scoredPath = join(options.imDataDir, `${dataName}.scored.jsonl`);
  const lfPath = join(options.lfDataDir, `${dataName}.json`);
  const scoredOut = new AtomicFileWriter(scoredPath);
  const lfOut = new JsonArrayFileWriter(lfPath);
  const validator = new ShareGptValidator({ ...validatorOptions(run.rendered), keepRows: false });
  const lfTokens: number[] = [];
  const lfTurnValues: number[] = [];
  const lfScores = new Summary();
  const repairs: Record<string, number> = {};
  try {
    let i = 0;
    for await (const { row } of readImLines(options.input)) {
      const rec = records[i];
      const reason = reasons[i];
      i++;
      const ui = row.meta_info.unique_info;
      ui._score = rec.score;
      ui._flags = { hack: rec.flags.hack.level, hack_hits: rec.flags.hack.hits, pathology: rec.flags.pathology, tool_errors: rec.flags.tool_errors };
      ui._lf = reason
        ? { included: false, reason, ...(rec.lfProblem ? { problem: rec.lfProblem } : {}), assistant_turns: rec.meta.turns, tokens_estimate: rec.meta.tokens }
        : { included: true, assistant_turns: rec.meta.turns, tokens_estimate: rec.meta.tokens, ...(rec.plan ? { removed_error_exchanges: rec.plan.exchanges } : {}), ...(rec.repairs.length ? { repairs: rec.repairs } : {}) };
      scoredOut.write(JSON.stringify(row) + '\n');
      io.progress(i, records.length, 'rows written');
      if (reason) continue;
      // The scored fields are not part of the LF row; build it from the row as scored.
      const lf = lfRowOf(row, rec.meta.score, rec.plan, template);
      if (!lf.ok) throw new Error(`row ${i}: LF conversion changed between passes: ${lf.problem}`);
      lfOut.add(lf.row);
      validator.add(lf.row);
      lfTokens.push(rec.meta.tokens);
      lfTurnValues.push(rec.meta.turns);
      if (rec.meta.score !== null) lfScores.add(rec.meta.score);
      for (const r of lf.repairs) repairs[r] = (repairs[r] ?? 0) + 1;
    }
    if (i !== records.length) throw new Error(`${rel(options.input)} changed while scoring (${records.length} rows, then ${i})`);
  } catch (error) {
    scoredOut.abort();
    lfOut.abort();
    throw error;
  }
  const validation = validator.finish();
  if (lfOut.rows > 0 && !validation.ok) {
    scoredOut.abort();
    lfOut.abort();
    throw new TrajgenError(`The LF file for "${dataName}" does not pass the LLaMA-Factory validator; nothing was written`, {
      details: formatValidation(validation),
      hint: 'This is a bug in the LF writer (rows are checked one by one before writing); please report it with the IM row.',
    });
  }

  removeStaleOutputs(options.imDataDir, options.lfDataDir, dataName);
  scoredOut.commit();
  lfOut.commit();
  return { scoredPath, lfPath, lfOut, validation, lfTokens, lfTurnValues, lfScores, repairs };
}

/** Per-row tallies over all records (scores, components, tool errors, pathology, hack flags). */
function tallyRecords(records: RowRecord[]) {
  const allScores = new Summary();
  const componentSums = Object.fromEntries(COMPONENTS.map((c) => [c, new Summary()]));
  const byScaffold: Record<string, number> = {};
  const pathology: Record<string, number> = {};
  const hackRows: { index: number; instance: string; level: string; rules: string[] }[] = [];
  let observations = 0;
  let errored = 0;
  let denominator = 0;
  let withError = 0;
  const scoreValues: number[] = [];
  for (const rec of records) {
    if (rec.score) {
      allScores.add(rec.score.composite);
      scoreValues.push(rec.score.composite);
      for (const c of COMPONENTS) if (rec.score.components[c] !== null) componentSums[c].add(rec.score.components[c]!);
      byScaffold[rec.score.scaffold] = (byScaffold[rec.score.scaffold] ?? 0) + 1;
    }
    const te = rec.flags.tool_errors;
    observations += te.observations;
    errored += te.errored;
    denominator += te.denominator;
    if (te.errored > 0) withError++;
    for (const p of rec.flags.pathology) pathology[p] = (pathology[p] ?? 0) + 1;
    if (rec.flags.hack.level) hackRows.push({ index: rec.meta.index, instance: rec.meta.instance, level: rec.flags.hack.level, rules: rec.flags.hack.hits.map((h) => h.rule) });
  }
  return { allScores, componentSums, byScaffold, pathology, hackRows, observations, errored, denominator, withError, scoreValues };
}

/** Write the plots and `<data_name>.stats.json`; returns what the report and the result need. */
function writeScoreStats(run: ScoreRun, records: RowRecord[], reasons: (ExclusionReason | null)[], written: ScoreWritten) {
  const { options, rel } = run;
  const { scoring, dataName } = options;
  const { lfOut, lfTokens, lfTurnValues, validation } = written;
  const statsPath = join(options.lfDataDir, `${dataName}.stats.json`);
  const exclusions: Partial<Record<ExclusionReason, number>> = {};
  for (const r of reasons) if (r) exclusions[r] = (exclusions[r] ?? 0) + 1;
  const orderedExclusions = Object.fromEntries(EXCLUSION_REASONS.filter((r) => exclusions[r]).map((r) => [r, exclusions[r]!]));
  const tally = tallyRecords(records);
  const { allScores, componentSums, hackRows, withError } = tally;
  const tokenSummary = new Summary();
  const turnSummary = new Summary();
  for (const t of lfTokens) tokenSummary.add(t);
  for (const t of lfTurnValues) turnSummary.add(t);
  const sortedTokens = [...lfTokens].sort((a, b) => a - b);
  const overCutoff = countAbove(sortedTokens, scoring.stats_cutoff_tokens);
  const mains = records.filter((r) => r.meta.agent === 'main').length;
  const hackCounts = { confirmed: hackRows.filter((h) => h.level === 'confirmed').length, suspected: hackRows.filter((h) => h.level === 'suspected').length };
  const plotFiles: string[] = [];
  const lfFileName = `${dataName}.json`;
  if (options.plots !== false) {
    const svgs = plots({ dataName, scores: tally.scoreValues, turns: lfTurnValues, tokens: lfTokens, exclusions: orderedExclusions });
    for (const [name, svg] of Object.entries(svgs)) {
      const file = join(options.lfDataDir, `${dataName}.${name}.svg`);
      atomicWriteFileSync(file, svg);
      plotFiles.push(file);
    }
  }
  const { rows: _rows, ...validationSummary } = validation;
  const stats: ScoreStats = {
    schema_version: STATS_SCHEMA_VERSION,
    producer: STATS_PRODUCER,
    data_name: dataName,
    lf_format: scoring.lf_format,
    files: { im: rel(options.input), scored_im: rel(written.scoredPath), lf: rel(written.lfPath), plots: plotFiles.map(rel) },
    dataset_info_entry: run.rendered ? renderedDatasetInfoEntry(lfFileName) : shareGptDatasetInfoEntry(lfFileName),
    scoring_version: 'tqs-v2',
    token_estimate: 'ceil(characters / 4) over message values, system prompt and tools JSON of the LF row',
    rows: { in: records.length, main: mains, subagent: records.length - mains, scored: allScores.count, lf: lfOut.rows, excluded: records.length - lfOut.rows },
    exclusions: orderedExclusions,
    lf_repairs: written.repairs,
    tokens: { ...tokenSummary.toJSON(), total: sortedTokens.reduce((a, b) => a + b, 0), cutoff: scoring.stats_cutoff_tokens, over_cutoff: overCutoff },
    /** Estimated tokens of every LF row, ascending: the train stage compares them with training.cutoff_len. */
    token_lengths: sortedTokens,
    turns: turnSummary.toJSON(),
    scores: {
      all: allScores.toJSON(),
      lf: written.lfScores.toJSON(),
      components_mean: Object.fromEntries(COMPONENTS.map((c) => [c, componentSums[c].toJSON().mean])),
    },
    tool_errors: {
      observations: tally.observations,
      errored: tally.errored,
      rate: tally.denominator ? r6(tally.errored / tally.denominator) : 0,
      trajectories: records.length,
      trajectories_with_error: withError,
      trajectory_rate: records.length ? r6(withError / records.length) : 0,
    },
    hack_flags: { ...hackCounts, rows: hackRows.slice(0, 200) },
    pathology: tally.pathology,
    by_scaffold: tally.byScaffold,
    validation: validationSummary,
    filters: scoring.filters,
  };
  writeScoreStatsFile(statsPath, stats);
  return { stats, statsPath, plotFiles, orderedExclusions, overCutoff, mains, hackCounts, allScores, withError, validationSummary };
}

/** Log the run's summary; throws when no row reached the LF file. */
function reportScore(run: ScoreRun, records: RowRecord[], written: ScoreWritten, summary: ReturnType<typeof writeScoreStats>, total: number): void {
  const { options, io, rel } = run;
  const { scoring, dataName } = options;
  const { lfOut, lfPath, validation } = written;
  const { stats, statsPath, orderedExclusions, overCutoff, mains, hackCounts, allScores, withError } = summary;
  const excludedText = Object.entries(orderedExclusions).map(([r, n]) => `${r} ${n}`).join(', ');
  const scoreMean = allScores.toJSON().mean;
  io.log(`scored ${records.length} rows (${mains} main, ${records.length - mains} sub-agent) from ${rel(options.input)} (${formatBytes(run.inputBytes)}) in ${total.toFixed(1)}s`);
  io.log(`  score: mean ${scoreMean ?? '–'}, min ${allScores.toJSON().min ?? '–'}, max ${allScores.toJSON().max ?? '–'}`);
  io.log(`  LF: ${lfOut.rows} rows kept, ${records.length - lfOut.rows} excluded${excludedText ? ` (${excludedText})` : ''} → ${rel(lfPath)} (${scoring.lf_format}, ${formatBytes(lfOut.bytes)})`);
  io.log(`  validator: ${formatValidation(validation)[0]}`);
  io.log(`  tool-call error rate ${stats.tool_errors.rate} (${withError}/${records.length} trajectories with an error)`);
  if (hackCounts.confirmed || hackCounts.suspected) io.warn(`reward-hack flags: ${hackCounts.confirmed} confirmed, ${hackCounts.suspected} suspected (see ${rel(statsPath)} → hack_flags)`);
  if (overCutoff) {
    io.warn(`${overCutoff} LF row${overCutoff === 1 ? '' : 's'} exceed${overCutoff === 1 ? 's' : ''} scoring.stats_cutoff_tokens (${scoring.stats_cutoff_tokens}, estimated): LLaMA-Factory silently drops turns past training.cutoff_len`);
  }
  if (lfOut.rows === 0) {
    throw new TrajgenError(`No row of "${dataName}" reached the LF file (${records.length} scored; excluded: ${excludedText || 'none'})`, {
      details: [`stats: ${rel(statsPath)}`, 'LLaMA-Factory would stop with "Cannot find valid samples".'],
      hint: records.length ? 'Relax scoring.filters (min_score, turn/token limits, max_per_instance) and run score again.' : 'The IM file is empty: check the convert stage.',
    });
  }
}

/** Score one IM file into the scored IM, the LF file, their stats and plots (paths given: benchmarks, tests). */
export async function scoreImFile(options: ScoreRunOptions): Promise<ScoreResult> {
  const run = startScoreRun(options);
  const records = await scoreRows(run);
  const pass1 = (Date.now() - run.started) / 1000;
  const reasons = applyFilters(
    records.map((r) => r.meta),
    options.scoring.filters,
  );
  const pass2Start = Date.now();
  const written = await writeRows(run, records, reasons);
  const summary = writeScoreStats(run, records, reasons, written);
  const pass2 = (Date.now() - pass2Start) / 1000;
  const total = (Date.now() - run.started) / 1000;
  reportScore(run, records, written, summary, total);
  return {
    dataName: options.dataName,
    rows: summary.stats.rows,
    exclusions: summary.orderedExclusions,
    scoreMean: summary.allScores.toJSON().mean,
    overCutoff: summary.overCutoff,
    hackFlags: summary.hackCounts,
    validation: summary.validationSummary,
    files: { scored: written.scoredPath, lf: written.lfPath, stats: summary.statsPath, plots: summary.plotFiles },
    bytes: { input: run.inputBytes, scored: statSync(written.scoredPath).size, lf: statSync(written.lfPath).size },
    seconds: { pass1, pass2, total },
  };
}

/** The score stage of a pipeline: reads only `scoring` and `conversion.data_name`. */
export async function scorePipeline(pipeline: LoadedPipeline, io: StageIO = quietStageIO): Promise<ScoreResult> {
  const { paths, config } = pipeline;
  const dataName = config.conversion.data_name ?? pipeline.name;
  return scoreImFile({
    workspaceRoot: paths.workspaceRoot,
    input: join(paths.imData, `${dataName}.jsonl`),
    imDataDir: paths.imData,
    lfDataDir: paths.lfData,
    dataName,
    scoring: config.scoring,
    tokenizerConfig: config.scoring.tokenizer_config ? resolveConfigPath(paths, config.scoring.tokenizer_config) : undefined,
    io,
  });
}

/** One line for the executor. */
export function formatScoreSummary(r: ScoreResult): string {
  const excluded = Object.entries(r.exclusions).map(([k, n]) => `${k} ${n}`).join(', ');
  return `${r.rows.in} rows scored (mean ${r.scoreMean ?? '–'}), ${r.rows.lf} in LF${excluded ? `, excluded: ${excluded}` : ''}`;
}
