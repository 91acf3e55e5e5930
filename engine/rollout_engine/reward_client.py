"""A client for the reward host: the Node process that runs the reward schedule (docs/reward-host-protocol.md).

The engine sends every batch of completions with the global step and training progress, because reward
schedules depend on them. A host that crashes is restarted and the batch is sent once more; a second
failure raises RewardHostError, and the caller decides (the trainer pauses the run and loses nothing).
Each restart is reported to `on_restart` with its reason (the trainer emits a warning event).

Every request, reply and event is defined in contract/reward-host.schema.json (the tests check what this
client sends against it). The host's stdout is the protocol: every line must be a JSON object, a reply to
the pending request or an event. Anything else (a bare number, a reply to another request) is a RewardHostError naming what was
read, never a TypeError. What the schedule prints comes back in each score's `logs`, or, outside any
sample, as `log` events, kept in `logs` (the newest LOGS_KEPT) rather than in `events`.

The messages this client reads are typed below (TypedDicts named as the schema's definitions, checked
against it by engine/tests/test_reward_client.py); the `_read_*` functions are the one place that checks
a message has the fields it is read for, with their JSON types, and raise a RewardHostError naming the
field and the message when not. They check in plain Python: the engine runs without jsonschema.
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, TypedDict, Union

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUNDLED = Path(__file__).resolve().parent / "_bundled"  # the wheel's copy of the reward host (scripts/build-wheel.sh)


def _default_cli() -> Path:
    """The reward host's CLI: $ROLLOUT_STUDIO_CLI, the checkout's build, or the one the wheel bundles."""
    if os.environ.get("ROLLOUT_STUDIO_CLI"):
        return Path(os.environ["ROLLOUT_STUDIO_CLI"])
    built = PROJECT_ROOT / "dist" / "cli.cjs"
    return built if built.exists() or not (BUNDLED / "cli.cjs").exists() else BUNDLED / "cli.cjs"


DEFAULT_CLI = _default_cli()


LOGS_KEPT = 1000


class RewardHostError(RuntimeError):
    """The reward host failed in a way a retry did not fix."""


class _BadLine:
    """A line of the host's stdout that is not a JSON object (passed from the reader thread to _wait)."""

    def __init__(self, line: str, why: str):
        self.line = line
        self.why = why

    def describe(self) -> str:
        text = self.line.rstrip("\n")
        return f"{self.why}: {text[:200]!r}{' (cut)' if len(text) > 200 else ''}"


def _shown(message: Any) -> str:
    text = json.dumps(message)
    return text if len(text) <= 200 else text[:200] + "… (cut)"


# -- the host's messages (contract/reward-host.schema.json) ---------------------------------------------
# At run time these are the dicts json.loads made (callers index them as before); the types say which
# fields the contract guarantees once a `_read_*` function below has checked them. Optional fields are in
# the `total=False` classes (the engine runs on Python 3.10: no NotRequired).


class ScheduleInfo(TypedDict):
    name: str
    description: str
    components: list[dict[str, Any]]  # ComponentInfo: {name, description, timedWeight, timedRange, at?}
    options: dict[str, Any]


class FileSource(TypedDict):
    kind: Literal["file"]
    path: str


class _PresetSource(TypedDict):
    kind: Literal["preset"]
    name: str


class PresetSource(_PresetSource, total=False):
    options: dict[str, Any]


ScheduleSource = Union[FileSource, PresetSource]


class _LoadProblem(TypedDict):
    message: str


class LoadProblem(_LoadProblem, total=False):
    errors: list[dict[str, Any]]  # CompileMessage: {file, line, column, text}


class ReadyEvent(TypedDict):
    event: Literal["ready"]
    version: str
    schedule: ScheduleInfo
    workers: int


class LoadFailedEvent(TypedDict):
    event: Literal["load_failed"]
    error: LoadProblem


class ReloadedEvent(TypedDict):
    event: Literal["reloaded"]
    reason: str
    version: str
    previous: str | None
    schedule: ScheduleInfo
    source: ScheduleSource


