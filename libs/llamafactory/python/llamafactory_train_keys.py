"""Print the keys LLaMA-Factory's `train` parser accepts, as JSON {key: dataclass name}.

Run with the Python of an environment where LLaMA-Factory is installed (trajgen's
managed env: artifacts/env/llamafactory). The train parser is an HfArgumentParser
over the dataclasses in llamafactory.hparams.parser._TRAIN_ARGS (model, data,
training — transformers' Seq2SeqTrainingArguments plus LLaMA-Factory's own —
finetuning, generating); every init field of each is a YAML key it accepts.
libs/config/src/llamafactory-keys.ts is checked against this output by a test.
"""

import dataclasses
import json
import sys

from llamafactory.hparams import parser

keys = {}
for cls in parser._TRAIN_ARGS:
    for field in dataclasses.fields(cls):
        if field.init and not field.name.startswith("_"):
            keys.setdefault(field.name, cls.__name__)
try:
    from importlib.metadata import version

    versions = {name: version(name) for name in ("llamafactory", "transformers")}
except Exception:  # noqa: BLE001 - versions are informative only
    versions = {}
json.dump({"versions": versions, "keys": keys}, sys.stdout, sort_keys=True)
sys.stdout.write("\n")
