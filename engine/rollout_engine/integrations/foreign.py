"""Runs from other trainers as Rollout Studio run directories (docs/importing.md).

    python -m rollout_engine.integrations.foreign import SOURCE --out RUN_DIR [--format trl|verl|jsonl]
                                                         [--preset NAME [--option k=v ...] | --schedule FILE]
                                                         [--dataset FILE] [--template NAME]
    python -m rollout_engine.integrations.foreign follow-verl DUMP_DIR --out RUN_DIR [--metrics FILE] ...

Each source is read as steps of samples (prompt, completion, ground truth, the reward its trainer recorded,
its advantage when known); every sample is scored again by a Rollout Studio reward through the reward host,
so the explorer shows each component with its explanation, and the trainer's own reward is kept beside it
(`source_reward`). The readers follow the formats as the trainers' code writes them:
- TRL (checked with 1.13.0): `completions/completions_{step:05d}.parquet` (written with log_completions=True):
  step, prompt (the rendered prompt text), completion, one column per reward function, log_extra columns,
  advantage. The ground truth comes from a `ground_truth` column, or from `--dataset` by the
  `rollout_studio/id` column (Rollout Studio's reward_funcs log it) or by the request text inside the prompt.
  trainer_state.json (the newest checkpoint-*/) gives the learning rate, KL, entropy and gradient norm.
- verl (formats in integrations/verl.py): `{global_step}.jsonl` rollout dumps with input, output, gts,
  score, step and the reward's extra keys; the `file` logger's `{"step", "data"}` lines for metrics.
- JSONL: one sample per line, as `rollout-studio score` reads them (docs/dataset-format.md), with optional
  `step`, `reward` (the recorded one) and `advantage`.
Groups are runs of samples with the same prompt, as both trainers write them.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ..advantages import advantages_by_group, zero_variance_fraction
from ..calls import same_calls
from ..reward_client import RewardHost, RewardSource
from ..rundir import RunWriter, check_new_run_dir
from .records import as_calls, component_stats, json_value, messages_of, number_or_none, stat


class ForeignRunError(ValueError):
    """A source that cannot be read as a run: the message names the file, line or column and what to do."""


@dataclass
class ForeignSample:
    """One sample of another trainer's run, as Rollout Studio records it."""

    step: int
    prompt_id: str
    messages: list[dict[str, str]]
    completion: str
    ground_truth: list[dict[str, Any]] | None  # calls; None when the source's truth is not a list of calls
    truth_for_reward: Any  # what the reward reads as the ground truth (the calls, or the source's raw text)
    tools: list[dict[str, Any]] = field(default_factory=list)
    source_reward: float | None = None
    advantage: float | None = None
    completion_tokens: int = 0
    finish_reason: str = "stop"


# ---------------------------------------------------------------------------------------------- readers

class DatasetIndex:
    """A dataset in Rollout Studio's format, looked up by id or by the request text a rendered prompt holds."""

    def __init__(self, path: Path):
        from ..data import read_dataset

        self.path = path
        self.samples = read_dataset(path)
        self.by_id = {s.id: s for s in self.samples}
        self.by_request: dict[str, list[Any]] = {}
        for s in self.samples:
            request = next((m["content"] for m in reversed(s.messages) if m["role"] == "user"), "")
            self.by_request.setdefault(request, []).append(s)
        # Longest requests first, so "Weather in Oslo tomorrow" is not taken for "Weather in Oslo".
        self.requests = sorted(self.by_request, key=len, reverse=True)

    def find(self, sample_id: Any, prompt_text: str, where: str):
        if sample_id is not None and str(sample_id) in self.by_id:
            return self.by_id[str(sample_id)]
        for request in self.requests:
            if request and request in prompt_text:
                matches = self.by_request[request]
                if len({json.dumps(m.ground_truth, sort_keys=True) for m in matches}) > 1:
                    raise ForeignRunError(f"{where}: the prompt's request {request[:60]!r} is in {len(matches)} samples of {self.path} with "
                                          "different ground truths; give the dataset ids (log the `rollout_studio/id` column) to tell them apart")
                return matches[0]
        raise ForeignRunError(f"{where}: no sample of {self.path} matches this prompt (by id or by its request text); "
                              "is it the dataset the run trained on?")


