"""Harbor agent wrappers that send trajgen's per-trial routing header.

trajgen's recording proxy files every model call under the trial that made it
(`<job>/<trial>/agent/litellm-trajectory.jsonl`), routed by a request header
(`x-trajgen-trial: <trial name>` by default). Stock Harbor configures agents per
job, not per trial, so the rollout stage's generated job config names these
classes (`agents[].import_path`), which subclass Harbor's own agents and add
the header for the trial they run in:

    trajgen_harbor.agents:TrajgenClaudeCode    ANTHROPIC_CUSTOM_HEADERS ("Name: value" lines)
    trajgen_harbor.agents:TrajgenOpenCode      OPENCODE_CONFIG_CONTENT (provider options.headers, merged
                                               by OpenCode over the opencode.json Harbor writes)
    trajgen_harbor.agents:TrajgenOpenHandsSDK  LLM_EXTRA_HEADERS (JSON)
    trajgen_harbor.agents:TrajgenTerminus2     llm_kwargs.extra_headers (Terminus2Options.llm_kwargs)

Facts relied on, read in the installed Harbor (0.26.0): Harbor constructs one
agent per trial with `logs_dir = <trial dir>/agent`, so the trial name is the
parent directory's name; installed agents run their CLI through
`environment.exec(..., env=...)` inside `run(instruction, environment,
context)`; agent kwargs are validated against the agent's `options_model`
(extra keys forbidden) both by the constructor and by the class-level
`preflight` that `harbor run` calls before queueing trials. The generated config
passes the header name as the extra kwarg `trajgen_trial_header`, removed here
(in `parse_options` and in the constructor) before Harbor's validation sees it.

Tested against the real Harbor (libs/harbor/src/harbor-real.spec.ts and the
demo-harbor e2e test).

The classes are created on first access (module __getattr__), so importing one
wrapper never needs the other agents' modules.
"""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

DEFAULT_TRIAL_HEADER = "x-trajgen-trial"
HEADER_KWARG = "trajgen_trial_header"

__all__ = [
    "TrajgenClaudeCode",
    "TrajgenOpenCode",
    "TrajgenOpenHandsSDK",
    "TrajgenTerminus2",
    "trial_name_from_logs_dir",
    "DEFAULT_TRIAL_HEADER",
    "HEADER_KWARG",
]


def trial_name_from_logs_dir(logs_dir: Any) -> str:
    """`<jobs_dir>/<job>/<trial>/agent` -> `<trial>`."""
    if logs_dir is None:
        raise ValueError("trajgen_harbor: the agent has no logs_dir, so its trial name is unknown")
    name = Path(logs_dir).parent.name
    if not name or name in (".", ".."):
        raise ValueError(f"trajgen_harbor: cannot take a trial name from logs_dir {logs_dir!r}")
    return name


def _merge_header_lines(existing: Optional[str], header: str, value: str) -> str:
    """Claude Code's ANTHROPIC_CUSTOM_HEADERS: one `Name: value` per line; ours replaces a line of the same name."""
    lines = [l for l in (existing or "").splitlines() if l.strip()]
    lines = [l for l in lines if l.split(":", 1)[0].strip().lower() != header.lower()]
    lines.append(f"{header}: {value}")
    return "\n".join(lines)


def _deep_merge(base: Dict[str, Any], extra: Mapping[str, Any]) -> Dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _deep_merge(dict(out[k]), v)
        else:
            out[k] = v
    return out


def _merge_json(existing: Optional[str], extra: Mapping[str, Any]) -> str:
    base: Dict[str, Any] = {}
    if existing:
        try:
            parsed = json.loads(existing)
            if isinstance(parsed, dict):
                base = parsed
        except ValueError:
            base = {}
    return json.dumps(_deep_merge(base, extra), separators=(",", ":"))


class _EnvOverlay:
    """A Harbor environment seen through a filter: every exec() gets the trial's header variables merged into its env."""

    def __init__(self, inner: Any, merge: Callable[[Optional[Mapping[str, str]]], Dict[str, str]]):
        self._inner = inner
        self._merge = merge

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def exec(self, *args: Any, **kwargs: Any) -> Any:
        method = self._inner.exec
        try:
            signature = inspect.signature(method)
        except (TypeError, ValueError):
            signature = None
        if signature is not None and "env" in signature.parameters:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                bound = None
            if bound is not None:
                bound.arguments["env"] = self._merge(bound.arguments.get("env"))
                return await method(*bound.args, **bound.kwargs)
        kwargs["env"] = self._merge(kwargs.get("env"))
        return await method(*args, **kwargs)


