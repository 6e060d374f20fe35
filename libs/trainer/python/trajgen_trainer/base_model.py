"""Generate a tiny base model directory: config.json + a byte-level BPE tokenizer, no weights, no downloads.

  python -m trajgen_trainer build-base-model --out pipelines/demo/base-model \\
      [--vocab-size 4096] [--hidden-size 64] [--layers 2] [--heads 4] [--kv-heads 2] \\
      [--corpus-lf FILE.json ...] [--corpus-text PATH ...]

The tokenizer is trained with the `tokenizers` package on the given corpus:
LF ShareGPT files are rendered through the qwen3_nothink template first (so
the template's layout compresses well), text paths are read as they are
(directories: their .ts/.py/.md/.json/.sh files). The template's special tokens
are single tokens. Weights are not stored: the trainer initialises them from
config.json with ``trajgen_init_seed`` on first use.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Iterator, List

from .errors import TrainerError
from .template import get_template

SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<tool_call>",
    "</tool_call>",
    "<tool_response>",
    "</tool_response>",
    "<think>",
    "</think>",
]
TEXT_EXTENSIONS = (".ts", ".py", ".md", ".json", ".sh", ".yaml", ".txt")


def _lf_texts(path: str) -> Iterator[str]:
    from .data import convert_sharegpt_row

    with open(path, "r", encoding="utf-8") as f:
        rows = json.load(f)
    template = get_template("qwen3_nothink")
    entry = {"columns": {"messages": "conversations", "tools": "tools", "system": "system"}}
    for i, row in enumerate(rows):
        ex, _ = convert_sharegpt_row(row, entry, f"{path}#{i}")
        if ex is not None:
            yield "".join(template.render(ex.prompt + ex.response, ex.system, ex.tools))


def _text_files(path: str) -> Iterator[str]:
    if os.path.isfile(path):
        yield path
        return
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in ("node_modules", ".git", "__pycache__", "artifacts"))
        for name in sorted(files):
            if name.endswith(TEXT_EXTENSIONS):
                yield os.path.join(root, name)


def _corpus(lf_files: List[str], text_paths: List[str]) -> Iterator[str]:
    for path in lf_files:
        yield from _lf_texts(path)
    for path in text_paths:
        for file in _text_files(path):
            try:
                with open(file, "r", encoding="utf-8") as f:
                    yield f.read()
            except UnicodeDecodeError:
                continue


def build(out: str, vocab_size: int, hidden: int, layers: int, heads: int, kv_heads: int, intermediate: int,
          max_positions: int, lf_files: List[str], text_paths: List[str], init_seed: int,
          initializer_range: float = 0.15) -> dict:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AutoConfig, PreTrainedTokenizerFast

    if not lf_files and not text_paths:
        raise TrainerError("no corpus given", "Pass --corpus-lf and/or --corpus-text.")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_corpus(lf_files, text_paths), trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        model_max_length=max_positions,
        clean_up_tokenization_spaces=False,
    )
    os.makedirs(out, exist_ok=True)
    fast.save_pretrained(out)
    # A class name every transformers version (4.x and 5.x) resolves, instead of 5.x's "TokenizersBackend".
    tc_path = os.path.join(out, "tokenizer_config.json")
    with open(tc_path, "r", encoding="utf-8") as f:
        tc = json.load(f)
    tc.pop("backend", None)
    tc["tokenizer_class"] = "PreTrainedTokenizerFast"
    with open(tc_path, "w", encoding="utf-8") as f:
        json.dump(tc, f, indent=2)
        f.write("\n")
    config = {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "vocab_size": len(fast),
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "max_position_embeddings": max_positions,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-06,
        "rope_theta": 10000.0,
        "initializer_range": initializer_range,
        "tie_word_embeddings": True,
        "use_cache": True,
        "bos_token_id": fast.convert_tokens_to_ids("<|endoftext|>"),
        "eos_token_id": fast.convert_tokens_to_ids("<|im_end|>"),
        "pad_token_id": fast.convert_tokens_to_ids("<|endoftext|>"),
        "torch_dtype": "float32",
        "trajgen_init_seed": init_seed,
    }
    with open(os.path.join(out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    AutoConfig.from_pretrained(out)  # fails loudly when transformers cannot read it
    return {"vocab": len(fast), "out": out}


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m trajgen_trainer build-base-model")
    p.add_argument("--out", required=True)
    p.add_argument("--vocab-size", type=int, default=4096)
    p.add_argument("--hidden-size", type=int, default=64)
    p.add_argument("--intermediate-size", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--max-positions", type=int, default=4096)
    p.add_argument("--init-seed", type=int, default=0)
    # Wider than the usual 0.02: LoRA leaves the (tied) embeddings and the final norm frozen, so a random
    # model's logits are bounded by |h|*|e|; with 0.02 LoRA cannot move the loss off ln(vocab).
    p.add_argument("--initializer-range", type=float, default=0.15)
    p.add_argument("--corpus-lf", nargs="*", default=[])
    p.add_argument("--corpus-text", nargs="*", default=[])
    a = p.parse_args(argv)
    info = build(a.out, a.vocab_size, a.hidden_size, a.layers, a.heads, a.kv_heads, a.intermediate_size,
                 a.max_positions, a.corpus_lf, a.corpus_text, a.init_seed, a.initializer_range)
    print(json.dumps(info))
    return 0


def init_weights_main(argv: List[str]) -> int:
    """``init-weights --from DIR --out DIR``: a copy of a config-only model dir with its initialised weights.

    The weights are the ones the embedded trainer initialises on first use (same seed, same code), saved
    as model.safetensors, so a trainer that only loads weights (LLaMA-Factory) can start from them.
    """
    import shutil

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    p = argparse.ArgumentParser(prog="python -m trajgen_trainer init-weights")
    p.add_argument("--from", dest="src", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    config = AutoConfig.from_pretrained(a.src)
    torch.manual_seed(int(getattr(config, "trajgen_init_seed", 0)))
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    os.makedirs(a.out, exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(a.src, name), os.path.join(a.out, name))
    model.save_pretrained(a.out, safe_serialization=True)
    params = sum(t.numel() for t in model.parameters())
    print(json.dumps({"out": a.out, "parameters": params}))
    return 0
