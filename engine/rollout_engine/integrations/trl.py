"""Rollout Studio rewards and run directories for TRL's GRPOTrainer (docs/trl.md).

Three lines in an existing TRL script:

    from rollout_engine.integrations.trl import RolloutStudioCallback, reward_funcs
    rewards = reward_funcs(schedule="reward.ts")          # or preset="tool-n1", options={...}
    trainer = GRPOTrainer(..., reward_funcs=rewards, callbacks=[RolloutStudioCallback(rewards)])

- `reward_funcs` starts the reward host (`node dist/cli.cjs host`, reward_client.py) and returns TRL reward
  functions: one, for the schedule's total. The host hot-reloads a schedule file on save; every score
  carries the version that made it, and the function logs each new version. A reward failure (the schedule
  threw, a value was not finite, a sample timed out, or the host died twice on the batch) is `None` for
  that sample, never 0: TRL leaves it out of its group's baseline and gives it no advantage. Each
  component's weighted value, the version and the failure go to TRL's completions table with `log_extra`,
  and the components' means, the failure rate and the exact-match rate to its metrics with `log_metric`.
- `RolloutStudioCallback` (a transformers `TrainerCallback`) writes a Rollout Studio run directory as the
  run goes, with rundir.py's writers: run.json, a rollouts file and its index per step (prompt, completion,
  parsed calls, ground truth, every component with its explanation, TRL's advantage, reward version), a
  metrics row per step, and rewards/<version>.json for each version that scored.

Why one reward function for the total rather than one per component: a schedule's weights change with
training time (Tool Zero's σ(t)) and its components change on a hot reload, while TRL's `reward_weights`
are constants and its list of reward functions is fixed when the trainer is made. The host's total is
exactly what a Rollout Studio run trains on; the components are logged beside it.

The dataset's rows need the ground truth (column `ground_truth`: a list of {"name", "arguments"} calls, or
that list as JSON text); `tools`, `id` and `messages` (the conversation as the dataset gives it, for the
record) are used when present. `trl_dataset()` makes such rows from a dataset in Rollout Studio's format.

Checked with trl 1.13.0, transformers 5.18.0, accelerate 1.15.0, datasets 5.0.1, torch 2.13 (CPU). This
module imports trl, transformers and datasets only when they are used: the package imports without them.
"""
from __future__ import annotations

import atexit
import hashlib
import json
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..advantages import advantages_by_group
from ..calls import same_calls
from ..reward_client import DEFAULT_CLI, RewardHost, RewardHostError, RewardSource
from ..rundir import RunWriter, check_new_run_dir
from .records import as_calls, component_stats, json_value, messages_of, stat

# RolloutStudioCallback is made on first use (module __getattr__ at the end): it subclasses transformers' TrainerCallback.
__all__ = ["RolloutStudioCallback", "RolloutStudioReward", "reward_funcs", "trl_dataset"]

logger = logging.getLogger("rollout_studio.trl")

# The dataset columns the reward function reads (TRL passes every column but `prompt` to reward functions).
COLUMNS = {"ground_truth": "ground_truth", "tools": "tools", "id": "id", "messages": "messages"}
PREFIX = "rollout_studio"  # of the log_extra columns and log_metric names


def trl_dataset(path: str | Path, template: str = "tool-zero", *, limit: int | None = None):
    """A dataset in Rollout Studio's format (docs/dataset-format.md) as a `datasets.Dataset` GRPOTrainer reads:
    `prompt` is the template's prompt, as the engine renders it (plain text for tool-zero and documentation,
    a conversation for the chat templates tool-n1 and toolrl, which TRL writes with the model's chat
    template); `id`, and `messages`, `tools` and `ground_truth` as JSON text (Arrow would merge the
    differing keys of tool schemas and arguments into one struct, filling them with nulls)."""
    from datasets import Dataset

    from ..data import read_dataset
    from ..templates import PLAIN_TEMPLATES, messages, render_plain

    samples = read_dataset(path)[:limit] if limit else read_dataset(path)
    rows = []
    for s in samples:
        conversation = messages(s, template)  # type: ignore[arg-type]
        prompt = render_plain(conversation, template) if template in PLAIN_TEMPLATES else conversation  # type: ignore[arg-type]
        rows.append({"prompt": prompt, "id": s.id, "messages": json.dumps(s.messages), "tools": json.dumps(s.tools),
                     "ground_truth": json.dumps(s.ground_truth)})
    return Dataset.from_list(rows)