class ReloadRejectedEvent(TypedDict):
    event: Literal["reload_rejected"]
    reason: str
    error: dict[str, Any]  # ReloadError: a LoadProblem or a CheckRejection, both with `message`
    version_kept: str | None


class _LogEvent(TypedDict):
    event: Literal["log"]
    version: str
    stream: Literal["stdout", "stderr"]
    during: Literal["load", "idle", "late"]
    text: str


class LogEvent(_LogEvent, total=False):
    sample: str
    error: Literal[True]


HostEvent = Union[ReadyEvent, LoadFailedEvent, ReloadedEvent, ReloadRejectedEvent, LogEvent]


class _Score(TypedDict):
    total: float | None  # None: a reward failure
    components: dict[str, dict[str, Any]]  # ComponentScore: {raw, weight, value, why, at?}
    calls: list[dict[str, Any]] | None
    parseFailure: dict[str, Any] | None
    failure: dict[str, Any] | None
    version: str


class Score(_Score, total=False):
    id: str
    why: str
    logs: list[dict[str, str]]  # LogEntry: {stream, text}


class ScoreResult(TypedDict):
    version: str
    scores: list[Score]


class WeightsRow(TypedDict):
    time: dict[str, float]  # TrainingTime: {step, progress, epoch, totalSteps?}
    weights: dict[str, float]


class WeightsResult(TypedDict):
    rows: list[WeightsRow]


class _ReloadResult(TypedDict):
    accepted: bool
    version: str | None


class ReloadResult(_ReloadResult, total=False):
    error: dict[str, Any]  # ReloadError
    unchanged: bool


class _LoadResult(_ReloadResult):
    source: ScheduleSource


class LoadResult(_LoadResult, total=False):
    error: dict[str, Any]
    unchanged: bool


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "object": (dict,), "array": (list,), "boolean": (bool,), "integer": (int,), "number": (int, float), "null": (type(None),),
}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    for name in ("string", "object", "array", "integer", "number", "null"):
        if isinstance(value, _JSON_TYPES[name]):
            return name
    return type(value).__name__


def _is(value: Any, types: str) -> bool:
    """Whether a value has one of the JSON types named, e.g. "string|null" (a boolean is not a number)."""
    found = _json_type(value)
    return any(found == t or (t == "number" and found == "integer") for t in types.split("|"))


def _read(message: dict[str, Any], what: str, fields: dict[str, str], shown: Any = None) -> None:
    """The one check of a message's fields: each must be there with one of its JSON types, else a
    RewardHostError naming the message (`what`), the field and what was read (`shown`, the message itself
    when not given)."""
    for key, types in fields.items():
        expected = types.replace("|", " or ")
        if key not in message:
            raise RewardHostError(f"the reward host's {what} has no {key} {expected}: {_shown(message if shown is None else shown)}")
        if not _is(message[key], types):
            raise RewardHostError(f"the reward host's {what} has no {key} {expected}: {_shown(message if shown is None else shown)} "
                                  f"(its {key} is {_json_type(message[key])})")


def _read_objects(container: dict[str, Any], key: str, noun: str) -> list[dict[str, Any]]:
    items = container.get(key)
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise RewardHostError(f"the reward host's {key} are not a list of {noun} objects: {_shown(container)}")
    return items


def _problem_text(error: Any, message: dict[str, Any]) -> str:
    """The words of a failure the host reports (a LoadProblem, an ErrorReply's error): its message, or
    the whole line when it has none (a failure is reported either way)."""
    detail = error.get("message") if isinstance(error, dict) else None
    return detail if isinstance(detail, str) else _shown(message)


