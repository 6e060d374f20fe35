"""trajgen trajectory logger: a LiteLLM CustomLogger for one job's proxy.

Copied beside config.yaml by @trajgen/proxy (registered as
`litellm_settings.callbacks: trajgen_trajectory_logger.trajectory_logger`).
It appends ONE JSON line per model call to the trial's
`agent/litellm-trajectory.jsonl`, in the same format as the builtin proxy
(the LegoX/harbor trajectory logger's line format):

  session_id, success, request_time (epoch ms), timestamp (ISO), duration_ms,
  request_body (the client's original body: proxy_server_request.body),
  response_body (the response as LiteLLM hands it over), usage (normalised),
  failure (only when success is false), endpoint, stream, litellm_call_id.

Routing: the trial id comes from the `x-trajgen-trial` request header (name in
the settings file); routes.json maps known trials to their file. A request
without a known trial is refused before the upstream call (pre-call hook, 400)
and is never logged into another trial. Secrets (the master key, the upstream
key) are redacted from every line; request headers are never written.

Durability: one os.write of the whole line on an O_APPEND descriptor, then
fdatasync. LiteLLM runs callbacks after the response (best-effort queue), so
unlike the builtin proxy a line may land shortly after the client got its
response; the TS side waits for the files to settle before stopping LiteLLM.
"""

import datetime as _dt
import json
import os
import sys
import threading
from collections import OrderedDict
from urllib.parse import urlparse

from litellm.integrations.custom_logger import CustomLogger

_HERE = os.path.dirname(os.path.abspath(__file__))
_SETTINGS_FILE = os.path.join(_HERE, "trajgen_logger_settings.json")
_GENERATION_CALL_TYPES = {
    "completion",
    "acompletion",
    "anthropic_messages",
    "aanthropic_messages",
    "responses",
    "aresponses",
    "text_completion",
    "atext_completion",
}
_REDACTED = "[REDACTED]"


def _load_settings():
    with open(_SETTINGS_FILE, encoding="utf-8") as f:
        return json.load(f)


def _num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else 0


def normalise_usage(raw, prices):
    """Same rules as libs/proxy/src/usage.ts: prompt tokens include cached ones."""
    if not isinstance(raw, dict):
        return None
    if "input_tokens" in raw or "output_tokens" in raw:
        read = _num(raw.get("cache_read_input_tokens"))
        write = _num(raw.get("cache_creation_input_tokens"))
        prompt = _num(raw.get("input_tokens")) + read + write
        completion = _num(raw.get("output_tokens"))
        out = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": read},
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": write,
        }
    elif "prompt_tokens" in raw or "completion_tokens" in raw or "total_tokens" in raw:
        details = raw.get("prompt_tokens_details") or {}
        cdetails = raw.get("completion_tokens_details") or {}
        read = _num(details.get("cached_tokens") if isinstance(details, dict) else 0) or _num(raw.get("cache_read_input_tokens"))
        prompt = _num(raw.get("prompt_tokens"))
        completion = _num(raw.get("completion_tokens"))
        out = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": _num(raw.get("total_tokens")) or prompt + completion,
            "prompt_tokens_details": {"cached_tokens": read},
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": _num(raw.get("cache_creation_input_tokens")),
        }
        if isinstance(cdetails, dict) and "reasoning_tokens" in cdetails:
            out["completion_tokens_details"] = {"reasoning_tokens": _num(cdetails.get("reasoning_tokens"))}
    else:
        return None
    if prices:
        uncached = max(0, out["prompt_tokens"] - out["cache_read_input_tokens"])
        usd = (
            uncached * _num(prices.get("input_per_mtok"))
            + out["cache_read_input_tokens"] * _num(prices.get("cache_read_per_mtok"))
            + out["completion_tokens"] * _num(prices.get("output_per_mtok"))
        ) / 1e6
        out["cost"] = round(usd, 9)
    return out


def to_jsonable(obj, depth=0):
    """Pydantic models (v1/v2), dicts, lists and plain values → JSON-ready data."""
    if depth > 50:
        return str(obj)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, depth + 1) for v in obj]
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    for attr in ("model_dump", "dict"):
        fn = getattr(obj, attr, None)
        if callable(fn):
            try:
                return to_jsonable(fn(), depth + 1)
            except Exception:  # noqa: BLE001 - fall through to the next way
                pass
    if hasattr(obj, "__dict__"):
        return {k: to_jsonable(v, depth + 1) for k, v in vars(obj).items() if not k.startswith("_")}
    return str(obj)


def _epoch_ms(value):
    if isinstance(value, _dt.datetime):
        # LiteLLM passes naive local datetimes; timestamp() reads those as local time.
        return int(value.timestamp() * 1000)
    if isinstance(value, (int, float)):
        return int(value * 1000) if value < 1e11 else int(value)
    return None


def _iso_ms(ms):
    """Epoch ms as JavaScript's toISOString() writes it: UTC, milliseconds, Z."""
    t = _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def _header(headers, name):
    if not isinstance(headers, dict):
        return None
    for k, v in headers.items():
        if isinstance(k, str) and k.lower() == name:
            return v if isinstance(v, str) else None
    return None


