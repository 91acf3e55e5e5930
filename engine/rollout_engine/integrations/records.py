"""What every integration (TRL, verl, the importers) reads from another trainer's values and writes into
Rollout Studio's records and metrics rows: one place, so a run from any of them reads the same."""
from __future__ import annotations

import json
import math
from typing import Any

ROLES = ("system", "user", "assistant", "tool")


def json_value(value: Any) -> Any:
    """A value, parsed when it is JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def as_calls(value: Any) -> list[dict[str, Any]] | None:
    """A ground truth as a list of {"name", "arguments"} calls (also from JSON text, or ToolRL's
    {"name", "parameters"}), or None when it is not one (a ToolRL target string, a math answer, …)."""
    value = json_value(value)
    if isinstance(value, dict) and isinstance(value.get("ground_truth"), (list, str)):  # verl's reward_model {"style", "ground_truth"}
        value = json_value(value["ground_truth"])
    if not isinstance(value, list):
        return None
    calls = []
    for c in value:
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            return None
        arguments = json_value(c.get("arguments", c.get("parameters")))
        if not isinstance(arguments, dict):
            return None
        calls.append({"name": c["name"], "arguments": arguments})
    return calls


def number_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def messages_of(prompt: Any) -> list[dict[str, str]]:
    """A prompt as messages: a conversation (a list, or its JSON text) as given, or text as one user message."""
    prompt = json_value(prompt)
    if isinstance(prompt, list):
        return [{"role": m["role"], "content": m["content"]} for m in prompt
                if isinstance(m, dict) and m.get("role") in ROLES and isinstance(m.get("content"), str)]
    return [{"role": "user", "content": str(prompt)}]


def stat(values: list[float]) -> dict[str, float]:
    return {"mean": sum(values) / len(values), "min": min(values), "max": max(values)} if values else {"mean": 0.0, "min": 0.0, "max": 0.0}


def component_stats(scored: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """The metrics row's components: each component's weighted values over the samples that scored."""
    out = {}
    for name in (scored[0]["components"] if scored else {}):
        present = [s["components"][name] for s in scored if name in s["components"]]
        out[name] = {**stat([c["value"] for c in present]), "raw_mean": sum(c["raw"] for c in present) / len(present),
                     "weight": sum(c["weight"] for c in present) / len(present)}
    return out


def step_event(row: dict[str, Any], elapsed_s: float, remaining_s: float) -> dict[str, Any]:
    """The engine's `step` event (contract/engine-events.schema.json) from a step's metrics row."""
    return {"step": row["step"], "reward": round(row["reward"]["mean"], 4), "exact": round(row["exact_match_rate"], 4),
            "format": round(row["format_pass_rate"], 4), "elapsed_s": round(elapsed_s, 1), "remaining_s": round(remaining_s, 1)}
