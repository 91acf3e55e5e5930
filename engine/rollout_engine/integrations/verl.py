"""Rollout Studio rewards and run directories for verl (docs/verl.md). verl is not imported here: the reward
function is a plain (async) function verl loads from this file's path, and the follower reads verl's files.

In the verl command line (0.7.1+; before it, drop the `reward.` prefix):

    reward.custom_reward_function.path=$ROLLOUT_STUDIO/engine/rollout_engine/integrations/verl.py
    reward.custom_reward_function.name=compute_score
    +reward.custom_reward_function.reward_kwargs.schedule=/abs/reward-schedule.ts   (or .preset=tool-n1)
    trainer.rollout_data_dir=/abs/dumps trainer.logger='["console","file"]'   (env VERL_FILE_LOGGER_PATH=/abs/metrics.jsonl)

and beside it `rollout-studio follow-verl /abs/dumps --out .rollout-studio/runs/NAME --metrics /abs/metrics.jsonl`.

- `compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs)` (and the same as
  `compute_score_async`): verl calls it once per sample, concurrently, from each reward worker process. Each
  process starts one reward host; the calls that arrive within a few milliseconds of each other go to it as
  one batch (ScoreBatcher). It returns {"score": total, "rs_failed", "rs_exact", "rs_version",
  "rs_components"}: the same keys for every sample, as verl requires, floats where verl averages them.
- A reward failure cannot be None in verl (its score is a number in a tensor): it is scored 0.0 *and* marked
  `rs_failed = 1.0`, logged as an error, and the follower records it as a failure (scored again by the same
  schedule, it fails again). With `on_failure="raise"` the call raises instead: verl 0.9+'s trainer then
  marks the prompt's group as failed; older trainers stop.
- The schedule's training time: verl does not pass the step to a reward function. With `rollout_data_dir`
  (and `total_steps`) in the reward kwargs, the step is the newest dump's step + 1; else extra_info's
  `global_step` / `step` when the dataset carries one; else 0.

verl's formats as read here (checked against verl's code at tags v0.4.1, v0.5.0, v0.6.1, v0.7.0, v0.7.1,
v0.8.0, v0.9.0 and main of 2026-08; fixtures in test/fixtures/verl/):
- rollout dumps `{dir}/{global_step}.jsonl`, one file per step written whole: input, output, score, step and
  the reward's extra keys (0.4–0.5); + gts (0.6–0.8); input, output, gts, score, step, uid only (0.9+ V1
  trainer, uid = `{prompt uuid}_{rollout}_{output}`). Text is decoded without special tokens.
- the `file` logger: `{"step": N, "data": {metric: value}}` per line (0.6+); actor/lr, actor/entropy,
  actor/grad_norm, actor/kl_loss, actor/pg_clipfrac, timing_s/gen, timing_s/update_actor are used.
"""
from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import re
import threading
import time
import weakref
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

from ..calls import same_calls
from ..reward_client import RewardHost, RewardHostError, RewardSource
from .foreign import DatasetIndex, ForeignRun, ForeignRunError, ForeignSample
from .records import as_calls, number_or_none

logger = logging.getLogger("rollout_studio.verl")
EXTRA_KEYS = ("rs_failed", "rs_exact", "rs_version", "rs_components")


# ------------------------------------------------------------------------------------- the reward function

def by_training_time(batch: list) -> dict[tuple[int, float], list]:
    """A batch's waiting calls (sample, step, progress, future) by training time: one host call each (a
    batch rarely spans two steps)."""
    groups: dict[tuple[int, float], list] = {}
    for item in batch:
        groups.setdefault((item[1], item[2]), []).append(item)
    return groups


