"""A run configuration with `[run] engine = "verl"`: Rollout Studio writes verl's dataset and command line from
the run.toml, starts verl with Rollout Studio's reward, and follows its rollout dumps into the run directory
(docs/verl.md, "Start RL Run with verl"). `python -m rollout_engine.train --config run.toml` comes here for
such a configuration, so the extension's Start RL Run and `rollout-studio train` start verl too.

verl itself is not installable on the machines this project is built on: the command line is built from
verl's own configuration (verl/trainer/config/_generated_ppo_trainer.yaml, main of 2026-08), and what runs
it here in the tests is a stand-in launcher that writes verl's files; a live verl run was not exercised.
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..config import ConfigError, RunConfig
from ..control import Control
from ..reward_client import RewardSource
from ..rundir import check_new_run_dir
from .records import step_event

REWARD_FILE = Path(__file__).resolve().parent / "verl_reward.py"
# Our loss_type → verl's actor.loss_agg_mode (how token losses are averaged).
LOSS_AGG = {"grpo": "seq-mean-token-mean", "bnpo": "token-mean", "dr_grpo": "seq-mean-token-sum-norm"}


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def write_dataset(samples_file: str | Path, out: Path, template: str, data_source: str = "rollout_studio") -> int:
    """A dataset in Rollout Studio's format as verl's parquet: data_source, prompt (the template's
    conversation), ability, reward_model {style, ground_truth (the calls as JSON text)}, extra_info {index,
    id, tools (JSON text)}."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError("[run] engine = \"verl\" writes verl's parquet dataset with pyarrow: pip install pyarrow") from None
    from ..data import read_dataset
    from ..templates import messages, reward_ground_truth

    rows = []
    for i, s in enumerate(read_dataset(samples_file)):
        rows.append({"data_source": data_source, "prompt": messages(s, template), "ability": "tool_calling",  # type: ignore[arg-type]
                     "reward_model": {"style": "rule", "ground_truth": reward_ground_truth(s, template)},  # type: ignore[arg-type]
                     "extra_info": {"index": i, "id": s.id, "tools": json.dumps(s.tools)}})
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), out)
    return len(rows)


