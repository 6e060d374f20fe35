import json
import unittest

from trajgen_trainer.errors import TrainerError
from trajgen_trainer.template import get_template, qwen_function_text, qwen_tool_prompt

TOOLS = [{"name": "test_tool", "description": "tool_desc", "parameters": {"type": "object", "properties": {"foo": {"type": "string"}}, "required": ["foo"]}}]
CALL = {"name": "tool_name", "arguments": {"foo": "bar", "size": 10}}


class QwenToolFormat(unittest.TestCase):
    """The Hermes strings LLaMA-Factory's qwen tool format produces (tests/data/test_formatter.py upstream)."""

    def test_tool_prompt(self):
        wrapped = {"type": "function", "function": TOOLS[0]}
        self.assertEqual(
            qwen_tool_prompt(json.dumps(TOOLS)),
            "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
            f"\n{json.dumps(wrapped, ensure_ascii=False)}"
            "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
            '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>',
        )
        # An OpenAI-style wrapper is kept as it is; "[]" renders nothing.
        self.assertIn(json.dumps({"type": "function", "function": TOOLS[0]}), qwen_tool_prompt(json.dumps([{"type": "function", "function": TOOLS[0]}])))
        self.assertEqual(qwen_tool_prompt("[]"), "")

    def test_function_calls(self):
        self.assertEqual(qwen_function_text(json.dumps(CALL)), '<tool_call>\n{"name": "tool_name", "arguments": {"foo": "bar", "size": 10}}\n</tool_call>')
        self.assertEqual(
            qwen_function_text(json.dumps([CALL, CALL])),
            '<tool_call>\n{"name": "tool_name", "arguments": {"foo": "bar", "size": 10}}\n</tool_call>\n'
            '<tool_call>\n{"name": "tool_name", "arguments": {"foo": "bar", "size": 10}}\n</tool_call>',
        )
        # Text before a call rides in the same turn (LLaMA-Factory's function_call value); a leading thought is kept.
        self.assertEqual(
            qwen_function_text('Let me check.\n<tool_call>' + json.dumps(CALL) + '</tool_call>'),
            'Let me check.\n<tool_call>\n{"name": "tool_name", "arguments": {"foo": "bar", "size": 10}}\n</tool_call>',
        )
        self.assertTrue(qwen_function_text("<think>plan</think>\n" + json.dumps(CALL)).startswith("<think>plan</think>\n<tool_call>\n"))

    def test_bad_json_is_a_clear_error(self):
        with self.assertRaisesRegex(TrainerError, "Invalid JSON format in function message"):
            qwen_function_text('{"name": "x", ')
        with self.assertRaisesRegex(TrainerError, "lacks name or arguments"):
            qwen_function_text('{"name": "x"}')
        with self.assertRaisesRegex(TrainerError, "Invalid JSON format in tool description"):
            qwen_tool_prompt(" ")


class QwenTemplates(unittest.TestCase):
    MESSAGES = [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "function", "content": json.dumps({"name": "calc", "arguments": {"expr": "2+2"}})},
        {"role": "observation", "content": "4"},
        {"role": "assistant", "content": "It is 4."},
    ]

    def test_qwen3_nothink_layout(self):
        out = get_template("qwen3_nothink").render(self.MESSAGES, "You are an agent.", json.dumps(TOOLS))
        self.assertEqual(len(out), 4)
        self.assertTrue(out[0].startswith("<|im_start|>system\nYou are an agent.\n\n# Tools\n"))
        self.assertTrue(out[0].endswith("</tool_call><|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"))
        self.assertEqual(out[1], '<tool_call>\n{"name": "calc", "arguments": {"expr": "2+2"}}\n</tool_call><|im_end|>\n')
        self.assertEqual(out[2], "<|im_start|>user\n<tool_response>\n4\n</tool_response><|im_end|>\n<|im_start|>assistant\n")
        self.assertEqual(out[3], "It is 4.<|im_end|>\n")

    def test_system_block_rules(self):
        t = get_template("qwen3_nothink")
        plain = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
        self.assertEqual(t.render(plain), ["<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", "yo<|im_end|>\n"])
        # tools "[]" is truthy: an empty system block (a known LLaMA-Factory trap with the `tools` column)
        self.assertEqual(t.render(plain, "", "[]")[0], "<|im_start|>system\n<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
        # qwen's default system prompt; default_system overrides it
        self.assertTrue(get_template("qwen").render(plain)[0].startswith("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"))
        self.assertTrue(get_template("qwen", "Be terse.").render(plain)[0].startswith("<|im_start|>system\nBe terse.<|im_end|>\n"))

    def test_unsupported_template_fails_clearly(self):
        with self.assertRaisesRegex(TrainerError, "does not implement the template 'llama3'"):
            get_template("llama3")


if __name__ == "__main__":
    unittest.main()