class ScoreBatcher:
    """Gathers single-sample score calls from many threads into batches for one reward host: a batch goes
    when `max_batch` samples wait or `max_wait_s` after the first of them, whichever comes first."""

    def __init__(self, source: RewardSource, *, max_batch: int = 256, max_wait_s: float = 0.005, host: RewardHost | None = None):
        self.source = source
        self.host = host
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.batches = 0
        self._pending: list[tuple[dict[str, Any], int, float, Future]] = []
        self._lock = threading.Condition()
        self._host_lock = threading.Lock()  # the host answers one request at a time
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="rollout-studio-batcher", daemon=True)
        self._thread.start()

    def submit(self, sample: dict[str, Any], step: int, progress: float) -> Future:
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RewardHostError("the Rollout Studio reward bridge is closed")
            self._pending.append((sample, step, progress, future))
            if len(self._pending) == 1 or len(self._pending) >= self.max_batch:  # wake the batcher only when it has something to decide
                self._lock.notify()
        return future

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closed:
                    self._lock.wait()
                if self._closed and not self._pending:
                    return
                deadline = time.monotonic() + self.max_wait_s
                while len(self._pending) < self.max_batch and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._lock.wait(left)
                batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
            self._score(batch)

    def score_now(self, samples: list[dict[str, Any]], step: int, progress: float) -> list[dict[str, Any]]:
        """Scores a batch at once (from any thread)."""
        with self._host_lock:
            if self.host is None:
                self.host = RewardHost(self.source)
            scores = self.host.score(samples, step=step, progress=progress, epoch=0.0)
            self.batches += 1
            return scores

    def _score(self, batch) -> None:
        for (step, progress), items in by_training_time(batch).items():
            try:
                scores = self.score_now([s for s, *_ in items], step, progress)
            except Exception as err:  # noqa: BLE001 — every waiting call gets the error
                for *_, future in items:
                    future.set_exception(err)
                continue
            for (*_, future), score in zip(items, scores):
                future.set_result(score)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._thread.join(timeout=5)
        if self.host is not None:
            self.host.close()


class LoopBatcher:
    """The same batching inside one asyncio event loop (verl's reward loop awaits an async reward function):
    calls wait in the loop, and a batch goes to the reward host in a worker thread; no thread hand-off per call."""

    def __init__(self, batcher: ScoreBatcher):
        self.batcher = batcher
        self._pending: list[tuple[dict[str, Any], int, float, asyncio.Future]] = []
        self._flush: asyncio.TimerHandle | None = None

    def submit(self, sample: dict[str, Any], step: int, progress: float) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((sample, step, progress, future))
        if len(self._pending) >= self.batcher.max_batch:
            self._send(loop)
        elif self._flush is None:
            self._flush = loop.call_later(self.batcher.max_wait_s, self._send, loop)
        return future

    def _send(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        batch, self._pending = self._pending, []
        for (step, progress), items in by_training_time(batch).items():
            done = loop.run_in_executor(None, self.batcher.score_now, [s for s, *_ in items], step, progress)
            done.add_done_callback(lambda d, items=items: self._answer(d, items))

    @staticmethod
    def _answer(done: asyncio.Future, items: list) -> None:
        error = done.exception()
        for k, (*_, future) in enumerate(items):
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(done.result()[k])


_LOOP_BATCHERS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, LoopBatcher]]" = weakref.WeakKeyDictionary()
_BATCHERS: dict[str, ScoreBatcher] = {}
_BATCHERS_LOCK = threading.Lock()


def _loop_batcher(schedule: str | None, preset: str | None, options: dict[str, Any] | None) -> LoopBatcher:
    batcher = _batcher(schedule, preset, options)
    per_loop = _LOOP_BATCHERS.setdefault(asyncio.get_running_loop(), {})
    key = str(id(batcher))
    if key not in per_loop or per_loop[key].batcher is not batcher:
        per_loop[key] = LoopBatcher(batcher)
    return per_loop[key]


def _batcher(schedule: str | None, preset: str | None, options: dict[str, Any] | None) -> ScoreBatcher:
    schedule = schedule or os.environ.get("ROLLOUT_STUDIO_SCHEDULE")
    preset = preset or os.environ.get("ROLLOUT_STUDIO_PRESET")
    if schedule and preset:
        raise ValueError("Rollout Studio's verl reward: give a schedule or a preset, not both")
    source = RewardSource(schedule=str(Path(schedule).resolve())) if schedule else RewardSource(preset=preset or "tool-n1", options=options or {})
    key = json.dumps([source.schedule, source.preset, source.options], sort_keys=True, default=str)
    with _BATCHERS_LOCK:
        if key not in _BATCHERS:
            _BATCHERS[key] = ScoreBatcher(source)
            if len(_BATCHERS) == 1:
                atexit.register(close_all)
        return _BATCHERS[key]


