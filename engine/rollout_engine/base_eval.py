"""How a base model answers before any RL: greedy exact-call accuracy on each eval split, in the base
corpus's documentation layout (what it has read) and in the RL prompt templates (what GRPO must elicit).
A base a run can learn from scores well in the first and poorly in the second, as a pretrained LLM
knows function calling but not the RL prompt's format.

    python -m rollout_engine.base_eval [--base engine/base] [--data demo/data] [--samples 100]
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import torch

from .calls import same_calls
from .data import Sample, read_dataset
from .model import TinyGPT
from .pretrain import default_base, load_base
from .templates import messages
from .tokenizer import Tokenizer

SPLITS = ("eval", "eval-unseen-values", "eval-unseen-tools")
LAYOUTS = ("documentation", "tool-zero", "tool-n1")


def answer_calls(text: str) -> list | None:
    """The calls in the first <tool_call> block of an answer, or None when there is none that reads."""
    found = re.search(r"<tool_call>\s*(.*?)\s*</tool_call>", text, re.S)
    if not found:
        return None
    try:
        calls = json.loads(found.group(1))
    except json.JSONDecodeError:
        return None
    return calls if isinstance(calls, list) else None


def prompt_ids(sample: Sample, layout: str, tokenizer: Tokenizer) -> list[int]:
    return tokenizer.encode_prompt(messages(sample, layout), layout)


def exact_rate(model: TinyGPT, tokenizer: Tokenizer, samples: list[Sample], layout: str, max_new_tokens: int = 96) -> float:
    correct = 0
    for start in range(0, len(samples), 50):
        chunk = samples[start:start + 50]
        tokens, _ = model.generate([prompt_ids(s, layout, tokenizer) for s in chunk], max_new_tokens, temperature=1e-6,
                                   eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id)
        correct += sum(same_calls(answer_calls(tokenizer.decode(t)), s.ground_truth) for s, t in zip(chunk, tokens))
    return correct / max(1, len(samples))


def evaluate_layouts(base: Path, data: Path, samples: int = 100, layouts=LAYOUTS) -> dict[str, dict[str, float]]:
    """{layout: {split: greedy exact-call accuracy}} on the first `samples` prompts of each split."""
    model, tokenizer = load_base(base)
    model.eval()
    results: dict[str, dict[str, float]] = {}
    with torch.no_grad():
        for layout in layouts:
            results[layout] = {split: exact_rate(model, tokenizer, read_dataset(data / f"{split}.jsonl")[:samples], layout) for split in SPLITS}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, help="a base folder (model.pt, tokenizer.json); default: the shipped base")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "demo" / "data")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--layouts", default=",".join(LAYOUTS), help=f"comma-separated, of {', '.join(LAYOUTS)}")
    args = parser.parse_args()
    layouts = args.layouts.split(",")
    if unknown := [x for x in layouts if x not in LAYOUTS]:
        parser.error(f"unknown layout {unknown[0]!r}; layouts: {', '.join(LAYOUTS)}")
    torch.set_num_threads(args.threads)
    results = evaluate_layouts(args.base or default_base(), args.data, args.samples, layouts)
    print(f"{'layout':<16}" + "".join(f"{s:>22}" for s in SPLITS))
    for layout, row in results.items():
        print(f"{layout:<16}" + "".join(f"{row[s]:>21.0%} " for s in SPLITS))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
