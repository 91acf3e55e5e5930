"""GRPO training of a tool-calling policy, scored by the reward host. Reads top to bottom:
load → for each step: sample G completions per prompt, score them, group advantages, update → evaluate.

    python -m rollout_engine.train --config run.toml
Progress goes to stdout as JSON Lines events (started, step, eval, finished, warning, error), each defined in
contract/engine-events.schema.json; the run directory's records are defined in contract/run-directory.schema.json.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .calls import same_calls
from .config import ConfigError, RunConfig, load_config
from .control import Control, ControlError, reward_answer
from .data import DatasetError, Sample, read_dataset
from .grpo import NonFiniteError, group_advantages, policy_loss, zero_variance_fraction
from .model import left_pad
from .pretrain import default_base, load_base
from .reward_client import RewardHost, RewardHostError, RewardSource
from .rundir import NewerRunError, RunExistsError, RunInUseError, RunWriter, check_new_run_dir, read_run_info
from .templates import messages, reward_ground_truth

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def emit(event: str, **fields: Any) -> None:
    """One event on stdout (contract/engine-events.schema.json says which fields each event has)."""
    print(json.dumps({"event": event, **fields}), flush=True)


def scoring_sample(sample: Sample, sample_id: str, completion: str, template: str) -> dict[str, Any]:
    """A completion as the reward host scores it, with the ground truth in the template's form."""
    return {"id": sample_id, "completion": completion, "ground_truth": reward_ground_truth(sample, template), "tools": sample.tools}


def exact_match(score: dict[str, Any], truth: list[dict[str, Any]]) -> bool:
    return same_calls(score.get("calls"), truth)


def sequence_logprobs(model, rows: list[tuple[list[int], list[int]]], pad_id: int):
    """Log-probabilities (and entropies) of each row's completion tokens given its prompt.
    Returns (logp, entropy, mask), each (B, longest completion), completions left-aligned.
    Rows in runs with the same prompt (a GRPO group) read it once where the model can share it; a model with
    its own completion_logprobs (the hf policy: right-padded, chunked) computes them itself."""
    if hasattr(model, "completion_logprobs"):
        return model.completion_logprobs(rows, pad_id)
    device = model.device
    C = max(len(c) for _, c in rows)
    if hasattr(model, "shared_prompt_logits"):
        prompts: list[list[int]] = []
        counts: list[int] = []
        for prompt, _ in rows:
            if prompts and prompts[-1] == prompt:
                counts[-1] += 1
            else:
                prompts.append(prompt)
                counts.append(1)
        completions = torch.full((len(rows), C), pad_id, dtype=torch.long, device=device)
        for i, (_, c) in enumerate(rows):
            completions[i, :len(c)] = torch.tensor(c, dtype=torch.long)
        lengths = torch.tensor([len(c) for _, c in rows], device=device)
        real = torch.arange(C, device=device)[None, :] < lengths[:, None]
        logprobs = F.log_softmax(model.shared_prompt_logits(prompts, counts, completions, real, pad_id).float(), dim=-1)
        mask = real.float()
        token_logp = logprobs.gather(-1, completions[..., None]).squeeze(-1)
        token_entropy = -(logprobs.exp() * logprobs).sum(-1)
        return token_logp * mask, token_entropy * mask, mask
    idx, key_mask = left_pad([p + c for p, c in rows], pad_id, device)
    # Completions end the (left-padded) rows: the last C + 1 positions predict the last C tokens.
    logits = model.completion_logits(idx, key_mask, C + 1)[:, :-1]
    logprobs = F.log_softmax(logits.float(), dim=-1)
    token_logp = logprobs.gather(-1, idx[:, idx.shape[1] - C:, None]).squeeze(-1)
    token_entropy = -(logprobs.exp() * logprobs).sum(-1)
    lengths = torch.tensor([len(c) for _, c in rows], device=device)
    positions = torch.arange(C, device=device)[None, :]
    mask = (positions < lengths[:, None]).float()
    columns = (positions + (C - lengths)[:, None]).clamp(max=max(C - 1, 0))  # right-aligned → left-aligned
    return token_logp.gather(1, columns) * mask, token_entropy.gather(1, columns) * mask, mask