def close_all() -> None:
    with _BATCHERS_LOCK:
        batchers = list(_BATCHERS.values())
        _BATCHERS.clear()
    for batcher in batchers:
        batcher.close()


_DUMP_STEPS: dict[str, tuple[float, int]] = {}  # dump folder -> (when it was listed, its newest dump's step)


def newest_dump_step(folder: str) -> int:
    """The step of the newest `{step}.jsonl` in verl's dump folder, listed at most once a second per folder:
    verl calls the reward once per sample, and a step's dump is written seconds before the next step scores."""
    now = time.monotonic()
    seen = _DUMP_STEPS.get(folder)
    if seen is None or now - seen[0] >= 1.0:
        seen = (now, max((int(p.stem) for p in Path(folder).glob("*.jsonl") if p.stem.isdigit()), default=0))
        _DUMP_STEPS[folder] = seen
    return seen[1]


def training_time(extra_info: dict[str, Any] | None, rollout_data_dir: str | None, total_steps: int | None) -> tuple[int, float]:
    """(step, progress) for the schedule: from the newest rollout dump, else extra_info, else (0, 0).
    total_steps may come as text (reward_kwargs from a command line)."""
    total_steps = int(total_steps) if total_steps not in (None, "") else None
    step = 0
    if rollout_data_dir:
        step = newest_dump_step(rollout_data_dir) + 1
    elif isinstance(extra_info, dict):
        for key in ("global_step", "step"):
            if isinstance(extra_info.get(key), int):
                step = extra_info[key]
                break
    progress = min(1.0, max(0.0, (step - 1) / total_steps)) if total_steps and step else 0.0
    return step, progress


def _result(score: dict[str, Any], truth: list[dict[str, Any]] | None, on_failure: str) -> dict[str, Any]:
    """verl's answer for one score; a reward failure raises with on_failure="raise", else is marked."""
    total = number_or_none(score.get("total"))
    failed = total is None
    if failed:
        failure = score.get("failure") or {}
        if on_failure == "raise":
            raise RewardHostError(f"Rollout Studio reward failure ({failure.get('kind')}): {failure.get('message')}")
        logger.error("Rollout Studio: reward failure (%s): %s — scored 0.0 and marked rs_failed", failure.get("kind"), failure.get("message"))
    components = {name: c.get("value") for name, c in (score.get("components") or {}).items()}
    return {"score": 0.0 if failed else total, "rs_failed": 1.0 if failed else 0.0,
            "rs_exact": 1.0 if truth is not None and same_calls(score.get("calls"), truth) else 0.0,
            "rs_version": str(score.get("version") or ""), "rs_components": json.dumps(components)}


def _request(solution_str: str, ground_truth: Any, extra_info: dict[str, Any] | None) -> tuple[dict[str, Any], list | None]:
    truth = as_calls(ground_truth)
    tools = extra_info.get("tools") if isinstance(extra_info, dict) else None
    tools = json.loads(tools) if isinstance(tools, str) else tools
    sample = {"id": str((extra_info or {}).get("index", "verl")), "completion": solution_str,
              "ground_truth": truth if truth is not None else ground_truth, "tools": tools if isinstance(tools, list) else None}
    return sample, truth


def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: dict[str, Any] | None = None, *,
                  schedule: str | None = None, preset: str | None = None, options: dict[str, Any] | None = None,
                  rollout_data_dir: str | None = None, total_steps: int | None = None, on_failure: str = "mark",
                  **_: Any) -> dict[str, Any]:
    """verl's custom reward function, scored by Rollout Studio's reward host (see the module's docstring)."""
    sample, truth = _request(solution_str, ground_truth, extra_info)
    step, progress = training_time(extra_info, rollout_data_dir, total_steps)
    score = _batcher(schedule, preset, options).submit(sample, step, progress).result()
    return _result(score, truth, on_failure)


