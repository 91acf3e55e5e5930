"""Times the papers' own reward functions on the benchmark's workload, for comparison with Rollout Studio.

The papers' code is not part of Rollout Studio: point this at your own checkouts.
    node dist/bench/reward-throughput.cjs --dump-workload /tmp/rs-workload
    python3 bench/papers_baseline.py --workload /tmp/rs-workload \
        --tool-n1 path/to/Tool-N1/verl/verl/utils/reward_score/toolcall.py \
        --toolrl path/to/ToolRL/verl/utils/reward_score/rlla.py
Each function is called as the papers' trainers call it: Tool-N1's compute_score_v0(completion, ground-truth
JSON), ToolRL's compute_score(completion, ground-truth string, step) with EXPERIMENT_NAME=qwen. Their
print statements go to a null stream, as they would to a log.
"""
import argparse
import contextlib
import importlib.util
import io
import json
import os
import statistics
import time


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rate(fn, rows, repeats):
    rates = []
    sink = io.StringIO()
    for _ in range(repeats + 1):
        start = time.perf_counter()
        with contextlib.redirect_stdout(sink):
            for args in rows:
                fn(*args)
        rates.append(len(rows) / (time.perf_counter() - start))
        sink.seek(0)
        sink.truncate()
    return statistics.median(rates[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", required=True)
    parser.add_argument("--tool-n1")
    parser.add_argument("--toolrl")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("| reward | papers' Python code (completions/s) |")
    print("|---|---:|")
    if args.tool_n1:
        module = load(args.tool_n1, "toolcall")
        rows = [(r["completion"], r["ground_truth"]) for r in map(json.loads, open(os.path.join(args.workload, "tool-n1.jsonl")))]
        print(f"| tool-n1 (compute_score_v0) | {rate(module.compute_score_v0, rows, args.repeats):,.0f} |")
    if args.toolrl:
        os.environ["EXPERIMENT_NAME"] = "qwen"
        module = load(args.toolrl, "rlla")
        rows = [(r["completion"], r["ground_truth"], i // 1024) for i, r in enumerate(map(json.loads, open(os.path.join(args.workload, "toolrl.jsonl"))))]
        print(f"| toolrl (compute_score) | {rate(module.compute_score, rows, args.repeats):,.0f} |")


if __name__ == "__main__":
    main()
