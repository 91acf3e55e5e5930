"""Run configuration: plain data read from a TOML file. GRPO settings use TRL's GRPOConfig names.

Every key is checked: an unknown key or a value of the wrong type is an error that names the key, the
file, and what is allowed.
"""
from __future__ import annotations

import dataclasses
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


class ConfigError(ValueError):
    """A run configuration that cannot be used, with what to change."""


@dataclass
class DataConfig:
    train: str = "demo/data/train.jsonl"  # canonical dataset format (docs/dataset-format.md)
    eval: str | list[str] | None = None  # one file or several; samples are grouped by their "split" field
    eval_samples: int = 0  # at most this many samples per split (0: all)
    template: Literal["tool-n1", "toolrl", "tool-zero", "documentation"] = "tool-zero"
    on_bad_line: Literal["abort", "skip"] = "abort"


@dataclass
class PolicyConfig:
    backend: Literal["tiny", "hf"] = "tiny"
    model: str | None = None  # a local path for hf; a base checkpoint for tiny (built when missing)
    init: Literal["pretrained", "random"] = "pretrained"  # random: the base's shape and tokenizer, fresh weights (the no-base baseline)
    max_new_tokens: int = 64
    threads: int = 1  # torch CPU threads
    micro_batch_size: int = 0  # rows per forward/backward in the update (0: the whole batch at once)
    # hf only:
    precision: Literal["auto", "fp32", "bf16-mixed", "bf16"] = "auto"  # auto: bf16-mixed on CUDA, fp32 on CPU
    gradient_checkpointing: bool = True
    lora_rank: int = 0  # > 0: train LoRA adapters (needs peft); the reference is the model with the adapter off
    lora_alpha: float = 0.0  # 0: twice the rank
    rollout: Literal["auto", "shared-prefill", "generate"] = "auto"  # auto: shared-prefill where the model's cache allows it, else generate
    logprob_chunk: int = 4096  # completion tokens per LM-head chunk in the update (their logits are recomputed in the backward pass)


@dataclass
class RewardConfig:
    preset: str | None = None  # tool-zero when neither preset nor schedule is given
    schedule: str | None = None  # a schedule file (hot-reloaded on save); give it or a preset, not both
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class GRPOConfig:
    num_generations: int = 8  # G: samples per prompt
    prompts_per_step: int = 32
    temperature: float = 1.0
    top_p: float = 1.0
    beta: float = 0.0  # KL coefficient (k3 estimator); 0 as in Tool Zero
    epsilon: float = 0.2  # PPO clip range
    num_iterations: int = 1  # updates per batch
    loss_type: Literal["grpo", "bnpo", "dr_grpo"] = "grpo"
    scale_rewards: bool = True  # False: Dr. GRPO's no-std advantages
    entropy_coef: float = 0.0
    learning_rate: float = 1e-3
    lr_scheduler_type: Literal["constant", "cosine"] = "constant"
    max_grad_norm: float = 1.0
    max_steps: int = 100


@dataclass
class RunSettings:
    dir: str | None = None  # default: .rollout-studio/runs/<run id>
    seed: int = 0
    device: str = "cpu"
    checkpoint_every: int = 25
    export_checkpoints: bool = False  # also export each checkpoint to ONNX for the playground (exports/step-N)
    eval_every: int = 0  # > 0: evaluate the starting policy and then every N steps; always after the last step
    time_limit_s: float = 0.0  # > 0: end the run after the step that passes this many seconds of training
    engine: Literal["rollout-studio", "trl", "verl"] = "rollout-studio"  # trl, verl: that trainer trains it (integrations/trl_run.py, verl_run.py)


@dataclass
class VerlConfig:
    """For [run] engine = "verl" (integrations/verl_run.py): how to start verl, and the settings of your cluster."""
    launcher: list[str] = field(default_factory=lambda: ["python3", "-m", "verl.trainer.main_ppo"])
    overrides: list[str] = field(default_factory=list)  # verl key=value settings added last (GPUs, nodes, rollout engine, …)
    legacy_reward_keys: bool = False  # verl before 0.7.1: custom_reward_function.* instead of reward.custom_reward_function.*


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    grpo: GRPOConfig = field(default_factory=GRPOConfig)
    run: RunSettings = field(default_factory=RunSettings)
    verl: VerlConfig = field(default_factory=VerlConfig)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is dict:
        return "a table"
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0]).removeprefix('a ').removeprefix('an ')}s"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false", type(None): "absent"}.get(tp, str(tp))