class TrajgenTrajectoryLogger(CustomLogger):
    def __init__(self, settings_file=None):
        super().__init__()
        self._settings_file = settings_file or _SETTINGS_FILE
        self._settings = None
        self._routes = {}
        self._routes_stamp = None
        self._seen = OrderedDict()
        self._lock = threading.Lock()
        self._synced_files = set()

    # ------------------------------------------------------------ routing
    def _cfg(self):
        if self._settings is None:
            with open(self._settings_file, encoding="utf-8") as f:
                self._settings = json.load(f)
        return self._settings

    def _route(self, trial):
        cfg = self._cfg()
        if not trial:
            return None
        routes_file = cfg["routes_file"]
        try:
            st = os.stat(routes_file)
            stamp = (st.st_mtime_ns, st.st_size)
            if stamp != self._routes_stamp:
                with open(routes_file, encoding="utf-8") as f:
                    self._routes = json.load(f)
                self._routes_stamp = stamp
        except (OSError, ValueError):
            pass
        path = self._routes.get(trial)
        if path:
            return path
        if not cfg.get("accept_existing_trial_dirs"):
            return None
        if "/" in trial or "\\" in trial or trial.startswith(".") or ".." in trial or len(trial) > 200:
            return None
        job_dir = os.path.realpath(cfg["job_dir"])
        trial_dir = os.path.join(job_dir, trial)
        if os.path.islink(trial_dir) or not os.path.isdir(trial_dir):
            return None
        return os.path.join(trial_dir, "agent", "litellm-trajectory.jsonl")

    def _trial_of(self, litellm_params, data=None):
        name = self._cfg()["trial_header"].lower()
        sources = []
        if isinstance(litellm_params, dict):
            psr = litellm_params.get("proxy_server_request") or {}
            sources.append(psr.get("headers") if isinstance(psr, dict) else None)
            for key in ("metadata", "litellm_metadata"):
                md = litellm_params.get(key) or {}
                if isinstance(md, dict):
                    sources.append(md.get("headers"))
        if isinstance(data, dict):
            psr = data.get("proxy_server_request") or {}
            sources.append(psr.get("headers") if isinstance(psr, dict) else None)
            for key in ("metadata", "litellm_metadata"):
                md = data.get(key) or {}
                if isinstance(md, dict):
                    sources.append(md.get("headers"))
        for h in sources:
            value = _header(h, name)
            if value:
                return value
        return None

    # ------------------------------------------------------------ hooks
    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        if call_type not in _GENERATION_CALL_TYPES:
            return data
        trial = self._trial_of(None, data)
        header = self._cfg()["trial_header"]
        if not trial:
            _reject(400, "missing %s header (every model call must name its trial)" % header)
        if self._route(trial) is None:
            _reject(400, "unknown trial %r in %s" % (trial, header))
        return data

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._record(True, kwargs, response_obj, start_time, end_time)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self._record(False, kwargs, response_obj, start_time, end_time)

    # Some LiteLLM paths also call the sync hooks; the call-id dedupe keeps one line.
    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._record(True, kwargs, response_obj, start_time, end_time)

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self._record(False, kwargs, response_obj, start_time, end_time)

    # ------------------------------------------------------------ records
    def _record(self, success, kwargs, response_obj, start_time, end_time):
        try:
            self._record_unsafe(success, kwargs or {}, response_obj, start_time, end_time)
        except Exception as error:  # noqa: BLE001 - never break LiteLLM's logging worker
            print("trajgen_trajectory_logger: could not log a call: %r" % (error,), file=sys.stderr)

    def _record_unsafe(self, success, kwargs, response_obj, start_time, end_time):
        slo = kwargs.get("standard_logging_object") or {}
        call_id = kwargs.get("litellm_call_id") or slo.get("id")
        with self._lock:
            if call_id:
                if call_id in self._seen:
                    return
                self._seen[call_id] = True
                while len(self._seen) > 20000:
                    self._seen.popitem(last=False)
        litellm_params = kwargs.get("litellm_params") or {}
        psr = litellm_params.get("proxy_server_request") or {}
        trial = self._trial_of(litellm_params)
        path = self._route(trial)
        endpoint = urlparse(str(psr.get("url") or "")).path or None
        if path is None:
            self._unrouted(trial, endpoint, call_id)
            return
        request_body = client_body(psr.get("body"))
        if not isinstance(request_body, dict):
            request_body = {"model": kwargs.get("model"), "messages": kwargs.get("messages")}
            request_body.update(kwargs.get("optional_params") or {})
        stream = bool(kwargs.get("stream") or request_body.get("stream"))

        response_body = None
        failure = None
        if success:
            response = kwargs.get("async_complete_streaming_response") if stream else None
            response_body = to_jsonable(response if response is not None else response_obj)
        else:
            exc = kwargs.get("exception") or (response_obj if isinstance(response_obj, BaseException) else None)
            info = slo.get("error_information") or {}
            status = getattr(exc, "status_code", None)
            if status is None:
                try:
                    status = int(info.get("error_code")) if info.get("error_code") not in (None, "") else None
                except (TypeError, ValueError):
                    status = None
            message = str(exc) if exc is not None else str(slo.get("error_str") or info.get("error_message") or "")
            failure = {
                "error_type": info.get("error_class") or (type(exc).__name__ if exc is not None else "error"),
                "status_code": status,
                "message": message[:2000],
            }
            if response_obj is not None and not isinstance(response_obj, BaseException):
                response_body = to_jsonable(response_obj)

        raw_usage = response_body.get("usage") if isinstance(response_body, dict) else None
        usage = normalise_usage(to_jsonable(raw_usage), self._cfg().get("prices"))
        if usage is None and slo.get("total_tokens"):
            usage = normalise_usage(
                {"prompt_tokens": slo.get("prompt_tokens"), "completion_tokens": slo.get("completion_tokens"), "total_tokens": slo.get("total_tokens")},
                self._cfg().get("prices"),
            )
        if usage is not None and "cost" not in usage and isinstance(slo.get("response_cost"), (int, float)):
            usage["cost"] = slo.get("response_cost")

        started = _epoch_ms(start_time) or _epoch_ms(slo.get("startTime")) or int(_dt.datetime.now().timestamp() * 1000)
        ended = _epoch_ms(end_time) or _epoch_ms(slo.get("endTime")) or started
        line = {
            "session_id": trial,
            "success": bool(success),
            "request_time": started,
            "timestamp": _iso_ms(started),
            "duration_ms": max(0, ended - started),
            "request_body": to_jsonable(request_body),
            "response_body": response_body,
            "usage": usage,
        }
        if failure is not None:
            line["failure"] = failure
        line["endpoint"] = endpoint
        line["stream"] = stream
        line["litellm_call_id"] = call_id
        secrets = [os.environ.get(name) for name in self._cfg().get("secret_env") or []]
        secrets.append(kwargs.get("api_key") if isinstance(kwargs.get("api_key"), str) else None)
        self._append(path, _redact(json.dumps(line, ensure_ascii=False, default=str), secrets))

    def _append(self, path, text):
        data = (text + "\n").encode("utf-8")
        with self._lock:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                view = memoryview(data)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                if hasattr(os, "fdatasync"):
                    os.fdatasync(fd)
                else:
                    os.fsync(fd)
            finally:
                os.close(fd)
            if path not in self._synced_files:
                # The (possibly new) file's directory entry is made durable once.
                try:
                    dfd = os.open(os.path.dirname(path), os.O_RDONLY)
                    try:
                        os.fsync(dfd)
                    finally:
                        os.close(dfd)
                except OSError:
                    pass
                self._synced_files.add(path)

    def _unrouted(self, trial, endpoint, call_id):
        note = {
            "time": _dt.datetime.now(_dt.timezone.utc).isoformat(),
            "reason": "missing trial header" if not trial else "unknown trial",
            "trial": trial,
            "endpoint": endpoint,
            "litellm_call_id": call_id,
        }
        self._append(os.path.join(os.path.dirname(self._settings_file), "unrouted.jsonl"), json.dumps(note))


