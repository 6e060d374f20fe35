"""Supervised encoding with LLaMA-Factory's cutoff rules (its `cutoff_len` handling).

The conversation is encoded as (prompt, target) pairs, one per assistant or
function turn, appended in order until ``cutoff_len`` is used up; later pairs
are discarded; the pair that crosses the budget is truncated, its target
kept and its source cut first. Prompt tokens get label -100; only assistant
and function_call tokens are trained (unless ``train_on_prompt``). With
``mask_history`` pairs are taken from the last turn backwards and only the
last turn is trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Protocol, Sequence, Tuple

from .template import Template

IGNORE_INDEX = -100


class Tokenizer(Protocol):
    def encode(self, text: str, add_special_tokens: bool = ...) -> List[int]: ...


def infer_seqlen(source_len: int, target_len: int, cutoff_len: int) -> Tuple[int, int]:
    """How much of a (source, target) pair fits into ``cutoff_len`` tokens."""
    if target_len * 2 < cutoff_len:
        max_target = cutoff_len  # the target is short: keep it whole, cut the source
    elif source_len * 2 < cutoff_len:
        max_target = cutoff_len - source_len  # the source is short: keep it whole, cut the target
    else:
        max_target = int(cutoff_len * (target_len / (source_len + target_len)))  # cut both proportionally
    new_target = min(max_target, target_len)
    new_source = min(max(cutoff_len - new_target, 0), source_len)
    return new_source, new_target


@dataclass
class Encoded:
    input_ids: List[int]
    labels: List[int]
    pairs_total: int
    pairs_used: int
    truncated: bool


def encode_example(
    tokenizer: Tokenizer,
    template: Template,
    prompt: Sequence[dict],
    response: Sequence[dict],
    system: str,
    tools: str,
    cutoff_len: int,
    train_on_prompt: bool = False,
    mask_history: bool = False,
) -> Encoded:
    texts = template.render(list(prompt) + list(response), system, tools)
    encoded = [tokenizer.encode(t, add_special_tokens=False) for t in texts]
    pairs = [(encoded[i], encoded[i + 1]) for i in range(0, len(encoded) - 1, 2)]
    if mask_history:
        pairs = pairs[::-1]
    input_ids: List[int] = []
    labels: List[int] = []
    total = 0
    used = 0
    truncated = False
    for turn, (source, target) in enumerate(pairs):
        if total >= cutoff_len:
            truncated = True
            break
        s_len, t_len = infer_seqlen(len(source), len(target), cutoff_len - total)
        if s_len < len(source) or t_len < len(target):
            truncated = True
        source, target = source[:s_len], target[:t_len]
        total += s_len + t_len
        used += 1
        source_labels = list(source) if train_on_prompt else [IGNORE_INDEX] * s_len
        target_labels = [IGNORE_INDEX] * t_len if (mask_history and turn != 0) else list(target)
        if mask_history:
            input_ids = list(source) + list(target) + input_ids
            labels = source_labels + target_labels + labels
        else:
            input_ids += list(source) + list(target)
            labels += source_labels + target_labels
    return Encoded(input_ids=input_ids, labels=labels, pairs_total=len(pairs), pairs_used=used, truncated=truncated)