# -- the reward function ---------------------------------------------------------------------------------


@dataclass
class ScoredRow:
    """One completion as the reward function saw it, for the run directory."""

    prompt_id: str
    prompt: dict[str, Any]  # the record's Prompt: {messages, tools}
    raw_prompt: Any  # TRL's prompt (text or conversation), for its token count
    completion: str
    truth: list[dict[str, Any]]  # [] when the column held no calls (truth_known False)
    truth_known: bool
    completion_tokens: int
    stopped: bool


@dataclass
class ScoredBatch:
    """One call of the reward function: what was scored, at which training time, and how long it took."""

    step: int
    progress: float
    epoch: float
    started: float
    finished: float
    rows: list[ScoredRow]
    scores: list[dict[str, Any]]
    exact: list[bool] = field(default_factory=list)


def _completion_text(completion: Any) -> str:
    """TRL's completion: text, or a conversation ([{"role": "assistant", "content": …}, …]) whose contents are joined."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "".join(m.get("content") or "" if isinstance(m.get("content"), (str, type(None))) else json.dumps(m["content"])
                       for m in completion if isinstance(m, dict))
    return str(completion)


def _distributed() -> bool:
    try:
        import torch.distributed as dist
    except ImportError:
        return False
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _gather(items: list[Any]) -> list[Any]:
    """Every process's items, in process order (a collective: every process must call it). As is in one process."""
    if not _distributed():
        return items
    from accelerate.utils import gather_object

    return list(gather_object(items))


def _failure_text(failure: dict[str, Any] | None) -> str | None:
    return f"{failure['kind']}: {failure['message']}" if failure else None


