"""TEST DRIVER (run with the managed LiteLLM env's Python: the real litellm package) for trajgen_trajectory_logger.py.

Usage: python3 drive_callback.py <dir holding the generated module> <scenario.json>

Calls the logger's hooks the way LiteLLM's proxy does, with kwargs shaped like
the ones LiteLLM's proxy passes its CustomLogger callbacks (litellm_params.proxy_server_request {url, method,
headers, body}, metadata.headers, standard_logging_object, datetimes,
async_complete_streaming_response for streams, an api_key holding the upstream
key, exceptions with status_code). Prints one JSON object with the outcome of
each pre-call check.
"""
import asyncio
import datetime as dt
import json
import sys

sys.path.insert(0, sys.argv[1])
import trajgen_trajectory_logger as mod  # noqa: E402

scenario = json.load(open(sys.argv[2], encoding="utf-8"))
logger = mod.trajectory_logger


class FakeModelResponse:
    """Stands in for litellm.ModelResponse (a pydantic model with model_dump)."""

    def __init__(self, data):
        self._data = data

    def model_dump(self):
        return self._data


class FakeAPIError(Exception):
    def __init__(self, status_code, message):
        super().__init__(message)
        self.status_code = status_code


def kwargs_for(call):
    headers = {"content-type": "application/json", "user-agent": "claude-cli/2.1.197"}
    if call.get("trial"):
        headers[scenario["trial_header"]] = call["trial"]
    # Like LiteLLM: `authorization` removed from metadata headers, `x-api-key` left in (seen in LiteLLM's captured callback kwargs).
    headers["x-api-key"] = scenario["master_key"]
    start = dt.datetime(2026, 11, 21, 10, 0, 0) + dt.timedelta(seconds=call.get("offset", 0))
    end = start + dt.timedelta(milliseconds=call.get("duration_ms", 1500))
    kwargs = {
        "model": "anthropic/trajgen-oracle",
        "messages": call["body"].get("messages"),
        "stream": call["body"].get("stream", False),
        "call_type": call.get("call_type", "anthropic_messages"),
        "litellm_call_id": call["call_id"],
        "api_key": scenario["upstream_key"],
        "litellm_params": {
            "proxy_server_request": {"url": "http://127.0.0.1:4455" + call["path"], "method": "POST", "headers": dict(headers), "body": call["body"]},
            "metadata": {"headers": dict(headers), "user_api_key": "hashed"},
        },
        "standard_logging_object": {"id": call["call_id"], "response_cost": 0.25, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }
    return kwargs, start, end


async def main():
    out = {"pre_call": []}
    for check in scenario.get("pre_call", []):
        data = {"proxy_server_request": {"headers": {scenario["trial_header"]: check["trial"]} if check.get("trial") else {}}, "model": "m"}
        try:
            await logger.async_pre_call_hook(None, None, data, check.get("call_type", "anthropic_messages"))
            out["pre_call"].append("ok")
        except Exception as error:  # noqa: BLE001
            detail = getattr(error, "detail", None)  # fastapi.HTTPException, as LiteLLM's proxy answers it
            out["pre_call"].append("rejected: %s" % (detail.get("error") if isinstance(detail, dict) else error))
    for call in scenario["calls"]:
        kwargs, start, end = kwargs_for(call)
        if call["kind"] == "success":
            response = call["response"]
            if call.get("as_model_response"):
                response = FakeModelResponse(response)
            if kwargs["stream"]:
                kwargs["async_complete_streaming_response"] = response
                await logger.async_log_success_event(kwargs, None, start, end)
            else:
                await logger.async_log_success_event(kwargs, response, start, end)
            if call.get("also_sync"):
                logger.log_success_event(kwargs, response, start, end)
        else:
            exc = FakeAPIError(call["status"], call["message"])
            kwargs["exception"] = exc
            kwargs["standard_logging_object"]["error_information"] = {"error_class": call.get("error_class", "RateLimitError"), "error_code": str(call["status"])}
            await logger.async_log_failure_event(kwargs, exc, start, end)
    print(json.dumps(out))


asyncio.run(main())
