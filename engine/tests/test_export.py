"""The tiny policy as ONNX for the playground (rollout_engine/export.py) and the fixtures the TypeScript side
is checked against (test/fixtures/playground; test/runs/playground.test.ts reads the same files)."""
import importlib.util
import json
import sys

import pytest

from conftest import ROOT

torch = pytest.importorskip("torch", reason="PyTorch is not installed for this Python (run bash scripts/setup.sh)")
FIXTURES = ROOT / "test" / "fixtures" / "playground"
ORT_MISSING = "onnxruntime is not installed for this Python: the ONNX logits check needs it (bash scripts/setup-python.sh installs it into .venv)"


def _fixture_script():
    spec = importlib.util.spec_from_file_location("make_playground_fixtures", ROOT / "scripts" / "make-playground-fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tokenizer_and_prompt_fixtures_are_what_the_engine_writes_today():
    stored = json.loads((FIXTURES / "cases.json").read_text())
    assert stored == _fixture_script().cases(), "test/fixtures/playground/cases.json is stale: bash scripts/python.sh scripts/make-playground-fixtures.py"


def test_onnx_gives_pytorchs_next_token_logits_for_the_fixture_model():
    ort = pytest.importorskip("onnxruntime", reason=ORT_MISSING)
    import numpy as np

    from rollout_engine.model import ModelConfig, TinyGPT

    saved = torch.load(FIXTURES / "tiny" / "tiny.pt", map_location="cpu")
    model = TinyGPT(ModelConfig(**saved["config"])).eval()
    model.load_state_dict(saved["model"])
    case = json.loads((FIXTURES / "tiny" / "logits.json").read_text())
    with torch.no_grad():
        first, _ = model(torch.tensor([case["prompt_ids"]]))
    assert torch.allclose(first[0, -1], torch.tensor(case["first_logits"]), atol=1e-5)  # the stored logits are PyTorch's
    meta = json.loads((FIXTURES / "tiny" / "export.json").read_text())
    session = ort.InferenceSession(str(FIXTURES / "tiny" / "model.onnx"))
    assert model.config.copy_head and [e["input"] for e in meta["cache"]][-3:] == ["past_copy_key", "past_copy_hidden", "past_copy_ids"]  # as the shipped base
    feeds = {"input_ids": np.array([case["prompt_ids"]], np.int64), "position": np.array([0], np.int64)}
    feeds.update({e["input"]: np.zeros([1, *e["shape"][1:]], np.int64 if e["dtype"] == "int64" else np.float32) for e in meta["cache"]})
    out = session.run(None, feeds)
    assert np.abs(out[0][0] - np.array(case["first_logits"])).max() < 1e-4
    feeds = {"input_ids": np.array([[case["next_id"]]], np.int64), "position": np.array([len(case["prompt_ids"])], np.int64)}
    feeds.update({e["input"]: out[1 + i] for i, e in enumerate(meta["cache"])})
    assert np.abs(session.run(None, feeds)[0][0] - np.array(case["second_logits"])).max() < 1e-4
    # Many cached steps, two rows at once: the greedy path PyTorch's generate takes, step by step.
    prompt = case["prompt_ids"]
    with torch.no_grad():
        expected, _ = model.generate([prompt], 12, temperature=1e-6, eos_id=-1, pad_id=0, num_samples=2)
    feeds = {"input_ids": np.array([prompt, prompt], np.int64), "position": np.array([0], np.int64)}
    feeds.update({e["input"]: np.zeros([2, *e["shape"][1:]], np.int64 if e["dtype"] == "int64" else np.float32) for e in meta["cache"]})
    path = []
    for t in range(12):
        out = session.run(None, feeds)
        token = out[0].argmax(-1)
        path.append(token.tolist())
        feeds = {"input_ids": token[:, None].astype(np.int64), "position": np.array([len(prompt) + t], np.int64)}
        feeds.update({e["input"]: out[1 + i] for i, e in enumerate(meta["cache"])})
    assert [[row[t] for t in range(12)] for row in zip(*path)] == expected


def test_a_runs_checkpoints_export_as_they_are_written_or_on_request_and_a_bad_request_says_what_to_do(tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime", reason=ORT_MISSING)
    pytest.importorskip("onnx", reason="onnx is not installed for this Python: torch.onnx.export needs it (bash scripts/setup-python.sh installs it into .venv)")
    sys.path.insert(0, str(ROOT / "engine" / "tests"))
    from rollout_engine.export import main
    from rollout_engine.pretrain import BaseSettings, build_base
    from test_train import write_run
    from rollout_engine.train import train

    base = build_base(BaseSettings(steps=3, corpus_size=300, batch_size=4, seq_len=64, n_embd=32, n_head=2), tmp_path / "base", log=lambda _: None)
    config = write_run(tmp_path, base, "[run]\ncheckpoint_every = 1\nexport_checkpoints = true\n")
    train(config, tmp_path / "run", "run")
    # The engine exported each checkpoint as it wrote it.
    assert sorted(p.name for p in (tmp_path / "run" / "exports").iterdir()) == ["step-1", "step-2"]
    assert json.loads((tmp_path / "run" / "exports" / "step-2" / "export.json").read_text())["step"] == 2
    assert main(["--run", str(tmp_path / "run"), "--step", "1"]) == 0
    out = tmp_path / "run" / "exports" / "step-1"
    meta = json.loads((out / "export.json").read_text())
    assert meta["step"] == 1 and meta["source"] == "run" and (out / "model.onnx").stat().st_size == meta["bytes"]
    ort.InferenceSession(str(out / "model.onnx"))  # loads
    assert main(["--run", str(tmp_path / "run")]) == 0  # the trained policy.pt
    assert (tmp_path / "run" / "exports" / "final" / "model.onnx").exists()
    capsys.readouterr()
    assert main(["--run", str(tmp_path / "run"), "--step", "7"]) == 2
    assert "no checkpoint at step 7; checkpoints: 1, 2" in capsys.readouterr().err


@pytest.mark.parametrize("lora", [0, 4])
def test_an_hf_runs_checkpoint_exports_with_its_kv_cache_and_gives_that_checkpoints_logits(tmp_path, lora):
    ort = pytest.importorskip("onnxruntime", reason=ORT_MISSING)
    pytest.importorskip("transformers", reason="transformers is not installed for this Python: the hf backend needs it (bash scripts/setup-python.sh installs it into .venv)")
    if lora:
        pytest.importorskip("peft", reason="peft is not installed for this Python: LoRA runs need it (bash scripts/setup-python.sh installs it into .venv)")
    import numpy as np

    sys.path.insert(0, str(ROOT / "engine" / "tests"))
    from rollout_engine.config import load_config
    from rollout_engine.export import main
    from rollout_engine.hf_model import make_model_folder
    from rollout_engine.hf_policy import load_hf
    from rollout_engine.train import train
    from test_hf_backend import write_run

    model_dir = make_model_folder(tmp_path / "model", "test")
    config, _ = write_run(tmp_path, model_dir, "tool-n1", f"lora_rank = {lora}" if lora else "", "learning_rate = 0.01")
    (tmp_path / "run.toml").write_text((tmp_path / "run.toml").read_text() + "[run]\ncheckpoint_every = 1\nexport_checkpoints = true\n")
    config = load_config(tmp_path / "run.toml")
    train(config, tmp_path / "run", "run")
    assert sorted(p.name for p in (tmp_path / "run" / "exports").iterdir()) == ["step-1", "step-2"]  # as the run wrote each checkpoint
    assert main(["--run", str(tmp_path / "run"), "--step", "1"]) == 0  # and again on request
    out = tmp_path / "run" / "exports" / "step-1"
    meta = json.loads((out / "export.json").read_text())
    assert meta["kind"] == "hf" and meta["step"] == 1 and {"tokenizer.json", "tokenizer_config.json", "chat_template.jinja"} <= {p.name for p in out.iterdir()}

    # The checkpoint's policy as the engine holds it (adapters on, for LoRA), against the ONNX step with its cache.
    policy, tokenizer = load_hf(config.policy, "cpu")
    policy.load_state_dict(torch.load(tmp_path / "run" / "checkpoints" / "step-000001" / "state.pt", map_location="cpu")["model"])
    policy.eval()
    base, _ = load_hf(load_config(tmp_path / "run.toml").policy, "cpu")
    prompt = tokenizer.encode_prompt([{"role": "user", "content": "What is the weather in Oslo?"}], "tool-n1")
    session = ort.InferenceSession(str(out / "model.onnx"))
    feeds = {"input_ids": np.array([prompt, prompt], np.int64), "position": np.array([0], np.int64)}
    feeds.update({e["input"]: np.zeros([2, e["shape"][1], 0, e["shape"][3]], np.float32) for e in meta["cache"]})
    first = session.run(None, feeds)
    feeds = {"input_ids": np.array([[7], [7]], np.int64), "position": np.array([len(prompt)], np.int64)}
    feeds.update({e["input"]: first[1 + i] for i, e in enumerate(meta["cache"])})
    second = session.run(None, feeds)
    with torch.no_grad():
        want = policy.model(torch.tensor([prompt + [7]])).logits[0]
        untrained = base.model(torch.tensor([prompt + [7]])).logits[0]
    assert np.abs(first[0][1] - want[-2].numpy()).max() < 1e-4
    assert np.abs(second[0][0] - want[-1].numpy()).max() < 1e-4
    assert (want - untrained).abs().max() > 1e-3, "the checkpoint's weights differ from the base's, so the check above is of the checkpoint"


def test_the_hf_fixture_is_what_the_engine_gives_today():
    """test/fixtures/playground/hf: the TypeScript side checks its tokenizer and ONNX sampling against these ids and logits."""
    pytest.importorskip("transformers", reason="transformers is not installed for this Python: the hf backend needs it (bash scripts/setup-python.sh installs it into .venv)")
    stored = json.loads((FIXTURES / "hf" / "cases.json").read_text())
    fresh = _fixture_script().hf_cases(FIXTURES / "hf" / "model")
    assert fresh["prompts"] == stored["prompts"] and fresh["texts"] == stored["texts"], "test/fixtures/playground/hf is stale: bash scripts/python.sh scripts/make-playground-fixtures.py"
    assert fresh["logits"]["next_id"] == stored["logits"]["next_id"]
    assert max(abs(a - b) for a, b in zip(fresh["logits"]["first_logits"], stored["logits"]["first_logits"])) < 1e-5