class RolloutStudioReward:
    """A TRL reward function scored by Rollout Studio's reward host: `f(prompts=, completions=,
    completion_ids=, **columns)` → one total per completion, None for a reward failure. Made by
    reward_funcs(); close() ends its host (the host also ends with the training process)."""

    def __init__(self, source: RewardSource, *, template: str | None = None, columns: dict[str, str] | None = None,
                 node: str | None = None, cli: str | Path | None = None, batch_timeout_ms: int | None = None,
                 memory_mb: int | None = None, timeout: float = 600.0, name: str = "rollout_studio"):
        self.__name__ = name  # TRL names the function's metrics rewards/<name>/mean|std
        self.source = source
        self.template = template
        self.columns = {**COLUMNS, **(columns or {})}
        self.timeout = timeout
        self._host_options: dict[str, Any] = {"node": node, "cli": Path(cli) if cli else DEFAULT_CLI,
                                              "batch_timeout_ms": batch_timeout_ms, "memory_mb": memory_mb}
        self.version: str | None = None  # the version that scored last
        self.schedules: dict[str, Any] = {}  # version -> its ScheduleInfo, as the host reported it
        self.trainer: Any = None  # the GRPOTrainer, once it has called (log_extra is its bound method)
        self.collect = False  # a RolloutStudioCallback wants the scored batches
        self.pending: list[ScoredBatch] = []
        self.calls = 0
        self.host_failures = 0  # batches the host failed on (their samples got None)
        self._known_events = 0
        self._logged: list[str] = []  # component names logged so far: every later batch logs them all
        self.host: RewardHost | None = None
        self.host = self._start()  # a schedule that does not load is an error here, before training

    # -- the host ---------------------------------------------------------------------------------

    def _start(self) -> RewardHost:
        host = RewardHost(self.source, on_restart=lambda reason: logger.warning("Rollout Studio: the reward host was restarted: %s", reason),
                          **self._host_options)
        self._known_events = 0
        if self.version is None:
            self.version = host.version  # later versions are reported when they first score (__call__)
        self.schedules.update(host.schedules)
        return host

    @property
    def schedule_file(self) -> str | None:
        """The schedule file now scored with (None for a preset)."""
        return self.host.schedule_file if self.host is not None else self.source.schedule

    def close(self) -> None:
        if self.host is not None:
            self.host.close()
            self.host = None

    def _score(self, wire: list[dict[str, Any]], step: int, progress: float, epoch: float) -> list[dict[str, Any]]:
        """The host's scores; when it fails on the batch even after its own restart, a failure for every sample
        (their rewards are None) and a host started afresh for the next batch."""
        try:
            if self.host is None:
                self.host = self._start()
            scores = self.host.score(wire, step=step, progress=progress, epoch=epoch, timeout=self.timeout)
        except RewardHostError as err:
            self.host_failures += 1
            logger.error("Rollout Studio: the reward host failed on the %d samples of step %d: %s. They get no reward (None); "
                         "the host is started again for the next batch.", len(wire), step, err)
            if self.host is not None:
                self.source = self.host.source  # what it was switched to, if it was
                self.host.close()
                self.host = None
            failure = {"kind": "crashed", "message": f"the reward host failed on this batch: {err}"}
            return [{"total": None, "components": {}, "calls": None, "parseFailure": None, "failure": failure,
                     "version": self.version or "unknown"} for _ in wire]
        host = self.host
        self.schedules.update(host.schedules)
        for event in host.events[self._known_events:]:
            if event.get("event") == "reloaded":
                logger.info("Rollout Studio: the reward schedule was reloaded (%s): version %s, was %s", event.get("reason"), event["version"], event.get("previous"))
            elif event.get("event") == "reload_rejected":
                logger.warning("Rollout Studio: a reload of the reward schedule was rejected, version %s goes on scoring: %s",
                               event.get("version_kept"), event["error"]["message"])
        self._known_events = len(host.events)
        while host.logs:
            log = host.logs.popleft()
            logger.info("Rollout Studio: the reward schedule printed (%s, %s): %s", log.get("stream"), log.get("during"), log.get("text", "").rstrip())
        return scores

    # -- TRL's call -------------------------------------------------------------------------------

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Sequence[Sequence[int]] | None = None,
                 **kwargs: Any) -> list[float | None]:
        started = time.time()
        self.calls += 1
        n = len(completions)
        state = kwargs.get("trainer_state")
        log_extra, log_metric = kwargs.get("log_extra"), kwargs.get("log_metric")
        trainer = getattr(log_extra, "__self__", None)
        if trainer is not None:
            self.trainer = trainer
        training = trainer is None or bool(getattr(getattr(trainer, "model", None), "training", True))
        # The training time the schedule sees, as the engine gives it: step counts from 1 (the step being
        # drawn), progress is the fraction of steps done.
        if state is not None and getattr(state, "global_step", None) is not None:
            step = int(state.global_step) + 1
            progress = state.global_step / state.max_steps if getattr(state, "max_steps", 0) else 0.0
            epoch = float(getattr(state, "epoch", None) or 0.0)
        else:
            step, progress, epoch = self.calls, 0.0, 0.0

        def column(name: str) -> list[Any]:
            values = kwargs.get(self.columns[name])
            return list(values) if values is not None else [None] * n

        truths, tools, ids, conversations = column("ground_truth"), column("tools"), column("id"), column("messages")
        eos_ids = self._stop_ids(trainer)
        rows, wire = [], []
        for i in range(n):
            text = _completion_text(completions[i])
            calls = as_calls(truths[i])
            prompt_id = str(ids[i]) if ids[i] is not None else "prompt-" + hashlib.sha1(json.dumps(prompts[i], sort_keys=True, default=str).encode()).hexdigest()[:12]
            tool_list = json_value(tools[i])
            tool_list = tool_list if isinstance(tool_list, list) else []
            conversation = json_value(conversations[i])
            messages = messages_of(conversation if isinstance(conversation, list) else prompts[i])
            ids_i = list(completion_ids[i]) if completion_ids is not None else []
            stopped = bool(ids_i) and ids_i[-1] in eos_ids
            rows.append(ScoredRow(prompt_id, {"messages": messages, "tools": tool_list}, prompts[i], text, calls or [], calls is not None,
                                  len(ids_i) - 1 if stopped else len(ids_i), stopped or not ids_i))
            wire.append({"id": f"{prompt_id}#{i}", "completion": text, "ground_truth": self._wire_truth(calls, truths[i]),
                         "tools": tool_list if tools[i] is not None else None})
        scores = self._score(wire, step, progress, epoch)
        for score in scores:
            if score["version"] != self.version:  # a hot reload (the host reports it too): say which version scores now
                logger.warning("Rollout Studio: reward version %s scores from step %d on (it was %s)", score["version"], step, self.version)
                self.version = score["version"]
        rewards: list[float | None] = []
        for score in scores:
            total = score["total"]
            rewards.append(float(total) if isinstance(total, (int, float)) and math.isfinite(total) else None)
        exact = [row.truth_known and same_calls(score.get("calls"), row.truth) for row, score in zip(rows, scores)]
        self._log(scores, rewards, exact, log_extra, log_metric, [row.prompt_id for row in rows])
        if self.collect and training:
            self.pending.append(ScoredBatch(step, progress, epoch, started, time.time(), rows, scores, exact))
        return rewards

    def _wire_truth(self, calls: list[dict[str, Any]] | None, raw: Any) -> Any:
        """The ground truth as the reward reads it: ToolRL's target string for the toolrl template, else the calls."""
        if calls is None:
            return raw if isinstance(raw, str) else json.dumps(raw)
        if self.template == "toolrl":
            from ..data import Sample
            from ..templates import reward_ground_truth

            return reward_ground_truth(Sample(id="", tools=[], messages=[], ground_truth=calls), "toolrl")
        return calls

    @staticmethod
    def _stop_ids(trainer: Any) -> set[int]:
        tokenizer = getattr(trainer, "processing_class", None)
        tokenizer = getattr(tokenizer, "tokenizer", tokenizer)  # a processor's tokenizer
        return {i for i in (getattr(tokenizer, "eos_token_id", None), getattr(tokenizer, "pad_token_id", None)) if isinstance(i, int)}

    def _log(self, scores: list[dict[str, Any]], rewards: list[float | None], exact: list[bool], log_extra: Any, log_metric: Any,
             ids: list[str]) -> None:
        """Components, versions and failures to TRL's completions table (log_extra) and metrics (log_metric).
        Every batch logs every component seen so far, agreed between processes (TRL gathers the columns and
        metrics name by name, so all processes must log the same names), a missing one as None / NaN."""
        if not callable(log_extra) and not callable(log_metric):
            return
        names = set(self._logged)
        for score in scores:
            names.update(score["components"])
        self._logged = sorted(set(_gather(sorted(names))))
        if callable(log_extra):
            log_extra(f"{PREFIX}/id", list(ids))  # the dataset row: `rollout-studio import` finds the ground truth by it
            log_extra(f"{PREFIX}/version", [s["version"] for s in scores])
            log_extra(f"{PREFIX}/failure", [_failure_text(s["failure"]) for s in scores])
            for name in self._logged:
                log_extra(f"{PREFIX}/{name}", [s["components"][name]["value"] if name in s["components"] else None for s in scores])
        if callable(log_metric):
            for name in self._logged:
                values = [s["components"][name]["value"] for s, r in zip(scores, rewards) if r is not None and name in s["components"]]
                log_metric(f"{PREFIX}/{name}", sum(values) / len(values) if values else math.nan)
            log_metric(f"{PREFIX}/reward_failures", sum(r is None for r in rewards) / max(1, len(rewards)))
            log_metric(f"{PREFIX}/exact_match", sum(exact) / max(1, len(exact)))


