"""The learning comparison of docs/learning.md: the demo's settings (demo/run.toml) with four rewards or
starts — the demo schedule, the `tool-zero` preset, the `tool-n1` binary preset, and the demo schedule
from a random init — with the same base, seed and training-time budget. Runs two at a time (one thread
each, as the demo runs), then prints the curves' tables and writes the plot with learning_curves.py.

    cd engine && python ../bench/learning_compare.py --out /tmp/compare [--minutes 10] [--base DIR] [--only tool-n1-binary,demo-schedule-random-init]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = {
    "demo schedule": {"reward": 'schedule = "{root}/demo/reward-schedule.ts"'},
    "tool-zero preset": {"reward": 'preset = "tool-zero"'},
    "tool-n1 binary": {"reward": 'preset = "tool-n1"'},
    "demo schedule, random init": {"reward": 'schedule = "{root}/demo/reward-schedule.ts"', "init": "random"},
}


def config_text(name: str, base: Path | None, minutes: float, run_dir: Path, learning_rate: float | None, template: str | None = None) -> str:
    """demo/run.toml with this run's reward, start, budget and folder."""
    text = (ROOT / "demo" / "run.toml").read_text()
    spec = RUNS[name]
    out = []
    for line in text.splitlines():
        key = line.split("=")[0].strip()
        if key in ("schedule", "preset"):
            line = spec["reward"].format(root=ROOT)
        elif key in ("train", "eval"):
            line = line.replace('"data/', f'"{ROOT}/demo/data/')
        elif key == "time_limit_s":
            line = f"time_limit_s = {minutes * 60:g}"
        elif key == "learning_rate" and learning_rate:
            line = f"learning_rate = {learning_rate:g}"
        elif key == "template" and template:
            line = f'template = "{template}"'
        out.append(line)
        if line.strip() == "[policy]":
            if base:
                out.append(f'model = "{base}"')
            out.append(f'init = "{spec.get("init", "pretrained")}"')
        if line.strip() == "[run]":
            out.append(f'dir = "{run_dir}"')
    return "\n".join(out) + "\n"


def slug(name: str) -> str:
    """A run's folder name: "demo schedule, random init" → demo-schedule-random-init."""
    return name.replace(",", "").replace(" ", "-")


def run(name: str, args: argparse.Namespace) -> Path:
    folder = slug(name)
    run_dir = args.out / folder
    config = args.out / f"{folder}.toml"
    config.write_text(config_text(name, args.base, args.minutes, run_dir, args.learning_rate, args.template))
    with (args.out / f"{folder}.log").open("w") as log:
        subprocess.run([sys.executable, "-m", "rollout_engine.train", "--config", str(config)], cwd=ROOT / "engine", stdout=log, stderr=subprocess.STDOUT, check=True)
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="a new folder for the runs, their configs and logs")
    parser.add_argument("--minutes", type=float, default=10.0, help="training time per run (evaluations not counted)")
    parser.add_argument("--base", type=Path, help="the base model folder (default: the shipped base)")
    parser.add_argument("--learning-rate", type=float, help="instead of demo/run.toml's")
    parser.add_argument("--template", help="instead of demo/run.toml's")
    parser.add_argument("--only", help="comma-separated run names or their folder names, e.g. demo-schedule-random-init (default: all four)")
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=False)
    only = {o.strip() for o in args.only.split(",")} if args.only else set()
    names = [n for n in RUNS if not only or n in only or slug(n) in only]
    with ThreadPoolExecutor(args.parallel) as pool:
        dirs = dict(zip(names, pool.map(lambda n: run(n, args), names)))
    subprocess.run([sys.executable, str(ROOT / "bench" / "learning_curves.py"), "--out", str(args.out / "curves.png"),
                    *(f"{name}={path}" for name, path in dirs.items())], check=True)


if __name__ == "__main__":
    main()