class _TrialHeader:
    """Mixin: learns the trial name and header, and adds the header to what the agent sends."""

    _trajgen_trial: str
    _trajgen_header: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        header = kwargs.pop(HEADER_KWARG, None)
        self._trajgen_header = str(header) if header else DEFAULT_TRIAL_HEADER
        logs_dir = kwargs.get("logs_dir", args[0] if args else None)
        self._trajgen_trial = trial_name_from_logs_dir(logs_dir) if logs_dir is not None else ""
        args, kwargs = self._trajgen_constructor_args(args, kwargs)
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        if not self._trajgen_trial:
            self._trajgen_trial = trial_name_from_logs_dir(getattr(self, "logs_dir", None))

    def _trajgen_constructor_args(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
        return args, kwargs

    @classmethod
    def parse_options(cls, kwargs: Optional[Mapping[str, Any]] = None, *rest: Any, **more: Any) -> Any:
        # Harbor's preflight validates the job's kwargs against the agent's options model (extra keys forbidden).
        cleaned = {k: v for k, v in dict(kwargs or {}).items() if k != HEADER_KWARG}
        return super().parse_options(cleaned, *rest, **more)  # type: ignore[misc]

    def _trajgen_env(self, env: Optional[Mapping[str, str]]) -> Dict[str, str]:
        return dict(env or {})

    async def run(self, instruction: Any, environment: Any, context: Any) -> Any:
        scoped = getattr(environment, "scoped_exec_env", None)
        if scoped is None:
            # An environment without Harbor's scoped exec env: filter its exec() calls instead.
            return await super().run(instruction, _EnvOverlay(environment, self._trajgen_env), context)  # type: ignore[misc]
        # Nested inside the Trial's own overlay (the job's agents[].env, also our extra_env): ours wins, merged with it.
        with scoped(self._trajgen_env(getattr(self, "_extra_env", None))):
            return await super().run(instruction, environment, context)  # type: ignore[misc]


class _ClaudeCodeHeader(_TrialHeader):
    def _trajgen_env(self, env: Optional[Mapping[str, str]]) -> Dict[str, str]:
        out = dict(env or {})
        out["ANTHROPIC_CUSTOM_HEADERS"] = _merge_header_lines(out.get("ANTHROPIC_CUSTOM_HEADERS"), self._trajgen_header, self._trajgen_trial)
        return out


class _OpenCodeHeader(_TrialHeader):
    def _trajgen_env(self, env: Optional[Mapping[str, str]]) -> Dict[str, str]:
        out = dict(env or {})
        model = str(getattr(self, "model_name", None) or "trajgen/")
        provider = model.split("/", 1)[0] or "trajgen"
        extra = {"provider": {provider: {"options": {"headers": {self._trajgen_header: self._trajgen_trial}}}}}
        out["OPENCODE_CONFIG_CONTENT"] = _merge_json(out.get("OPENCODE_CONFIG_CONTENT"), extra)
        return out


class _OpenHandsSDKHeader(_TrialHeader):
    def _trajgen_env(self, env: Optional[Mapping[str, str]]) -> Dict[str, str]:
        out = dict(env or {})
        out["LLM_EXTRA_HEADERS"] = _merge_json(out.get("LLM_EXTRA_HEADERS"), {self._trajgen_header: self._trajgen_trial})
        return out


class _Terminus2Header(_TrialHeader):
    """Terminus-2 calls the model from the Harbor process through LiteLLM: the header goes into llm_kwargs.extra_headers."""

    def _trajgen_constructor_args(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
        llm_kwargs = dict(kwargs.get("llm_kwargs") or {})
        headers = dict(llm_kwargs.get("extra_headers") or {})
        headers[self._trajgen_header] = self._trajgen_trial
        llm_kwargs["extra_headers"] = headers
        kwargs["llm_kwargs"] = llm_kwargs
        return args, kwargs

    async def run(self, instruction: Any, environment: Any, context: Any) -> Any:
        # No env overlay: the calls leave from this process, with llm_kwargs.
        return await super(_TrialHeader, self).run(instruction, environment, context)  # type: ignore[misc]


# wrapper name -> (Harbor module, candidate class names, mixin)
_WRAPPERS: Dict[str, Tuple[str, Tuple[str, ...], type]] = {
    "TrajgenClaudeCode": ("harbor.agents.installed.claude_code", ("ClaudeCode",), _ClaudeCodeHeader),
    "TrajgenOpenCode": ("harbor.agents.installed.opencode", ("OpenCode",), _OpenCodeHeader),
    "TrajgenOpenHandsSDK": ("harbor.agents.installed.openhands_sdk", ("OpenHandsSDK", "OpenHandsSdk"), _OpenHandsSDKHeader),
    "TrajgenTerminus2": ("harbor.agents.terminus_2.terminus_2", ("Terminus2",), _Terminus2Header),
}


def _load_base(module: str, candidates: Tuple[str, ...]) -> type:
    try:
        mod = importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"trajgen_harbor: cannot import {module} ({error}); is Harbor (0.26) installed in this Python?") from error
    for name in candidates:
        cls = getattr(mod, name, None)
        if isinstance(cls, type):
            return cls
    raise ImportError(f"trajgen_harbor: {module} has none of {', '.join(candidates)}; this Harbor version is not supported")


def __getattr__(name: str) -> Any:
    spec = _WRAPPERS.get(name)
    if spec is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, candidates, mixin = spec
    base = _load_base(module, candidates)
    cls = type(name, (mixin, base), {"__module__": __name__, "__doc__": f"{base.__name__} that sends trajgen's per-trial routing header."})
    globals()[name] = cls
    return cls
