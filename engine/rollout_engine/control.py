"""Run control: a Unix socket in the run directory (control.sock) taking one JSON command per line, and
SIGTERM. Commands act at step boundaries, so a step is never cut in half.

    {"command": "pause"}       stop after the current step until resume (or stop)
    {"command": "resume"}
    {"command": "stop"}        finish the step, checkpoint, exit
    {"command": "checkpoint"}  checkpoint after the current step
    {"command": "sample", "prompt": "…", "max_new_tokens": 48}   generate from the current policy
    {"command": "reward", "schedule": "/abs/file.ts"}   score with this schedule from the next step (push,
                               rollback; or "preset" and "options"); answered once the host has checked it
Each command gets one JSON line back: {"ok": true, …} or {"ok": false, "error": "…"}.
"""
from __future__ import annotations

import json
import os
import queue
import signal
import socket
import threading
from pathlib import Path
from typing import Any, Callable

COMMANDS = ("pause", "resume", "stop", "checkpoint", "sample", "reward")


class Control:
    def __init__(self, run_dir: Path):
        self.path = run_dir / "control.sock"
        self.stop_requested = False
        self.checkpoint_requested = False
        self.paused = False
        self._samples: queue.Queue[tuple[dict[str, Any], Callable[[dict[str, Any]], None]]] = queue.Queue()
        self._rewards: queue.Queue[tuple[dict[str, Any], Callable[[dict[str, Any]], None]]] = queue.Queue()
        self._wake = threading.Event()
        self._server: socket.socket | None = None
        self._previous_sigterm = None

    def start(self) -> None:
        if self.path.exists():
            self.path.unlink()  # left by an engine that was killed
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        self._server.listen(4)
        threading.Thread(target=self._accept, daemon=True).start()
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, *_: Any) -> None:
        self.stop_requested = True
        self._wake.set()

    def _accept(self) -> None:
        while self._server is not None:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rw", encoding="utf-8") as stream:
            for line in stream:
                reply = self.handle(line)
                if reply is not None:
                    stream.write(json.dumps(reply) + "\n")
                    stream.flush()

    def handle(self, line: str, answer: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any] | None:
        """Applies one command line; returns the reply (sample replies come when the sample is made)."""
        try:
            message = json.loads(line)
            command = message["command"]
        except (json.JSONDecodeError, KeyError, TypeError):
            return {"ok": False, "error": 'send one JSON object per line, e.g. {"command": "pause"}'}
        if command == "pause":
            self.paused = True
        elif command == "resume":
            self.paused = False
            self._wake.set()
        elif command == "stop":
            self.stop_requested = True
            self._wake.set()
        elif command == "checkpoint":
            self.checkpoint_requested = True
        elif command == "sample":
            if not isinstance(message.get("prompt"), str):
                return {"ok": False, "error": 'sample needs "prompt": a string'}
            return self._queue_and_wait(self._samples, message, 600, "no answer: the run ended")
        elif command == "reward":
            schedule, preset = message.get("schedule"), message.get("preset")
            if not (isinstance(schedule, str) and schedule) and not (isinstance(preset, str) and preset):
                return {"ok": False, "error": 'reward needs "schedule" (a schedule file) or "preset"'}
            if isinstance(schedule, str) and schedule and not os.path.isfile(schedule):
                return {"ok": False, "error": f"reward: {schedule} is not a file"}
            return self._queue_and_wait(self._rewards, message, 900, "no answer: the run ended before the next step")
        else:
            return {"ok": False, "error": f"unknown command {command!r}; commands: {', '.join(COMMANDS)}"}
        return {"ok": True, "command": command}

    def _queue_and_wait(self, jobs: queue.Queue, message: dict[str, Any], timeout: float, unanswered: str) -> dict[str, Any]:
        """Hands a command to the trainer (it acts between steps) and waits for its answer."""
        done = threading.Event()
        result: dict[str, Any] = {}
        jobs.put((message, lambda r: (result.update(r), done.set())))
        self._wake.set()
        done.wait(timeout=timeout)
        return result or {"ok": False, "error": unanswered}

    @staticmethod
    def _answer_jobs(jobs: queue.Queue, make: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        while not jobs.empty():
            message, answer = jobs.get()
            try:
                answer({"ok": True, **make(message)})
            except Exception as err:  # a bad prompt or a bad push must not end the run
                answer({"ok": False, "error": str(err)})

    def serve_samples(self, make: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Answers pending sample requests with the current policy (called by the trainer between steps)."""
        self._answer_jobs(self._samples, make)

    def serve_rewards(self, apply: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Applies pending reward switches (called by the trainer between steps, and while paused)."""
        self._answer_jobs(self._rewards, apply)

    def wait_while_paused(self, on_pause: Callable[[], None], serve: Callable[[dict[str, Any]], dict[str, Any]],
                          apply_reward: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        if self.paused and not self.stop_requested:
            on_pause()
        while self.paused and not self.stop_requested:
            self._wake.wait(timeout=0.2)
            self._wake.clear()
            self.serve_samples(serve)
            if apply_reward is not None:
                self.serve_rewards(apply_reward)

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        if self.path.exists():
            os.unlink(self.path)
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
        self.serve_samples(lambda _: {"note": "the run ended"})
        self.serve_rewards(lambda _: {"accepted": False, "error": "the run ended before the next step"})