def verl_command(config: RunConfig, run_dir: Path, run_id: str, train_file: Path, val_file: Path) -> tuple[list[str], dict[str, str]]:
    """verl's command line and environment for this run configuration."""
    g, p, v = config.grpo, config.policy, config.verl
    verl_dir = run_dir / "verl"
    reward = "custom_reward_function" if v.legacy_reward_keys else "reward.custom_reward_function"
    source = {"schedule": config.reward.schedule} if config.reward.schedule else {"preset": config.reward.preset}
    settings = [
        "algorithm.adv_estimator=grpo",
        f"algorithm.norm_adv_by_std_in_grpo={g.scale_rewards}",
        "algorithm.use_kl_in_reward=False",
        f"data.train_files={train_file}", f"data.val_files={val_file}",
        f"data.train_batch_size={g.prompts_per_step}", f"data.max_response_length={p.max_new_tokens}",
        "data.filter_overlong_prompts=True",
        f"actor_rollout_ref.model.path={p.model}",
        f"actor_rollout_ref.model.enable_gradient_checkpointing={p.gradient_checkpointing}",
        f"actor_rollout_ref.actor.optim.lr={g.learning_rate}",
        f"actor_rollout_ref.actor.ppo_mini_batch_size={g.prompts_per_step}",
        f"actor_rollout_ref.actor.ppo_epochs={g.num_iterations}",
        f"actor_rollout_ref.actor.clip_ratio={g.epsilon}",
        f"actor_rollout_ref.actor.loss_agg_mode={LOSS_AGG[g.loss_type]}",
        f"actor_rollout_ref.actor.entropy_coeff={g.entropy_coef}",
        f"actor_rollout_ref.actor.grad_clip={g.max_grad_norm}",
        f"actor_rollout_ref.actor.use_kl_loss={g.beta > 0}", f"actor_rollout_ref.actor.kl_loss_coef={g.beta}",
        "actor_rollout_ref.actor.kl_loss_type=low_var_kl",  # the k3 estimator, as Rollout Studio's engine
        f"actor_rollout_ref.rollout.n={g.num_generations}",
        f"actor_rollout_ref.rollout.temperature={g.temperature}", f"actor_rollout_ref.rollout.top_p={g.top_p}",
        f"trainer.total_training_steps={g.max_steps}", f"trainer.save_freq={config.run.checkpoint_every}",
        f"trainer.test_freq={config.run.eval_every or -1}", f"trainer.val_before_train={bool(config.run.eval_every)}",
        "trainer.project_name=rollout-studio", f"trainer.experiment_name={run_id}",
        f"trainer.default_local_dir={verl_dir / 'checkpoints'}",
        f"trainer.rollout_data_dir={verl_dir / 'dumps'}", f"trainer.validation_data_dir={verl_dir / 'validation'}",
        "trainer.logger=[console,file]",
        f"{reward}.path={REWARD_FILE}",
        # The reward loop (0.6.1+) awaits the async function; the older managers call a plain one.
        f"{reward}.name={'compute_score' if v.legacy_reward_keys else 'compute_score_async'}",
        *(f"+{reward}.reward_kwargs.{k}={val}" for k, val in source.items()),
        f"+{reward}.reward_kwargs.rollout_data_dir={verl_dir / 'dumps'}",
        f"+{reward}.reward_kwargs.total_steps={g.max_steps}",
    ]
    if not any(o.startswith("actor_rollout_ref.rollout.name=") for o in v.overrides):
        settings.append("actor_rollout_ref.rollout.name=vllm")  # verl requires a rollout engine; [verl] overrides may name sglang
    env = {"VERL_FILE_LOGGER_PATH": str(verl_dir / "metrics.jsonl"),
           # verl's workers import Rollout Studio's reward from this engine folder (or from the installed wheel).
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH")]))}
    return [*v.launcher, *settings, *v.overrides], env


def train_with_verl(config: RunConfig, run_dir: Path, run_id: str, schedule_roots: list[Path]) -> dict[str, Any]:
    """Starts verl on this configuration and follows it until it ends (or is stopped through the control socket)."""
    from .foreign import ForeignRun
    from .verl import follow_dumps

    check_new_run_dir(run_dir)
    verl_dir = run_dir / "verl"
    train_file = verl_dir / "data" / "train.parquet"
    count = write_dataset(config.data.train, train_file, config.data.template)
    val_source = config.data.eval if isinstance(config.data.eval, str) else (config.data.eval or [None])[0]
    val_file = verl_dir / "data" / "val.parquet"
    if val_source:
        write_dataset(val_source, val_file, config.data.template)
    else:
        val_file = train_file
    command, env = verl_command(config, run_dir, run_id, train_file, val_file)
    (verl_dir / "command.sh").write_text(" \\\n  ".join(shlex.quote(c) for c in command) + "\n")
    log = open(verl_dir / "verl.log", "wb")
    try:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env}, start_new_session=True)
    except OSError as err:
        raise ConfigError(f"[verl] launcher {command[0]!r} could not start ({err.strerror or err}): install verl, or set [verl] launcher "
                          "to the command that starts it on your cluster") from None
    source = RewardSource(schedule=config.reward.schedule) if config.reward.schedule else RewardSource(preset=config.reward.preset, options=config.reward.options)
    run = ForeignRun(run_dir, source, trainer="verl", path=(verl_dir / "dumps").resolve(), mode="follow", config=_config_record(config),
                     base=str(config.policy.model))
    started = time.time()
    stop = threading.Event()
    steps: list[int] = []

    def on_step(row: dict[str, Any]) -> None:
        steps.append(row["step"])
        elapsed = time.time() - started
        emit("step", **step_event(row, elapsed, elapsed / max(len(steps), 1) * max(config.grpo.max_steps - row["step"], 0)))

    follower_error: list[BaseException] = []

    def run_follower() -> None:
        try:
            follow_dumps(run, verl_dir / "dumps", metrics_file=verl_dir / "metrics.jsonl", poll_s=0.5, settle_s=1.0,
                         log=lambda message: emit("warning", message=message), stop=stop, on_step=on_step)
        except BaseException as err:  # noqa: BLE001 — reported after verl has ended
            follower_error.append(err)

    follower = threading.Thread(target=run_follower, daemon=True)
    control = Control(run_dir, schedule_roots)
    control.start()
    emit("started", run_id=run_id, run_dir=str(run_dir), max_steps=config.grpo.max_steps, time_limit_s=0.0, params=0,
         train_samples=count, base=str(config.policy.model), first_step=1)
    follower.start()
    stopped = False
    try:
        while process.poll() is None:
            control.serve_samples(_no_sampling)
            control.serve_rewards(lambda _: {"accepted": False, "version": None,
                                             "error": "a verl run takes a new reward by saving the schedule file (every worker's host reloads it)"})
            if control.stop_requested and not stopped:
                stopped = True
                os.killpg(process.pid, signal.SIGTERM)  # verl and its Ray workers
            time.sleep(0.5)
    finally:
        stop.set()
        follower.join(timeout=120)
        control.close()
        log.close()
    code = process.returncode
    tail = (verl_dir / "verl.log").read_text(errors="replace")[-2000:]
    if follower_error:
        run.finish("failed", f"following verl's dumps failed: {follower_error[0]}")
        emit("error", message=f"following verl's dumps failed: {follower_error[0]}")
        raise follower_error[0]
    if stopped:
        run.finish("stopped")
        emit("stopped", step=steps[-1] if steps else 0)
        return {"steps": len(steps), "stopped": True}
    if code != 0:
        run.finish("failed", f"verl exited with code {code}")
        emit("error", message=f"verl exited with code {code} after {len(steps)} steps; the end of {verl_dir / 'verl.log'}:\n{tail}")
        return {"steps": len(steps), "failed": True, "code": code}
    run.finish("finished")
    emit("finished", steps=len(steps), seconds=round(time.time() - started, 1), eval=[])
    return {"steps": len(steps)}


def _no_sampling(_: dict[str, Any]) -> dict[str, Any]:
    raise ValueError("a verl run does not sample on request (its policy is in verl's workers)")


def _config_record(config: RunConfig) -> dict[str, Any]:
    from dataclasses import asdict

    record = asdict(config)
    record.pop("reward", None)  # ForeignRun records the reward it scores with
    return record


if __name__ == "__main__":  # print the command line a run configuration gives: python -m rollout_engine.integrations.verl_run run.toml
    from ..config import load_config

    cfg = load_config(sys.argv[1])
    print(" ".join(shlex.quote(c) for c in verl_command(cfg, Path("RUN_DIR"), "RUN_ID", Path("train.parquet"), Path("val.parquet"))[0]))