# Keys LiteLLM's proxy writes into its own metadata dict (litellm 1.106: headers, the key's hash and
# alias, spend, the route, …). Their presence tells LiteLLM's dict from a client's own `metadata`.
_LITELLM_METADATA_MARKERS = ("headers", "user_api_key_hash", "user_api_key", "endpoint", "requester_metadata")


def client_body(body):
    """The body as the client sent it.

    LiteLLM's docs call proxy_server_request.body "the client's original JSON"; the real
    LiteLLM 1.106 snapshots it after adding its own metadata: `litellm_metadata` on /v1/messages and
    /v1/responses (a key clients do not send), and `metadata` on /chat/completions, where the client's
    own metadata, if any, is kept as metadata.requester_metadata. Both are undone here so a line holds
    the same request_body as the builtin proxy's (and no request header, key hash or route leaks
    into the trajectory).
    """
    if not isinstance(body, dict):
        return body
    out = {k: v for k, v in body.items() if k != "litellm_metadata"}
    meta = out.get("metadata")
    if isinstance(meta, dict) and any(k in meta for k in _LITELLM_METADATA_MARKERS):
        original = meta.get("requester_metadata")
        if isinstance(original, dict) and original:
            out["metadata"] = {k: v for k, v in original.items() if k not in _LITELLM_METADATA_MARKERS}
        else:
            del out["metadata"]
    return out


def _redact(text, secrets):
    for s in secrets:
        if not s or len(s) < 8:
            continue
        escaped = json.dumps(s)[1:-1]
        text = text.replace(escaped, _REDACTED)
        if escaped != s:
            text = text.replace(s, _REDACTED)
    return text


def _reject(status, detail):
    from fastapi import HTTPException

    raise HTTPException(status_code=status, detail={"error": "trajgen proxy: " + detail})


trajectory_logger = TrajgenTrajectoryLogger()
