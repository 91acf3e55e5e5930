"""Writes test/fixtures/playground/: what the TypeScript tokenizer, prompt renderer and ONNX sampler are
checked against (test/runs/playground.test.ts), made by the engine's Python (engine/tests/test_export.py
checks the files are current):
- cases.json: texts with their token ids from the shipped base's tokenizer, and samples rendered as each
  plain template's prompt;
- tiny/: a small random tiny policy (seeded; with the copy head, as the shipped base) exported to ONNX, its state (tiny.pt), and the logits PyTorch
  gives for two prompts and after one cached step;
- hf/: a small random transformers model (the hf backend's test Qwen2, model/) exported to ONNX (export/), and
  hf/cases.json: the ids the hf backend gives prompts in every template, token ids of the texts, and the
  logits PyTorch gives on a prompt and after one cached step (needs transformers).

    bash scripts/python.sh scripts/make-playground-fixtures.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "engine"))

OUT = ROOT / "test" / "fixtures" / "playground"
TEXTS = [
    "Weather in Oslo tomorrow, please.",
    '<think>I pick the tool.</think>\n<tool_call>\n[{"name": "get_air_quality", "arguments": {"city": "Tallinn", "days": 3}}]\n</tool_call>',
    "Add buy gift to my todo list with priority 4?",
    "Zürich, naïve café — 東京 🙂 and Ünïcödé",
    "tabs\tand  double  spaces\n\nnewlines; odd punctuation ?!... {}}]",
    "snake_case_name and CamelCase and x_y_z_2024",
    "Timer 42 minutes. Air quality in Riga? I call USD, Will Xqz and Éclair",  # capital markers, and words without them
]


def cases() -> dict:
    from rollout_engine import demo_data
    from rollout_engine.data import Sample
    from rollout_engine.templates import messages, render_plain
    from rollout_engine.tokenizer import Tokenizer

    tokenizer = Tokenizer.load(ROOT / "engine" / "base" / "tokenizer.json")
    rows = demo_data.generate(seed=3, train=0, eval_seen=2, eval_unseen_values=0, eval_unseen_tools=2)
    samples = [Sample(id=r["id"], tools=r["tools"], messages=r["messages"], ground_truth=r["ground_truth"]) for r in rows["eval"] + rows["eval-unseen-tools"]]
    prompts = []
    for s in samples:
        for template in ("tool-zero", "documentation", "tool-n1", "toolrl"):
            text = render_plain(messages(s, template), template)  # type: ignore[arg-type]
            prompts.append({"sample": {"tools": s.tools, "messages": s.messages}, "template": template, "text": text, "ids": tokenizer.encode(text)})
    return {"tokenizer": "engine/base/tokenizer.json", "texts": [{"text": t, "ids": tokenizer.encode(t), "decoded": tokenizer.decode(tokenizer.encode(t))} for t in TEXTS],
            "prompts": prompts}


def tiny_model():
    import torch

    from rollout_engine.model import ModelConfig, TinyGPT
    from rollout_engine.tokenizer import Tokenizer

    tokenizer = Tokenizer.load(ROOT / "engine" / "base" / "tokenizer.json")
    torch.manual_seed(7)
    model = TinyGPT(ModelConfig(vocab_size=tokenizer.vocab_size, n_layer=1, n_head=2, n_embd=32, block_size=512, rope=True, copy_head=True)).eval()
    return model, tokenizer


def logits_case(model, tokenizer) -> dict:
    import torch

    prompt = tokenizer.encode("Tools:\nget_weather(city: string) - Weather\nRequest: Weather in Oslo\nAnswer: ")
    with torch.no_grad():
        first, _ = model(torch.tensor([prompt]))
        nxt = int(first[0, -1].argmax())
        second, _ = model(torch.tensor([prompt + [nxt]]))
    return {"prompt_ids": prompt, "first_logits": [round(float(x), 6) for x in first[0, -1]], "next_id": nxt,
            "second_logits": [round(float(x), 6) for x in second[0, -1]]}


def hf_cases(model_folder: Path) -> dict:
    """What the hf backend does with the fixture model: prompt ids per template, text ids, and logits."""
    import torch

    from rollout_engine import demo_data
    from rollout_engine.config import PolicyConfig
    from rollout_engine.data import Sample
    from rollout_engine.hf_policy import load_hf
    from rollout_engine.templates import messages

    policy, tokenizer = load_hf(PolicyConfig(backend="hf", model=str(model_folder), gradient_checkpointing=False), "cpu", warn=lambda _: None)
    policy.eval()
    rows = demo_data.generate(seed=3, train=0, eval_seen=2, eval_unseen_values=0, eval_unseen_tools=1)
    samples = [Sample(id=r["id"], tools=r["tools"], messages=r["messages"], ground_truth=r["ground_truth"]) for r in rows["eval"] + rows["eval-unseen-tools"]]
    prompts = [{"sample": {"tools": s.tools, "messages": s.messages}, "template": template, "ids": tokenizer.encode_prompt(messages(s, template), template)}  # type: ignore[arg-type]
               for s in samples for template in ("tool-zero", "documentation", "tool-n1", "toolrl")]
    prompt = prompts[2]["ids"]
    with torch.no_grad():
        first = policy.model(torch.tensor([prompt])).logits[0, -1]
        nxt = int(first.argmax())
        second = policy.model(torch.tensor([prompt + [nxt]])).logits[0, -1]
    return {"texts": [{"text": t, "ids": tokenizer.encode(t), "decoded": tokenizer.decode(tokenizer.encode(t))} for t in TEXTS], "prompts": prompts,
            "logits": {"prompt_ids": prompt, "first_logits": [round(float(x), 6) for x in first], "next_id": nxt, "second_logits": [round(float(x), 6) for x in second]}}


def hf_fixture() -> None:
    import shutil

    from rollout_engine.export import export_hf, load_hf_model
    from rollout_engine.hf_model import make_model_folder

    folder = OUT / "hf"
    shutil.rmtree(folder, ignore_errors=True)
    make_model_folder(folder / "model", "test", seed=0)
    export_hf(load_hf_model(folder / "model", None), folder / "model", folder / "export", {"source": "fixture", "path": "scripts/make-playground-fixtures.py"})
    meta = json.loads((folder / "export" / "export.json").read_text())
    for key in ("exported_at", "export_s"):
        meta.pop(key)
    (folder / "export" / "export.json").write_text(json.dumps(meta, indent=2) + "\n")
    (folder / "cases.json").write_text(json.dumps(hf_cases(folder / "model"), ensure_ascii=False) + "\n")


def main() -> None:
    import torch

    from rollout_engine.export import export

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cases.json").write_text(json.dumps(cases(), ensure_ascii=False, indent=1) + "\n")
    model, tokenizer = tiny_model()
    export(model, tokenizer, OUT / "tiny", {"source": "fixture", "path": "scripts/make-playground-fixtures.py"})
    meta = json.loads((OUT / "tiny" / "export.json").read_text())
    for key in ("exported_at", "export_s"):
        meta.pop(key)
    (OUT / "tiny" / "export.json").write_text(json.dumps(meta, indent=2) + "\n")
    torch.save({"config": model.config.__dict__, "model": model.state_dict()}, OUT / "tiny" / "tiny.pt")
    (OUT / "tiny" / "logits.json").write_text(json.dumps(logits_case(model, tokenizer)) + "\n")
    # The dataset a test run offers the playground panel: the demo's first three eval samples.
    from rollout_engine import demo_data
    rows = demo_data.generate()["eval"][:3]
    (OUT / "prompts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    hf_fixture()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
