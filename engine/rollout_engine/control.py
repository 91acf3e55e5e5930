"""Run control: a Unix socket taking one JSON command per line, and SIGTERM. Commands act at step
boundaries, so a step is never cut in half.

    {"command": "pause"}       stop after the current step until resume (or stop)
    {"command": "resume"}
    {"command": "stop"}        finish the step, checkpoint, exit
    {"command": "checkpoint"}  checkpoint after the current step
    {"command": "sample", "prompt": "…", "max_new_tokens": 48, "temperature": 1.0}   generate from the current policy
    {"command": "reward", "schedule": "/abs/file.ts"}   score with this schedule from the next step (push,
                               rollback; or "preset" and "options"); answered once the host has checked it
Each command gets one JSON line back: {"ok": true, …} or {"ok": false, "error": "…"}. Commands and answers
are defined in contract/control.schema.json; check() below checks each command as that schema says (the
tests run both on the same fixtures, test/fixtures/contract/control).

Where the socket lives (docs/run-directory.md, "Run control"): an AF_UNIX path holds at most 107 bytes, so
the socket is not in the run directory (whose path can be any length) but in a per-user runtime folder,
$XDG_RUNTIME_DIR/rollout-studio/ or <temp dir>/rollout-studio-<uid>/ (mode 0700, owned by the user), named
by a hash of the run directory's absolute path. The run directory's control.json says where it is
({"socket", "pid"}) while the engine runs; clients read it (runs/control.ts). The socket is mode 0600 and
answers only connections from the engine's own user.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import queue
import signal
import socket
import stat
import struct
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

COMMANDS = ("pause", "resume", "stop", "checkpoint", "sample", "reward")
CONTROL_FILE = "control.json"  # in the run directory: {"socket": path, "pid": engine pid}
SCHEDULE_SUFFIXES = (".ts", ".mts", ".cts", ".js", ".mjs", ".cjs")
MAX_SOCKET_PATH = 100  # bytes; AF_UNIX allows 107 (Linux) or 103 (macOS) with the terminating NUL
MAX_NEW_TOKENS = 4096
MAX_PROMPT_CHARS = 100_000

# The fields each command takes: name -> (check, what it must be). A check returns True for a good value.
_is_int = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
_is_number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)  # noqa: E731
FIELDS: dict[str, dict[str, tuple[Callable[[Any], bool], str]]] = {
    "pause": {}, "resume": {}, "stop": {}, "checkpoint": {},
    "sample": {
        "prompt": (lambda v: isinstance(v, str) and len(v) <= MAX_PROMPT_CHARS, f"a string of at most {MAX_PROMPT_CHARS} characters"),
        "max_new_tokens": (lambda v: _is_int(v) and 1 <= v <= MAX_NEW_TOKENS, f"a whole number from 1 to {MAX_NEW_TOKENS}"),
        "temperature": (lambda v: _is_number(v) and 0 < v <= 100, "a number above 0 and at most 100"),
    },
    "reward": {
        "schedule": (lambda v: isinstance(v, str) and v != "", "a schedule file's absolute path"),
        "preset": (lambda v: isinstance(v, str) and v != "", "a preset's name"),
        "options": (lambda v: isinstance(v, dict), "an object of the preset's options"),
    },
}


class ControlError(RuntimeError):
    """The control socket could not be opened."""


def _own_uid() -> int:
    return os.getuid()


def _private_dir(path: Path) -> Path:
    """Creates `path` (mode 0700) or checks an existing one: a real folder, not a link, owned by this user,
    that no one else can enter (a looser mode on our own folder is tightened). Raises OSError otherwise."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise OSError(f"{path} is not a folder")
    if info.st_uid != _own_uid():
        raise OSError(f"{path} belongs to another user (uid {info.st_uid})")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def socket_dirs() -> list[Path]:
    """The folders a control socket may go in, in order of preference: $XDG_RUNTIME_DIR/rollout-studio
    (a per-user folder the system makes private), <temp dir>/rollout-studio-<uid>, /tmp/rollout-studio-<uid>."""
    uid = _own_uid()
    out: list[Path] = []
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        out.append(Path(runtime) / "rollout-studio")
    out.append(Path(tempfile.gettempdir()) / f"rollout-studio-{uid}")
    out.append(Path("/tmp") / f"rollout-studio-{uid}")
    return list(dict.fromkeys(out))