def reward_funcs(schedule: str | Path | None = None, preset: str | None = None, options: dict[str, Any] | None = None, *,
                 template: str | None = None, watch: bool = True, columns: dict[str, str] | None = None, node: str | None = None,
                 cli: str | Path | None = None, batch_timeout_ms: int | None = None, memory_mb: int | None = None,
                 timeout: float = 600.0) -> list[RolloutStudioReward]:
    """TRL reward functions (`GRPOTrainer(reward_funcs=...)`) scored by a Rollout Studio schedule file
    (hot-reloaded on save unless watch=False) or a preset with its options: a list of one function, for
    the total. `template="toolrl"` sends the ground truth as ToolRL's target string, as the engine does;
    `columns` renames the dataset columns read ({"ground_truth": …, "tools": …, "id": …, "messages": …}).
    `node`, `cli`, `batch_timeout_ms` and `memory_mb` go to the reward host (reward_client.RewardHost)."""
    if (schedule is None) == (preset is None):
        raise ValueError("reward_funcs needs exactly one of schedule= (a schedule file) or preset= (a preset's name)")
    source = RewardSource(schedule=str(Path(schedule).resolve()), watch=watch) if schedule is not None else \
        RewardSource(preset=preset, options=dict(options or {}))
    return [RolloutStudioReward(source, template=template, columns=columns, node=node, cli=cli, batch_timeout_ms=batch_timeout_ms,
                                memory_mb=memory_mb, timeout=timeout)]


