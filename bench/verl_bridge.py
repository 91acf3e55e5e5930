"""What Rollout Studio's verl bridge costs: samples/s through compute_score, called once per sample from many
threads at once as verl's reward loop calls it, against the reward host scoring the same samples in whole
batches itself. Both in one run, alternating, on the same samples (docs/benchmarks.md).

    cd engine && python ../bench/verl_bridge.py --samples 4096 --rounds 3               # async: all calls in flight
    cd engine && python ../bench/verl_bridge.py --samples 4096 --rounds 3 --threads 64  # 64 threads, one call each
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "engine"))

from rollout_engine import demo_data  # noqa: E402
from rollout_engine.data import Sample  # noqa: E402
from rollout_engine.integrations import verl  # noqa: E402
from rollout_engine.reward_client import RewardHost, RewardSource  # noqa: E402
from rollout_engine.templates import ideal_completion  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=0, help="threads calling compute_score, each waiting for its answer "
                        "(verl's sync reward functions run in its executor); 0: every call in flight at once from one event loop (an async reward function)")
    parser.add_argument("--batch", type=int, default=256, help="the host's own batch size, and the bridge's largest batch")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--preset", default="tool-n1")
    args = parser.parse_args()

    rows = demo_data.generate(seed=0, train=args.samples, eval_seen=0, eval_unseen_values=0, eval_unseen_tools=0)["train"]
    samples = [Sample(id=r["id"], tools=r["tools"], messages=r["messages"], ground_truth=r["ground_truth"]) for r in rows]
    # Half right, half with a wrong argument: the reward does its full work on each.
    wire = [{"id": s.id, "completion": ideal_completion(s, "tool-n1").replace('"arguments": {', '"arguments": {"extra": 1, ', 1) if i % 2
             else ideal_completion(s, "tool-n1"), "ground_truth": json.dumps(s.ground_truth)} for i, s in enumerate(samples)][:args.samples]
    source = RewardSource(preset=args.preset)
    host = RewardHost(source)
    batcher = verl.ScoreBatcher(source, max_batch=args.batch)
    host.score(wire[:64], step=1, progress=0.0, epoch=0.0)  # both warm
    batcher.score_now(wire[:64], 1, 0.0)

    def direct() -> float:
        t = time.perf_counter()
        for a in range(0, len(wire), args.batch):
            host.score(wire[a:a + args.batch], step=1, progress=0.0, epoch=0.0)
        return len(wire) / (time.perf_counter() - t)

    def bridged() -> float:
        t = time.perf_counter()
        if args.threads:
            with ThreadPoolExecutor(max_workers=args.threads) as pool:
                list(pool.map(lambda w: batcher.submit(w, 1, 0.0).result(), wire))
        else:  # as verl's reward loop awaits an async reward function: every sample's call in flight at once
            async def all_at_once():
                loop_batcher = verl.LoopBatcher(batcher)
                return await asyncio.gather(*[loop_batcher.submit(w, 1, 0.0) for w in wire])
            asyncio.run(all_at_once())
        return len(wire) / (time.perf_counter() - t)

    pairs = []
    for _ in range(args.rounds):
        d, b = direct(), bridged()
        pairs.append((d, b))
        print(f"host batches {d:,.0f} samples/s, bridge {b:,.0f} samples/s, bridge/host {b / d:.2f}", flush=True)
    host.close()
    batcher.close()
    ratios = [b / d for d, b in pairs]
    print(json.dumps({"samples": len(wire), "threads": args.threads, "batch": args.batch, "preset": args.preset,
                      "host_samples_per_s": statistics.median(d for d, _ in pairs), "bridge_samples_per_s": statistics.median(b for _, b in pairs),
                      "bridge_over_host": statistics.median(ratios), "bridge_batches": batcher.batches}, indent=2))


if __name__ == "__main__":
    main()