def socket_name(run_dir: Path) -> str:
    """The socket's file name: a hash of the run directory's absolute path (one socket per run directory)."""
    return hashlib.sha256(str(Path(run_dir).resolve()).encode("utf-8")).hexdigest()[:20] + ".sock"


def socket_path_for(run_dir: Path) -> Path:
    """Where the control socket of `run_dir` goes: the first usable private folder whose path leaves the
    socket's short enough for AF_UNIX. Raises ControlError saying what was tried."""
    name = socket_name(run_dir)
    problems = []
    for folder in socket_dirs():
        path = folder / name
        if len(os.fsencode(str(path))) > MAX_SOCKET_PATH:
            problems.append(f"{path} is longer than {MAX_SOCKET_PATH} bytes")
            continue
        try:
            _private_dir(folder)
            return path
        except OSError as err:
            problems.append(f"{folder}: {err.strerror or err}")
    raise ControlError("no folder for the control socket: " + "; ".join(problems))


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


class Control:
    def __init__(self, run_dir: Path, schedule_roots: Iterable[Path | str] = ()):
        """`schedule_roots`: folders (with their subfolders) a pushed schedule file may be in, besides the
        run directory itself."""
        self.run_dir = Path(run_dir).resolve()
        self.file = self.run_dir / CONTROL_FILE
        self.path: Path | None = None
        roots = [self.run_dir, *(Path(r) for r in schedule_roots)]
        self.schedule_roots = list(dict.fromkeys(Path(os.path.realpath(r)) for r in roots))
        self.stop_requested = False
        self.checkpoint_requested = False
        self.paused = False
        self._samples: queue.Queue[tuple[dict[str, Any], Callable[[dict[str, Any]], None]]] = queue.Queue()
        self._rewards: queue.Queue[tuple[dict[str, Any], Callable[[dict[str, Any]], None]]] = queue.Queue()
        self._wake = threading.Event()
        self._server: socket.socket | None = None
        self._previous_sigterm = None

    def start(self) -> None:
        """Opens the socket (mode 0600 whatever the umask) and writes control.json. Raises ControlError with
        the reason when it cannot."""
        path = socket_path_for(self.run_dir)
        try:
            if os.path.lexists(path):
                os.unlink(path)  # left by an engine that was killed (the run directory's lock says none runs now)
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            previous = os.umask(0o177)  # no moment when the socket is open to others
            try:
                server.bind(str(path))
            finally:
                os.umask(previous)
            os.chmod(path, 0o600)
            server.listen(4)
        except OSError as err:
            raise ControlError(f"cannot open the control socket {path}: {err.strerror or err}") from err
        self.path, self._server = path, server
        tmp = self.file.with_name(self.file.name + ".tmp")
        tmp.write_text(json.dumps({"socket": str(path), "pid": os.getpid()}) + "\n", encoding="utf-8")
        tmp.replace(self.file)
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

    @staticmethod
    def _peer_uid(conn: socket.socket) -> int | None:
        """The connecting process's user (Linux SO_PEERCRED); None where the system does not say."""
        if not hasattr(socket, "SO_PEERCRED"):
            return None
        try:
            _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        except OSError:
            return None
        return uid

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rw", encoding="utf-8") as stream:
            peer = self._peer_uid(conn)
            if peer is not None and peer != _own_uid():
                stream.write(json.dumps({"ok": False, "error": f"refused: this run's engine takes commands only from its own user (uid {_own_uid()}), not uid {peer}"}) + "\n")
                stream.flush()
                return
            for line in stream:
                reply = self.handle(line)
                if reply is not None:
                    stream.write(json.dumps(reply) + "\n")
                    stream.flush()

    def check(self, message: Any) -> str | None:
        """What is wrong with a command, or None. Every field is checked: its type, its range, and fields
        the command does not take."""
        if not isinstance(message, dict):
            return 'send one JSON object per line, e.g. {"command": "pause"}'
        command = message.get("command")
        if "command" not in message:
            return 'missing field "command", e.g. {"command": "pause"}'
        if not isinstance(command, str):
            return f'field "command" must be a string ({", ".join(COMMANDS)}), got {json.dumps(command)[:80]}'
        if command not in FIELDS:
            return f"unknown command {command!r}; commands: {', '.join(COMMANDS)}"
        fields = FIELDS[command]
        for name, value in message.items():
            if name == "command":
                continue
            if name not in fields:
                takes = f"takes only {', '.join(repr(f) for f in fields)}" if fields else "takes no other field"
                return f"{command}: unknown field {name!r} ({command} {takes})"
            good, what = fields[name]
            if not good(value):
                return f"{command}: field {name!r} must be {what}, got {json.dumps(value)[:80]}"
        if command == "sample" and "prompt" not in message:
            return 'sample: missing field "prompt" (a string)'
        if command == "reward":
            if ("schedule" in message) == ("preset" in message):
                return 'reward: give one of "schedule" (a schedule file) or "preset"'
            if "options" in message and "preset" not in message:
                return 'reward: field "options" goes with "preset" only'
            if "schedule" in message:
                return self.check_schedule(message["schedule"])
        return None

    def check_schedule(self, schedule: str) -> str | None:
        """A pushed schedule file must be a TypeScript or JavaScript file inside the run directory or a folder
        the run was set up from (the run configuration's folder, the configured schedule's folder, the
        workspace that holds .rollout-studio/runs): a socket command cannot make the engine run code from
        anywhere else."""
        if not os.path.isabs(schedule):
            return f"reward: {schedule} is not an absolute path"
        if not schedule.endswith(SCHEDULE_SUFFIXES):
            return f"reward: {schedule} is not a schedule file (a {', '.join(SCHEDULE_SUFFIXES)} file)"
        return self.check_schedule_file(schedule)

    def check_schedule_file(self, schedule: str) -> str | None:
        """Whether the schedule file exists and is inside one of the run's folders (beyond what the contract's
        schema can say)."""
        if not os.path.isfile(schedule):
            return f"reward: {schedule} is not a file"
        real = Path(os.path.realpath(schedule))
        if not _inside(real, self.schedule_roots):
            where = f" (it resolves to {real})" if str(real) != schedule else ""
            return (f"reward: {schedule}{where} is outside the folders this run takes schedules from: "
                    f"{', '.join(str(r) for r in self.schedule_roots)}; put the schedule in one of them")
        return None

    def handle(self, line: str, answer: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any] | None:
        """Applies one command line; returns the reply (sample replies come when the sample is made)."""
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            message = None  # not JSON: check() says what to send
        problem = self.check(message)
        if problem:
            return {"ok": False, "error": problem}
        command = message["command"]
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
            return self._queue_and_wait(self._samples, message, 600, "no answer: the run ended")
        elif command == "reward":
            return self._queue_and_wait(self._rewards, message, 900, "no answer: the run ended before the next step")
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
    def _answer_jobs(jobs: queue.Queue, make: Callable[[dict[str, Any]], dict[str, Any]] | None, refusal: str = "") -> None:
        """Answers pending jobs with make(message), or (make None) refuses them with `refusal`."""
        while not jobs.empty():
            message, answer = jobs.get()
            if make is None:
                answer({"ok": False, "error": refusal})
                continue
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
            if self.path is not None and os.path.lexists(self.path):
                os.unlink(self.path)
            try:
                if json.loads(self.file.read_text(encoding="utf-8")).get("pid") == os.getpid():
                    self.file.unlink()
            except (OSError, ValueError):
                pass
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None
        self._answer_jobs(self._samples, None, "the run ended before the sample was made")
        self.serve_rewards(lambda _: {"accepted": False, "version": None, "error": "the run ended before the next step"})


def reward_answer(result: dict[str, Any]) -> dict[str, Any]:
    """The control socket's answer to a reward command (RewardAnswer in contract/control.schema.json), from
    the reward host's answer to load (LoadResult in contract/reward-host.schema.json)."""
    answer = {"accepted": bool(result.get("accepted")), "version": result.get("version")}
    error = result.get("error")
    if error:
        answer["error"] = error.get("message") if isinstance(error, dict) else str(error)
    return answer
