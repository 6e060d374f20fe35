export { runScore, type ScoreStageOptions } from './run-score';
export { scorePipeline, scoreImFile, removeStaleOutputs, formatScoreSummary, STATS_PRODUCER, PLOT_NAMES, type ScoreRunOptions, type ScoreResult } from './pipeline';
export { analyseRow, scoreTrace, composite, toolErrorStats, COMPONENTS, SCORING_VERSION, DEFAULT_SCORE_SETTINGS, type TqsScore, type RowAnalysis, type ScoreSettings, type Component, type ToolErrorStats } from './score';
export { submissionCompleteness, submissionBase, stepScore, testVerification, editConcentration, deadPathIndex, loopFraction, repeatedErrorRate, diagnostics } from './components';
export { buildTrace, detectScaffold, rowScaffold, canonicalToolNames, classifyCall, detectError, parseTerminusReply, type Trace, type Action, type Observation, type ScaffoldFamily, type ErrorVerdict } from './trace';
export { hackFlags, pathologyFlags, type HackFlags, type HackHit, type Pathology } from './flags';
export { applyFilters, errorExchangePlan, withoutErrorExchanges, trajectoryKey, EXCLUSION_REASONS, type ExclusionReason, type RowMeta, type ErrorExchangePlan } from './filters';
export { isTestCommand, isTestFile, normalisePath, shellWrites, testOutcome } from './patterns';
export { readImLines, imRowProblems, assistantTurns, systemPrompt } from './im-io';
