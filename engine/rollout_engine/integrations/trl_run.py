"""A run configuration with `[run] engine = "trl"`: the same run.toml, trained by TRL's GRPOTrainer instead of
Rollout Studio's loop (docs/trl.md, "Start RL Run with TRL"). `python -m rollout_engine.train --config run.toml`
(and so the extension's Start RL Run and `rollout-studio train`) comes here for such a configuration.

What maps where: [data] train and template → the dataset (trl_dataset); [policy] model (a local transformers
folder), max_new_tokens → max_completion_length, gradient_checkpointing, precision bf16-mixed → bf16;
[grpo] → GRPOConfig's names (prompts_per_step × num_generations completions per device step); [reward] →
reward_funcs; [run] seed, device (cpu → use_cpu), checkpoint_every → save_steps. The run directory is the
one Rollout Studio's callback writes; TRL's own output (checkpoints) goes to <run dir>/trl/.

Events on stdout are the engine's (contract/engine-events.schema.json): started, step, checkpoint,
paused/resumed, stopped, finished, error. Run control through the control socket: stop (TRL stops after
the step), checkpoint (TRL saves after the step), pause and resume (between steps), and pushing a reward
(the reward host switches at the next batch); sampling from the current policy is answered with an error.
One process: for several GPUs run `accelerate launch -m rollout_engine.train --config run.toml` yourself.
"""
from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

from ..config import ConfigError, RunConfig
from ..control import Control, reward_answer
from ..rundir import check_new_run_dir
from .records import step_event


def train_with_trl(config: RunConfig, run_dir: Path, run_id: str, schedule_roots: list[Path]) -> dict[str, Any]:
    """Trains with TRL. stdout carries the engine's events only: what TRL and transformers print (the logs
    dict of each step) goes to stderr, the engine's log."""
    events_out = sys.stdout

    def event(name: str, **fields: Any) -> None:
        print(json.dumps({"event": name, **fields}), file=events_out, flush=True)

    with contextlib.redirect_stdout(sys.stderr):
        return _train(config, run_dir, run_id, event, schedule_roots)


def _train(config: RunConfig, run_dir: Path, run_id: str, emit: Callable[..., None], schedule_roots: list[Path]) -> dict[str, Any]:
    try:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, TrainerCallback
        from trl import GRPOConfig, GRPOTrainer
    except ImportError as err:
        raise ConfigError(f"[run] engine = \"trl\" needs trl and transformers in the engine's Python ({err}); "
                          "bash scripts/setup-python.sh installs them, or pip install trl") from None
    from .trl import RolloutStudioCallback, reward_funcs, trl_dataset

    check_new_run_dir(run_dir)
    g, p = config.grpo, config.policy
    torch.manual_seed(config.run.seed)
    torch.set_num_threads(p.threads)
    model_dir = Path(p.model or "")
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    if p.init == "random":
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(model_dir, local_files_only=True))
    else:
        model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
    dataset = trl_dataset(config.data.train, config.data.template)
    r = config.reward
    rewards = reward_funcs(schedule=r.schedule, preset=r.preset, options=r.options, template=config.data.template)
    studio = RolloutStudioCallback(rewards, run_dir, run_id=run_id, dataset=str(config.data.train), template=config.data.template)
    cuda = config.run.device.startswith("cuda")
    args = GRPOConfig(
        output_dir=str(run_dir / "trl"), per_device_train_batch_size=g.prompts_per_step * g.num_generations,
        num_generations=g.num_generations, max_completion_length=p.max_new_tokens, max_steps=g.max_steps,
        learning_rate=g.learning_rate, lr_scheduler_type=g.lr_scheduler_type, beta=g.beta, epsilon=g.epsilon,
        num_iterations=g.num_iterations, loss_type=g.loss_type, scale_rewards="group" if g.scale_rewards else "none",
        temperature=g.temperature, top_p=g.top_p, max_grad_norm=g.max_grad_norm, seed=config.run.seed,
        logging_steps=1, report_to="none", save_strategy="steps", save_steps=config.run.checkpoint_every,
        use_cpu=not cuda, bf16=cuda and p.precision in ("auto", "bf16-mixed"), gradient_checkpointing=p.gradient_checkpointing,
        disable_tqdm=True, dataloader_num_workers=0)

    class Events(TrainerCallback):
        """The engine's events and run control for a TRL run (after Rollout Studio's callback in the list)."""

        def __init__(self) -> None:
            self.control: Control | None = None
            self.started = time.time()
            self.status = "finished"

        def on_train_begin(self, args, state, control, **kwargs):
            self.control = Control(run_dir, schedule_roots)
            self.control.start()
            studio.on_metrics = self.step_event
            emit("started", run_id=run_id, run_dir=str(run_dir), max_steps=g.max_steps, time_limit_s=config.run.time_limit_s,
                 params=sum(x.numel() for x in model.parameters()), train_samples=len(dataset), base=str(model_dir), first_step=1)

        def step_event(self, row: dict[str, Any]) -> None:
            elapsed = time.time() - self.started
            emit("step", **step_event(row, elapsed, elapsed / max(row["step"], 1) * max(g.max_steps - row["step"], 0)))

        def on_step_end(self, args, state, control, **kwargs):
            c = self.control
            if c is None:
                return
            c.serve_samples(no_sampling)
            c.serve_rewards(apply_reward)
            if c.checkpoint_requested:
                c.checkpoint_requested = False
                control.should_save = True
            c.wait_while_paused(lambda: (studio.writer.set_status("paused"), emit("paused", step=state.global_step)), no_sampling, apply_reward)
            if studio.writer is not None and studio.writer.info["status"] == "paused":
                studio.writer.set_status("running")
                emit("resumed", step=state.global_step)
            if c.stop_requested:
                self.status = studio.final_status = "stopped"
                control.should_training_stop = True
                control.should_save = True

        def on_save(self, args, state, control, **kwargs):
            path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if studio.writer is not None:
                studio.writer.checkpoint(state.global_step, path)
            emit("checkpoint", step=state.global_step, path=str(path))

    def no_sampling(_: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("a TRL run does not sample on request (its policy is inside TRL's trainer)")

    def apply_reward(message: dict[str, Any]) -> dict[str, Any]:
        host = rewards[0].host
        if host is None:
            return {"accepted": False, "version": None, "error": "the reward host is not running"}
        return reward_answer(host.load(schedule=message.get("schedule"), preset=message.get("preset"), options=message.get("options")))

    events = Events()
    trainer = GRPOTrainer(model=model, reward_funcs=rewards, args=args, train_dataset=dataset, processing_class=tokenizer,
                          callbacks=[studio, events])
    try:
        trainer.train()
        summary = {"steps": int(trainer.state.global_step), "seconds": round(time.time() - events.started, 1)}
        if events.status == "stopped":
            emit("stopped", step=summary["steps"])
        else:
            emit("finished", **summary, eval=[])
        trainer.save_model(str(run_dir / "policy"))
        return summary
    except Exception as err:
        if studio.writer is not None and not studio.writer.ended:
            studio.writer.finish("failed", {"error": str(err), "step": studio.writer.info.get("step", 0)})
        emit("error", message=f"the TRL run failed: {err}")
        raise
    finally:
        rewards[0].close()
        if events.control is not None:
            events.control.close()

