"""A Harbor environment that runs a trial's commands on THIS machine, without containers.

TRUSTED TASKS ONLY. Nothing isolates the agent or the verifier from the host
beyond a clean environment, a scratch working copy and path mapping: a task
can read and write anything the Harbor process's user can. Use docker or a
cloud environment for tasks you did not write or review.

Selected in a Harbor job config with
``environment: {import_path: "trajgen_harbor.host_env:HostEnvironment"}``
(trajgen writes that for ``rollout.harbor.environment: host``). It keeps the
guarantees of trajgen's local engine:

* a fresh working copy per trial: ``environment/`` of the task minus its
  Docker files, in a scratch dir, standing in for the container's WORKDIR;
* the task's container paths mapped onto host paths: ``/app`` (or the task's
  workdir) to the working copy, ``/logs/agent``, ``/logs/verifier`` and
  ``/logs/artifacts`` straight onto the trial dir (so nothing is copied back),
  ``/tests``, ``/solution``, ``/installed-agent`` and ``/runtime`` to the
  scratch dir. Commands, cwd, env values and upload/download paths are
  rewritten; the demo tasks also read ``TRAJGEN_APP_DIR``/``TRAJGEN_LOGS_DIR``;
* a clean environment: PATH (with the agent CLIs' bin dirs first), LANG, TZ,
  a scratch HOME/TMPDIR and what Harbor passes for the command, nothing else
  of the host's;
* every command in its own process group with a watchdog that kills the group
  when the Harbor process dies (even by SIGKILL); a timeout or a cancel (the
  agent timeout arrives as one) kills the whole group;
* nothing left running: at stop() every process still carrying this trial's
  marker variable (a tmux server, a stray background job) is killed, and the
  scratch dir is removed.

``user=`` is ignored: commands run as the Harbor process's user.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, Dict, List, Optional

from harbor.environments.base import BaseEnvironment, ExecResult
from harbor.environments.capabilities import EnvironmentCapabilities

DOCKER_FILES = {"Dockerfile", ".dockerignore", "docker-compose.yaml", "docker-compose.yml", "compose.yaml", "compose.yml"}
HOST_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "TZ")
MARKER = "TRAJGEN_HOST_SESSION"
KILL_GRACE_SEC = 2.0

# Runs the command in the background of a bash that leads the new process group,
# plus a watchdog in the same group that kills the group once the Harbor pid ($1) is gone.
WATCHDOG = (
    'parent=$1; shift; "$@" & child=$!; '
    # The watchdog's stdio is /dev/null: holding the command's pipes, its `sleep` would delay EOF (and exec's return) by up to 1 s.
    '( while kill -0 "$parent" 2>/dev/null; do sleep 1; done; kill -KILL 0 ) </dev/null >/dev/null 2>&1 & dog=$!; '
    "trap 'kill -TERM \"$child\" 2>/dev/null' TERM INT; "
    'while :; do wait "$child"; code=$?; kill -0 "$child" 2>/dev/null || break; done; '
    'kill "$dog" 2>/dev/null; exit "$code"'
)


def _kill_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _processes_with_marker(value: str) -> List[int]:
    """Pids whose environment holds MARKER=value (Linux /proc; empty elsewhere)."""
    needle = f"{MARKER}={value}".encode()
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


class HostEnvironment(BaseEnvironment):
    """Runs trusted tasks on the host: see the module docstring."""

    def __init__(self, *args: Any, agent_bin_dirs: Optional[List[str]] = None, scratch_root: Optional[str] = None, **kwargs: Any) -> None:
        self._agent_bin_dirs = [str(Path(d)) for d in (agent_bin_dirs or [])]
        self._scratch_root = scratch_root or os.environ.get("TRAJGEN_HOST_SCRATCH") or tempfile.gettempdir()
        self._root: Optional[Path] = None
        super().__init__(*args, **kwargs)

    @staticmethod
    def type() -> str:
        return "trajgen-host"

    @property
    def capabilities(self) -> EnvironmentCapabilities:
        return EnvironmentCapabilities()

    def _validate_definition(self) -> None:
        if not Path(self.environment_dir).is_dir():
            raise FileNotFoundError(f"{self.environment_dir} is not a directory (the task's environment/)")

    # ------------------------------------------------------------ paths
    @property
    def root(self) -> Path:
        if self._root is None:
            Path(self._scratch_root).mkdir(parents=True, exist_ok=True)
            self._root = Path(tempfile.mkdtemp(prefix=f"{self.session_id}-", dir=self._scratch_root))
        return self._root

    @property
    def workdir(self) -> str:
        return self.task_env_config.workdir or "/app"

    def _mapping(self) -> List[tuple]:
        """(container prefix, host path), longest prefix first."""
        tp = self.trial_paths
        pairs = [
            ("/logs/agent", tp.agent_dir),
            ("/logs/verifier", tp.verifier_dir),
            ("/logs/artifacts", tp.artifacts_dir),
            ("/logs", self.root / "logs"),
            (self.workdir.rstrip("/") or "/app", self.root / "app"),
            ("/tests", self.root / "tests"),
            ("/solution", self.root / "solution"),
            ("/installed-agent", self.root / "installed-agent"),
            ("/runtime", self.root / "runtime"),
        ]
        return sorted(((p, str(h)) for p, h in pairs), key=lambda x: -len(x[0]))

    def map_path(self, path: str) -> str:
        """A container path as a host path (unchanged when it is under no mapped root)."""
        p = str(path)
        for prefix, host in self._mapping():
            if p == prefix or p.startswith(prefix + "/"):
                return host + p[len(prefix):]
        return p

    def map_text(self, text: str) -> str:
        """Rewrite container paths inside a shell command or an env value."""
        mapping = self._mapping()
        alternatives = "|".join(re.escape(p) for p, _ in mapping)
        pattern = re.compile(r"(?<![\w./~-])(" + alternatives + r")(?=$|[/\s'\";:)|&>,=}])")
        hosts = dict(mapping)
        return pattern.sub(lambda m: hosts[m.group(1)], text)

    def is_path_mounted(self, environment_path: Any, host_path: Path) -> bool:
        # /logs/agent etc. ARE the trial dirs: Harbor must not download them onto themselves.
        return Path(self.map_path(str(environment_path))).resolve() == Path(host_path).resolve()

    # ------------------------------------------------------------ lifecycle
    async def start(self, force_build: bool) -> None:
        app = self.root / "app"
        src = Path(self.environment_dir)
        shutil.copytree(src, app, symlinks=False, ignore=lambda d, names: [n for n in names if Path(d) == src and n in DOCKER_FILES])
        for sub in ("home", "tmp", "logs", "tests", "solution", "installed-agent", "runtime"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for d in (self.trial_paths.agent_dir, self.trial_paths.verifier_dir, self.trial_paths.artifacts_dir):
            Path(d).mkdir(parents=True, exist_ok=True)

    async def stop(self, delete: bool) -> None:
        if self._root is None:
            return
        # Nothing left running: whatever still carries this trial's marker (a tmux server, a daemonised helper).
        pids = _processes_with_marker(str(self._root))
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if delete:
            shutil.rmtree(self._root, ignore_errors=True)

    # ------------------------------------------------------------ files
    async def upload_file(self, source_path: Path | str, target_path: str) -> None:
        target = Path(self.map_path(target_path))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source_path, target)

    async def upload_dir(self, source_dir: Path | str, target_dir: str) -> None:
        shutil.copytree(source_dir, self.map_path(target_dir), dirs_exist_ok=True)

    async def download_file(self, source_path: str, target_path: Path | str) -> None:
        source = Path(self.map_path(source_path))
        if source.resolve() == Path(target_path).resolve():
            return
        Path(target_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target_path)

    async def download_dir(self, source_dir: str, target_dir: Path | str) -> None:
        source = Path(self.map_path(source_dir))
        if source.resolve() == Path(target_dir).resolve():
            return
        shutil.copytree(source, target_dir, dirs_exist_ok=True)

    # ------------------------------------------------------------ commands
    def _command_env(self, env: Optional[Dict[str, str]]) -> Dict[str, str]:
        root = self.root
        out: Dict[str, str] = {
            "HOME": str(root / "home"),
            "TMPDIR": str(root / "tmp"),
            "TMUX_TMPDIR": str(root / "tmp"),
            "USER": "trajgen",
            "LOGNAME": "trajgen",
            "SHELL": "/bin/bash",
            "LANG": "C.UTF-8",
            "TERM": "xterm-256color",
        }
        for name in HOST_ALLOWLIST:
            value = os.environ.get(name)
            if value:
                out[name] = value
        if self._agent_bin_dirs:
            out["PATH"] = os.pathsep.join([*self._agent_bin_dirs, out.get("PATH", "/usr/local/bin:/usr/bin:/bin")])
        for key, value in (self._merge_env(env) or {}).items():
            out[key] = self.map_text(str(value))
        # The demo tasks' convention (pipelines/demo/tasks/README.md): where /app and /logs are.
        out["TRAJGEN_APP_DIR"] = str(root / "app")
        out["TRAJGEN_LOGS_DIR"] = str(Path(self.trial_paths.verifier_dir).parent)
        out[MARKER] = str(root)
        return out

    async def exec(
        self,
        command: str,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout_sec: int | None = None,
        user: str | int | None = None,
    ) -> ExecResult:
        host_cwd = Path(self.map_path(cwd or self.workdir))
        host_cwd.mkdir(parents=True, exist_ok=True)
        proc = await asyncio.create_subprocess_exec(
            "bash", "-c", WATCHDOG, "trajgen-host-env", str(os.getpid()), "bash", "-c", self.map_text(command),
            cwd=str(host_cwd),
            env=self._command_env(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        try:
            if timeout_sec:
                stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=timeout_sec)
            else:
                stdout, stderr = await proc.communicate()
        except asyncio.TimeoutError:
            await self._kill(proc)
            raise RuntimeError(f"Command timed out after {timeout_sec} seconds")
        except BaseException:
            # A cancel (Harbor's agent timeout, a job cancel): the whole group goes, not just bash.
            await self._kill(proc)
            raise
        # As a container teardown would: what the command left in its group does not outlive it.
        _kill_group(proc.pid, signal.SIGKILL)
        return ExecResult(
            stdout=stdout.decode("utf-8", errors="replace"),
            stderr=stderr.decode("utf-8", errors="replace"),
            return_code=proc.returncode if proc.returncode is not None else -1,
        )

    async def _kill(self, proc: asyncio.subprocess.Process) -> None:
        _kill_group(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(proc.wait()), timeout=KILL_GRACE_SEC)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        _kill_group(proc.pid, signal.SIGKILL)
        try:
            await asyncio.wait_for(asyncio.shield(proc.wait()), timeout=KILL_GRACE_SEC)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