async def compute_score_async(data_source: str, solution_str: str, ground_truth: Any, extra_info: dict[str, Any] | None = None, *,
                              schedule: str | None = None, preset: str | None = None, options: dict[str, Any] | None = None,
                              rollout_data_dir: str | None = None, total_steps: int | None = None, on_failure: str = "mark",
                              **_: Any) -> dict[str, Any]:
    """compute_score for verl's reward loop (0.6.1+), which awaits an async reward function in its event loop."""
    sample, truth = _request(solution_str, ground_truth, extra_info)
    step, progress = training_time(extra_info, rollout_data_dir, total_steps)
    score = await _loop_batcher(schedule, preset, options).submit(sample, step, progress)
    return _result(score, truth, on_failure)


# ---------------------------------------------------------------------------------------------- the dumps

ROLE_LINE = re.compile(r"(?:^|\n)(system|user|assistant|tool)\n")


def prompt_messages(text: str) -> list[dict[str, str]]:
    """A prompt decoded without special tokens (ChatML loses its markers: "system\\n…\\nuser\\n…\\nassistant\\n")
    as messages; text of another shape is one user message."""
    parts = ROLE_LINE.split(text)
    if len(parts) < 3 or parts[0].strip():
        return [{"role": "user", "content": text}]
    messages = [{"role": role, "content": content.strip("\n")} for role, content in zip(parts[1::2], parts[2::2])]
    if messages and messages[-1]["role"] == "assistant" and not messages[-1]["content"]:
        messages.pop()  # the generation prompt
    return messages or [{"role": "user", "content": text}]


def _prompt_id(row: dict[str, Any]) -> str:
    uid = row.get("uid")
    if isinstance(uid, str) and "_" in uid:
        return uid.split("_", 1)[0]  # 0.9+: {prompt uuid}_{rollout}_{output}
    import hashlib

    return "prompt-" + hashlib.sha1(str(row.get("input", "")).encode()).hexdigest()[:12]


def dump_samples(path: Path, text: str, step: int, *, on_bad_line: Callable[[str], None] | None = None,
                 dataset: DatasetIndex | None = None) -> list[ForeignSample]:
    """One dump file's samples. A line that is not a sample raises ForeignRunError naming it, or, with
    on_bad_line (the follower), is reported there and skipped. Dumps without `gts` (verl before 0.6) take
    the ground truth from `dataset`, found by the request text in the prompt."""
    samples = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("input"), str) or not isinstance(row.get("output"), str):
                raise ValueError("a dump line needs `input` and `output` strings")
        except (json.JSONDecodeError, ValueError) as err:
            message = f"{path}:{n}: not a verl rollout dump line ({err})"
            if on_bad_line is None:
                raise ForeignRunError(message) from None
            on_bad_line(message + "; skipped")
            continue
        messages, tools, prompt_id = prompt_messages(row["input"]), [], _prompt_id(row)
        if "gts" in row:
            truth = row["gts"]
            calls = as_calls(truth)
        elif dataset is not None:
            found = dataset.find(None, row["input"], f"{path}:{n}")
            truth = calls = found.ground_truth
            messages, tools = found.messages, found.tools
        else:
            raise ForeignRunError(f"{path}:{n}: no `gts` (verl before 0.6 does not dump the ground truth); pass --dataset with the "
                                  "training data (Rollout Studio's format) so each prompt's ground truth can be found")
        samples.append(ForeignSample(step=step, prompt_id=prompt_id, messages=messages, completion=row["output"], tools=tools,
                                     ground_truth=calls, truth_for_reward=calls if calls is not None else truth,
                                     source_reward=number_or_none(row.get("score"))))
    return samples


def read_dumps(folder: Path, dataset: DatasetIndex | None = None) -> dict[int, list[ForeignSample]]:
    """Every `{step}.jsonl` dump of a finished run (step 0, the validation before training, left out)."""
    steps = {}
    for path in sorted(folder.glob("*.jsonl"), key=lambda p: int(p.stem) if p.stem.isdigit() else -1):
        if not path.stem.isdigit() or int(path.stem) == 0:
            continue
        steps[int(path.stem)] = dump_samples(path, path.read_text(encoding="utf-8"), int(path.stem), dataset=dataset)
    if not steps:
        raise ForeignRunError(f"{folder}: no verl rollout dumps (<step>.jsonl) here; set trainer.rollout_data_dir to this folder")
    return steps