# -- the run directory -------------------------------------------------------------------------------------


def _reward_of(rewards: Any) -> RolloutStudioReward:
    if isinstance(rewards, RolloutStudioReward):
        return rewards
    found = [r for r in rewards if isinstance(r, RolloutStudioReward)] if isinstance(rewards, (list, tuple)) else []
    if len(found) != 1:
        raise TypeError("RolloutStudioCallback needs the reward functions reward_funcs() made (one RolloutStudioReward)")
    return found[0]


def _group_advantages(rewards: list[float | None], group_size: int, scale: str | bool) -> list[float]:
    """TRL's advantages (sum_then_normalize), from the engine's one definition (advantages.py): r − group
    mean, divided by the group's std + 1e-4 ("group", the default), by the batch's std ("batch"), or not
    at all ("none", or False as older TRL wrote it); 0 for a failure. Used only when the trainer's own
    advantages cannot be read."""
    groups = [k // group_size for k in range(len(rewards))]
    if scale in ("none", False):
        return advantages_by_group(rewards, groups, scale=False)
    if scale != "batch":
        return advantages_by_group(rewards, groups, scale=True, eps=1e-4)
    centred = advantages_by_group(rewards, groups, scale=False)
    scored = [float(r) for r in rewards if r is not None]
    if len(scored) < 2:
        return [0.0] * len(rewards)
    mean = sum(scored) / len(scored)
    batch_std = math.sqrt(sum((v - mean) ** 2 for v in scored) / (len(scored) - 1))
    return [a / (batch_std + 1e-4) for a in centred]


class _RunRecorder:
    """RolloutStudioCallback's work, apart from transformers (the callback class is made when first used)."""

    def __init__(self, rewards: Any, run_dir: str | Path | None = None, *, runs_dir: str | Path = ".rollout-studio/runs",
                 run_id: str | None = None, dataset: str | None = None, template: str | None = None):
        self.reward = _reward_of(rewards)
        self.reward.collect = True
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.runs_dir = Path(runs_dir)
        self.run_id = run_id
        self.dataset = dataset
        self.template = template if template is not None else self.reward.template
        self.writer: RunWriter | None = None
        self.started = time.time()
        self.step_began: float | None = None
        self.learning_rate: float | None = None
        self.waiting: dict[str, Any] | None = None  # the last step's metrics row, waiting for TRL's log of that step
        self.train_seconds = 0.0
        self.write_seconds = 0.0  # writing records and metrics, for the overhead
        self._prompt_tokens: dict[str, int] = {}
        self._atexit = False
        self.on_metrics: Any = None  # called with each metrics row as it is written (the engine's step events: trl_run.py)
        self.final_status = "finished"  # what on_train_end records; "stopped" when the run was asked to stop

    @property
    def overhead(self) -> float:
        """The share of training time spent writing the run directory."""
        return self.write_seconds / self.train_seconds if self.train_seconds else 0.0

    # -- callback events ---------------------------------------------------------------------------

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.time()
        if not state.is_world_process_zero:
            return
        run_dir = self.run_dir or self._fresh_run_dir()
        check_new_run_dir(run_dir)
        self.run_dir = run_dir
        model = kwargs.get("model")
        base = getattr(getattr(model, "config", None), "_name_or_path", None) or getattr(model, "name_or_path", None) or None
        self.writer = RunWriter(run_dir, self.run_id or run_dir.name, self._config(args, state, model, base), base)
        self.writer.info["source"] = {"trainer": "trl", "path": str(Path(args.output_dir).resolve()), "mode": "live"}
        if not self._atexit:
            atexit.register(self._ended_without_train_end)
            self._atexit = True
        logger.info("Rollout Studio: writing the run to %s", run_dir)

    def on_step_begin(self, args, state, control, **kwargs):
        self.step_began = time.time()

    def on_optimizer_step(self, args, state, control, **kwargs):
        optimizer = kwargs.get("optimizer")
        try:
            self.learning_rate = float(optimizer.param_groups[0]["lr"])  # the rate this update used
        except (AttributeError, IndexError, KeyError, TypeError):
            self.learning_rate = None

    def on_step_end(self, args, state, control, **kwargs):
        now = time.time()
        batches, self.reward.pending = self.reward.pending, []
        batches = _gather(batches)  # every process's share of the step (a collective: before any return)
        if self.step_began is not None:
            self.train_seconds += now - self.step_began
        if self.writer is None:
            return
        t0 = time.time()
        self._write_waiting()
        if batches:
            step = int(state.global_step)
            records, exact, metrics = self._step(step, batches, args, kwargs, now)
            for record in records:
                self.writer.reward_version(record["reward_version"], self.reward.schedules.get(record["reward_version"]),
                                           self.reward.schedule_file, step)
            self.writer.rollouts(step, records, exact)
            metrics["time_s"]["write"] = round(time.time() - t0, 4)
            self.waiting = metrics
            if not control.should_log:  # no log of this step will come: write the row now, without TRL's statistics
                self._write_waiting()
        self.write_seconds += time.time() - t0

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.writer is None or self.waiting is None or self.waiting["step"] != state.global_step or not logs:
            return
        t0 = time.time()
        row = self.waiting
        for key, name in (("kl", "kl"), ("entropy", "entropy"), ("clip_fraction", "clip_ratio/region_mean"), ("grad_norm", "grad_norm")):
            value = logs.get(name)
            if isinstance(value, (int, float)) and math.isfinite(value):
                row[key] = float(value)
        if isinstance(logs.get("learning_rate"), (int, float)):
            row["learning_rate"] = float(logs["learning_rate"])
        self._write_waiting()
        self.write_seconds += time.time() - t0

    def on_train_end(self, args, state, control, **kwargs):
        if self.writer is None or self.writer.ended:
            return
        self._write_waiting()
        self.writer.finish(self.final_status, {"steps": int(state.global_step), "seconds": round(time.time() - self.started, 1),
                                        "train_seconds": round(self.train_seconds, 1)})
        logger.info("Rollout Studio: the run is in %s (writing it took %.2f %% of the steps' time)", self.run_dir, 100 * self.overhead)

    # -- records -------------------------------------------------------------------------------------

    def _fresh_run_dir(self) -> Path:
        run_id = self.run_id or time.strftime("%Y%m%d-%H%M%S")
        candidate, n = self.runs_dir / run_id, 1
        while candidate.exists():
            n += 1
            candidate = self.runs_dir / f"{run_id}-{n}"
        return candidate

    def _ended_without_train_end(self) -> None:
        """At exit: a run that did not reach on_train_end (an exception, an interrupt) must not stay `running`."""
        if self.writer is not None and not self.writer.ended:
            self._write_waiting()
            self.writer.finish("failed", {"error": "the training process ended before the trainer finished (an exception or an interrupt; "
                                                   "see the training script's output)", "step": self.writer.info.get("step", 0)})

    def _write_waiting(self) -> None:
        if self.waiting is not None and self.writer is not None:
            row, self.waiting = self.waiting, None
            self.writer.metrics(row["step"], row)
            if self.on_metrics is not None:
                self.on_metrics(row)

    def _config(self, args, state, model, base) -> dict[str, Any]:
        """TRL's settings in RunConfig's shape (contract/run-directory.schema.json): the ones it has names for."""
        def clean(table: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in table.items() if v is not None}

        def number(value: Any) -> float | None:
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

        def integer(value: Any, least: int = 1) -> int | None:
            return int(value) if isinstance(value, int) and not isinstance(value, bool) and value >= least else None

        source = self.reward.source
        g = getattr(args, "num_generations", None)
        batch = getattr(args, "generation_batch_size", None)
        scheduler = getattr(getattr(args, "lr_scheduler_type", None), "value", getattr(args, "lr_scheduler_type", None))
        loss_type = getattr(args, "loss_type", None)
        device = getattr(model, "device", None)
        return {
            "data": clean({"train": self.dataset, "template": self.template if self.template in ("tool-n1", "toolrl", "tool-zero", "documentation") else None}),
            "policy": clean({"backend": "hf", "model": base, "max_new_tokens": integer(getattr(args, "max_completion_length", None)),
                             "precision": "bf16-mixed" if getattr(args, "bf16", False) else None if getattr(args, "fp16", False) else "fp32",
                             "gradient_checkpointing": bool(getattr(args, "gradient_checkpointing", False))}),
            "reward": {"preset": source.preset, "schedule": source.schedule, "options": dict(source.options)},
            "grpo": clean({"num_generations": integer(g), "prompts_per_step": integer(batch // g) if isinstance(batch, int) and integer(g) else None,
                           "temperature": number(getattr(args, "temperature", None)), "top_p": number(getattr(args, "top_p", None)),
                           "beta": number(getattr(args, "beta", None)), "epsilon": number(getattr(args, "epsilon", None)),
                           "num_iterations": integer(getattr(args, "num_iterations", None)),
                           "loss_type": loss_type if loss_type in ("grpo", "bnpo", "dr_grpo") else None,
                           "scale_rewards": getattr(args, "scale_rewards", "group") != "none",
                           "learning_rate": number(getattr(args, "learning_rate", None)),
                           "lr_scheduler_type": scheduler if scheduler in ("constant", "cosine") else None,
                           "max_grad_norm": number(getattr(args, "max_grad_norm", None)),
                           "max_steps": integer(getattr(state, "max_steps", None))}),
            "run": clean({"dir": str(self.run_dir), "seed": integer(getattr(args, "seed", None), 0),
                          "device": str(device) if device is not None else None}),
        }

    def _tokens_of(self, prompt: Any, tokenizer: Any) -> int:
        """The prompt's tokens as TRL made them (cached: a prompt's G completions share it)."""
        key = prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True, default=str)
        if key not in self._prompt_tokens:
            try:
                if isinstance(prompt, str):
                    ids = tokenizer(text=prompt)["input_ids"]
                else:
                    ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
                self._prompt_tokens[key] = len(ids)
            except Exception:  # noqa: BLE001 — a count is not worth failing a run for
                self._prompt_tokens[key] = 0
        return self._prompt_tokens[key]

    def _step(self, step: int, batches: list[ScoredBatch], args, kwargs: dict[str, Any], now: float):
        """The step's trajectory records, exact matches and metrics row, from the batches scored in it."""
        from ..advantages import zero_variance_fraction

        trainer = self.reward.trainer
        size = int(getattr(trainer, "num_generations", None) or getattr(args, "num_generations", 1) or 1)
        rows = [row for b in batches for row in b.rows]
        scores = [s for b in batches for s in b.scores]
        exact = [e for b in batches for e in b.exact]
        rewards = [s["total"] if isinstance(s["total"], (int, float)) and math.isfinite(s["total"]) else None for s in scores]
        logged = list(getattr(trainer, "_logs", {}).get("advantages", []) or [])
        if len(logged) >= len(rows) and len(rows) % size == 0:
            advantages = [float(a) if math.isfinite(a) else 0.0 for a in logged[-len(rows):]]  # TRL's own, in the same order
        else:
            advantages = _group_advantages(rewards, size, getattr(args, "scale_rewards", "group"))
        tokenizer = kwargs.get("processing_class")
        run_id = self.writer.info["id"] if self.writer else ""
        records = []
        for k, (row, score) in enumerate(zip(rows, scores)):
            record = {"run": run_id, "step": step, "prompt_id": row.prompt_id, "group": k // size, "sample": k % size,
                      "policy_version": step - 1, "reward_version": score["version"], "prompt": row.prompt, "completion": row.completion,
                      "calls": score["calls"], "parse_failure": score["parseFailure"], "ground_truth": row.truth, "reward": rewards[k],
                      "components": score["components"], "failure": score["failure"], "advantage": advantages[k],
                      "trained": rewards[k] is not None, "prompt_tokens": self._tokens_of(row.raw_prompt, tokenizer) if tokenizer is not None else 0,
                      "completion_tokens": row.completion_tokens, "finish_reason": "stop" if row.stopped else "length"}
            if score.get("logs"):
                record["reward_logs"] = score["logs"]
            records.append(record)

        ok = [s for s, r in zip(scores, rewards) if r is not None]
        components = component_stats(ok)
        reasons = Counter(s["parseFailure"]["reason"] for s in scores if s["parseFailure"])
        lengths = [row.completion_tokens for row in rows]
        first, last = batches[0], batches[-1]
        began = self.step_began if self.step_began is not None and self.step_began <= first.started else first.started
        rollout, reward_s, update = first.started - began, sum(b.finished - b.started for b in batches), max(0.0, now - last.finished)
        prompt_tokens = sum(r["prompt_tokens"] for r in records)
        metrics = {
            "step": step, "elapsed_s": round(now - self.started, 3),
            "learning_rate": self.learning_rate if self.learning_rate is not None else float(getattr(args, "learning_rate", 0.0)),
            "time": {"step": first.step, "progress": first.progress, "epoch": first.epoch},  # the training time the rewards were scored at
            "reward": stat([r for r in rewards if r is not None]), "components": components,
            "format_pass_rate": sum(1 for s in ok if s["components"].get("format", {}).get("raw", 0) > 0) / max(1, len(scores)),
            "parse_failure_rate": sum(reasons.values()) / max(1, len(scores)), "parse_failures": dict(reasons),
            "exact_match_rate": sum(exact) / max(1, len(exact)), "reward_failures": len(scores) - len(ok),
            "zero_variance_groups": zero_variance_fraction(rewards, size) if len(rewards) % size == 0 else 0.0,
            "advantage": stat(advantages),
            # TRL's own statistics of the update, from its log of this step (on_log); null when it did not log it.
            "kl": None, "entropy": None, "clip_fraction": None, "grad_norm": None, "update_skipped": False,
            "completion_length": {"mean": sum(lengths) / max(1, len(lengths)), "max": max(lengths, default=0)},
            "truncation_rate": sum(1 for row in rows if not row.stopped) / max(1, len(rows)),
            "tokens_per_s": {"rollout": sum(lengths) / max(rollout, 1e-9), "train": (prompt_tokens + sum(lengths)) / max(update, 1e-9)},
            "time_s": {"rollout": round(rollout, 4), "reward": round(reward_s, 4), "update": round(update, 4)},
        }
        return records, exact, metrics


_CALLBACK_CLASS: type | None = None


def _callback_class() -> type:
    """RolloutStudioCallback: a transformers TrainerCallback, made when first asked for (transformers is imported then)."""
    global _CALLBACK_CLASS
    if _CALLBACK_CLASS is None:
        try:
            from transformers import TrainerCallback
        except ImportError as err:
            raise ImportError(f"RolloutStudioCallback needs transformers (pip install trl transformers): {err}") from err

        class RolloutStudioCallback(_RunRecorder, TrainerCallback):
            """Writes a Rollout Studio run directory while TRL's GRPOTrainer trains (docs/trl.md):
            RolloutStudioCallback(rewards, run_dir=None, *, runs_dir=".rollout-studio/runs", run_id=None,
            dataset=None, template=None). `rewards` is what reward_funcs() returned; without run_dir, a new
            <runs_dir>/<YYYYmmdd-HHMMSS>/ is made when training begins. Only the main process writes."""

        RolloutStudioCallback.__module__ = __name__
        _CALLBACK_CLASS = RolloutStudioCallback
    return _CALLBACK_CLASS


def __getattr__(name: str) -> Any:
    if name == "RolloutStudioCallback":
        return _callback_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
