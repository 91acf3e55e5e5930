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
from typing import Any, Callable

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CLI = PROJECT_ROOT / "dist" / "cli.cjs"


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
        self.events: list[dict[str, Any]] = []  # ready, reloaded, reload_rejected, … in arrival order
        # `log` events: what the schedule printed outside any sample, and errors its timers or promises threw
        # after their sample's score was sent ({version, stream, during, sample?, error?, text}); the newest kept.
        self.logs: deque[dict[str, Any]] = deque(maxlen=LOGS_KEPT)
        self._abandoned: set[int] = set()  # requests that timed out: a late reply to one is skipped
        self.version: str | None = None
        self.schedules: dict[str, dict[str, Any]] = {}  # version -> the schedule's name, components (and where they are)
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
        if ready.get("event") == "load_failed":
            self.close()
            error = ready.get("error")
            detail = error.get("message") if isinstance(error, dict) else None
            raise RewardHostError(f"the reward schedule could not be loaded: {detail if isinstance(detail, str) else _shown(ready)}")
        if not isinstance(ready.get("version"), str):
            self.close()
            raise RewardHostError(f"the reward host's ready event has no version: {_shown(ready)}")
        self.version = ready["version"]
        self.schedules[self.version] = ready.get("schedule") or {}

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
                if message["event"] == "log":
                    self.logs.append(message)
                    continue
                self.events.append(message)
                if message["event"] == "reloaded" and isinstance(message.get("version"), str):
                    self.version = message["version"]
                    self.schedules[self.version] = message.get("schedule") or {}
                    source = message.get("source") if isinstance(message.get("source"), dict) else {}
                    # A restarted host must start from what it was switched to, not from the first source.
                    if source.get("kind") == "file":
                        self.source = RewardSource(schedule=source["path"], watch=self.source.watch)
                    elif source.get("kind") == "preset":
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
        error = reply.get("error")
        if error is not None:
            detail = error.get("message") if isinstance(error, dict) else None
            raise RewardHostError(f"the reward host refused the request: {detail if isinstance(detail, str) else _shown(reply)}")
        if not isinstance(reply.get("result"), dict):
            raise RewardHostError(f"the reward host's reply to request {request_id} ({method}) has no result object: {_shown(reply)}")
        return reply["result"]

    # -- the API the trainer uses -------------------------------------------------------------------

    def score(self, samples: list[dict[str, Any]], *, step: int, progress: float, epoch: float,
              timeout: float | None = 600.0) -> list[dict[str, Any]]:
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
        scores = result.get("scores")
        if not isinstance(scores, list) or not all(isinstance(s, dict) for s in scores):
            raise RewardHostError(f"the reward host's scores are not a list of score objects: {_shown(result)}")
        if len(scores) != len(samples):
            raise RewardHostError(f"the reward host returned {len(scores)} scores for {len(samples)} samples")
        return scores

    def weights(self, steps: list[int]) -> list[dict[str, Any]]:
        return self._request("weights", {"times": [{"step": s} for s in steps]}, 60.0)["rows"]

    def reload(self) -> dict[str, Any]:
        return self._request("reload", {}, 120.0)

    def load(self, schedule: str | None = None, preset: str | None = None, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Switches to another schedule file or preset (push, rollback). The host checks the new version on
        recent samples first; the answer says whether it was accepted, and the error when not."""
        params: dict[str, Any] = {"schedule": schedule} if schedule else {"preset": preset, "options": options or {}}
        return self._request("load", params, 300.0)

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
