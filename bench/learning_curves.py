"""Learning curves of finished runs side by side: strict accuracy on each evaluation split against
training time, and the training reward per step. Writes a PNG (with matplotlib, when installed) and
prints a Markdown table of the numbers, for docs/learning.md.

    python bench/learning_curves.py --out docs/learning-curves.png LABEL=RUN_DIR [LABEL=RUN_DIR ...]
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def curves(run_dir: Path) -> dict:
    metrics = read_jsonl(run_dir / "metrics.jsonl")
    evals = read_jsonl(run_dir / "eval.jsonl")
    # Training seconds at the end of each step (evaluations excluded), to put evaluations on a time axis.
    clock, seconds = {0: 0.0}, 0.0
    for m in metrics:
        seconds += sum(m["time_s"].get(k, 0.0) for k in ("rollout", "reward", "update", "write"))
        clock[m["step"]] = seconds
    splits: dict[str, list[tuple[int, float, float]]] = {}
    for e in evals:
        splits.setdefault(e["split"], []).append((e["step"], clock.get(e["step"], seconds), e["strict_accuracy"]))
    return {"metrics": metrics, "splits": splits, "seconds": seconds}


def table(label: str, data: dict) -> str:
    splits = sorted(data["splits"])
    rows = [f"**{label}**", "", "| step | training time | " + " | ".join(splits) + " | train reward | train exact | format |",
            "|---:|---:|" + "---:|" * (len(splits) + 3)]
    by_step = {m["step"]: m for m in data["metrics"]}
    for step in sorted({s for points in data["splits"].values() for s, _, _ in points}):
        cells = []
        for split in splits:
            point = next((p for p in data["splits"][split] if p[0] == step), None)
            cells.append(f"{100 * point[2]:.0f} %" if point else "")
        m = by_step.get(step)
        t = next(p[1] for points in data["splits"].values() for p in points if p[0] == step)
        extra = [f"{m['reward']['mean']:.3f}", f"{100 * m['exact_match_rate']:.0f} %", f"{100 * m['format_pass_rate']:.0f} %"] if m else ["", "", ""]
        rows.append(f"| {step} | {t:.0f} s | " + " | ".join(cells + extra) + " |")
    rewards = [m["reward"]["mean"] for m in data["metrics"]]
    exact = [m["exact_match_rate"] for m in data["metrics"]]
    if len(rewards) > 2 and len(set(rewards)) > 1 and len(set(exact)) > 1:
        # A reward that rises while exact calls do not is a hack: this says how closely they move together.
        rows += ["", f"Correlation of a step's mean reward with its exact rate, over {len(rewards)} steps: {statistics.correlation(rewards, exact):.2f}"]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="LABEL=RUN_DIR")
    parser.add_argument("--out", type=Path, help="the PNG to write")
    args = parser.parse_args()
    runs = {}
    for item in args.runs:
        label, _, path = item.partition("=")
        runs[label] = curves(Path(path))
    for label, data in runs.items():
        print(table(label, data) + "\n")
    if args.out is None:
        return
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed for this Python (apt install python3-matplotlib): no plot written")
        return
    splits = sorted({s for data in runs.values() for s in data["splits"]})
    fig, axes = plt.subplots(1, len(splits) + 1, figsize=(4.2 * (len(splits) + 1), 3.6))
    for ax, split in zip(axes, splits):
        for label, data in runs.items():
            points = data["splits"].get(split, [])
            ax.plot([t / 60 for _, t, _ in points], [100 * a for _, _, a in points], marker="o", markersize=3, label=label)
        ax.set_title(f"strict accuracy: {split}")
        ax.set_xlabel("training minutes (2 CPU cores)")
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
    ax = axes[-1]
    for label, data in runs.items():
        ax.plot([m["step"] for m in data["metrics"]], [100 * m["exact_match_rate"] for m in data["metrics"]], label=label, linewidth=1)
    ax.set_title("exact calls in training samples")
    ax.set_xlabel("step")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
