"""trainer_log.jsonl exactly as LLaMA-Factory's LogCallback writes it ."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta

from transformers import TrainerCallback

TRAINER_LOG = "trainer_log.jsonl"


class TrainerLogCallback(TrainerCallback):
    """One JSON line per log event on the main process; null-valued keys removed.

    Fields: current_steps, total_steps, loss, eval_loss, predict_loss, reward,
    accuracy, lr, epoch, percentage (two decimals), elapsed_time and
    remaining_time (H:MM:SS), throughput/total_tokens when tokens are counted.
    With overwrite_output_dir an existing log is deleted at train start;
    otherwise lines are appended (a resumed run repeats the steps after its
    checkpoint; readers keep the last line per step).
    """

    def __init__(self, overwrite_output_dir: bool):
        self.overwrite_output_dir = overwrite_output_dir
        self.start_time = time.time()
        self.start_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.start_time = time.time()
        self.start_step = state.global_step
        path = os.path.join(args.output_dir, TRAINER_LOG)
        if state.is_world_process_zero and self.overwrite_output_dir and os.path.exists(path):
            print("Previous trainer log in this folder will be deleted.", flush=True)
            os.remove(path)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero:
            return
        logs = logs or {}
        cur, total = state.global_step, state.max_steps
        elapsed = time.time() - self.start_time
        done = cur - self.start_step
        remaining = (total - cur) * (elapsed / done) if done > 0 else 0.0
        entry = {
            "current_steps": cur,
            "total_steps": total,
            "loss": logs.get("loss"),
            "eval_loss": logs.get("eval_loss"),
            "predict_loss": logs.get("predict_loss"),
            "reward": logs.get("rewards/accuracies"),
            "accuracy": logs.get("accuracy"),
            "lr": logs.get("learning_rate"),
            "epoch": logs.get("epoch"),
            "percentage": round(cur / total * 100, 2) if total != 0 else 100,
            "elapsed_time": str(timedelta(seconds=int(elapsed))),
            "remaining_time": str(timedelta(seconds=int(remaining))),
        }
        tokens = getattr(state, "num_input_tokens_seen", 0)
        if tokens:
            entry["throughput"] = round(tokens / elapsed, 2) if elapsed > 0 else None
            entry["total_tokens"] = tokens
        entry = {k: v for k, v in entry.items() if v is not None}
        os.makedirs(args.output_dir, exist_ok=True)
        with open(os.path.join(args.output_dir, TRAINER_LOG), "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