def _read_source(message: dict[str, Any], what: str) -> ScheduleSource:
    """The `source` of a message (ScheduleSource): a schedule file or a preset with options."""
    _read(message, what, {"source": "object"})
    source = message["source"]
    if source.get("kind") == "file":
        _read(source, f"{what}'s file source", {"path": "string"}, shown=message)
    elif source.get("kind") == "preset":
        _read(source, f"{what}'s preset source", {"name": "string"}, shown=message)
        if "options" in source:
            _read(source, f"{what}'s preset source", {"options": "object"}, shown=message)
    else:
        raise RewardHostError(f"the reward host's {what} has a source of unknown kind {source.get('kind')!r} (file or preset expected): {_shown(message)}")
    return source  # type: ignore[return-value]


def _read_event(message: dict[str, Any]) -> dict[str, Any]:
    """An event, checked by its kind (HostEvent). load_failed is a failure either way: its words are read
    leniently where it is reported. An event of a kind this client does not know is kept as it is."""
    kind = message["event"]
    if kind == "ready":
        _read(message, "ready event", {"version": "string", "schedule": "object"})
    elif kind == "reloaded":
        _read(message, "reloaded event", {"version": "string", "schedule": "object", "previous": "string|null"})
        _read_source(message, "reloaded event")
    elif kind == "reload_rejected":
        _read(message, "reload_rejected event", {"error": "object"})
        _read(message["error"], "reload_rejected event's error", {"message": "string"}, shown=message)
    elif kind == "log":
        _read(message, "log event", {"version": "string", "stream": "string", "during": "string", "text": "string"})
    return message


def _read_score_result(result: dict[str, Any], count: int) -> ScoreResult:
    """The answer to `score` for `count` samples: one Score each, with the fields the trainer reads."""
    scores = _read_objects(result, "scores", "score")
    if len(scores) != count:
        raise RewardHostError(f"the reward host returned {len(scores)} scores for {count} samples")
    for i, score in enumerate(scores):
        _read(score, f"score {i + 1} of {count}", {"version": "string", "total": "number|null", "components": "object",
                                                   "calls": "array|null", "parseFailure": "object|null", "failure": "object|null"})
    return result  # type: ignore[return-value]


def _read_weights_result(result: dict[str, Any]) -> WeightsResult:
    _read_objects(result, "rows", "weights row")
    return result  # type: ignore[return-value]


def _read_reload_result(result: dict[str, Any], method: str = "reload") -> ReloadResult:
    _read(result, f"answer to {method}", {"accepted": "boolean", "version": "string|null"})
    if result.get("error") is not None:
        _read(result, f"answer to {method}", {"error": "object"})
    return result  # type: ignore[return-value]


def _read_load_result(result: dict[str, Any]) -> LoadResult:
    _read_reload_result(result, "load")
    _read_source(result, "answer to load")
    return result  # type: ignore[return-value]


@dataclass
class RewardSource:
    """What the host scores with: a preset and its options, or a schedule file (hot-reloaded when watched)."""

    preset: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    schedule: str | None = None
    watch: bool = True

    def args(self) -> list[str]:
        if (self.preset is None) == (self.schedule is None):
            raise ValueError("a reward source needs exactly one of preset or schedule")
        if self.preset is not None:
            args = ["--preset", self.preset]
            for key, value in self.options.items():
                text = json.dumps(value) if not isinstance(value, str) else value
                args += ["--option", f"{key}={text.lower() if isinstance(value, bool) else text}"]
            return args
        return ["--schedule", str(self.schedule)] + (["--watch"] if self.watch else [])


