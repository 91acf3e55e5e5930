"""Exact match of predicted tool calls against the ground truth: the engine's one definition.

It follows reward/match.ts (exactCallsMatch, strict mode); test/fixtures/shared-logic/exact-match.json
holds the cases both sides are tested on.
- Order-insensitive over calls and argument keys; duplicates count; two empty lists match.
- Type-strict, as Tool-N1: values compare as json.dumps(v, sort_keys=True) does, so 5, 5.0 and "5" differ.
- A prediction that is not a list, or holds an item that is not a call (an object with a string "name"
  and an object "arguments"), did not parse: it never matches.
"""
from __future__ import annotations

import json
from typing import Any


def call_key(call: Any) -> str | None:
    """A call's canonical text, or None when it is not a call."""
    if not isinstance(call, dict) or not isinstance(call.get("name"), str) or not isinstance(call.get("arguments"), dict):
        return None
    return json.dumps([call["name"], call["arguments"]], sort_keys=True)


def canonical_calls(calls: Any) -> list[str] | None:
    """Calls as a sorted list of canonical texts, or None when they did not parse."""
    if not isinstance(calls, list):
        return None
    keys: list[str] = []
    for call in calls:
        key = call_key(call)
        if key is None:
            return None
        keys.append(key)
    return sorted(keys)


def same_calls(predicted: Any, truth: Any) -> bool:
    """Whether the predicted calls are exactly the ground truth's, as a multiset."""
    p = canonical_calls(predicted)
    return p is not None and p == canonical_calls(truth)
