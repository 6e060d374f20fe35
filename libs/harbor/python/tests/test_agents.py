"""trajgen_harbor's agent wrappers and host environment against the REAL Harbor (0.26.0).

Run with the managed Harbor env's Python:
    PYTHONPATH=libs/harbor/python artifacts/env/harbor/bin/python libs/harbor/python/tests/test_agents.py <scratch dir>
Prints one JSON object with what was observed; exits non-zero on an exception.
"""
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import trajgen_harbor.agents as agents
from harbor.agents.installed.claude_code import ClaudeCode
from harbor.agents.installed.opencode import OpenCode
from harbor.agents.installed.openhands_sdk import OpenHandsSDK
from harbor.agents.terminus_2.terminus_2 import Terminus2
from harbor.models.task.config import EnvironmentConfig
from harbor.models.trial.paths import TrialPaths
from trajgen_harbor.host_env import HostEnvironment


def wrappers(logs):
    out = {}
    extra = {"ANTHROPIC_CUSTOM_HEADERS": "x-other: 1\nx-trajgen-trial: stale", "ANTHROPIC_BASE_URL": "http://proxy"}
    cc = agents.TrajgenClaudeCode(logs_dir=logs, model_name="trajgen-oracle", trajgen_trial_header="x-trajgen-trial", extra_env=extra, skip_install=True)
    out["claude-code"] = {"subclass": isinstance(cc, ClaudeCode), "name": cc.name(), "trial": cc._trajgen_trial, "env": cc._trajgen_env(cc._extra_env)}
    oc = agents.TrajgenOpenCode(logs_dir=logs, model_name="trajgen/trajgen-oracle", opencode_config={"share": "disabled"}, skip_install=True)
    out["opencode"] = {"subclass": isinstance(oc, OpenCode), "name": oc.name(), "config": json.loads(oc._trajgen_env({})["OPENCODE_CONFIG_CONTENT"])}
    oh = agents.TrajgenOpenHandsSDK(logs_dir=logs, model_name="openai/trajgen-oracle", trajgen_trial_header="x-route")
    out["openhands-sdk"] = {"subclass": isinstance(oh, OpenHandsSDK), "name": oh.name()}
    t2 = agents.TrajgenTerminus2(logs_dir=logs, model_name="openai/trajgen-oracle", api_base="http://proxy/v1", llm_kwargs={"extra_headers": {"x-keep": "1"}})
    out["terminus-2"] = {"subclass": isinstance(t2, Terminus2), "name": t2.name(), "llm_kwargs": t2.options.llm_kwargs}
    # Harbor's preflight validates the job's kwargs against the options model: our header kwarg must not trip it.
    agents.TrajgenClaudeCode.preflight(kwargs={"trajgen_trial_header": "x-trajgen-trial", "max_turns": 3})
    try:
        agents.TrajgenClaudeCode.preflight(kwargs={"trajgen_trial_header": "x", "no_such_option": 1})
        out["unknown_option"] = "accepted"
    except ValueError as error:
        out["unknown_option"] = str(error)
    try:
        agents.TrajgenClaudeCode(logs_dir="/", model_name="m")
        out["bad_logs_dir"] = "accepted"
    except ValueError as error:
        out["bad_logs_dir"] = str(error)
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return " Z " not in Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False


async def host_env(scratch):
    task_env = scratch / "task" / "environment"
    task_env.mkdir(parents=True)
    (task_env / "Dockerfile").write_text("FROM scratch\n")
    (task_env / "data.txt").write_text("hello\n")
    trial_dir = scratch / "jobs" / "job" / "t__abc"
    paths = TrialPaths(trial_dir=trial_dir)
    paths.mkdir()
    os.environ["SECRET_OF_THE_HOST"] = "do-not-leak"
    env = HostEnvironment(environment_dir=task_env, environment_name="t", session_id="t__abc", trial_paths=paths,
                          task_env_config=EnvironmentConfig(), agent_bin_dirs=[str(scratch / "bin")], scratch_root=str(scratch / "host"))
    await env.start(force_build=False)
    out = {"type": env.type(), "files": sorted(os.listdir(env.root / "app"))}
    r = await env.exec("pwd; cat data.txt; echo \"$HOME|$SECRET_OF_THE_HOST|$TRAJGEN_APP_DIR|$PATH\"; echo done > /logs/agent/note.txt; ls /app")
    out["exec"] = r.stdout
    out["note_in_trial_dir"] = (paths.agent_dir / "note.txt").read_text()
    await env.upload_dir(scratch / "task", "/tests")
    out["uploaded"] = (env.root / "tests" / "environment" / "data.txt").exists()
    out["mounted"] = env.is_path_mounted("/logs/verifier", paths.verifier_dir)
    # A timeout kills the whole group: the background sleeper too.
    t0 = time.time()
    try:
        await env.exec("sleep 60 & echo $! > /logs/agent/bg.pid; sleep 60", timeout_sec=1)
        out["timeout"] = "no timeout"
    except RuntimeError as error:
        out["timeout"] = str(error)
    out["timeout_s"] = round(time.time() - t0, 1)
    bg = int((paths.agent_dir / "bg.pid").read_text())
    await asyncio.sleep(0.3)
    out["bg_alive_after_timeout"] = alive(bg)
    # A cancel (how Harbor's agent timeout arrives) kills the group as well.
    task = asyncio.create_task(env.exec("sleep 60 & echo $! > /logs/agent/bg2.pid; wait"))
    await asyncio.sleep(1)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    await asyncio.sleep(0.3)
    out["bg_alive_after_cancel"] = alive(int((paths.agent_dir / "bg2.pid").read_text()))
    # A daemon that left the group (setsid) is found by its marker at stop().
    # The command returns only once the daemon has left the group (it writes its pid after setsid), so the
    # group kill at the command's end cannot catch it half-way out (a race on a loaded machine).
    await env.exec(
        "setsid bash -c 'echo $$ > /logs/agent/daemon.pid; exec sleep 60' > /dev/null 2>&1 < /dev/null & "
        "while [ ! -s /logs/agent/daemon.pid ]; do sleep 0.05; done"
    )
    await asyncio.sleep(0.3)
    daemon = int((paths.agent_dir / "daemon.pid").read_text())
    out["daemon_alive_before_stop"] = alive(daemon)
    root = env.root
    await env.stop(delete=True)
    await asyncio.sleep(0.3)
    out["daemon_alive_after_stop"] = alive(daemon)
    out["scratch_removed"] = not root.exists()
    return out


def main():
    scratch = Path(sys.argv[1])
    logs = str(scratch / "jobs" / "job-1" / "add-greeting__Ab3dEf9" / "agent")
    out = {"wrappers": wrappers(logs), "host_env": asyncio.run(host_env(scratch))}
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
