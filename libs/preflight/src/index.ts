export { which, commandVersion, httpProbe, isSymlink, type CheckResult, type CheckStatus } from './probes';
export { formatCheckReport } from './report';
export { runPreflight, type PreflightOptions } from './preflight';
export { runCheck, type CheckStageOptions } from './run-check';
