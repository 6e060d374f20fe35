"""Entry point: python -m trajgen_trainer <command> ...

  train <config.yaml>            train from a LLaMA-Factory training YAML
  render <config.yaml> [N]       print the first N rendered examples as JSON (no torch needed)
  build-base-model ...           (re)generate a tiny base model dir: see base_model.py
  init-weights --from D --out D  save the weights the trainer initialises for a config-only dir
"""

from __future__ import annotations

import json
import sys

from .errors import TrainerError


def render(argv) -> int:
    import yaml

    from .args import parse_run_args
    from .data import load_examples
    from .template import get_template

    with open(argv[0], "r", encoding="utf-8") as f:
        raw = yaml.safe_load(f)
    args = parse_run_args(raw, set())
    limit = int(argv[1]) if len(argv) > 1 else 3
    template = get_template(args.template, args.default_system)
    examples, report = load_examples(args.dataset_dir, args.dataset, args.seed, args.max_samples)
    for ex in examples[:limit]:
        print(json.dumps({"source": ex.source, "messages": template.render(ex.prompt + ex.response, ex.system, ex.tools)}, ensure_ascii=False))
    print(json.dumps({"report": report.as_dict()}))
    return 0


def main() -> int:
    argv = sys.argv[1:]
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    try:
        if command == "train":
            from .train import main as train_main

            return train_main(rest)
        if command == "render":
            return render(rest)
        if command == "build-base-model":
            from .base_model import main as build_main

            return build_main(rest)
        if command == "init-weights":
            from .base_model import init_weights_main

            return init_weights_main(rest)
        print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
        return 2
    except TrainerError as exc:
        print(exc.format(), file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