class RewardHost:
    """One reward-host process. Use as a context manager, or call close()."""

    def __init__(self, source: RewardSource, *, node: str | None = None, cli: Path = DEFAULT_CLI,
                 batch_timeout_ms: int | None = None, memory_mb: int | None = None, start_timeout: float = 60.0,
                 on_restart: Callable[[str], None] | None = None):
        self.source = source
        self.on_restart = on_restart  # called with the reason, just before a crashed host is started again
        # The extension passes its own Node (VS Code's runtime) here: `node` need not be on PATH.
        self.node = node or os.environ.get("ROLLOUT_STUDIO_NODE") or "node"
        self.cli = Path(cli)
        self.extra = []
        if batch_timeout_ms is not None:
            self.extra += ["--batch-timeout-ms", str(batch_timeout_ms)]
        if memory_mb is not None:
            self.extra += ["--memory-mb", str(memory_mb)]
        self.start_timeout = start_timeout
        self.events: list[dict[str, Any]] = []  # HostEvents (ready, reloaded, reload_rejected, …) in arrival order
        # `log` events: what the schedule printed outside any sample, and errors its timers or promises threw
        # after their sample's score was sent ({version, stream, during, sample?, error?, text}); the newest kept.
        self.logs: deque[LogEvent] = deque(maxlen=LOGS_KEPT)
        self._abandoned: set[int] = set()  # requests that timed out: a late reply to one is skipped
        self.version: str | None = None
        self.schedules: dict[str, ScheduleInfo] = {}  # version -> the schedule's name, components (and where they are)
        self.restarts = 0
        self._next_id = 0
        self._process: subprocess.Popen[str] | None = None
        self._messages: queue.Queue[dict[str, Any] | _BadLine | None] = queue.Queue()
        self._stderr: list[str] = []
        self._start()

    # -- process management -------------------------------------------------------------------------

    def _start(self) -> None:
        if not self.cli.exists():
            raise RewardHostError(f"the reward host is not built ({self.cli} is missing): run `bash scripts/setup.sh` in {PROJECT_ROOT}")
        command = [self.node, str(self.cli), "host", *self.source.args(), *self.extra]
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                             text=True, encoding="utf-8", bufsize=1, cwd=os.getcwd())
        except FileNotFoundError as err:
            raise RewardHostError(f"cannot start the reward host: {err}; is Node.js 20+ installed and on PATH?") from err
        self._messages = queue.Queue()
        process = self._process
        threading.Thread(target=self._read_stdout, args=(process, self._messages), daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(process,), daemon=True).start()
        try:
            ready = self._wait(lambda m: m.get("event") in ("ready", "load_failed"), self.start_timeout)
        except RewardHostError:
            self.close()
            raise
        if ready["event"] == "load_failed":
            self.close()
            raise RewardHostError(f"the reward schedule could not be loaded: {_problem_text(ready.get('error'), ready)}")
        self.version = ready["version"]  # a ReadyEvent: _read_event checked it
        self.schedules[self.version] = ready["schedule"]

    def _read_stdout(self, process: subprocess.Popen[str], messages: queue.Queue[dict[str, Any] | _BadLine | None]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except json.JSONDecodeError as err:
                messages.put(_BadLine(line, f"a line that is not JSON ({err})"))
                continue
            messages.put(message if isinstance(message, dict) else _BadLine(line, f"a line that is not a JSON object but {type(message).__name__}"))
        messages.put(None)  # the host's output ended

    def _read_stderr(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self._stderr.append(line.rstrip("\n"))
            del self._stderr[:-50]

    def _wait(self, wanted, timeout: float | None) -> dict[str, Any]:
        while True:
            try:
                message = self._messages.get(timeout=timeout)
            except queue.Empty:
                raise RewardHostError(f"the reward host did not answer within {timeout} s") from None
            if message is None:
                code = self._process.wait() if self._process else None
                tail = "\n".join(self._stderr[-10:])
                raise RewardHostError(f"the reward host exited (code {code}){': ' + tail if tail else ''}")
            if isinstance(message, _BadLine):
                # The protocol stream is broken (something wrote to the host's stdout): nothing after it can be trusted.
                raise RewardHostError(f"the reward host wrote {message.describe()}; its stdout must carry only JSON objects "
                                      "(replies and events, docs/reward-host-protocol.md)")
            if "event" in message:
                event = _read_event(message)
                if event["event"] == "log":
                    self.logs.append(event)
                    continue
                self.events.append(event)
                if event["event"] == "reloaded":
                    self.version = event["version"]
                    self.schedules[self.version] = event["schedule"]
                    source = event["source"]
                    # A restarted host must start from what it was switched to, not from the first source.
                    if source["kind"] == "file":
                        self.source = RewardSource(schedule=source["path"], watch=self.source.watch)
                    else:
                        self.source = RewardSource(preset=source["name"], options=source.get("options") or {}, watch=self.source.watch)
            elif "id" not in message:
                raise RewardHostError(f"the reward host wrote a JSON object that is neither a reply nor an event: {_shown(message)}")
            if wanted(message):
                return message

    def _request(self, method: str, params: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        assert self._process is not None and self._process.stdin is not None
        self._next_id += 1
        request_id = self._next_id
        try:
            self._process.stdin.write(json.dumps({"id": request_id, "method": method, "params": params}) + "\n")
            self._process.stdin.flush()
        except (BrokenPipeError, OSError) as err:
            raise RewardHostError(f"the reward host is gone: {err}") from err

        def answers(message: dict[str, Any]) -> bool:
            if "id" not in message:
                return False  # an event
            if message["id"] == request_id:
                return True
            if message["id"] in self._abandoned:
                self._abandoned.discard(message["id"])
                return False  # the late reply to a request that timed out
            raise RewardHostError(f"the reward host's reply does not match the pending request {request_id} ({method}): {_shown(message)}")

        try:
            reply = self._wait(answers, timeout)
        except RewardHostError:
            self._abandoned.add(request_id)
            raise
        if reply.get("error") is not None:  # an ErrorReply
            raise RewardHostError(f"the reward host refused the request: {_problem_text(reply['error'], reply)}")
        _read(reply, f"reply to request {request_id} ({method})", {"result": "object"})
        return reply["result"]

    # -- the API the trainer uses -------------------------------------------------------------------

    def score(self, samples: list[dict[str, Any]], *, step: int, progress: float, epoch: float,
              timeout: float | None = 600.0) -> list[Score]:
        """Scores samples ({id, completion, ground_truth, tools?}); returns one score per sample, in order.

        Ground truths are sent as JSON text, as the papers' reward functions receive them. A crashed host is
        restarted and the batch sent once more.
        """
        wire = []
        for s in samples:
            item = {"id": s["id"], "completion": s["completion"],
                    "ground_truth": s["ground_truth"] if isinstance(s["ground_truth"], str) else json.dumps(s["ground_truth"])}
            if s.get("tools") is not None:
                item["tools"] = s["tools"]
            wire.append(item)
        params = {"samples": wire, "step": step, "progress": progress, "epoch": epoch}
        try:
            result = self._request("score", params, timeout)
        except RewardHostError as first:
            self.restarts += 1
            if self.on_restart is not None:
                self.on_restart(f"failed on a batch of {len(samples)} samples: {first}")
            self.close()
            try:
                self._start()
                result = self._request("score", params, timeout)
            except RewardHostError as second:
                raise RewardHostError(f"the reward host failed twice on this batch: {first}; then: {second}") from second
        return _read_score_result(result, len(samples))["scores"]

    def weights(self, steps: list[int]) -> list[WeightsRow]:
        return _read_weights_result(self._request("weights", {"times": [{"step": s} for s in steps]}, 60.0))["rows"]

    def reload(self) -> ReloadResult:
        return _read_reload_result(self._request("reload", {}, 120.0))

    def load(self, schedule: str | None = None, preset: str | None = None, options: dict[str, Any] | None = None) -> LoadResult:
        """Switches to another schedule file or preset (push, rollback). The host checks the new version on
        recent samples first; the answer says whether it was accepted, and the error when not."""
        params: dict[str, Any] = {"schedule": schedule} if schedule else {"preset": preset, "options": options or {}}
        return _read_load_result(self._request("load", params, 300.0))

    @property
    def schedule_file(self) -> str | None:
        """The schedule file now scored with (None for a preset)."""
        return self.source.schedule

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin:
                process.stdin.close()
            process.wait(timeout=10)
        except (subprocess.TimeoutExpired, OSError):
            process.kill()
            process.wait()

    def kill(self) -> None:
        """Ends the host abruptly (for tests of crash recovery)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> "RewardHost":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
