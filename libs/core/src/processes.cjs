'use strict';
/**
 * Processes and process groups, in one place: whether a pid or a group is
 * alive, a process's start time, and the registry of the process groups this
 * process started (the rollout's agents, the LiteLLM proxy) that must never
 * outlive it. Plain CommonJS so that the plugin's run marker
 * (tools/trajgen/src/executors/shared/run-marker.ts, loaded without a
 * transpiler) uses the same code as the libs.
 *
 * THE ZOMBIE RULE: a zombie is not alive. A zombie (state Z in
 * /proc/<pid>/stat, or X, dead) has exited; only its exit status waits for a
 * parent to reap it, and PID 1 of a container may never do so. It holds no
 * lock, writes nothing, and ignores every signal — yet `kill(pid, 0)` still
 * succeeds on it. Counting it alive would keep a lock or a run marker "held"
 * forever and make a stop() wait out its whole grace for a process that is
 * already dead. Off Linux (no /proc) only the signal-0 probe is available and
 * a zombie counts as alive there.
 */
const { readFileSync, readdirSync } = require('node:fs');

/** Fields of /proc/<pid>/stat from field 3 (state) on, or undefined (no such process, or no /proc). */
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its closing ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function isZombieState(state) {
  return state === 'Z' || state === 'X';
}

/** Start time of a process (field 22 of /proc/<pid>/stat), to tell a live pid from a reused one; undefined off Linux. */
function processStartTime(pid) {
  const fields = procStat(pid);
  return fields ? fields[19] : undefined;
}

/**
 * Whether `pid` is a live process (see the zombie rule above). With
 * `startTime` (from processStartTime when the pid was recorded), a pid now
 * used by another process counts as dead. EPERM (someone else's process) is alive.
 */
function isProcessAlive(pid, startTime) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (error.code !== 'EPERM') return false;
  }
  const fields = procStat(pid);
  if (fields) {
    if (isZombieState(fields[0])) return false;
    if (startTime && fields[19] !== startTime) return false; // the pid was reused by another process
  }
  return true;
}

/** Whether any process of group `pgid` is alive (zombies excluded on Linux, where /proc is scanned). */
function isGroupAlive(pgid) {
  if (process.platform === 'linux') {
    let entries;
    try {
      entries = readdirSync('/proc');
    } catch {
      entries = undefined; // no /proc: fall through to the probe
    }
    if (entries) {
      for (const entry of entries) {
        if (!/^\d+$/.test(entry)) continue;
        const fields = procStat(entry);
        if (fields && Number(fields[2]) === pgid && !isZombieState(fields[0])) return true;
      }
      return false;
    }
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** `kill -<signal> -<pgid>`; false when the group is already gone. */
function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------ the registry

/** pgid → whether SIGINT/SIGTERM of this process tears it down (else only exit does). */
const groups = new Map();
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Synchronously stop the registered groups (all, or those `filter` keeps):
 * SIGTERM, wait up to `graceMs` for them to empty, SIGKILL what is left; they
 * leave the registry. graceMs 0: SIGKILL at once. Safe in signal and exit
 * handlers, where nothing async runs any more.
 */
function killAllProcessGroups(graceMs = 0, filter = () => true) {
  const targets = [...groups.keys()].filter((pgid) => filter(pgid));
  if (graceMs > 0) {
    for (const pgid of targets) signalGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && targets.some(isGroupAlive)) Atomics.wait(sleepCell, 0, 0, 25);
  }
  for (const pgid of targets) {
    if (graceMs <= 0 || isGroupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
    groups.delete(pgid);
  }
  if (![...groups.values()].some(Boolean)) uninstallSignalHandlers();
}

const SIGNAL_GRACE_MS = 3000;
let exitHookInstalled = false;
let signalHandlersInstalled = false;

function onSignal(signal) {
  killAllProcessGroups(SIGNAL_GRACE_MS, (pgid) => groups.get(pgid) === true);
  uninstallSignalHandlers();
  // Nobody else handles this signal: die of it, as we would have without our handler.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
const onSigint = () => onSignal('SIGINT');
const onSigterm = () => onSignal('SIGTERM');
const onExit = () => killAllProcessGroups(0);

function uninstallSignalHandlers() {
  if (!signalHandlersInstalled) return;
  signalHandlersInstalled = false;
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
}

/**
 * Record a process group this process started (spawned detached, pgid = the
 * leader's pid). Whatever the exit path, it is SIGKILLed when this process
 * exits while still registered. With `killOnSignal`, SIGINT/SIGTERM of this
 * process also stops it (SIGTERM, 3 s grace, SIGKILL) and the signal is then
 * re-raised when nobody else handles it; without, the owner handles signals
 * itself (the rollout cancels its agents gracefully on the first Ctrl-C).
 */
function registerProcessGroup(pgid, options = {}) {
  groups.set(pgid, options.killOnSignal === true);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', onExit);
  }
  if (options.killOnSignal && !signalHandlersInstalled) {
    signalHandlersInstalled = true;
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
  }
}

/** The group has been stopped and reaped by its owner. */
function unregisterProcessGroup(pgid) {
  groups.delete(pgid);
  if (![...groups.values()].some(Boolean)) uninstallSignalHandlers();
}

/** Process groups started here and not yet unregistered (tests, diagnostics). */
function liveProcessGroups() {
  return [...groups.keys()];
}

module.exports = {
  processStartTime,
  isProcessAlive,
  isGroupAlive,
  signalGroup,
  registerProcessGroup,
  unregisterProcessGroup,
  killAllProcessGroups,
  liveProcessGroups,
};