def read_jsonl(path: Path) -> dict[int, list[ForeignSample]]:
    """A JSONL file of samples (docs/dataset-format.md's fields, `completion`, optional `step`, `reward`, `advantage`)."""
    steps: dict[int, list[ForeignSample]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ForeignRunError(f"{where}: not JSON ({err.msg}); each line must be one sample object") from None
        if not isinstance(row, dict) or not isinstance(row.get("completion"), str):
            raise ForeignRunError(f"{where}: a sample needs a `completion` string")
        calls = as_calls(row.get("ground_truth"))
        if calls is None and "ground_truth" not in row:
            raise ForeignRunError(f"{where}: a sample needs a `ground_truth` (a list of calls, [] for none)")
        step = row.get("step", 1)
        if not isinstance(step, int) or step < 1:
            raise ForeignRunError(f"{where}: `step` must be a whole number from 1, got {step!r}")
        messages = messages_of(row.get("messages") if row.get("messages") is not None else row.get("prompt", row.get("query", "")))
        steps.setdefault(step, []).append(ForeignSample(
            step=step, prompt_id=str(row.get("id") or row.get("prompt_id") or f"line-{n}"), messages=messages,
            completion=row["completion"], ground_truth=calls, truth_for_reward=calls if calls is not None else row.get("ground_truth"),
            tools=row.get("tools") if isinstance(row.get("tools"), list) else [], source_reward=number_or_none(row.get("reward")),
            advantage=number_or_none(row.get("advantage"))))
    return steps


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ForeignRunError(f"{path}: reading TRL's completions needs the pyarrow package in the engine's Python (pip install pyarrow)") from None
    try:
        return pq.read_table(path).to_pylist()
    except Exception as err:  # noqa: BLE001 — pyarrow's errors are many; each names the problem
        raise ForeignRunError(f"{path}: not a readable parquet file ({err})") from None


TRL_COLUMNS = ("step", "prompt", "completion")
TRL_ID = "rollout_studio/id"


def read_trl(folder: Path, dataset: DatasetIndex | None) -> dict[int, list[ForeignSample]]:
    """TRL's completions folder (the output_dir, or its completions/ folder)."""
    files = sorted((folder / "completions").glob("completions_*.parquet")) or sorted(folder.glob("completions_*.parquet"))
    if not files:
        raise ForeignRunError(f"{folder}: no completions_*.parquet here or in completions/; TRL writes them with log_completions=True")
    steps: dict[int, list[ForeignSample]] = {}
    for file in files:
        rows = _read_parquet(file)
        if not rows:
            continue
        missing = [c for c in TRL_COLUMNS if c not in rows[0]]
        if missing:
            raise ForeignRunError(f"{file}: missing column(s) {', '.join(missing)}; TRL's completions have step, prompt, completion, "
                                  "the reward functions' columns and advantage")
        reward_columns = [c for c in rows[0] if c not in (*TRL_COLUMNS, "advantage", "image") and "/" not in c and c != "ground_truth"]
        for n, row in enumerate(rows):
            where = f"{file} row {n}"
            step = row["step"]
            if not isinstance(step, int):
                raise ForeignRunError(f"{where}: `step` is {step!r}, not a whole number")
            step = step or 1  # TRL logs the first batch at global step 0 when logging_steps is 1 and logging_first_step is set
            prompt_text = row["prompt"] if isinstance(row["prompt"], str) else json.dumps(row["prompt"])
            calls = as_calls(row.get("ground_truth"))
            tools: list[dict[str, Any]] = []
            messages = messages_of(row["prompt"])
            prompt_id = row.get(TRL_ID)
            if calls is None:
                if dataset is None:
                    raise ForeignRunError(f"{where}: no ground truth in the completions; pass --dataset with the training data "
                                          "(Rollout Studio's format) so each prompt's ground truth can be found")
                sample = dataset.find(prompt_id, prompt_text, where)
                calls, tools, messages, prompt_id = sample.ground_truth, sample.tools, sample.messages, sample.id
            # TRL's reward is the (weighted) sum of its functions' columns, a function's None (NaN) left out; all
            # None: no reward. The weights are not in the table: a run with reward_weights other than 1 shows the plain sum.
            values = [v for v in (number_or_none(row.get(c)) for c in reward_columns) if v is not None]
            total = sum(values) if values else None
            steps.setdefault(step, []).append(ForeignSample(
                step=step, prompt_id=str(prompt_id or "prompt-" + hashlib.sha1(prompt_text.encode()).hexdigest()[:12]), messages=messages,
                completion=str(row["completion"]), ground_truth=calls, truth_for_reward=calls, tools=tools,
                source_reward=total, advantage=number_or_none(row.get("advantage"))))
    return steps


def trl_update_stats(folder: Path) -> dict[int, dict[str, Any]]:
    """Per-step learning rate, KL, entropy, clip ratio and gradient norm from the newest trainer_state.json."""
    states = sorted(folder.glob("checkpoint-*/trainer_state.json"), key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))
    if (folder / "trainer_state.json").exists():
        states.append(folder / "trainer_state.json")
    if not states:
        return {}
    try:
        history = json.loads(states[-1].read_text(encoding="utf-8")).get("log_history", [])
    except (OSError, json.JSONDecodeError):
        return {}
    stats: dict[int, dict[str, Any]] = {}
    for entry in history:
        if isinstance(entry, dict) and isinstance(entry.get("step"), int):
            stats[entry["step"]] = {"learning_rate": number_or_none(entry.get("learning_rate")), "kl": number_or_none(entry.get("kl")),
                                    "entropy": number_or_none(entry.get("entropy")), "grad_norm": number_or_none(entry.get("grad_norm")),
                                    "clip_fraction": number_or_none(entry.get("clip_ratio/region_mean"))}
    return stats


