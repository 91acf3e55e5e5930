"""The hf backend on CPU with a small Qwen2 model made from a config (no download). Skipped, with the
reason printed, where transformers is not installed (as on CI machines)."""
import json
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed for this Python (run bash scripts/setup.sh)")

from rollout_engine import demo_data  # noqa: E402
from rollout_engine.config import ConfigError, PolicyConfig, load_config  # noqa: E402
from rollout_engine.model import left_pad  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_choosing_hf_without_transformers_says_what_to_install(monkeypatch, tmp_path):
    from rollout_engine.hf_policy import load_hf
    monkeypatch.setitem(sys.modules, "transformers", None)  # as if it were not installed
    with pytest.raises(ConfigError, match="needs the transformers package"):
        load_hf(PolicyConfig(backend="hf", model=str(tmp_path)), "cpu")


def test_tiny_settings_for_hf_only_keys_are_errors(tmp_path):
    (tmp_path / "run.toml").write_text("[policy]\nlora_rank = 8\n")
    with pytest.raises(ConfigError, match="lora_rank"):
        load_config(tmp_path / "run.toml")


pytest.importorskip("transformers", reason="transformers is not installed for this Python: the hf backend's tests need it (pip install transformers)")

from rollout_engine.hf_model import make_model_folder  # noqa: E402
from rollout_engine.hf_policy import load_hf  # noqa: E402
from rollout_engine.train import train  # noqa: E402
from rollout_engine.templates import render_plain  # noqa: E402


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_model_folder(tmp_path_factory.mktemp("qwen-test"), "test")


def test_left_padding_does_not_change_a_row(model_dir):
    policy, tokenizer = load_hf(PolicyConfig(backend="hf", model=str(model_dir)), "cpu")
    policy.eval()
    short, long = tokenizer.encode("Request: weather in Paris"), tokenizer.encode("Request: convert 12 euros to dollars, please")
    idx, mask = left_pad([short, long], tokenizer.pad_id)
    both = policy.completion_logits(idx, mask, 3)
    alone_idx, alone_mask = left_pad([short], tokenizer.pad_id)
    alone = policy.completion_logits(alone_idx, alone_mask, 3)
    assert torch.allclose(both[0], alone[0], atol=1e-5)


def test_generation_is_batched_and_stops_on_eos(model_dir):
    policy, tokenizer = load_hf(PolicyConfig(backend="hf", model=str(model_dir)), "cpu")
    policy.eval()
    prompt = tokenizer.encode_prompt([{"role": "user", "content": "What is the weather?"}], "tool-n1")
    assert tokenizer.decode(prompt).endswith("<|im_start|>assistant\n")  # the model's own chat template
    tokens, finished = policy.generate([prompt, prompt[:5]], 6, temperature=1e-6, eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id)
    again, _ = policy.generate([prompt, prompt[:5]], 6, temperature=1e-6, eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id)
    assert tokens == again  # greedy
    for row, done in zip(tokens, finished):
        assert tokenizer.eos_id not in row and (done or len(row) == 6)


@pytest.mark.parametrize("template", ["tool-zero", "documentation"])
def test_plain_templates_are_plain_text_not_the_chat_template(model_dir, template):
    _, tokenizer = load_hf(PolicyConfig(backend="hf", model=str(model_dir)), "cpu")
    conversation = [{"role": "system", "content": "Tools:\nget_weather(city: string) - Weather"}, {"role": "user", "content": "Weather in Oslo"}]
    text = tokenizer.decode(tokenizer.encode_prompt(conversation, template))
    assert "<|im_start|>" not in text and text.endswith(render_plain(conversation, template))


def write_run(tmp_path, model_dir, template, policy_extra="", grpo_extra="", steps=2):
    rows = demo_data.generate(seed=1, train=20, eval_seen=4, eval_unseen_values=0, eval_unseen_tools=0)
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows["train"]))
    (tmp_path / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows["eval"]))
    (tmp_path / "run.toml").write_text(f"""
[data]
train = "train.jsonl"
eval = "eval.jsonl"
template = "{template}"
[policy]
backend = "hf"
model = "{model_dir}"
max_new_tokens = 10
micro_batch_size = 4
{policy_extra}
[reward]
schedule = "{ROOT / 'test/reward/schedules/length.ts'}"
[grpo]
num_generations = 3
prompts_per_step = 2
max_steps = {steps}
beta = 0.04
{grpo_extra}
""")
    return load_config(tmp_path / "run.toml"), len(rows["eval"])


@pytest.mark.parametrize("template", ["tool-n1", "tool-zero"])
def test_a_short_hf_run_writes_the_run_directory(tmp_path, model_dir, template):
    config, eval_samples = write_run(tmp_path, model_dir, template)
    summary = train(config, tmp_path / "run", "run")
    run = tmp_path / "run"
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2] and metrics[0]["kl"] is not None and not metrics[0]["update_skipped"]
    records = [json.loads(line) for line in (run / "rollouts" / "step-000002.jsonl").read_text().splitlines()]
    assert len(records) == 6 and all(r["policy_version"] == 1 for r in records)
    assert (run / "policy" / "config.json").exists() and (run / "policy" / "tokenizer.json").exists()
    assert summary["eval"][0]["samples"] == eval_samples


