"""Loading registered datasets the way LLaMA-Factory does (dataset_info.json and its ShareGPT converter).

Reads ``dataset_info.json`` from ``dataset_dir``, loads each named entry's
local ``.json``/``.jsonl`` file (array or JSON Lines), applies ``num_samples``
then ``max_samples``, and converts ShareGPT rows (default from/value tags or
role/content tags) into (prompt, response, system, tools) examples with the
converter's validation rules: invalid rows are dropped and counted, like
LLaMA-Factory's "Invalid role tag" / "Invalid message count" warnings.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .errors import TrainerError
from .template import ROLE_ASSISTANT, ROLE_FUNCTION, ROLE_OBSERVATION, ROLE_USER

DATA_CONFIG = "dataset_info.json"
HUB_KEYS = ("hf_hub_url", "ms_hub_url", "om_hub_url", "script_url", "cloud_file_name")
DEFAULT_TAGS = {
    "role_tag": "from",
    "content_tag": "value",
    "user_tag": "human",
    "assistant_tag": "gpt",
    "observation_tag": "observation",
    "function_tag": "function_call",
    "system_tag": "system",
}


@dataclass
class Example:
    prompt: List[dict]
    response: List[dict]
    system: str
    tools: str
    source: str  # "<dataset>#<row>"


@dataclass
class LoadReport:
    rows: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"rows": self.rows, "kept": self.kept, "dropped": dict(self.dropped)}


def read_dataset_info(dataset_dir: str) -> Dict[str, dict]:
    path = os.path.join(dataset_dir, DATA_CONFIG)
    try:
        with open(path, "r", encoding="utf-8") as f:
            info = json.load(f)
    except FileNotFoundError:
        raise TrainerError(f"Cannot open {path}", "dataset_dir must hold the dataset_info.json the register stage wrote.")
    except json.JSONDecodeError as exc:
        raise TrainerError(f"{path} is not valid JSON: {exc}")
    if not isinstance(info, dict):
        raise TrainerError(f"{path} is not a JSON object of dataset entries")
    return info


def _read_rows(path: str) -> List[dict]:
    with open(path, "r", encoding="utf-8") as f:
        text = f.read()
    stripped = text.lstrip("\ufeff").strip()
    if not stripped:
        return []
    if stripped.startswith("["):
        try:
            rows = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise TrainerError(f"{path} is not valid JSON: {exc}")
    else:
        rows = []
        for n, line in enumerate(stripped.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise TrainerError(f"{path} line {n} is not valid JSON: {exc}")
    if not all(isinstance(r, dict) for r in rows):
        raise TrainerError(f"{path}: every row must be a JSON object")
    return rows


def _entry_files(dataset_dir: str, name: str, entry: dict) -> List[str]:
    path = os.path.join(dataset_dir, entry["file_name"])
    if os.path.isdir(path):
        files = sorted(os.path.join(path, n) for n in os.listdir(path) if not n.startswith("."))
    elif os.path.isfile(path):
        files = [path]
    else:
        raise TrainerError(f"File {path} not found.", f"dataset_info.json entry {name!r} names it; run the register stage again.")
    for file in files:
        if os.path.splitext(file)[1].lower() not in (".json", ".jsonl"):
            raise TrainerError(f"{file}: the embedded trainer reads .json and .jsonl files only")
    return files


def convert_sharegpt_row(row: dict, entry: dict, where: str) -> tuple[Optional[Example], Optional[str]]:
    """One row to an Example, or (None, reason) when LLaMA-Factory would drop it."""
    columns = {"messages": "conversations", **(entry.get("columns") or {})}
    tags = {**DEFAULT_TAGS, **(entry.get("tags") or {})}
    r_tag, c_tag = tags["role_tag"], tags["content_tag"]
    messages = row.get(columns["messages"])
    if not isinstance(messages, list):
        raise TrainerError(f"{where}: column {columns['messages']!r} is not a list of messages",
                           "LLaMA-Factory aborts on such a row; check the dataset_info.json columns.")
    for m in messages:
        if not isinstance(m, dict) or r_tag not in m or c_tag not in m:
            raise TrainerError(f"{where}: a message lacks the {r_tag!r} or {c_tag!r} key",
                               "LLaMA-Factory aborts with a KeyError; check the entry's tags.")
    system = ""
    if tags.get("system_tag") and messages and messages[0][r_tag] == tags["system_tag"]:
        system = messages[0][c_tag] or ""
        messages = messages[1:]
    elif columns.get("system"):
        system = row.get(columns["system"]) or ""
    odd = {tags["user_tag"]: ROLE_USER, tags["observation_tag"]: ROLE_OBSERVATION}
    even = {tags["assistant_tag"]: ROLE_ASSISTANT, tags["function_tag"]: ROLE_FUNCTION}
    aligned = []
    for i, m in enumerate(messages):
        allowed = odd if i % 2 == 0 else even
        if m[r_tag] not in allowed:
            return None, "invalid role tag"
        aligned.append({"role": allowed[m[r_tag]], "content": m[c_tag]})
    if len(aligned) % 2 != 0:
        return None, "invalid message count"
    if not aligned:
        return None, "empty conversation"
    tools = row.get(columns["tools"]) if columns.get("tools") else ""
    if tools is None:
        tools = ""
    if not isinstance(tools, str):
        raise TrainerError(f"{where}: tools must be a JSON string, found {type(tools).__name__}",
                           "LLaMA-Factory fails with 'the JSON object must be str'.")
    if not isinstance(system, str):
        system = str(system)
    return Example(prompt=aligned[:-1], response=aligned[-1:], system=system, tools=tools, source=where), None


def load_examples(dataset_dir: str, names: List[str], seed: int, max_samples: Optional[int] = None) -> tuple[List[Example], LoadReport]:
    info = read_dataset_info(dataset_dir)
    report = LoadReport()
    examples: List[Example] = []
    for name in names:
        if name not in info:
            raise TrainerError(f"Undefined dataset {name} in {DATA_CONFIG}.", f"Entries: {', '.join(sorted(info)) or '(none)'}")
        entry = info[name]
        hub = [k for k in HUB_KEYS if entry.get(k)]
        if hub:
            raise TrainerError(f"Dataset {name!r} comes from {hub[0]} {entry[hub[0]]!r}: the embedded trainer reads local files only",
                               "Use backend: llamafactory for hub datasets, or register a local copy (dataset.source: local_lf).")
        if "file_name" not in entry:
            raise TrainerError(f"Dataset {name!r} has no file_name in {DATA_CONFIG}")
        if entry.get("ranking"):
            raise TrainerError(f"Dataset {name!r} is ranking (preference) data: not applicable to SFT")
        formatting = entry.get("formatting", "alpaca")
        if formatting != "sharegpt":
            raise TrainerError(f"Dataset {name!r} has formatting {formatting!r}: the embedded trainer reads sharegpt data only")
        rows: List[dict] = []
        for file in _entry_files(dataset_dir, name, entry):
            rows.extend(_read_rows(file))
        indexes = list(range(len(rows)))
        num_samples = entry.get("num_samples")
        if num_samples:
            rng = random.Random(seed)
            picked = indexes[:]
            rng.shuffle(picked)
            picked = picked[:num_samples]
            if num_samples > len(rows) and rows:
                picked += [rng.randrange(len(rows)) for _ in range(num_samples - len(rows))]
            indexes = picked
        if max_samples is not None:
            indexes = indexes[: max_samples]
        for i in indexes:
            report.rows += 1
            example, reason = convert_sharegpt_row(rows[i], entry, f"{name}#{i}")
            if example is None:
                report.dropped[reason] += 1
            else:
                examples.append(example)
    report.kept = len(examples)
    if not examples:
        raise TrainerError("Cannot find valid samples, check data/README.md for the data format.",
                           f"{report.rows} rows read, dropped: {dict(report.dropped)}")
    return examples, report
