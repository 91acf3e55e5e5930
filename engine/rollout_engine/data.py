"""The canonical dataset format (docs/dataset-format.md), read with errors that name the file and line.

One JSON object per line:
    {"id": str, "tools": [tool JSON schema, ...], "messages": [{"role": ..., "content": ...}, ...],
     "ground_truth": [{"name": str, "arguments": {...}}, ...], "split"?: str, "meta"?: {...}}
An empty ground-truth list means no call should be made.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ROLES = ("system", "user", "assistant", "tool")


class DatasetError(ValueError):
    """A dataset that cannot be used, naming the file and line."""


@dataclass
class Sample:
    id: str
    tools: list[dict[str, Any]]
    messages: list[dict[str, str]]
    ground_truth: list[dict[str, Any]]
    split: str = "train"
    meta: dict[str, Any] = field(default_factory=dict)


def _problem(record: Any) -> str | None:
    """What is wrong with one record, or None."""
    if not isinstance(record, dict):
        return "a line must be a JSON object"
    if not isinstance(record.get("id"), str) or not record["id"]:
        return 'field "id" must be a non-empty string'
    tools = record.get("tools")
    if not isinstance(tools, list) or not all(isinstance(t, dict) and isinstance(t.get("name"), str) for t in tools):
        return 'field "tools" must be a list of tool schemas, each with a "name"'
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        return 'field "messages" must be a non-empty list of {"role", "content"}'
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            return f'messages[{i}] must be {{"role": one of {", ".join(ROLES)}, "content": a string}}'
    truth = record.get("ground_truth")
    if not isinstance(truth, list):
        return 'field "ground_truth" must be a list of {"name", "arguments"} calls ([] when no call is expected)'
    for i, c in enumerate(truth):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not isinstance(c.get("arguments"), dict):
            return f'ground_truth[{i}] must be {{"name": a string, "arguments": an object}}'
    if "split" in record and not isinstance(record["split"], str):
        return 'field "split" must be a string'
    if "meta" in record and not isinstance(record["meta"], dict):
        return 'field "meta" must be an object'
    return None


def read_dataset(path: str | Path, on_bad_line: Literal["abort", "skip"] = "abort",
                 warn=lambda message: None) -> list[Sample]:
    """Reads a dataset. A bad line aborts with DatasetError, or with on_bad_line="skip" is reported
    through warn() and left out. Zero usable samples is always an error."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such dataset file") from None
    samples: list[Sample] = []
    skipped = 0
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            problem = _problem(record)
        except json.JSONDecodeError as err:
            problem = f"not valid JSON: {err}"
        if problem is None and record["id"] in seen:
            problem = f'duplicate id {record["id"]!r}'
        if problem is not None:
            message = f"{path}:{number}: {problem}"
            if on_bad_line == "abort":
                raise DatasetError(message + ' (set on_bad_line = "skip" in [data] to leave bad lines out)')
            warn(message)
            skipped += 1
            continue
        seen.add(record["id"])
        samples.append(Sample(id=record["id"], tools=record["tools"], messages=record["messages"],
                              ground_truth=record["ground_truth"], split=record.get("split", "train"),
                              meta=record.get("meta", {})))
    if not samples:
        raise DatasetError(f"{path}: no usable samples ({skipped} bad lines skipped)" if skipped else f"{path}: the dataset is empty")
    return samples
