"""The control socket on its own (no training): where it lives, who may connect, what it accepts."""
import json
import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from rollout_engine import control as control_module
from rollout_engine.control import Control, ControlError, socket_path_for


def long_dir(base: Path, length: int = 240) -> Path:
    """A run directory whose absolute path is at least `length` characters (nested 40-character folders)."""
    path = base
    while len(str(path)) < length:
        path = path / ("d" * 40)
    path.mkdir(parents=True)
    return path


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Sockets in a folder of this test (the temp dir is the fallback when XDG_RUNTIME_DIR is unset)."""
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    short = Path("/tmp") / f"rs-t{os.getpid()}-{threading.get_ident() % 10000}"
    short.mkdir(exist_ok=True)
    monkeypatch.setattr(control_module.tempfile, "gettempdir", lambda: str(short))
    yield short
    import shutil
    shutil.rmtree(short, ignore_errors=True)


def connect(control: Control):
    info = json.loads((control.run_dir / "control.json").read_text())
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(info["socket"])
    stream = client.makefile("rw")

    def send(message):
        stream.write((message if isinstance(message, str) else json.dumps(message)) + "\n")
        stream.flush()
        return json.loads(stream.readline())
    return client, send


def test_a_run_directory_of_any_length_gets_a_private_socket_that_it_names(tmp_path, private_tmp):
    run = long_dir(tmp_path, 240)
    assert len(str(run)) >= 240  # the old place, run/control.sock, would be far past AF_UNIX's 107 bytes
    old = os.umask(0)  # a permissive umask must not open the socket to others
    try:
        control = Control(run)
        control.start()
    finally:
        os.umask(old)
    try:
        info = json.loads((run / "control.json").read_text())
        sock = Path(info["socket"])
        assert info["pid"] == os.getpid() and sock == socket_path_for(run) and len(str(sock)) <= 100
        assert stat.S_ISSOCK(os.lstat(sock).st_mode) and stat.S_IMODE(os.lstat(sock).st_mode) == 0o600
        folder = os.lstat(sock.parent)
        assert stat.S_IMODE(folder.st_mode) == 0o700 and folder.st_uid == os.getuid()
        client, send = connect(control)
        assert send({"command": "pause"}) == {"ok": True, "command": "pause"} and control.paused
        client.close()
    finally:
        control.close()
    assert not sock.exists() and not (run / "control.json").exists()


def test_xdg_runtime_dir_is_preferred_and_a_loose_folder_is_tightened(tmp_path, private_tmp, monkeypatch):
    runtime = private_tmp / "xdg"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    (runtime / "rollout-studio").mkdir(mode=0o755)
    os.chmod(runtime / "rollout-studio", 0o755)
    path = socket_path_for(tmp_path / "run")
    assert path.parent == runtime / "rollout-studio"
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    # Two run directories, two sockets.
    assert socket_path_for(tmp_path / "run2") != path


def test_a_socket_folder_of_another_user_or_a_link_is_not_used(tmp_path, private_tmp, monkeypatch):
    monkeypatch.setattr(control_module.tempfile, "gettempdir", lambda: str(private_tmp / "t"))
    (private_tmp / "t").mkdir()
    target = private_tmp / "elsewhere"
    target.mkdir()
    os.symlink(target, private_tmp / "t" / f"rollout-studio-{os.getuid()}")
    monkeypatch.setattr(control_module, "socket_dirs", lambda: [private_tmp / "t" / f"rollout-studio-{os.getuid()}"])
    with pytest.raises(ControlError, match="is not a folder"):
        socket_path_for(tmp_path / "run")
    own = private_tmp / "mine"
    own.mkdir()
    monkeypatch.setattr(control_module, "socket_dirs", lambda: [own])
    monkeypatch.setattr(control_module, "_own_uid", lambda: os.getuid() + 1)
    with pytest.raises(ControlError, match="belongs to another user"):
        socket_path_for(tmp_path / "run")


def test_a_stale_socket_is_replaced(tmp_path, private_tmp):
    run = tmp_path / "run"
    run.mkdir()
    path = socket_path_for(run)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))  # an engine that was killed leaves its socket file behind
    stale.close()
    (run / "control.json").write_text(json.dumps({"socket": str(path), "pid": 999999999}))
    control = Control(run)
    control.start()
    try:
        client, send = connect(control)
        assert send({"command": "checkpoint"})["ok"] and control.checkpoint_requested
        client.close()
    finally:
        control.close()


def test_only_the_engines_own_user_may_connect(tmp_path, private_tmp, monkeypatch):
    if not hasattr(socket, "SO_PEERCRED"):
        pytest.skip("no SO_PEERCRED on this system")
    control = Control(tmp_path)
    control.start()
    try:
        monkeypatch.setattr(control_module, "_own_uid", lambda: os.getuid() + 1)  # as if the client were someone else
        client, send = connect(control)
        answer = send({"command": "stop"})
        assert not answer["ok"] and "only from its own user" in answer["error"] and not control.stop_requested
        client.close()
    finally:
        monkeypatch.undo()
        control.close()


@pytest.mark.parametrize("message, error", [
    ('{"command": "pause", "force": true}', "pause: unknown field 'force' (pause takes no other field)"),
    ('{"command": "sample", "prompt": "hi", "max_new_tokens": -1}', "sample: field 'max_new_tokens' must be a whole number from 1 to 4096, got -1"),
    ('{"command": "sample", "prompt": "hi", "max_new_tokens": 1e9}', "sample: field 'max_new_tokens' must be a whole number from 1 to 4096, got 1000000000.0"),
    ('{"command": "sample", "prompt": "hi", "max_new_tokens": true}', "sample: field 'max_new_tokens' must be a whole number from 1 to 4096, got true"),
    ('{"command": "sample", "prompt": "hi", "temperature": 0}', "sample: field 'temperature' must be a number above 0 and at most 100, got 0"),
    ('{"command": "sample", "prompt": "hi", "temperature": NaN}', "sample: field 'temperature' must be a number above 0 and at most 100, got NaN"),
    ('{"command": "sample", "prompt": 3}', "sample: field 'prompt' must be a string"),
    ('{"command": "sample"}', 'sample: missing field "prompt"'),
    ('{"command": "sample", "prompt": "hi", "top_k": 5}', "sample: unknown field 'top_k' (sample takes only 'prompt', 'max_new_tokens', 'temperature')"),
    ('{"command": "reward"}', 'reward: give one of "schedule" (a schedule file) or "preset"'),
    ('{"command": "reward", "preset": "tool-n1", "schedule": "/x.ts"}', 'reward: give one of "schedule"'),
    ('{"command": "reward", "preset": "tool-n1", "options": []}', "reward: field 'options' must be an object"),
    ('{"command": "reward", "schedule": "/x.ts", "options": {}}', 'reward: field "options" goes with "preset" only'),
    ('{"command": "reward", "schedule": "relative.ts"}', "reward: relative.ts is not an absolute path"),
    ('{"command": 5}', 'field "command" must be a string (pause, resume, stop, checkpoint, sample, reward), got 5'),
    ('{"prompt": "hi"}', 'missing field "command"'),
    ('[1]', "send one JSON object per line"),
    ('{"command": "fly"}', "unknown command 'fly'"),
])
def test_every_field_of_every_command_is_checked(tmp_path, message, error):
    answer = Control(tmp_path).handle(message)
    assert answer["ok"] is False and answer["error"].startswith(error), answer


def _push(control: Control, schedule: str) -> dict:
    """Sends a reward command and, as the trainer does between steps, answers it."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(control.handle(json.dumps({"command": "reward", "schedule": schedule}))))
    thread.start()
    for _ in range(200):
        control.serve_rewards(lambda message: {"accepted": True, "version": "v", "schedule": message["schedule"]})
        thread.join(timeout=0.01)
        if not thread.is_alive():
            break
    return result


