"""`[run] engine = "verl"` (rollout_engine/integrations/verl_run.py): the command line and dataset Rollout
Studio gives verl, and the run it follows. verl cannot be installed here: the process started is
tests/standin_verl.py, which reads verl's command line, loads the reward function by its path as verl does and
writes verl's dumps and logger lines. A live verl run was not exercised."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, send_control
from rollout_engine.config import load_config
from rollout_engine.integrations.verl_run import verl_command, write_dataset

pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed for this Python: engine = \"verl\" writes verl's parquet with it (pip install pyarrow)")
STANDIN = Path(__file__).resolve().parent / "standin_verl.py"


def write_config(tmp_path, launcher, extra=""):
    rows = [json.loads(line) for line in (ROOT / "demo" / "data" / "train.jsonl").read_text().splitlines()[:12]]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "run.toml").write_text(f"""
[data]
train = "train.jsonl"
template = "tool-n1"
[policy]
backend = "hf"
model = "/models/qwen2.5-0.5b"
max_new_tokens = 256
[reward]
preset = "tool-n1"
[grpo]
num_generations = 4
prompts_per_step = 2
max_steps = 3
beta = 0.001
loss_type = "dr_grpo"
[run]
engine = "verl"
[verl]
launcher = {json.dumps(launcher)}
overrides = ["trainer.n_gpus_per_node=8", "actor_rollout_ref.rollout.name=sglang"]
{extra}
""")
    return tmp_path / "run.toml", rows


def test_the_command_line_names_verls_keys_for_the_run_configuration(tmp_path):
    path, _ = write_config(tmp_path, ["python3", "-m", "verl.trainer.main_ppo"])
    command, env = verl_command(load_config(path), Path("/runs/r1"), "r1", Path("/d/train.parquet"), Path("/d/val.parquet"))
    assert command[:3] == ["python3", "-m", "verl.trainer.main_ppo"]
    settings = dict(arg.split("=", 1) for arg in command[3:])
    assert settings["algorithm.adv_estimator"] == "grpo" and settings["actor_rollout_ref.rollout.n"] == "4"
    assert settings["data.train_batch_size"] == "2" and settings["data.max_response_length"] == "256"
    assert settings["actor_rollout_ref.actor.loss_agg_mode"] == "seq-mean-token-sum-norm"  # dr_grpo
    assert settings["actor_rollout_ref.actor.use_kl_loss"] == "True" and settings["actor_rollout_ref.actor.kl_loss_type"] == "low_var_kl"
    assert settings["trainer.rollout_data_dir"] == "/runs/r1/verl/dumps" and settings["trainer.total_training_steps"] == "3"
    assert settings["reward.custom_reward_function.name"] == "compute_score_async"
    assert settings["reward.custom_reward_function.path"].endswith("rollout_engine/integrations/verl_reward.py")
    assert settings["+reward.custom_reward_function.reward_kwargs.preset"] == "tool-n1"
    assert command[-2:] == ["trainer.n_gpus_per_node=8", "actor_rollout_ref.rollout.name=sglang"]  # the cluster's, last
    assert "actor_rollout_ref.rollout.name=vllm" not in command  # the default only when overrides name none
    assert env["VERL_FILE_LOGGER_PATH"] == "/runs/r1/verl/metrics.jsonl" and str(ROOT / "engine") in env["PYTHONPATH"]
    legacy, _ = write_config(tmp_path, ["verl"], "legacy_reward_keys = true")
    old = dict(arg.split("=", 1) for arg in verl_command(load_config(legacy), Path("/r"), "r", Path("t"), Path("v"))[0][1:])
    assert old["custom_reward_function.name"] == "compute_score" and "reward.custom_reward_function.path" not in old


def test_the_dataset_is_verls_parquet_with_the_ground_truth_as_json(tmp_path):
    path, rows = write_config(tmp_path, ["verl"])
    assert write_dataset(tmp_path / "train.jsonl", tmp_path / "train.parquet", "tool-n1") == len(rows)
    table = pq.read_table(tmp_path / "train.parquet").to_pylist()
    assert set(table[0]) == {"data_source", "prompt", "ability", "reward_model", "extra_info"}
    assert json.loads(table[0]["reward_model"]["ground_truth"]) == rows[0]["ground_truth"]
    assert table[0]["prompt"][-1]["role"] == "user" and table[0]["extra_info"]["id"] == rows[0]["id"]


def _engine(path, run, env=None):
    return subprocess.Popen([sys.executable, "-m", "rollout_engine.train", "--config", str(path), "--run-dir", str(run)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "engine"), **(env or {})})


def test_start_rl_run_with_verl_starts_it_and_follows_its_dumps_into_the_run(tmp_path):
    from contract_check import assert_run_dir_valid

    path, _ = write_config(tmp_path, [sys.executable, str(STANDIN)])
    run = tmp_path / "run"
    engine = _engine(path, run)
    out, err = engine.communicate(timeout=180)
    assert engine.returncode == 0, err[-3000:]
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events] == ["started", "step", "step", "step", "finished"], events
    assert [e["step"] for e in events if e["event"] == "step"] == [1, 2, 3]
    assert assert_run_dir_valid(run) > 0
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "finished" and info["source"]["trainer"] == "verl" and info["source"]["mode"] == "follow"
    assert info["config"]["run"]["engine"] == "verl" and info["config"]["reward"]["preset"] == "tool-n1"
    records = [json.loads(line) for line in (run / "rollouts" / "step-000001.jsonl").read_text().splitlines()]
    assert len(records) == 8 and [(r["group"], r["sample"]) for r in records][:4] == [(0, 0), (0, 1), (0, 2), (0, 3)]
    # verl's score came from Rollout Studio's reward, through the file verl loads by its path: the same as ours.
    assert [r["source_reward"] for r in records] == [r["reward"] for r in records] == [1.0, 0.0, 1.0, 0.0] * 2
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["learning_rate"] for m in metrics] == [1e-6] * 3  # from verl's file logger
    argv = json.loads((run / "verl" / "argv.json").read_text())
    assert "trainer.n_gpus_per_node=8" in argv and (run / "verl" / "command.sh").exists()


def test_stop_ends_verl_and_marks_the_run_stopped(tmp_path):
    path, _ = write_config(tmp_path, [sys.executable, str(STANDIN)])
    run = tmp_path / "run"
    engine = _engine(path, run, {"STANDIN_STEPS": "3", "STANDIN_STEP_S": "30"})
    events = []
    for line in engine.stdout:
        events.append(json.loads(line))
        if events[-1]["event"] == "step":
            assert send_control(run, {"command": "stop"})["ok"]
    assert engine.wait(timeout=60) == 0
    assert events[-1] == {"event": "stopped", "step": 1}
    assert json.loads((run / "run.json").read_text())["status"] == "stopped"


def test_a_launcher_that_cannot_start_says_what_to_set(tmp_path):
    path, _ = write_config(tmp_path, ["/nonexistent/verl-launcher"])
    engine = _engine(path, tmp_path / "run")
    out, _ = engine.communicate(timeout=60)
    assert engine.returncode == 2
    error = next(json.loads(line) for line in out.splitlines() if line.startswith("{") and '"error"' in line)
    assert "[verl] launcher" in error["message"] and "install verl" in error["message"]


def test_verl_failing_is_an_error_with_the_end_of_its_log(tmp_path):
    path, _ = write_config(tmp_path, [sys.executable, "-c", "import sys; print('CUDA out of memory'); sys.exit(3)"])
    engine = _engine(path, tmp_path / "run")
    out, _ = engine.communicate(timeout=60)
    assert engine.returncode == 1
    error = next(json.loads(line) for line in out.splitlines() if line.startswith("{") and '"error"' in line)
    assert "verl exited with code 3" in error["message"] and "CUDA out of memory" in error["message"]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "failed"
