"""GRPO steps per minute of the tiny backend on CPU, in the demo's shape (16 prompts × 8 samples, up to 64
new tokens, one thread), with each step's time split into rollout, reward, update and write.

    python bench/engine_step.py --steps 8                       # this checkout's engine
    python bench/engine_step.py --steps 8 --engine OTHER/engine # another checkout's engine, same base and data
    python bench/engine_step.py --steps 8 --no-copy-head        # the policy without its copy head (as bases before it)

The base is made once (a few pretraining steps: its completions run to max_new_tokens, the slow case) and
kept in --base, so two engines are timed on the same weights and prompts. The reward is the tool-n1
preset. Prints one JSON line: steps, seconds per step (median over the steps after the first), steps per
minute, and the median split.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--engine", type=Path, default=ROOT / "engine", help="the engine/ folder to time")
    parser.add_argument("--base", type=Path, help="where the base is kept (default: a folder in the temp dir for each kind of base)")
    parser.add_argument("--no-copy-head", action="store_true", help="time a policy without the copy head (model.py)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(args.engine.resolve()))

    from rollout_engine import demo_data
    from rollout_engine.config import load_config
    from rollout_engine.pretrain import BaseSettings, build_base
    from rollout_engine.train import train

    copy = {} if not args.no_copy_head else {"copy_head": False}  # an older engine has no such setting
    args.base = args.base or Path(tempfile.gettempdir()) / ("rollout-studio-bench-base" + ("-no-copy" if args.no_copy_head else "-copy"))
    if not (args.base / "model.pt").exists():
        build_base(BaseSettings(steps=20, corpus_size=6000, **copy), args.base, log=lambda _: None)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = demo_data.generate(seed=0, train=400, eval_seen=0, eval_unseen_values=0, eval_unseen_tools=0)["train"]
        (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        (folder / "run.toml").write_text(f"""
[data]
train = "{folder / 'train.jsonl'}"
template = "tool-zero"
[policy]
model = "{args.base}"
max_new_tokens = 64
threads = {args.threads}
[reward]
preset = "tool-n1"
[grpo]
num_generations = 8
prompts_per_step = 16
max_steps = {args.steps}
[run]
seed = 0
""")
        import contextlib
        import io
        with contextlib.redirect_stdout(io.StringIO()):  # the engine's event lines
            train(load_config(folder / "run.toml"), folder / "run", "bench")
        metrics = [json.loads(line) for line in (folder / "run" / "metrics.jsonl").read_text().splitlines()]
    timed = metrics[1:] or metrics  # the first step warms up
    per_step = statistics.median(sum(m["time_s"].values()) for m in timed)
    split = {k: round(statistics.median(m["time_s"][k] for m in timed), 3) for k in timed[0]["time_s"]}
    print(json.dumps({"engine": str(args.engine), "steps": len(metrics), "seconds_per_step": round(per_step, 3),
                      "steps_per_minute": round(60 / per_step, 2), "split": split,
                      "completion_tokens": round(statistics.median(m["completion_length"]["mean"] for m in timed), 1)}))


if __name__ == "__main__":
    main()