# ---------------------------------------------------------------------------------------------- writing

def groups_of(samples: list[ForeignSample]) -> list[tuple[int, int]]:
    """(group, sample) for each sample: runs of the same prompt are a group."""
    out, group, index = [], -1, 0
    for k, s in enumerate(samples):
        if k == 0 or s.prompt_id != samples[k - 1].prompt_id:
            group, index = group + 1, 0
        out.append((group, index))
        index += 1
    return out


class ForeignRun:
    """Writes another trainer's steps as a Rollout Studio run: scores each step's samples with the reward
    host and writes the records, the index and a metrics row (contract/run-directory.schema.json)."""

    def __init__(self, out: Path, source: RewardSource, *, trainer: str, path: Path, mode: str, config: dict[str, Any] | None = None,
                 host: RewardHost | None = None, base: str | None = None):
        check_new_run_dir(out)
        self.host = host or RewardHost(source)
        self.own_host = host is None
        reward = {"preset": source.preset, "schedule": source.schedule, "options": dict(source.options)}
        self.writer = RunWriter(out, out.name, {**(config or {}), "reward": reward}, base)
        self.writer.info["source"] = {"trainer": trainer, "path": str(path), "mode": mode}
        self.writer.set_status("running")
        self.started = time.time()
        self.steps = 0

    def write_step(self, step: int, samples: list[ForeignSample], update: dict[str, Any] | None = None,
                   progress: float = 0.0, epoch: float = 0.0) -> dict[str, Any]:
        t0 = time.time()
        wire = [{"id": f"{s.prompt_id}#{k}", "completion": s.completion, "ground_truth": s.truth_for_reward, "tools": s.tools or None}
                for k, s in enumerate(samples)]
        scores = self.host.score(wire, step=step, progress=progress, epoch=epoch)
        scored_s = time.time() - t0
        for score in scores:
            self.writer.reward_version(score["version"], self.host.schedules.get(score["version"]), self.host.schedule_file, step)
        rewards = [score["total"] if number_or_none(score["total"]) is not None else None for score in scores]
        groups = groups_of(samples)
        if all(s.advantage is not None for s in samples):
            advantages = [float(s.advantage) for s in samples]  # type: ignore[arg-type]  — the trainer's own
        else:
            advantages = advantages_by_group([s.source_reward if s.source_reward is not None else r for s, r in zip(samples, rewards)],
                                             [g for g, _ in groups])
        exact = [s.ground_truth is not None and same_calls(score.get("calls"), s.ground_truth) for s, score in zip(samples, scores)]
        records = []
        for k, (s, score) in enumerate(zip(samples, scores)):
            records.append({"run": self.writer.info["id"], "step": step, "prompt_id": s.prompt_id, "group": groups[k][0], "sample": groups[k][1],
                            "policy_version": step - 1, "reward_version": score["version"], "prompt": {"messages": s.messages, "tools": s.tools},
                            "completion": s.completion, "calls": score["calls"], "parse_failure": score["parseFailure"],
                            "ground_truth": s.ground_truth or [], "reward": rewards[k], "components": score["components"], "failure": score["failure"],
                            "advantage": advantages[k], "trained": rewards[k] is not None, "prompt_tokens": 0,
                            "completion_tokens": s.completion_tokens, "finish_reason": s.finish_reason, "source_reward": s.source_reward})
        self.writer.rollouts(step, records, exact)
        ok = [sc for sc, r in zip(scores, rewards) if r is not None]
        components = component_stats(ok)
        reasons = Counter(sc["parseFailure"]["reason"] for sc in scores if sc["parseFailure"])
        sizes = Counter(g for g, _ in groups)
        size = max(sizes.values()) if sizes else 1
        update = update or {}
        lengths = [s.completion_tokens for s in samples]
        metrics = {
            "step": step, "elapsed_s": round(time.time() - self.started, 3), "learning_rate": update.get("learning_rate"),
            "time": {"step": step, "progress": progress, "epoch": epoch},
            "reward": stat([r for r in rewards if r is not None]), "components": components,
            "format_pass_rate": sum(1 for sc in ok if sc["components"].get("format", {}).get("raw", 0) > 0) / max(1, len(scores)),
            "parse_failure_rate": sum(reasons.values()) / max(1, len(scores)), "parse_failures": dict(reasons),
            "exact_match_rate": sum(exact) / max(1, len(exact)), "reward_failures": len(scores) - len(ok),
            "zero_variance_groups": zero_variance_fraction(rewards, size) if len(set(sizes.values())) == 1 else 0.0,
            "advantage": stat(advantages),
            "kl": update.get("kl"), "entropy": update.get("entropy"), "clip_fraction": update.get("clip_fraction"), "grad_norm": update.get("grad_norm"),
            "update_skipped": False,
            "completion_length": {"mean": sum(lengths) / max(1, len(lengths)), "max": max(lengths, default=0)},
            "truncation_rate": sum(1 for s in samples if s.finish_reason == "length") / max(1, len(samples)),
            # The trainer's timings are not in its dumps: only Rollout Studio's scoring time is known.
            "tokens_per_s": {"rollout": 0.0, "train": 0.0},
            "time_s": {"rollout": 0.0, "reward": round(scored_s, 4), "update": 0.0},
        }
        self.writer.metrics(step, metrics)
        self.steps += 1
        return metrics

    def finish(self, status: str = "finished", error: str | None = None) -> None:
        summary: dict[str, Any] = {"steps": self.steps, "seconds": round(time.time() - self.started, 1), "step": self.writer.info.get("step", 0)}
        if error:
            summary["error"] = error
        self.writer.finish(status, summary)
        if self.own_host:
            self.host.close()


