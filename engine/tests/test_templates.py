"""Each template's ideal answer earns the maximum from the matching preset, through the real reward host."""
import json

import pytest

from rollout_engine import demo_data, templates
from rollout_engine.data import Sample
from rollout_engine.reward_client import RewardHost, RewardSource

SAMPLES = [Sample(id=r["id"], tools=r["tools"], messages=r["messages"], ground_truth=r["ground_truth"])
           for r in demo_data.generate(seed=11, train=150)["train"]]
MAXIMUM = {"tool-n1": 1.0, "toolrl": 4.0, "tool-zero": None, "documentation": 1.0}
PRESET = {"documentation": "tool-n1"}  # the documentation layout's answers are Tool-N1's: think, then a JSON list


@pytest.mark.parametrize("template", templates.TEMPLATES)
def test_ideal_answers_earn_the_maximum_of_the_matching_reward(template):
    batch = [{"id": s.id, "completion": templates.ideal_completion(s, template), "ground_truth": templates.reward_ground_truth(s, template),
              "tools": s.tools} for s in SAMPLES]
    with RewardHost(RewardSource(preset=PRESET.get(template, template))) as host:
        scores = host.score(batch, step=1000, progress=1.0, epoch=1.0)
    for sample, score in zip(SAMPLES, scores):
        assert score["failure"] is None and score["parseFailure"] is None, (sample.id, score)
        if template == "tool-zero":
            # Late in training σ ≈ 1: format 1 + strict (1, or 1.3 for several calls).
            expected = 1 + (1.3 if len(sample.ground_truth) > 1 else 1.0)
            assert score["total"] == pytest.approx(expected, abs=1e-6), (sample.id, score["components"])
        elif template == "toolrl" and not sample.ground_truth:
            assert score["total"] == 1.0  # ToolRL gives no correctness signal for response-only items: format alone
        else:
            assert score["total"] == MAXIMUM[template], (sample.id, score["components"])


def test_prompts_carry_the_tools_and_the_request():
    sample = SAMPLES[0]
    for template in templates.TEMPLATES:
        text = templates.render_plain(templates.messages(sample, template), template)
        if template == "tool-zero":  # plain text for base models: labels, no chat role tags
            assert text.startswith(templates.ZERO_INSTRUCTION + "\nFunctions you can call:\n" + json.dumps(sample.tools[0]) + "\n")
            assert text.endswith(f"\nTask: {sample.messages[-1]['content']}\n") and "<|" not in text
            assert templates.signature(sample.tools[0]) not in text  # the tools as JSON schemas, not the corpus's signature lines
            assert "\nTools:\n" not in text and "\nRequest: " not in text  # not the base corpus's documentation layout
        elif template == "documentation":  # exactly what the base corpus's worked examples read
            tools = "\n".join(templates.signature(t) for t in sample.tools)
            assert text == demo_data.DOC_LAYOUT.format(tools=tools, request=sample.messages[-1]["content"])
        else:
            assert text.startswith("<|system|>") and text.endswith("<|assistant|>")
        assert sample.messages[-1]["content"] in text
        assert all(t["name"] in text for t in sample.tools)
    assert json.dumps({"type": "function", "function": sample.tools[0]}) in templates.messages(sample, "tool-n1")[0]["content"]
    assert "1. Name: " + sample.tools[0]["name"] in templates.messages(sample, "toolrl")[0]["content"]