def load_policy(config: RunConfig, warn):
    """The policy and its tokenizer: the tiny base (built and cached when missing) or a local transformers model."""
    if config.policy.backend == "hf":
        from .hf_policy import load_hf  # transformers is needed only here
        policy, tokenizer = load_hf(config.policy, config.run.device, warn)
        return policy, tokenizer, str(config.policy.model)
    base = Path(config.policy.model) if config.policy.model else default_base(log=lambda line: print(line, flush=True))
    policy, tokenizer = load_base(base)
    if config.policy.init == "random":
        policy = type(policy)(policy.config)  # same shape and tokenizer, weights as before any training
    return policy.to(config.run.device), tokenizer, str(base)


def evaluate(policy, tokenizer, host: RewardHost, samples: list[Sample], config: RunConfig, step: int, progress: float, epoch: float, split: str) -> dict[str, Any]:
    """Greedy decoding on held-out samples: strict (exact-call) accuracy and mean reward."""
    template = config.data.template
    correct = 0
    rewards: list[float] = []
    for start in range(0, len(samples), 64):
        chunk = samples[start:start + 64]
        prompts = [tokenizer.encode_prompt(messages(s, template), template) for s in chunk]
        tokens, _ = policy.generate(prompts, config.policy.max_new_tokens, temperature=1e-6, eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id)
        batch = [scoring_sample(s, s.id, tokenizer.decode(t), template) for s, t in zip(chunk, tokens)]
        scores = host.score(batch, step=step, progress=progress, epoch=epoch)
        for s, score in zip(chunk, scores):
            correct += exact_match(score, s.ground_truth)
            if score["total"] is not None:
                rewards.append(score["total"])
    return {"split": split, "step": step, "samples": len(samples), "strict_accuracy": correct / max(1, len(samples)),
            "mean_reward": sum(rewards) / max(1, len(rewards))}


NON_FINITE_ADVICE = "lower the learning rate, or train in fp32 (precision = \"fp32\") to see whether bf16 is the cause,"


def parameters_finite(policy) -> bool:
    """Whether every trainable weight is finite, with one host sync."""
    checks = [torch.isfinite(p).all() for p in policy.parameters() if p.requires_grad]
    return bool(torch.stack(checks).all()) if checks else True


def random_states(generator: torch.Generator, order: list[int]) -> dict[str, Any]:
    return {"python_rng": random.getstate(), "torch_rng": torch.get_rng_state(), "sampling_rng": generator.get_state(), "order": list(order)}