def import_steps(steps: dict[int, list[ForeignSample]], out: Path, source: RewardSource, *, trainer: str, path: Path,
                 update_stats: dict[int, dict[str, Any]] | None = None, log: Callable[[str], None] = print) -> Path:
    if not steps:
        raise ForeignRunError(f"{path}: no samples found")
    run = ForeignRun(out, source, trainer=trainer, path=path, mode="import")
    last = max(steps)
    try:
        for step in sorted(steps):
            metrics = run.write_step(step, steps[step], (update_stats or {}).get(step), progress=(step - 1) / max(1, last))
            log(f"step {step}: {len(steps[step])} samples, reward {metrics['reward']['mean']:.3f}, exact {metrics['exact_match_rate']:.0%}")
    except BaseException as err:
        run.finish("failed", str(err))
        raise
    run.finish()
    return out


def detect_format(source: Path) -> str:
    if source.is_file():
        return "jsonl"
    if list(source.glob("completions_*.parquet")) or list((source / "completions").glob("completions_*.parquet")):
        return "trl"
    if any(re.fullmatch(r"\d+\.jsonl", p.name) for p in source.glob("*.jsonl")):
        return "verl"
    raise ForeignRunError(f"{source}: not a run Rollout Studio can import (no TRL completions_*.parquet, no verl <step>.jsonl dumps); "
                          "name the format with --format")


