"""GRPO with the hf backend in a configuration like the papers' (64 prompts × 8 samples, 512 new tokens) on a
Qwen2.5-0.5B-shaped model made from a config: step time split, rollout and training tokens/s, peak memory,
and training MFU against the device's measured bf16 matmul ceiling.

    cd engine && python ../bench/hf_grpo.py --shape qwen2.5-0.5b --steps 3 --device cuda
    cd engine && python ../bench/hf_grpo.py --shape test --steps 2 --prompts 4 --generations 4 --new-tokens 16 --device cpu   # a check on CPU

Needs transformers (and a GPU for the real figures). The reward is the tool-n1 preset; the model's
random weights write noise, so completions run to max_new_tokens, as the papers' early steps often do.
The tokenizer is small (made from the demo corpus) while the model keeps Qwen's 151,936-row vocabulary:
ids the tokenizer lacks decode to nothing, which changes what the reward sees, not the model's work.
Training FLOPs per token: 6 × parameters (forward and backward, not counting gradient-checkpointing
recomputation, as MFU is usually counted) + 12 × layers × width × sequence length for attention; the
reference forward for the KL term (beta > 0) adds 2 × parameters, counted too.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "engine"))

import torch  # noqa: E402

from rollout_engine import demo_data  # noqa: E402
from rollout_engine.config import load_config  # noqa: E402
from rollout_engine.hf_model import make_model_folder  # noqa: E402
from rollout_engine.train import train  # noqa: E402


def bf16_ceiling(device: str, n: int = 8192, repeats: int = 20) -> float:
    """TFLOP/s of a large bf16 matmul: the ceiling MFU is measured against."""
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    t = time.time()
    for _ in range(repeats):
        a @ b
    torch.cuda.synchronize()
    return 2 * n ** 3 * repeats / (time.time() - t) / 1e12


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", default="qwen2.5-0.5b")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=512)
    parser.add_argument("--micro-batch", type=int, default=16)
    parser.add_argument("--beta", type=float, default=0.0)
    parser.add_argument("--rollout", choices=["auto", "shared-prefill", "generate"], default="auto", help="the rollout path ([policy] rollout)")
    parser.add_argument("--lora-rank", type=int, default=0)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON too")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="rs-hf-bench-"))
    model_dir = make_model_folder(work / "model", args.shape)
    rows = demo_data.generate(seed=0, train=max(200, args.prompts * args.steps), eval_seen=0, eval_unseen_values=0, eval_unseen_tools=0)["train"]
    (work / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (work / "run.toml").write_text(f"""
[data]
train = "train.jsonl"
template = "tool-n1"
[policy]
backend = "hf"
model = "{model_dir}"
max_new_tokens = {args.new_tokens}
micro_batch_size = {args.micro_batch}
rollout = "{args.rollout}"
lora_rank = {args.lora_rank}
precision = "{args.precision}"
[reward]
preset = "tool-n1"
[grpo]
num_generations = {args.generations}
prompts_per_step = {args.prompts}
max_steps = {args.steps}
beta = {args.beta}
learning_rate = 1e-6
[run]
device = "{args.device}"
checkpoint_every = 1000000
""")
    config = load_config(work / "run.toml")
    cuda = args.device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    train(config, work / "run", "bench")
    metrics = [json.loads(line) for line in (work / "run" / "metrics.jsonl").read_text().splitlines()]
    steady = metrics[1:] or metrics  # the first step includes warm-up (kernel selection, allocator growth)

    from transformers import AutoConfig, AutoModelForCausalLM
    shape = AutoConfig.from_pretrained(model_dir)
    params = sum(p.numel() for p in AutoModelForCausalLM.from_config(shape).parameters())
    mean_len = statistics.mean(m["completion_length"]["mean"] for m in steady)
    prompt_len = statistics.mean(json.loads(line)["prompt_tokens"] for line in (work / "run" / "rollouts" / "step-000001.jsonl").read_text().splitlines())
    seq = prompt_len + mean_len
    flops_per_token = 6 * params + 12 * shape.num_hidden_layers * shape.hidden_size * seq + (2 * params if args.beta else 0)
    train_tps = statistics.median(m["tokens_per_s"]["train"] for m in steady)
    result = {
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "torch": torch.__version__, "shape": args.shape, "params": params,
        "rollout": args.rollout, "lora_rank": args.lora_rank, "precision": args.precision,
        "prompts": args.prompts, "generations": args.generations, "new_tokens": args.new_tokens, "micro_batch": args.micro_batch,
        "steps_timed": len(steady),
        "time_s": {k: statistics.median(m["time_s"][k] for m in steady) for k in ("rollout", "reward", "update", "write")},
        "rollout_tokens_per_s": statistics.median(m["tokens_per_s"]["rollout"] for m in steady),
        "train_tokens_per_s": train_tps,
        "mean_completion_tokens": mean_len, "mean_prompt_tokens": prompt_len,
        "peak_memory_gib": torch.cuda.max_memory_allocated() / 2 ** 30 if cuda else None,
    }
    if cuda:
        ceiling = bf16_ceiling(args.device)
        result["bf16_ceiling_tflops"] = ceiling
        result["train_tflops"] = train_tps * flops_per_token / 1e12
        result["train_mfu"] = result["train_tflops"] / ceiling
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
