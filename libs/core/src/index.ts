export { TrajgenError, formatError } from './errors';
export { stableStringify, sortKeysDeep, sha256, digestValue, sha256File } from './digest';
export { atomicWriteFileSync, writeFileDurablySync, fsyncDirSync, writeJsonAtomic, resetDir, subdirNames } from './fs';
export { editDistance, closestMatch, formatTable, formatDuration, formatBytes } from './text';
export { acquireLock, withLock, type HeldLock, type LockHolder, type LockOptions } from './lock';
export { findExecutable } from './exec';
// Liveness (one zombie rule) and the registry of live process groups: CommonJS so that the plugin's run marker shares it.
export {
  isProcessAlive,
  isGroupAlive,
  processStartTime,
  signalGroup,
  registerProcessGroup,
  unregisterProcessGroup,
  killAllProcessGroups,
  liveProcessGroups,
} from './processes.cjs';
export { countAbove } from './sorted';
export {
  ensurePythonEnv,
  envPython,
  envDigest,
  envIsCurrent,
  readEnvMarker,
  basePython,
  PIP_FLAGS,
  type PythonEnv,
  type PythonEnvSpec,
  type EnvMarker,
} from './python-env';
export { createStageIO, consoleStageIO, quietStageIO, formatProgressLine, type StageIO, type StageIOOptions } from './stage-io';