def test_schedules_are_taken_only_from_the_folders_of_the_run(tmp_path):
    workspace = tmp_path / "workspace"
    run = workspace / ".rollout-studio" / "runs" / "r1"
    (run / "rewards" / "sources").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for path in (workspace / "rewards" / "mine.ts", run / "rewards" / "sources" / "abc.ts", outside / "evil.ts", workspace / "notes.txt"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("export default {};\n")
    os.symlink(outside / "evil.ts", workspace / "link.ts")
    control = Control(run, [workspace])
    # The workspace (with its subfolders) and the run directory itself (rollback sources) are allowed.
    assert _push(control, str(workspace / "rewards" / "mine.ts")) == {"ok": True, "accepted": True, "version": "v", "schedule": str(workspace / "rewards" / "mine.ts")}
    assert _push(control, str(run / "rewards" / "sources" / "abc.ts"))["accepted"]
    refused = control.handle(json.dumps({"command": "reward", "schedule": str(outside / "evil.ts")}))
    assert refused["ok"] is False and "is outside the folders this run takes schedules from" in refused["error"] and str(workspace) in refused["error"]
    linked = control.handle(json.dumps({"command": "reward", "schedule": str(workspace / "link.ts")}))
    assert linked["ok"] is False and f"resolves to {outside / 'evil.ts'}" in linked["error"]
    dotdot = control.handle(json.dumps({"command": "reward", "schedule": str(workspace / ".." / "elsewhere" / "evil.ts")}))
    assert dotdot["ok"] is False and "outside the folders" in dotdot["error"]
    not_code = control.handle(json.dumps({"command": "reward", "schedule": str(workspace / "notes.txt")}))
    assert not_code["ok"] is False and "is not a schedule file" in not_code["error"]
