"""The demo dataset: valid, varied, and with tools and values held out of training."""
import json
import random
import re

import pytest

from rollout_engine import demo_data, templates
from rollout_engine.data import read_dataset


def test_splits_are_valid_canonical_datasets(tmp_path):
    splits = demo_data.generate(seed=3, train=600)
    for name, rows in splits.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        assert len(read_dataset(path)) == len(rows) > 100


def test_every_argument_can_be_read_from_the_request():
    for row in demo_data.generate(seed=4, train=800)["train"]:
        text = row["messages"][0]["content"]
        for call in row["ground_truth"]:
            for name, value in call["arguments"].items():
                for v in (value.values() if isinstance(value, dict) else [value]):
                    if isinstance(v, bool):
                        continue  # flags are phrases ("on shuffle"), not values
                    assert str(v) in text, (row["id"], name, v, text)


def test_held_out_tools_and_values_never_appear_in_training():
    splits = demo_data.generate(seed=5, train=1500)
    train_tools = {c["name"] for r in splits["train"] for c in r["ground_truth"]} | {t["name"] for r in splits["train"] for t in r["tools"]}
    assert not train_tools & demo_data.HELD_OUT_TOOLS
    assert {c["name"] for r in splits["eval-unseen-tools"] for c in r["ground_truth"]} <= demo_data.HELD_OUT_TOOLS
    held_values = {v for pool in demo_data.POOLS.values() for v in pool[-demo_data.HELD_OUT:]}
    train_text = " ".join(r["messages"][0]["content"] for r in splits["train"])
    assert not any(v in train_text for v in held_values if isinstance(v, str) and len(v) > 3)
    unseen_text = " ".join(r["messages"][0]["content"] for r in splits["eval-unseen-values"])
    assert any(v in unseen_text for v in held_values)


def test_the_mix_has_single_multiple_and_no_calls_and_every_argument_kind():
    train = demo_data.generate(seed=6, train=2000)["train"]
    counts = [len(r["ground_truth"]) for r in train]
    assert {0, 1, 2} <= set(counts) and 0.05 < counts.count(0) / len(counts) < 0.15 and counts.count(2) / len(counts) > 0.1
    values = [v for r in train for c in r["ground_truth"] for v in c["arguments"].values()]
    kinds = {type(v).__name__ for v in values}
    assert {"str", "int", "float", "bool", "dict"} <= kinds
    optional_seen = {name for r in train for c in r["ground_truth"] for name in c["arguments"]}
    assert {"days", "priority", "shuffle", "channel", "mode", "direct"} <= optional_seen


def test_the_base_corpus_never_pairs_a_request_with_its_answer_in_a_prompt_template():
    corpus = demo_data.base_corpus(seed=7, size=2000)
    assert any(d.startswith("<tool_call>") for d in corpus) and any(d.startswith('{"name"') for d in corpus)
    examples = [d for d in corpus if "\nRequest: " in d]
    assert examples and any("<tool_call>" in d for d in examples)  # API docs with worked examples do pair them
    for doc in corpus:
        # ... but never in a prompt template: no role tags, no instruction to follow.
        assert not any(tag in doc for tag in ("<|system|>", "<|user|>", "<|assistant|>", templates.ZERO_INSTRUCTION, templates.N1_INSTRUCTION)), doc
    text = " ".join(corpus)
    assert not any(name in text for name in demo_data.HELD_OUT_TOOLS)
    held_values = {v for pool in demo_data.POOLS.values() for v in pool[-demo_data.HELD_OUT:]}
    assert not any(f'"{v}"' in text for v in held_values)


def test_worked_examples_are_mostly_made_up_tools_and_values_that_the_request_and_list_give():
    """Copying from the tool list and the request is the only way to predict a worked example's answer."""
    rng = random.Random(3)
    seen = [t for t in demo_data.TOOLS if t.name not in demo_data.HELD_OUT_TOOLS]
    known_words = {str(x) for pool in demo_data.POOLS.values() for x in pool} | {c for t in seen for p in t.params for c in p.choices} | set(demo_data.ROOMS)
    made_up_tools = made_up_values = counts = 0
    call_counts = []
    for _ in range(400):
        doc = demo_data.worked_example(rng, seen)
        header, request, answer = doc.split("\nRequest: ")[0], doc.split("\nRequest: ")[1].split("\n")[0], doc.split("<tool_call>\n")[1].split("\n</tool_call>")[0]
        assert header.count("\n") == 3  # "Tools:" and three tools
        calls = json.loads(answer)
        call_counts.append(len(calls))
        for call in calls:
            assert call["name"] + "(" in header
            made_up_tools += call["name"] not in {t.name for t in seen}
            for value in (v for arg in call["arguments"].values() for v in (arg.values() if isinstance(arg, dict) else [arg])):
                if not isinstance(value, bool):
                    assert str(value) in request, (value, request)
                if isinstance(value, str) and value not in known_words:
                    made_up_values += 1
            counts += 1
    assert made_up_tools / counts > 0.7 and made_up_values / counts > 0.5
    assert {0, 1, 2} <= set(call_counts)


