"""Prompt templates of the three papers, and the ground truth in the form each paper's reward reads.

- tool-n1: a system prompt with a `<tools>` block (one {"type": "function", "function": …} per line) and
  the instruction to reason in <think> and put a JSON list of {"name", "arguments"} in <tool_call>.
- toolrl: ToolRL's system prompt (numbered tools with Name/Description/Parameters, think → tool_call
  with one {"name", "parameters"} per line → response) and its tagged target string.
- tool-zero: a plain prompt for base models: the instruction, the tools as JSON schemas (one per line,
  as Tool-N1 lists them, without the chat roles), and the task (the paper's exact template is not
  recovered). Its shape is deliberately not the base corpus's documentation layout ("Tools:" with
  one-line signatures … "Request:"), so that answering in it is what RL elicits from a base that has
  read function-calling docs: the shipped base answers it at under 10 % held-out exact at step 0, and
  finds its format in a few GRPO steps (docs/learning.md). With signature lines instead, the base
  already answered it nearly as well as its own layout, and RL had little to elicit.
- documentation: the tiny base corpus's own layout (`Tools:` with the signatures, `Request: …`), where
  the shipped base already answers: GRPO from a capable start (a control for measuring the update, not
  a paper's template).

Messages are backend-neutral; `render_plain` writes them for the tiny policy, and the hf backend uses
the model's own chat template.
"""
from __future__ import annotations

import json
from typing import Any, Literal

from .data import Sample

Template = Literal["tool-n1", "toolrl", "tool-zero", "documentation"]
TEMPLATES: tuple[Template, ...] = ("tool-n1", "toolrl", "tool-zero", "documentation")

N1_INSTRUCTION = (
    "In each action step, first reason inside <think> </think>, then give the tool calls as a JSON list "
    '[{"name": ..., "arguments": {...}}] inside <tool_call> </tool_call>. If no tool fits, answer '
    "<tool_call>[]</tool_call>. Make sure the type of each argument is correct."
)
TOOLRL_INSTRUCTION = (
    "Output format: <think> your reasoning </think>, then <tool_call> with one JSON object "
    '{"name": ..., "parameters": {...}} per line </tool_call>, and/or <response> your answer </response>. '
    "Always think first; use tool calls, a response, or both."
)
ZERO_INSTRUCTION = "Answer with your reasoning in <think> </think>, then the calls as a JSON list in <tool_call> </tool_call>."


def _n1_tools(tools: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps({"type": "function", "function": t}) for t in tools)


def _arguments(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    return ", ".join(f"{k}{'' if k in required else '?'}: {_type_text(v)}" for k, v in schema.get("properties", {}).items())


def _type_text(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "|".join(json.dumps(v) for v in schema["enum"])
    if schema.get("type") == "object" and "properties" in schema:
        return "{" + _arguments(schema) + "}"
    return str(schema.get("type", "any"))


def signature(tool: dict[str, Any]) -> str:
    """A tool as one compact line: name(arg: type, optional?: type) - description."""
    return f"{tool['name']}({_arguments(tool.get('parameters', {}))}) - {tool.get('description', '')}"


def _toolrl_tools(tools: list[dict[str, Any]]) -> str:
    lines = []
    for i, t in enumerate(tools, start=1):
        params = t.get("parameters", {}).get("properties", {})
        lines.append(f"{i}. Name: {t['name']}\nDescription: {t.get('description', '')}\nParameters: {json.dumps(params)}")
    return "\n".join(lines)


def messages(sample: Sample, template: Template) -> list[dict[str, str]]:
    """The conversation the policy answers: a system message with the tools, then the sample's history."""
    history = [m for m in sample.messages if m["role"] != "system"]
    if template == "tool-n1":
        system = f"You are an expert in composing functions.\n# Tool\n<tools>\n{_n1_tools(sample.tools)}\n</tools>\n{N1_INSTRUCTION}"
    elif template == "toolrl":
        system = f"You are a helpful multi-turn dialogue assistant capable of leveraging tool calls.\n**Available Tools**\n{_toolrl_tools(sample.tools)}\n{TOOLRL_INSTRUCTION}"
    elif template == "tool-zero":
        # The paper's template is not recovered; for small base models: the instruction, then the tools
        # as JSON schemas (not the corpus's signature lines).
        system = f"{ZERO_INSTRUCTION}\nFunctions you can call:\n" + "\n".join(json.dumps(t) for t in sample.tools)
    elif template == "documentation":
        system = "Tools:\n" + "\n".join(signature(t) for t in sample.tools)
    else:
        raise ValueError(f"unknown template {template!r}; templates: {', '.join(TEMPLATES)}")
    return [{"role": "system", "content": system}, *history]


ROLE_TAGS = {"system": "<|system|>", "user": "<|user|>", "assistant": "<|assistant|>", "tool": "<|tool|>"}


# Tool Zero trains base models, which know text, not chat roles: its prompt is plain text with labels.
PLAIN_LABELS = {"system": "", "user": "Task: ", "assistant": "Answer: ", "tool": "Result: "}
DOCUMENTATION_LABELS = {"system": "", "user": "Request: ", "assistant": "Answer: ", "tool": "Result: "}
# The templates written as labelled plain text (for base models), not through a chat template.
PLAIN_TEMPLATES = {"tool-zero": PLAIN_LABELS, "documentation": DOCUMENTATION_LABELS}


def render_plain(conversation: list[dict[str, str]], template: Template | None = None) -> str:
    """The conversation as the tiny policy reads it, ending where the assistant's answer begins: with
    role tags for the chat templates (tool-n1, toolrl), as labelled plain text for tool-zero."""
    if template in PLAIN_TEMPLATES:
        labels = PLAIN_TEMPLATES[template]
        return "".join(f"{labels[m['role']]}{m['content']}\n" for m in conversation)
    return "".join(f"{ROLE_TAGS[m['role']]}{m['content']}\n" for m in conversation) + ROLE_TAGS["assistant"]


def reward_ground_truth(sample: Sample, template: Template) -> str:
    """The ground truth as the template's reward reads it: ToolRL's target string, else the JSON list."""
    if template == "toolrl":
        if not sample.ground_truth:
            return "<think>placeholder</think>\n<response>No tool fits this request.</response>"
        lines = "\n".join(json.dumps({"name": c["name"], "parameters": c["arguments"]}) for c in sample.ground_truth)
        return f"<think>placeholder</think>\n<tool_call>\n{lines}\n</tool_call>"
    return json.dumps(sample.ground_truth)


def ideal_completion(sample: Sample, template: Template, thought: str = "I pick the tool that fits the request.") -> str:
    """A completion in the template's format that makes exactly the ground-truth calls."""
    think = f"<think>{thought}</think>"
    if template == "toolrl":
        if not sample.ground_truth:
            return f"{think}\n<response>No tool fits this request.</response>"
        lines = "\n".join(json.dumps({"name": c["name"], "parameters": c["arguments"]}) for c in sample.ground_truth)
        return f"{think}\n<tool_call>\n{lines}\n</tool_call>"
    return f"{think}\n<tool_call>\n{json.dumps(sample.ground_truth)}\n</tool_call>"
