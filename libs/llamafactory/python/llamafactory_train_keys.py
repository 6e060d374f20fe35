"""The keys LLaMA-Factory's `train` parser accepts, read from the installed LLaMA-Factory.

  python llamafactory_train_keys.py          JSON: {"versions": {...}, "keys": {key: group}}
  python llamafactory_train_keys.py --ts     the TypeScript module libs/config/src/llamafactory-keys.ts

Run with the Python of an environment where LLaMA-Factory is installed (trajgen's managed env:
artifacts/env/llamafactory). The train parser is an HfArgumentParser over the dataclasses in
llamafactory.hparams.parser._TRAIN_ARGS; every init field of each is a YAML key it accepts (it
raises on any other). Groups: model, data, finetuning, generating; training = LLaMA-Factory's own
fields of its TrainingArguments, hf_training = those it inherits from transformers'
Seq2SeqTrainingArguments. A test (libs/llamafactory/src/train-keys.spec.ts) compares the committed
module with this output, so a LLaMA-Factory or transformers upgrade that adds or drops keys fails it.
"""

import dataclasses
import json
import sys
from importlib.metadata import version

from llamafactory.hparams import parser
from transformers import Seq2SeqTrainingArguments

GROUPS = {
    "ModelArguments": "model",
    "DataArguments": "data",
    "FinetuningArguments": "finetuning",
    "GeneratingArguments": "generating",
    "TrainingArguments": "training",
}


def train_keys() -> dict:
    inherited = {f.name for f in dataclasses.fields(Seq2SeqTrainingArguments)}
    keys = {}
    for cls in parser._TRAIN_ARGS:
        group = GROUPS.get(cls.__name__, cls.__name__)
        for field in dataclasses.fields(cls):
            if not field.init or field.name.startswith("_") or field.name in keys:
                continue
            keys[field.name] = "hf_training" if group == "training" and field.name in inherited else group
    return keys


def typescript(keys: dict, versions: dict) -> str:
    groups = ["model", "data", "finetuning", "generating", "training", "hf_training"]
    lines = [
        "// GENERATED from the installed LLaMA-Factory by libs/llamafactory/python/llamafactory_train_keys.py --ts",
        f"// (llamafactory {versions['llamafactory']}, transformers {versions['transformers']}): do not edit by hand.",
        "// The YAML keys LLaMA-Factory's `train` parser accepts (the init fields of the dataclasses in",
        "// llamafactory.hparams.parser._TRAIN_ARGS); config.yaml's `training:` keys are checked against them.",
        "// libs/llamafactory/src/train-keys.spec.ts fails when the managed env's LLaMA-Factory disagrees. Regenerate:",
        "//   artifacts/env/llamafactory/bin/python libs/llamafactory/python/llamafactory_train_keys.py --ts \\",
        "//     > libs/config/src/llamafactory-keys.ts",
        "",
        f"/** Keys accepted by LLaMA-Factory {versions['llamafactory']}'s train parser, by group. */",
        f"export const LLAMAFACTORY_KEYS: Record<string, {' | '.join(repr(g) for g in groups)}> = {{",
    ]
    for group in groups:
        names = sorted(k for k, g in keys.items() if g == group)
        lines.append(f"  // --- {group} ({len(names)}) ---")
        lines.extend(f"  {name}: '{group}'," for name in names)
    lines.append("};")
    return "\n".join(lines) + "\n"


def main() -> int:
    versions = {name: version(name) for name in ("llamafactory", "transformers")}
    keys = train_keys()
    if "--ts" in sys.argv[1:]:
        sys.stdout.write(typescript(keys, versions))
    else:
        json.dump({"versions": versions, "keys": keys}, sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