def test_generation_is_deterministic():
    assert demo_data.generate(seed=9, train=50) == demo_data.generate(seed=9, train=50)


def test_the_pretraining_corpus_has_chat_prompts_without_answers():
    pytest.importorskip("torch", reason="PyTorch is not installed for this Python (run bash scripts/setup.sh)")
    from rollout_engine.pretrain import BaseSettings, corpus

    docs = corpus(BaseSettings(corpus_size=400))
    prompts = [d for d in docs if "<|user|>" in d]
    assert prompts  # requests do appear in chat prompts, on their own
    # Cut before the assistant marker (a document ending there would teach stopping) and never answered.
    assert not any("<|assistant|>" in d or "\n" in d.rstrip("\n").split("<|user|>")[-1] for d in prompts)


def test_the_train_split_mixes_the_demo_tools_with_made_up_ones_and_keeps_the_held_out_ones_out():
    """GRPO on 13 tools alone rewards knowing them by heart; made-up tools make reading the list pay."""
    splits = demo_data.generate(seed=4, train=400)
    demo_tools = {t.name for t in demo_data.TOOLS}
    train = splits["train"]
    made_up = [r for r in train if int(r["id"].split("-")[1]) >= 400]  # numbered after the demo-tool samples
    assert len(train) == 800 and len(made_up) == 400
    assert all(c["name"] not in demo_tools for r in made_up for c in r["ground_truth"])
    assert len({t["name"] for r in made_up for t in r["tools"]} - demo_tools) > len(made_up)  # many tools, each seldom seen
    text = json.dumps(train)
    assert not any(re.search(rf"\b{name}\b", text) for name in demo_data.HELD_OUT_TOOLS)  # find_recipe_tablet may be
    assert not any(f'"{v}"' in text for pool in demo_data.POOLS.values() for v in pool[-demo_data.HELD_OUT:])
    for split in ("eval", "eval-unseen-values", "eval-unseen-tools"):  # evaluation is on the demo's tools only
        assert all({t["name"] for t in r["tools"]} <= demo_tools for r in splits[split])
    # The demo-tool samples and the evaluation splits are what they were before made-up tools were added.
    assert [r for r in train if r not in made_up] == sorted(demo_data.generate(seed=4, train=400, made_up_train=0)["train"], key=lambda r: train.index(r))


def test_made_up_tools_are_listed_among_the_demo_tools_so_that_the_list_decides():
    """A policy that met made-up tools only among made-up ones answered from memory whenever a demo tool
    was listed (find_flight for a recipe, though find_flight was not in the list)."""
    demo_tools = {t.name for t in demo_data.TOOLS}
    made_up = [r for r in demo_data.generate(seed=8, train=300)["train"] if int(r["id"].split("-")[1]) >= 300 and r["ground_truth"]]
    beside_demo = [r for r in made_up if {t["name"] for t in r["tools"]} & demo_tools]
    assert len(beside_demo) > 0.5 * len(made_up)
    # The calls are always to the made-up tools, never to a demo tool listed beside them.
    assert all(c["name"] not in demo_tools for r in made_up for c in r["ground_truth"])
    unmixed = demo_data.generate(seed=8, train=300, mixed_lists=False)["train"]
    assert not [r for r in unmixed if {t["name"] for t in r["tools"]} & demo_tools and not {t["name"] for t in r["tools"]} <= demo_tools]


def test_varied_made_up_tools_are_phrased_in_many_ways_and_keep_what_is_held_out_unseen():
    rng = random.Random(9)
    tools = [demo_data.synthetic_tool(rng, varied=True) for _ in range(3000)]
    params = [p for t in tools for p in t.params]
    assert any(p.name in demo_data.UNITS and p.phrase.endswith(" " + p.name) for p in params)  # "for 3 nights"
    assert any(p.kind == "boolean" and p.phrase.startswith(" that is ") for p in params)  # "that is fast"
    assert any(p.phrase.startswith(" in {") for p in params)  # "in Lyon"
    assert any(t.name.split("_")[0] in demo_data.SEEN_VERBS for t in tools) and any(p.name in demo_data.SEEN_ARGUMENTS for p in params)
    assert demo_data.HELD_OUT_ARGUMENTS == {"minutes", "ingredient", "vegetarian"}
    assert not {t.name for t in tools} & demo_data.HELD_OUT_TOOLS
    assert not {p.name for p in params} & demo_data.HELD_OUT_ARGUMENTS
    corpus = "\n".join(demo_data.base_corpus(seed=9, size=3000))
    assert not any(re.search(rf"\b{name}\b", corpus) for name in demo_data.HELD_OUT_TOOLS)
    assert not any(re.search(rf'\b{arg}\??:|"{arg}"[:|)]|\|"{arg}"', corpus) for arg in demo_data.HELD_OUT_ARGUMENTS)  # as names or choices
    assert not {t.name for t in tools} & {t.name for t in demo_data.TOOLS}  # a made-up get_weather would contradict the real one