def reward_source(args: argparse.Namespace) -> RewardSource:
    if args.schedule and args.preset:
        raise ForeignRunError("give --preset or --schedule, not both")
    options: dict[str, Any] = {}
    for item in args.option or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ForeignRunError(f"--option {item!r}: write key=value")
        options[key] = json_value(value)
    if args.schedule:
        return RewardSource(schedule=str(Path(args.schedule).resolve()))
    return RewardSource(preset=args.preset or "tool-n1", options=options)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rollout-studio import", description="Another trainer's run as a Rollout Studio run directory.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("import", "follow-verl"):
        p = sub.add_parser(name)
        p.add_argument("source", type=Path)
        p.add_argument("--out", type=Path, required=True, help="the new run directory")
        p.add_argument("--preset")
        p.add_argument("--schedule")
        p.add_argument("--option", action="append")
        p.add_argument("--dataset", type=Path, help="the training data (Rollout Studio's format), for completions without a ground truth")
        if name == "import":
            p.add_argument("--format", choices=["trl", "verl", "jsonl"])
        else:
            p.add_argument("--metrics", type=Path, help="verl's file-logger output (JSON Lines)")
            p.add_argument("--idle-exit-s", type=float, default=0.0, help="stop after this long with nothing new (0: follow until interrupted)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        source = reward_source(args)
        if not args.source.exists() and args.command == "import":
            raise ForeignRunError(f"{args.source}: no such file or folder")
        dataset = DatasetIndex(args.dataset) if args.dataset else None
        if args.command == "follow-verl":
            import signal

            from .verl import follow

            def stop(*_: Any) -> None:  # SIGTERM ends the follower as Ctrl-C does: the run is marked stopped
                raise KeyboardInterrupt

            signal.signal(signal.SIGTERM, stop)
            follow(args.source, args.out, source, metrics_file=args.metrics, idle_exit_s=args.idle_exit_s, dataset=dataset)
            return 0
        fmt = args.format or detect_format(args.source)
        if fmt == "jsonl":
            steps, stats = read_jsonl(args.source), None
        elif fmt == "trl":
            steps, stats = read_trl(args.source, dataset), trl_update_stats(args.source)
        else:
            from .verl import read_dumps

            steps, stats = read_dumps(args.source, dataset), None
        import_steps(steps, args.out, source, trainer=fmt, path=args.source.resolve(), update_stats=stats)
        print(f"wrote {args.out}")
        return 0
    except ForeignRunError as err:
        print(f"rollout-studio import: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