def logger_metrics(path: Path | None) -> dict[int, dict[str, Any]]:
    """verl's file-logger lines, by step; a partial last line (being written) and lines of another shape are skipped."""
    if path is None or not path.exists():
        return {}
    out: dict[int, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int) and isinstance(row.get("data"), dict):
            out.setdefault(row["step"], {}).update(row["data"])
    return out


def update_stats(data: dict[str, Any]) -> dict[str, Any]:
    """The metrics row's update fields from verl's logged metrics of a step."""
    return {"learning_rate": number_or_none(data.get("actor/lr")), "entropy": number_or_none(data.get("actor/entropy")),
            "grad_norm": number_or_none(data.get("actor/grad_norm")), "kl": number_or_none(data.get("actor/kl_loss")),
            "clip_fraction": number_or_none(data.get("actor/pg_clipfrac"))}


def follow(dump_dir: Path, out: Path, source: RewardSource, *, metrics_file: Path | None = None, idle_exit_s: float = 0.0,
           poll_s: float = 1.0, settle_s: float = 1.0, metrics_wait_s: float = 10.0, log: Callable[[str], None] = print,
           host: RewardHost | None = None, dataset: DatasetIndex | None = None) -> Path:
    """Writes verl's rollout dumps as a Rollout Studio run while verl writes them (follow_dumps). Ends after
    `idle_exit_s` without a new dump (0: on Ctrl-C), marking the run finished; an interrupt marks it stopped."""
    run = ForeignRun(out, source, trainer="verl", path=dump_dir.resolve(), mode="follow", host=host)
    status, error = "finished", None
    try:
        follow_dumps(run, dump_dir, metrics_file=metrics_file, idle_exit_s=idle_exit_s, poll_s=poll_s, settle_s=settle_s,
                     metrics_wait_s=metrics_wait_s, log=log, dataset=dataset)
    except KeyboardInterrupt:
        status = "stopped"
    except BaseException as err:
        status, error = "failed", str(err)
        raise
    finally:
        run.finish(status, error)
    return out


def follow_dumps(run: ForeignRun, dump_dir: Path, *, metrics_file: Path | None = None, idle_exit_s: float = 0.0, poll_s: float = 1.0,
                 settle_s: float = 1.0, metrics_wait_s: float = 10.0, log: Callable[[str], None] = print,
                 dataset: DatasetIndex | None = None, stop: threading.Event | None = None,
                 on_step: Callable[[dict[str, Any]], None] | None = None) -> None:
    """The follower's loop: each `{step}.jsonl` is written to `run` once its size has held for `settle_s`
    (verl writes a dump whole), with the file logger's metrics of that step when they come within
    `metrics_wait_s`. Returns after `idle_exit_s` without a new dump, or when `stop` is set (after a last
    look that takes every dump there is)."""
    seen: dict[int, tuple[int, float]] = {}  # step -> (size, when first seen at that size)
    done: set[int] = set()
    last_new = time.time()
    while True:
        last_look = stop is not None and stop.is_set()
        now = time.time()
        ready = []
        for path in dump_dir.glob("*.jsonl") if dump_dir.exists() else []:
            if not path.stem.isdigit() or int(path.stem) == 0 or int(path.stem) in done:
                continue
            step, size = int(path.stem), path.stat().st_size
            if seen.get(step, (None,))[0] != size and not last_look:
                seen[step] = (size, now)
            elif size > 0 and (last_look or now - seen[step][1] >= settle_s):
                ready.append((step, path))
        for step, path in sorted(ready):
            metrics = logger_metrics(metrics_file)
            if metrics_file is not None and step not in metrics and not last_look and now - seen[step][1] < settle_s + metrics_wait_s:
                continue  # its metrics line may be on its way
            samples = dump_samples(path, path.read_text(encoding="utf-8"), step, on_bad_line=log, dataset=dataset)
            done.add(step)
            last_new = now
            if samples:
                row = run.write_step(step, samples, update_stats(metrics.get(step, {})))
                if on_step is not None:
                    on_step(row)
                else:
                    log(f"step {step}: {len(samples)} samples, reward {row['reward']['mean']:.3f}, exact {row['exact_match_rate']:.0%}")
        if last_look or (idle_exit_s and time.time() - last_new >= idle_exit_s):
            return
        if stop is not None:
            stop.wait(poll_s)
        else:
            time.sleep(poll_s)