def test_lora_trains_only_the_adapter_and_uses_the_base_as_reference(tmp_path, model_dir):
    pytest.importorskip("peft", reason="peft is not installed for this Python: LoRA needs it (pip install peft)")
    config, _ = write_run(tmp_path, model_dir, "tool-n1", "lora_rank = 4")
    before = {k: v.clone() for k, v in load_hf(config.policy, "cpu")[0].model.named_parameters() if "lora_" not in k}
    train(config, tmp_path / "run", "run")
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    trained = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(model_dir), tmp_path / "run" / "policy")
    after = {k: v for k, v in trained.named_parameters() if "lora_" not in k}
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)  # the base is untouched
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert metrics[1]["kl"] > 0  # step 2's policy differs from the adapter-off reference


def test_shared_prefill_samples_what_reading_every_row_alone_samples(model_dir):
    """The rollout path reads each prompt once and copies its cache to the group's samples; for the same
    seed it draws the same tokens as the loop that reads every sample's prompt on its own."""
    policy, tokenizer = load_hf(PolicyConfig(backend="hf", model=str(model_dir)), "cpu")
    policy.eval()
    prompts = [tokenizer.encode_prompt([{"role": "user", "content": text}], "tool-n1") for text in ("Weather in Oslo", "Set an alarm for 7 please")]
    kwargs = dict(temperature=1.0, top_p=0.95, eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id, num_samples=4)
    shared = policy.decode(prompts, 12, generator=torch.Generator().manual_seed(3), **kwargs)
    alone = policy.decode(prompts, 12, generator=torch.Generator().manual_seed(3), share_prefill=False, **kwargs)
    assert shared == alone
    tokens, finished = shared
    assert len(tokens) == 8 and len({tuple(t) for t in tokens}) > 1  # samples, not copies
    assert all(tokenizer.eos_id not in row and (done or len(row) == 12) for row, done in zip(tokens, finished))
    # The generate call goes through it, and greedy decoding agrees with transformers' generate.
    assert policy.rollout_path == "shared-prefill"
    greedy = dict(temperature=1e-6, eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id)
    assert policy.generate(prompts, 12, **greedy) == policy.generate_plain(prompts, 12, **greedy)


def test_chunked_right_padded_logprobs_match_the_full_logits_path(model_dir):
    """The update's log-probabilities (right-padded rows, the LM head over real completion tokens only, in
    chunks recomputed in the backward pass) give the same values and gradients as the full left-padded logits."""
    from rollout_engine.train import sequence_logprobs

    class FullLogits:  # the plain path: left-padded rows, logits of every completion position at once
        def __init__(self, inner):
            self.inner, self.device = inner, inner.device

        def completion_logits(self, idx, key_mask, n):
            return self.inner.completion_logits(idx, key_mask, n)

    policy, tokenizer = load_hf(PolicyConfig(backend="hf", model=str(model_dir), gradient_checkpointing=False), "cpu")
    policy.train()
    policy.logprob_chunk = 5  # several chunks, one cut inside a row
    encode = tokenizer.encode
    rows = [(encode("Weather in Oslo"), encode("get_weather city Oslo")), (encode("Hi"), encode("x")),
            (encode("Set an alarm for seven in the morning"), encode("set_alarm hour 7 minute 0 please"))]
    grads = []
    for model in (policy, FullLogits(policy)):
        policy.zero_grad()
        logp, entropy, mask = sequence_logprobs(model, rows, tokenizer.pad_id)
        ((logp * mask).sum() + 0.1 * (entropy * mask).sum()).backward()
        grads.append({n: p.grad.clone() for n, p in policy.named_parameters() if p.grad is not None})
        if model is policy:
            chunked = (logp.detach(), entropy.detach(), mask)
    assert torch.equal(chunked[2], mask)
    assert torch.allclose(chunked[0], logp.detach(), atol=1e-5) and torch.allclose(chunked[1], entropy.detach(), atol=1e-5)
    assert grads[0].keys() == grads[1].keys() and len(grads[0]) > 0
    for name in grads[0]:
        assert torch.allclose(grads[0][name], grads[1][name], atol=1e-5, rtol=1e-4), name


def test_bf16_autocast_trains_several_steps_with_finite_weights(tmp_path, model_dir):
    """The GPU precision (bf16 matmuls over fp32 weights) in small on CPU: several updates, every weight finite."""
    config, _ = write_run(tmp_path, model_dir, "tool-n1", 'precision = "bf16-mixed"', "learning_rate = 1e-3", steps=4)
    train(config, tmp_path / "run", "run")
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2, 3, 4] and all(m["grad_norm"] > 0 for m in metrics)
    from transformers import AutoModelForCausalLM
    trained = AutoModelForCausalLM.from_pretrained(tmp_path / "run" / "policy")
    assert all(torch.isfinite(p).all() for p in trained.parameters())


def test_non_finite_logits_pause_the_run_with_the_last_good_checkpoint(tmp_path, model_dir, capsys):
    """A learning rate of 1e30 makes step 1's update blow the weights up (still finite numbers); step 2's
    rollout then meets infinite logits. The run pauses after step 1 with a checkpoint of it and says why,
    instead of crashing inside the sampler."""
    from rollout_engine.grpo import NonFiniteError
    from rollout_engine.train import latest_checkpoint

    config, _ = write_run(tmp_path, model_dir, "tool-n1", "", "learning_rate = 1e30", steps=3)
    with pytest.raises(NonFiniteError):
        train(config, tmp_path / "run", "run")
    run = tmp_path / "run"
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "paused"
    assert latest_checkpoint(run).name == "step-000001"
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    error = next(e for e in events if e["event"] == "error")
    assert "step 2" in error["message"] and "not finite" in error["message"] and "learning rate" in error["message"]
    assert "--resume" in error["message"]
    started = next(e for e in events if e["event"] == "started")
    assert started["rollout"] == "shared-prefill"
