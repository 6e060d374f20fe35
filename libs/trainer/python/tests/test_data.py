import json
import os
import tempfile
import unittest

from trajgen_trainer.data import convert_sharegpt_row, load_examples
from trajgen_trainer.errors import TrainerError

ENTRY = {"file_name": "d.json", "formatting": "sharegpt", "columns": {"messages": "conversations", "system": "system", "tools": "tools"}}


def row(*roles, system_msg=False):
    conv = [{"from": "system", "value": "S"}] if system_msg else []
    conv += [{"from": r, "value": f"{r}-{i}" if r != "function_call" else json.dumps({"name": "f", "arguments": {}})} for i, r in enumerate(roles)]
    return {"conversations": conv, "system": "column system", "tools": ""}


class Converter(unittest.TestCase):
    """Rows LLaMA-Factory's ShareGPT converter keeps or drops, by role sequence."""

    def check(self, r, expected):
        ex, reason = convert_sharegpt_row(r, ENTRY, "t#0")
        self.assertEqual(reason, expected)
        return ex

    def test_kept(self):
        for roles in [("human", "gpt"), ("human", "function_call", "observation", "gpt"), ("human", "function_call"),
                      ("human", "function_call", "observation", "function_call", "observation", "gpt"), ("observation", "gpt")]:
            ex = self.check(row(*roles), None)
            self.assertEqual(len(ex.response), 1)
            self.assertEqual(len(ex.prompt) % 2, 1)
        ex = self.check(row("human", "gpt", system_msg=True), None)
        self.assertEqual(ex.system, "S")  # a leading system message wins over the column
        self.assertEqual(self.check(row("human", "gpt"), None).system, "column system")

    def test_dropped(self):
        self.check(row("gpt", "human", "gpt"), "invalid role tag")
        self.check(row("human", "gpt", "human"), "invalid message count")
        self.check(row("human", "gpt", "system", "human", "gpt"), "invalid role tag")
        self.check(row("human", "function_call", "observation", "observation", "gpt"), "invalid role tag")
        self.check({"conversations": [{"from": "user", "value": "x"}, {"from": "gpt", "value": "y"}]}, "invalid role tag")
        self.check({"conversations": []}, "empty conversation")

    def test_aborting_rows(self):
        with self.assertRaisesRegex(TrainerError, "lacks the 'from' or 'value' key"):
            convert_sharegpt_row({"conversations": [{"value": "x"}]}, ENTRY, "t#0")
        with self.assertRaisesRegex(TrainerError, "tools must be a JSON string"):
            convert_sharegpt_row({"conversations": [{"from": "human", "value": "x"}, {"from": "gpt", "value": "y"}], "tools": []}, ENTRY, "t#0")

    def test_role_content_tags(self):
        entry = {"formatting": "sharegpt", "columns": {"messages": "messages"},
                 "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant", "system_tag": "system", "observation_tag": "tool"}}
        ex, reason = convert_sharegpt_row({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]}, entry, "t#0")
        self.assertIsNone(reason)
        self.assertEqual((ex.system, ex.prompt[0]["role"], ex.response[0]["role"]), ("s", "user", "assistant"))


class Loading(unittest.TestCase):
    def test_registry_num_samples_max_samples_and_errors(self):
        with tempfile.TemporaryDirectory() as d:
            rows = [row("human", "gpt") for _ in range(5)] + [row("gpt", "gpt")]
            with open(os.path.join(d, "d.json"), "w") as f:
                json.dump(rows, f)
            with open(os.path.join(d, "dataset_info.json"), "w") as f:
                json.dump({"d": ENTRY, "hub": {"hf_hub_url": "org/x"}, "sub": {**ENTRY, "num_samples": 3}}, f)
            examples, report = load_examples(d, ["d"], seed=1)
            self.assertEqual((report.rows, report.kept, dict(report.dropped)), (6, 5, {"invalid role tag": 1}))
            self.assertEqual(len(load_examples(d, ["d"], seed=1, max_samples=2)[0]), 2)
            self.assertEqual(load_examples(d, ["sub"], seed=1)[1].rows, 3)
            self.assertEqual(load_examples(d, ["sub"], seed=1)[1].as_dict(), load_examples(d, ["sub"], seed=1)[1].as_dict())  # seeded
            with self.assertRaisesRegex(TrainerError, "Undefined dataset nope"):
                load_examples(d, ["nope"], seed=1)
            with self.assertRaisesRegex(TrainerError, "reads local files only"):
                load_examples(d, ["hub"], seed=1)


if __name__ == "__main__":
    unittest.main()