def _check(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return value in typing.get_args(tp)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(_check(value, a) for a in typing.get_args(tp))
    if origin is dict:
        return isinstance(value, dict)
    if origin is list:
        return isinstance(value, list) and all(_check(v, typing.get_args(tp)[0]) for v in value)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is type(None):
        return value is None
    return isinstance(value, tp)


def _build(cls: type, table: dict[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    for key in table:
        if key not in fields:
            raise ConfigError(f"{where}: unknown key {key!r}; known keys: {', '.join(sorted(fields))}")
    values = {}
    for key, value in table.items():
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{key}] must be a table")
            values[key] = _build(tp, value, f"{where} [{key}]")
        elif not _check(value, tp):
            raise ConfigError(f"{where}: {key} must be {_type_name(tp)}, got {value!r}")
        else:
            values[key] = float(value) if tp is float else value
    return cls(**values)


def load_config(path: str | Path) -> RunConfig:
    """Reads and checks a run configuration file."""
    path = Path(path)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such run configuration file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    config = _build(RunConfig, table, str(path))
    validate(config, str(path))
    resolve_paths(config, path.resolve().parent)
    return config


def resolve_paths(config: RunConfig, base: Path) -> None:
    """Relative paths in a run configuration are relative to the file's folder, wherever it runs from."""
    def resolve(value: str | None) -> str | None:
        return None if value is None else str(base / Path(value).expanduser())  # an absolute path stays as it is

    config.data.train = resolve(config.data.train)  # type: ignore[assignment]
    config.data.eval = [resolve(p) for p in config.data.eval] if isinstance(config.data.eval, list) else resolve(config.data.eval)  # type: ignore[misc]
    config.reward.schedule = resolve(config.reward.schedule)
    config.policy.model = resolve(config.policy.model)  # models are local paths (nothing is downloaded)
    config.run.dir = resolve(config.run.dir)


def validate(config: RunConfig, where: str = "run configuration") -> None:
    """Checks what types alone cannot: ranges and combinations."""
    r = config.reward
    if r.preset is not None and r.schedule is not None:
        raise ConfigError(f"{where}: [reward] has both preset and schedule; keep one")
    if r.preset is None and r.schedule is None:
        r.preset = "tool-zero"
    g = config.grpo
    for name, low in (("num_generations", 2), ("prompts_per_step", 1), ("num_iterations", 1), ("max_steps", 1)):
        if getattr(g, name) < low:
            raise ConfigError(f"{where}: [grpo] {name} must be at least {low}, got {getattr(g, name)}")
    if not 0 < g.top_p <= 1:
        raise ConfigError(f"{where}: [grpo] top_p must be in (0, 1], got {g.top_p}")
    if g.temperature <= 0:
        raise ConfigError(f"{where}: [grpo] temperature must be above 0, got {g.temperature}")
    if g.beta < 0 or g.epsilon <= 0 or g.learning_rate <= 0:
        raise ConfigError(f"{where}: [grpo] beta must be >= 0, epsilon and learning_rate > 0")
    for name, low in (("eval_every", 0), ("checkpoint_every", 1)):
        if getattr(config.run, name) < low:
            raise ConfigError(f"{where}: [run] {name} must be at least {low}, got {getattr(config.run, name)}")
    if config.run.time_limit_s < 0 or config.data.eval_samples < 0:
        raise ConfigError(f"{where}: [run] time_limit_s and [data] eval_samples must be at least 0")
    if config.policy.logprob_chunk < 1:
        raise ConfigError(f"{where}: [policy] logprob_chunk must be at least 1, got {config.policy.logprob_chunk}")
    if config.policy.micro_batch_size < 0 or config.policy.lora_rank < 0:
        raise ConfigError(f"{where}: [policy] micro_batch_size and lora_rank must be at least 0")
    if config.policy.backend == "tiny" and (config.policy.lora_rank or config.policy.precision not in ("auto", "fp32")):
        raise ConfigError(f"{where}: [policy] lora_rank and precision = bf16 are for backend = \"hf\"; the tiny policy trains in fp32")
    if config.run.engine == "trl" and (config.policy.backend != "hf" or config.data.eval or config.run.eval_every or config.run.time_limit_s):
        raise ConfigError(f"{where}: [run] engine = \"trl\" trains a transformers model with TRL's GRPOTrainer: it needs [policy] backend = "
                          "\"hf\" and a local model, and has no held-out evaluation or time limit here (remove [data] eval, "
                          "[run] eval_every and time_limit_s)")
    if config.run.engine == "verl" and (config.policy.backend != "hf" or not config.verl.launcher):
        raise ConfigError(f"{where}: [run] engine = \"verl\" trains a transformers model with verl: it needs [policy] backend = \"hf\", "
                          "model = the model's path as verl's workers see it, and [verl] launcher")
    if config.policy.backend == "hf" and not config.policy.model:
        raise ConfigError(f"{where}: [policy] backend = \"hf\" needs model = a local path to a transformers model")