def save_checkpoint(run_dir: Path, step: int, policy, optimizer, states: dict[str, Any]) -> Path:
    """Everything needed to continue exactly: weights, optimizer, every random state, data position, step.
    Written to a temporary folder and renamed, so a kill never leaves half a checkpoint."""
    final = run_dir / "checkpoints" / f"step-{step:06d}"
    tmp = final.with_name(final.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    torch.save({"step": step, "model": policy.state_dict(), "optimizer": optimizer.state_dict(), **states}, tmp / "state.pt")
    if final.exists():
        import shutil
        shutil.rmtree(final)
    tmp.replace(final)
    return final


def export_checkpoint(policy, tokenizer, run_dir: Path, step: int, warn) -> None:
    """The checkpoint's policy as ONNX in <run>/exports/step-N, ready for the playground. A failed export is a
    warning: the run goes on."""
    try:
        from .export import export, export_hf_run, write_atomically

        if not hasattr(policy, "shared_prompt_logits"):  # an hf model: exported from the checkpoint just written
            export_hf_run(run_dir, step, None)
            return
        origin = {"source": "run", "path": str(run_dir), "step": step, "file": f"checkpoints/step-{step:06d}"}
        write_atomically(run_dir / "exports" / f"step-{step}", lambda tmp: export(policy, tokenizer, tmp, origin))
        policy.train()
    except Exception as err:  # noqa: BLE001 — an export must not end a run
        warn(f"the checkpoint of step {step} was not exported to ONNX for the playground: {err}")


def latest_checkpoint(run_dir: Path) -> Path | None:
    done = sorted(p for p in (run_dir / "checkpoints").glob("step-*") if not p.name.endswith(".tmp") and (p / "state.pt").exists())
    return done[-1] if done else None


def schedule_roots(config: RunConfig, run_dir: Path, config_file: str | Path | None) -> list[Path]:
    """The folders (with their subfolders) the control socket's reward command takes schedule files from,
    besides the run directory: the run configuration's folder, the configured schedule's folder, and the
    workspace when the run directory is <workspace>/.rollout-studio/runs/<id> (docs/run-directory.md)."""
    roots: list[Path] = []
    if config_file is not None:
        roots.append(Path(config_file).resolve().parent)
    if config.reward.schedule:
        roots.append(Path(config.reward.schedule).resolve().parent)
    run_dir = run_dir.resolve()
    if run_dir.parent.name == "runs" and run_dir.parent.parent.name == ".rollout-studio":
        roots.append(run_dir.parent.parent.parent)
    return roots


def train(config: RunConfig, run_dir: Path, run_id: str, *, resume: bool = False, stop_after: int | None = None,
          config_file: str | Path | None = None) -> dict[str, Any]:
    """Trains; with resume=True continues from the run directory's latest checkpoint. stop_after ends the
    run (with a checkpoint) after that step, as a stop request does. A new run (resume=False) refuses a run
    directory that already holds a run. config_file: the run configuration's file (its folder is one a
    pushed schedule may come from)."""
    if not resume:
        check_new_run_dir(run_dir)
    elif (run_dir / "run.json").exists():
        read_run_info(run_dir)  # refuses a run from a newer version before anything is loaded
    g = config.grpo
    random.seed(config.run.seed)
    torch.manual_seed(config.run.seed)
    torch.set_num_threads(config.policy.threads)
    warn = lambda message: emit("warning", message=message)  # noqa: E731
    train_set = read_dataset(config.data.train, config.data.on_bad_line, warn)
    eval_sets: dict[str, list[Sample]] = {}
    eval_files = [config.data.eval] if isinstance(config.data.eval, str) else (config.data.eval or [])
    for path in eval_files:
        for s in read_dataset(path, config.data.on_bad_line, warn):
            eval_sets.setdefault(s.split, []).append(s)
    if config.data.eval_samples:
        eval_sets = {split: rows[:config.data.eval_samples] for split, rows in eval_sets.items()}

    policy, tokenizer, base = load_policy(config, warn)
    reference = policy.frozen_copy() if g.beta > 0 else None
    optimizer = torch.optim.AdamW([p for p in policy.parameters() if p.requires_grad], lr=g.learning_rate, weight_decay=0.0)
    source = RewardSource(preset=config.reward.preset, options=config.reward.options) if config.reward.schedule is None else RewardSource(schedule=config.reward.schedule)
    generator = torch.Generator().manual_seed(config.run.seed)
    order: list[int] = []
    first_step = 1
    checkpoint = latest_checkpoint(run_dir) if resume else None
    if resume and checkpoint is None:
        if not (run_dir / "run.json").exists():
            raise ConfigError(f"{run_dir}: not a run directory (no run.json) to resume")
        emit("warning", message=f"{run_dir} has no checkpoint yet: the run starts again from step 1")
    if checkpoint is not None:
        state = torch.load(checkpoint / "state.pt", map_location=policy.device)
        policy.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        random.setstate(state["python_rng"])
        torch.set_rng_state(state["torch_rng"])
        generator.set_state(state["sampling_rng"])
        order = state["order"]
        first_step = state["step"] + 1
    writer = RunWriter(run_dir, run_id, config, base, resume_after=first_step - 1 if resume else None, warn=warn)
    control = Control(run_dir, schedule_roots(config, run_dir, config_file))
    try:
        control.start()
    except ControlError as err:
        writer.finish("failed", {"error": str(err), "step": first_step - 1})
        emit("error", message=f"{err}. The run did not start; nothing was trained.")
        raise
    emit("started", run_id=run_id, run_dir=str(run_dir), max_steps=g.max_steps, time_limit_s=config.run.time_limit_s, params=policy.num_params(), train_samples=len(train_set), base=base, first_step=first_step,
         rollout=getattr(policy, "rollout_path", "shared-prefill"))
    steps_per_epoch = max(1, len(train_set) // g.prompts_per_step)
    started = time.time()
    current = {"step": first_step - 1}

    def host_restarted(reason: str) -> None:
        emit("warning", message=f"the reward host was restarted at step {current['step']}: it {reason}. The batch was sent to the new host "
                                "again; a reward that crashes the host twice on one batch pauses the run with a checkpoint", step=current["step"], reason=reason)

    def pause_before(step: int, states: dict[str, Any], why: str, what_to_do: str, checkpoint: bool = True) -> None:
        """Pauses the run after step - 1 with a checkpoint of it (weights and optimizer not yet touched by
        `step`, random states from before it): a resume redoes `step` exactly."""
        if checkpoint:
            path = save_checkpoint(run_dir, step - 1, policy, optimizer, states)
            writer.checkpoint(step - 1, path)
            where = f"after step {step - 1} with a checkpoint of it"
        else:
            last = latest_checkpoint(run_dir)
            where = f"at step {step}; its latest good checkpoint is {last}" if last else f"at step {step}, before any checkpoint"
        writer.finish("paused", {"error": why, "step": step - 1})
        emit("error", message=f"{why}. The run is paused {where}; {what_to_do} and resume with --resume --run-dir {run_dir}")

    def sample_now(message: dict[str, Any]) -> dict[str, Any]:
        """A completion from the current policy, for the control socket's sample command."""
        policy.eval()
        tokens, finished_ = policy.generate([tokenizer.encode(message["prompt"])], int(message.get("max_new_tokens", config.policy.max_new_tokens)),
                                            temperature=float(message.get("temperature", g.temperature)), eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id)
        return {"completion": tokenizer.decode(tokens[0]), "finish_reason": "stop" if finished_[0] else "length"}

    def evaluate_all(host: RewardHost, step: int) -> list[dict[str, Any]]:
        policy.eval()
        results = []
        for split, samples_ in sorted(eval_sets.items()):
            # Scored at the training time of `step` itself (step 0: the start).
            result = evaluate(policy, tokenizer, host, samples_, config, step, max(0, step - 1) / g.max_steps, step / steps_per_epoch, split)
            result["elapsed_s"] = round(time.time() - started, 1)
            writer.eval(result)
            emit("eval", **result)
            results.append(result)
        return results

    try:
        with RewardHost(source, on_restart=host_restarted) as host:
            known_events = 0

            def apply_reward(message: dict[str, Any]) -> dict[str, Any]:
                """Push or rollback: the host checks the version on recent samples and switches, or keeps the current one."""
                return reward_answer(host.load(schedule=message.get("schedule"), preset=message.get("preset"), options=message.get("options")))

            if config.run.eval_every and first_step == 1:
                evaluate_all(host, 0)  # the starting policy: the curve's first point
            train_seconds = 0.0  # time in steps, not in evaluations, for the time limit
            last_step = g.max_steps
            for step in range(first_step, g.max_steps + 1):
                current["step"] = step
                t0 = time.time()
                progress = (step - 1) / g.max_steps
                epoch = (step - 1) / steps_per_epoch
                lr = g.learning_rate if g.lr_scheduler_type == "constant" else g.learning_rate * 0.5 * (1 + math.cos(math.pi * progress))
                for group in optimizer.param_groups:
                    group["lr"] = lr

                # 1. Rollout: G samples for each prompt of the step.
                states_before = random_states(generator, order)  # to redo this step exactly if it fails
                if len(order) < g.prompts_per_step:
                    order += random.sample(range(len(train_set)), len(train_set))
                batch = [train_set[order.pop()] for _ in range(g.prompts_per_step)]
                prompts = [tokenizer.encode_prompt(messages(s, config.data.template), config.data.template) for s in batch]
                repeated = [p for p in prompts for _ in range(g.num_generations)]
                policy.eval()
                try:
                    tokens, finished = policy.generate(prompts, config.policy.max_new_tokens, temperature=g.temperature, top_p=g.top_p,
                                                       eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id, generator=generator,
                                                       num_samples=g.num_generations)
                except NonFiniteError as err:
                    pause_before(step, states_before, f"step {step}: {err}", NON_FINITE_ADVICE)
                    raise
                completions = [tokenizer.decode(t) for t in tokens]
                t1 = time.time()

                # 2. Rewards from the host, with the step and progress the schedule depends on.
                samples = [batch[i // g.num_generations] for i in range(len(repeated))]
                wire = [scoring_sample(s, f"{s.id}#{i % g.num_generations}", c, config.data.template) for i, (s, c) in enumerate(zip(samples, completions))]
                try:
                    scores = host.score(wire, step=step, progress=progress, epoch=epoch)
                except RewardHostError as err:
                    pause_before(step, states_before, f"the reward host failed twice on step {step}: {err}", "fix the reward")
                    raise
                # What the schedule printed outside any sample (loading, timers): to the event stream, never lost.
                while host.logs:
                    emit("reward_log", step=step, **{k: v for k, v in host.logs.popleft().items() if k not in ("event", "step")})
                for event in host.events[known_events:]:
                    if event.get("event") == "reload_rejected":
                        emit("reward_reload_rejected", message=event["error"]["message"], step=step)
                    elif event.get("event") == "reloaded":
                        emit("reward_reloaded", version=event["version"], previous=event.get("previous"), step=step)
                known_events = len(host.events)
                for score in scores:
                    writer.reward_version(score["version"], host.schedules.get(score["version"]), host.schedule_file, step)
                t2 = time.time()

                # 3. Advantages within each group; reward failures are left out.
                rewards = [s["total"] for s in scores]
                advantages, trains = group_advantages(rewards, g.num_generations, scale=g.scale_rewards)

                # 4. Update: the clipped surrogate (+ KL to the reference) over completion tokens, in
                # micro-batches whose gradients add up to the whole batch's.
                policy.train()
                rows = [(p, t + ([tokenizer.eos_id] if f else [])) for p, t, f in zip(repeated, tokens, finished)]
                # A model that reads every row on its own (hf) gets its micro-batches sorted by length, so little
                # of a micro-batch is padding; the loss is a sum over rows, so the order changes nothing else.
                update_order = list(range(len(rows)))
                if hasattr(policy, "completion_logprobs"):
                    update_order.sort(key=lambda i: len(rows[i][0]) + len(rows[i][1]))
                rows = [rows[i] for i in update_order]
                row_trains = [trains[i] for i in update_order]
                weights = torch.tensor(row_trains, dtype=torch.float32, device=policy.device)
                adv = torch.tensor([advantages[i] for i in update_order], dtype=torch.float32, device=policy.device) * weights
                size = config.policy.micro_batch_size or len(rows)
                spans = [(a, min(a + size, len(rows))) for a in range(0, len(rows), size)]
                total_tokens = float(sum(len(c) for (_, c), keep in zip(rows, row_trains) if keep))
                with torch.no_grad():
                    ref_logps = [sequence_logprobs(reference, rows[a:b], tokenizer.pad_id)[0] if reference is not None else None for a, b in spans]
                old_logps: list[torch.Tensor | None] = [None] * len(spans)
                stats: dict[str, float] = {}
                for _ in range(g.num_iterations):
                    optimizer.zero_grad(set_to_none=True)
                    sums = Counter()
                    for k, (a, b) in enumerate(spans):
                        logp, entropy, mask = sequence_logprobs(policy, rows[a:b], tokenizer.pad_id)
                        if old_logps[k] is None:
                            old_logps[k] = logp.detach()
                        loss, part = policy_loss(logp, old_logps[k], adv[a:b], mask * weights[a:b, None], epsilon=g.epsilon, beta=g.beta,
                                                 ref_logp=ref_logps[k], entropy=entropy, entropy_coef=g.entropy_coef, loss_type=g.loss_type,
                                                 max_length=config.policy.max_new_tokens + 1, total_rows=len(rows), total_tokens=total_tokens)
                        if not torch.isfinite(loss):
                            pause_before(step, states_before, f"step {step}: the loss of micro-batch {k + 1} of {len(spans)} is {float(loss)}", NON_FINITE_ADVICE)
                            raise NonFiniteError(f"the loss is {float(loss)} at step {step}")
                        loss.backward()
                        for name in ("clip_fraction", "kl", "entropy"):
                            sums[name] += part[name] * part["tokens"]
                        sums["tokens"] += part["tokens"]
                    stats = {name: sums[name] / max(sums["tokens"], 1.0) for name in ("clip_fraction", "kl", "entropy")}
                    grad_norm = float(torch.nn.utils.clip_grad_norm_(policy.parameters(), g.max_grad_norm))
                    if not math.isfinite(grad_norm):  # clipping by an infinite norm would write NaN into every weight
                        pause_before(step, states_before, f"step {step}: the gradient norm is {grad_norm}", NON_FINITE_ADVICE)
                        raise NonFiniteError(f"the gradient norm is {grad_norm} at step {step}")
                    optimizer.step()
                    if not parameters_finite(policy):
                        pause_before(step, states_before, f"step {step}: the optimizer step left non-finite weights", NON_FINITE_ADVICE, checkpoint=False)
                        raise NonFiniteError(f"non-finite weights after the update of step {step}")
                t3 = time.time()

                # 5. Records and metrics.
                records = []
                for i, (s, c, score) in enumerate(zip(samples, completions, scores)):
                    records.append({"run": run_id, "step": step, "prompt_id": s.id, "group": i // g.num_generations, "sample": i % g.num_generations,
                                    "policy_version": step - 1, "reward_version": score["version"], "prompt": {"messages": s.messages, "tools": s.tools},
                                    "completion": c, "calls": score["calls"], "parse_failure": score["parseFailure"], "ground_truth": s.ground_truth,
                                    "reward": score["total"], "components": score["components"], "failure": score["failure"], "advantage": advantages[i],
                                    "trained": trains[i], "prompt_tokens": len(repeated[i]), "completion_tokens": len(tokens[i]),
                                    "finish_reason": "stop" if finished[i] else "length"})
                    if score.get("logs"):
                        records[-1]["reward_logs"] = score["logs"]  # what the schedule printed while scoring this sample
                ok = [s for s in scores if s["total"] is not None]
                totals = [s["total"] for s in ok]
                component_stats = {}
                for name in (ok[0]["components"] if ok else {}):
                    values = [s["components"][name]["value"] for s in ok if name in s["components"]]
                    raw = [s["components"][name]["raw"] for s in ok if name in s["components"]]
                    # value = weight × raw; raw shows the component's own rise while its weight changes.
                    weights = [s["components"][name]["weight"] for s in ok if name in s["components"]]
                    component_stats[name] = {"mean": sum(values) / len(values), "min": min(values), "max": max(values), "raw_mean": sum(raw) / len(raw),
                                             "weight": sum(weights) / len(weights)}
                reasons = Counter(s["parseFailure"]["reason"] for s in scores if s["parseFailure"])
                lengths = [len(t) for t in tokens]
                metrics = {
                    "step": step, "elapsed_s": round(time.time() - started, 3), "learning_rate": lr,
                    "time": {"step": step, "progress": progress, "epoch": epoch},  # the training time the rewards were scored at
                    "reward": {"mean": sum(totals) / max(1, len(totals)), "min": min(totals, default=0.0), "max": max(totals, default=0.0)},
                    "components": component_stats,
                    "format_pass_rate": sum(1 for s in ok if s["components"].get("format", {}).get("raw", 0) > 0) / max(1, len(scores)),
                    "parse_failure_rate": sum(reasons.values()) / len(scores), "parse_failures": dict(reasons),
                    "exact_match_rate": sum(exact_match(sc, s.ground_truth) for sc, s in zip(scores, samples)) / len(scores),
                    "reward_failures": len(scores) - len(ok),
                    "zero_variance_groups": zero_variance_fraction(rewards, g.num_generations),
                    "advantage": {"mean": sum(advantages) / len(advantages), "min": min(advantages), "max": max(advantages)},
                    "kl": stats.get("kl"), "entropy": stats.get("entropy"), "clip_fraction": stats.get("clip_fraction"), "grad_norm": grad_norm,
                    "update_skipped": False,  # for older readers: a non-finite step now pauses the run
                    "completion_length": {"mean": sum(lengths) / len(lengths), "max": max(lengths)},
                    "truncation_rate": sum(1 for f in finished if not f) / len(finished),
                    "tokens_per_s": {"rollout": sum(lengths) / max(t1 - t0, 1e-9), "train": sum(len(p) + len(c) for p, c in rows) * g.num_iterations / max(t3 - t2, 1e-9)},
                    "time_s": {"rollout": round(t1 - t0, 4), "reward": round(t2 - t1, 4), "update": round(t3 - t2, 4)},
                }
                t4 = time.time()
                writer.rollouts(step, records, [exact_match(sc, s.ground_truth) for sc, s in zip(scores, samples)])
                metrics["time_s"]["write"] = round(time.time() - t4, 4)  # the records; the metrics line is small
                writer.metrics(step, metrics)
                train_seconds += time.time() - t0
                remaining = train_seconds / (step - first_step + 1) * (g.max_steps - step)
                if config.run.time_limit_s:
                    remaining = min(remaining, max(0.0, config.run.time_limit_s - train_seconds))
                emit("step", step=step, reward=round(metrics["reward"]["mean"], 4), exact=round(metrics["exact_match_rate"], 4),
                     format=round(metrics["format_pass_rate"], 4), elapsed_s=round(time.time() - started, 1), remaining_s=round(remaining, 1))

                # 6. Between steps: checkpoints and run control (stop, pause, samples from the current policy).
                if step == stop_after:
                    control.stop_requested = True
                out_of_time = bool(config.run.time_limit_s) and train_seconds >= config.run.time_limit_s
                if out_of_time:
                    last_step = step
                    if step < g.max_steps:
                        emit("warning", message=f"the time limit ({config.run.time_limit_s:g} s of training) is reached after step {step}; the run ends here")
                if config.run.eval_every and step % config.run.eval_every == 0 and step != last_step:
                    evaluate_all(host, step)
                if step % config.run.checkpoint_every == 0 or step == last_step or control.stop_requested or control.checkpoint_requested:
                    control.checkpoint_requested = False
                    path = save_checkpoint(run_dir, step, policy, optimizer, random_states(generator, order))
                    writer.checkpoint(step, path)
                    emit("checkpoint", step=step, path=str(path))
                    if config.run.export_checkpoints:
                        export_checkpoint(policy, tokenizer, run_dir, step, warn)
                control.serve_samples(sample_now)
                control.serve_rewards(apply_reward)
                control.wait_while_paused(lambda: (writer.set_status("paused"), emit("paused", step=step)), sample_now, apply_reward)
                if control.stop_requested:
                    writer.finish("stopped", {"step": step})
                    emit("stopped", step=step)
                    return {"steps": step, "stopped": True}
                if writer.info["status"] == "paused":
                    writer.set_status("running")
                    emit("resumed", step=step)
                if out_of_time:
                    break

            results = evaluate_all(host, last_step)
        summary = {"steps": last_step, "seconds": round(time.time() - started, 1), "train_seconds": round(train_seconds, 1), "eval": results}
        writer.finish("finished", summary)
        policy.save(run_dir)  # policy.pt (tiny) or a transformers folder policy/ (hf)
        emit("finished", **summary)
        return summary
    except Exception as err:
        if not writer.ended:
            # Never leave run.json saying `running` for a run that ended (a reward host that could not start, …).
            writer.finish("failed", {"error": str(err), "step": writer.info.get("step", 0)})
            if not isinstance(err, (RewardHostError, NonFiniteError)):  # main() reports those
                emit("error", message=f"the run failed after step {writer.info.get('step', 0)}: {err}")
        raise
    finally:
        control.close()


def fresh_run_dir(runs: Path) -> Path:
    """A new run directory under `runs`, named by the time: <YYYYmmdd-HHMMSS>, or with -2, -3, … when a run
    started in the same second."""
    run_id = time.strftime("%Y%m%d-%H%M%S")
    candidate, n = runs / run_id, 1
    while candidate.exists():
        n += 1
        candidate = runs / f"{run_id}-{n}"
    return candidate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train a tool-calling policy with GRPO.")
    parser.add_argument("--config", required=True)
    parser.add_argument("--run-dir")
    parser.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its latest checkpoint")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        if args.resume and not args.run_dir:
            raise ConfigError("--resume needs --run-dir, the run to continue")
        run_dir = Path(args.run_dir or config.run.dir or fresh_run_dir(PROJECT_ROOT / ".rollout-studio" / "runs"))
        if config.run.engine == "verl":
            if args.resume:
                raise ConfigError("--resume: a verl run resumes from its own checkpoints (trainer.resume_mode); Rollout Studio does not resume it")
            from .integrations.verl_run import train_with_verl

            summary = train_with_verl(config, run_dir, run_dir.name, schedule_roots(config, run_dir, args.config))
            return 1 if summary.get("failed") else 0
        if config.run.engine == "trl":
            if args.resume:
                raise ConfigError("--resume: a TRL run resumes from its own checkpoints (<run dir>/trl/checkpoint-N); Rollout Studio does not resume it")
            from .integrations.trl_run import train_with_trl

            train_with_trl(config, run_dir, run_dir.name, schedule_roots(config, run_dir, args.config))
            return 0
        train(config, run_dir, run_dir.name, resume=args.resume, config_file=args.config)
        return 0
    except (ConfigError, DatasetError, RunInUseError, RunExistsError, NewerRunError) as err:
        emit("error", message=str(err))
        return 2
    except RewardHostError as err:
        emit("error", message=str(err))
        return 1
    except NonFiniteError:
        return 1  # the error event is out, and the run is paused with its checkpoint
    except ControlError:
        return 1  # the error event is out, and run.json says failed


if __name__ == "__main__":
    sys.exit(main())
