"""The contract (contract/*.schema.json) from Python: the shared fixtures (test/fixtures/contract, also read
by test/contract/contract.test.ts) are valid or invalid as their names say, the engine-written fixture run
follows it, the control socket checks commands as the schema does, and a run from a newer version is refused."""
import json
import threading
from pathlib import Path

import pytest

from conftest import ROOT
from contract_check import FIXTURES, SCHEMAS, assert_run_dir_valid, assert_valid, problems
from rollout_engine.control import Control
from rollout_engine.rundir import SCHEMA_VERSION, NewerRunError, RunWriter, read_run_info

RUN_SMALL = ROOT / "test" / "fixtures" / "run-small"


def fixtures(schema_name: str = "*", definition: str = "*"):
    return [pytest.param(path, id=str(path.relative_to(FIXTURES))) for path in sorted(FIXTURES.glob(f"{schema_name}/{definition}/*.json"))]


@pytest.mark.parametrize("path", fixtures())
def test_a_shared_fixture_is_valid_or_invalid_as_its_name_says(path):
    schema_name, definition = path.parent.parent.name, path.parent.name
    assert schema_name in SCHEMAS
    value = json.loads(path.read_text(encoding="utf-8"))
    if path.name.startswith("valid"):
        assert_valid(schema_name, definition, value, str(path.relative_to(FIXTURES)))
    else:
        assert path.name.startswith("invalid-"), path
        assert problems(schema_name, definition, value), f"{path.relative_to(FIXTURES)} should not be a valid {definition}"


def test_every_kind_has_valid_and_invalid_fixtures():
    for folder in FIXTURES.glob("*/*"):
        names = [p.name for p in folder.glob("*.json")]
        assert any(n.startswith("valid") for n in names) and any(n.startswith("invalid-") for n in names), folder


@pytest.mark.parametrize("fixture", ["run-small", "run-imported"])  # the engine's own run; one written by `rollout-studio import`
def test_every_file_of_the_fixture_run_follows_the_contract(fixture):
    run = ROOT / "test" / "fixtures" / fixture
    checked = assert_run_dir_valid(run)
    files = [p for p in run.rglob("*") if p.is_file()]
    assert checked >= len(files) and len(files) >= 6


@pytest.mark.parametrize("path", fixtures("control", "ControlCommand"))
def test_the_control_socket_checks_each_command_as_the_schema_says(path, tmp_path, monkeypatch):
    """control.py checks commands in plain Python (the engine runs without jsonschema): it must refuse exactly
    the commands the schema refuses. Whether a schedule file exists and where is the socket's own check."""
    control = Control(tmp_path)
    monkeypatch.setattr(control, "check_schedule_file", lambda schedule: None)
    problem = control.check(json.loads(path.read_text(encoding="utf-8")))
    if path.name.startswith("valid"):
        assert problem is None, (path.name, problem)
    else:
        assert problem is not None, path.name


def test_the_control_socket_answers_as_the_schema_says(tmp_path):
    control = Control(tmp_path)
    answers = [control.handle(json.dumps({"command": c})) for c in ("pause", "resume", "checkpoint", "stop")]
    answers += [control.handle("not json"), control.handle(json.dumps({"command": "sample", "prompt": 3}))]

    def ask(message):
        out = {}
        thread = threading.Thread(target=lambda: out.update(answer=control.handle(json.dumps(message))))
        thread.start()
        return thread, out

    pending = [ask({"command": "sample", "prompt": "hi"}), ask({"command": "reward", "preset": "tool-zero", "options": {}})]
    while control._samples.empty() or control._rewards.empty():
        threading.Event().wait(0.01)
    control.serve_samples(lambda m: {"completion": "echo " + m["prompt"], "finish_reason": "stop"})
    control.serve_rewards(lambda m: {"accepted": True, "version": "3f9a07c2d1e4"})
    later = [ask({"command": "sample", "prompt": "late"}), ask({"command": "reward", "preset": "toolrl"})]
    while control._samples.empty() or control._rewards.empty():
        threading.Event().wait(0.01)
    control.close()  # the run ended before it could answer them
    for thread, out in pending + later:
        thread.join(timeout=10)
        answers.append(out["answer"])
    for answer in answers:
        assert_valid("control", "ControlAnswer", answer)
    assert answers[-2] == {"ok": False, "error": "the run ended before the sample was made"}
    assert answers[-1] == {"ok": True, "accepted": False, "version": None, "error": "the run ended before the next step"}


def test_the_trainers_reward_answer_follows_the_contract():
    pytest.importorskip("torch", reason="PyTorch is not installed for this Python (run bash scripts/setup.sh)")
    from rollout_engine.train import reward_answer

    accepted = {"accepted": True, "version": "3f9a07c2d1e4", "source": {"kind": "preset", "name": "tool-zero", "options": {}}}
    refused = {"accepted": False, "version": "be4a2c5abb6a", "error": {"message": "version x failed its check", "problems": [], "report": {}}}
    for host_answer in (accepted, refused):
        assert_valid("control", "RewardAnswer", {"ok": True, **reward_answer(host_answer)})
    assert reward_answer(refused)["error"] == "version x failed its check"


def _old_run(tmp_path: Path, version=None) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    info = json.loads((RUN_SMALL / "run.json").read_text())
    info.pop("schema_version")
    if version is not None:
        info["schema_version"] = version
    (run / "run.json").write_text(json.dumps(info))
    return run


def test_a_run_without_schema_version_is_version_1_and_resumes_as_this_version(tmp_path):
    run = _old_run(tmp_path)
    assert read_run_info(run)["id"] == "run"
    writer = RunWriter(run, "run", None, None, resume_after=3)
    writer.finish("stopped", {"step": 3})
    info = json.loads((run / "run.json").read_text())
    assert info["schema_version"] == SCHEMA_VERSION and info["resumed_at"][0]["step"] == 3


def test_a_run_from_a_newer_version_is_not_resumed(tmp_path):
    run = _old_run(tmp_path, SCHEMA_VERSION + 1)
    before = (run / "run.json").read_text()
    with pytest.raises(NewerRunError, match=rf"{run} was written by a newer Rollout Studio \(run directory schema version {SCHEMA_VERSION + 1}; "
                                            rf"this one reads up to {SCHEMA_VERSION}\): update Rollout Studio"):
        RunWriter(run, "run", None, None, resume_after=3)
    assert (run / "run.json").read_text() == before and not (run / ".lock").exists()


def test_a_new_run_records_its_schema_version(tmp_path):
    from rollout_engine.config import RunConfig

    writer = RunWriter(tmp_path / "run", "run", RunConfig(), "/base")
    writer.finish("failed", {"error": "stopped at once", "step": 0})
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["schema_version"] == SCHEMA_VERSION
    assert_valid("run-directory", "RunInfo", info)
