"""Chat templates of the LLaMA-Factory family the embedded trainer renders.

Supported: ``qwen3_nothink`` and ``qwen`` (the Qwen2.5/Qwen3 Hermes layout of
LLaMA-Factory's template.py). Every other template name fails clearly.

Layout (per message, as LLaMA-Factory's qwen templates format them):
  system+tools  <|im_start|>system\\n{system}{tool prompt}<|im_end|>\\n   (only on the first message, when either is set)
  user          <|im_start|>user\\n{content}<|im_end|>\\n<|im_start|>assistant\\n
  assistant     {content}<|im_end|>\\n
  function      <tool_call>\\n{"name": ..., "arguments": ...}\\n</tool_call><|im_end|>\\n  (parallel calls joined by \\n)
  observation   <|im_start|>user\\n<tool_response>\\n{content}\\n</tool_response><|im_end|>\\n<|im_start|>assistant\\n
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, List, Sequence

from .errors import TrainerError

ROLE_USER = "user"
ROLE_ASSISTANT = "assistant"
ROLE_OBSERVATION = "observation"
ROLE_FUNCTION = "function"

# The special tokens a tokenizer must hold as single tokens for these templates.
SPECIAL_TOKENS = ["<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"]

QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

_TOOL_PROMPT_HEAD = (
    "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
_TOOL_PROMPT_TAIL = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
)

_THOUGHT = re.compile(r"^\s*<think>.*?</think>\s*", re.DOTALL)
_TOOL_CALL_SPAN = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)


def _dumps(value: Any) -> str:
    # Python's json defaults (", " and ": " separators), non-ASCII kept: what LLaMA-Factory writes.
    return json.dumps(value, ensure_ascii=False)


def qwen_tool_prompt(tools_json: str) -> str:
    """The tool block appended to the system text; "" for an empty list."""
    try:
        tools = json.loads(tools_json)
    except json.JSONDecodeError as exc:
        raise TrainerError(f"Invalid JSON format in tool description: {tools_json[:120]!r} ({exc})",
                           "The tools column must be a JSON string of a list of function schemas.")
    if not isinstance(tools, list):
        tools = [tools]
    if not tools:
        return ""
    text = ""
    for tool in tools:
        wrapped = tool if isinstance(tool, dict) and tool.get("type") == "function" else {"type": "function", "function": tool}
        text += "\n" + _dumps(wrapped)
    return _TOOL_PROMPT_HEAD + text + _TOOL_PROMPT_TAIL


def _parse_calls(text: str, original: str) -> List[dict]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise TrainerError(f"Invalid JSON format in function message: {original[:160]!r}",
                           "function_call values must be JSON {\"name\", \"arguments\"} (or a list of them).")
    calls = value if isinstance(value, list) else [value]
    if not calls:
        raise TrainerError(f"Empty function call list in function message: {original[:160]!r}")
    for call in calls:
        if not isinstance(call, dict) or "name" not in call or "arguments" not in call:
            raise TrainerError(f"A function call lacks name or arguments: {original[:160]!r}",
                               "Each call needs \"name\" and \"arguments\" (an object).")
    return calls


def qwen_function_text(content: str) -> str:
    """A function_call value rendered as Hermes tool calls (LLaMA-Factory's function_call value format).

    The value is JSON (one call or a list), optionally preceded by a
    <think>...</think> block, or text with one <tool_call>{json}</tool_call>
    span: text outside the span is kept verbatim before the formatted calls.
    """
    thought = ""
    body = content
    m = _THOUGHT.match(body)
    if m:
        thought = m.group(0)
        body = body[m.end():]
    prefix = ""
    span = _TOOL_CALL_SPAN.search(body)
    if span:
        prefix = body[: span.start()] + body[span.end():]
        calls = _parse_calls(span.group(1).strip(), content)
    else:
        calls = _parse_calls(body.strip(), content)
    rendered = "\n".join(
        "<tool_call>\n" + _dumps({"name": c["name"], "arguments": c["arguments"]}) + "\n</tool_call>" for c in calls
    )
    return thought + prefix + rendered


@dataclass(frozen=True)
class Template:
    name: str
    default_system: str

    def format_system(self, content: str) -> str:
        return f"<|im_start|>system\n{content}<|im_end|>\n"

    def format_user(self, content: str) -> str:
        return f"<|im_start|>user\n{content}<|im_end|>\n<|im_start|>assistant\n"

    def format_assistant(self, content: str) -> str:
        return f"{content}<|im_end|>\n"

    def format_function(self, content: str) -> str:
        return f"{qwen_function_text(content)}<|im_end|>\n"

    def format_observation(self, content: str) -> str:
        return f"<|im_start|>user\n<tool_response>\n{content}\n</tool_response><|im_end|>\n<|im_start|>assistant\n"

    def render(self, messages: Sequence[dict], system: str = "", tools: str = "") -> List[str]:
        """One string per message; the first carries the system/tools block.

        ``messages`` alternate {user, observation} / {assistant, function}
        (the ShareGPT converter's output); ``system`` falls back to the
        template's default system prompt.
        """
        system = system or self.default_system
        out: List[str] = []
        for i, message in enumerate(messages):
            text = ""
            if i == 0 and (system or tools):
                tool_text = qwen_tool_prompt(tools) if tools else ""
                text += self.format_system(system + tool_text)
            role, content = message["role"], message["content"]
            if not isinstance(content, str):
                content = "" if content is None else str(content)
            if role == ROLE_USER:
                text += self.format_user(content)
            elif role == ROLE_ASSISTANT:
                text += self.format_assistant(content)
            elif role == ROLE_OBSERVATION:
                text += self.format_observation(content)
            elif role == ROLE_FUNCTION:
                text += self.format_function(content)
            else:
                raise TrainerError(f"Unexpected role {role!r} while rendering")
            out.append(text)
        return out


TEMPLATES = {
    "qwen3_nothink": Template(name="qwen3_nothink", default_system=""),
    "qwen": Template(name="qwen", default_system=QWEN_DEFAULT_SYSTEM),
}


def get_template(name: str, default_system: str | None = None) -> Template:
    if name not in TEMPLATES:
        raise TrainerError(
            f"The embedded trainer does not implement the template {name!r}",
            f"Supported: {', '.join(sorted(TEMPLATES))} (Qwen Hermes tool-call layout). "
            "Use one of them with a Qwen-style tokenizer, or train with backend: llamafactory.",
        )
    template = TEMPLATES[name]
    if default_system is not None:
        template = Template(name=template.name, default_system=default_system)
    return template
