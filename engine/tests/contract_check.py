"""The contract's JSON Schemas (contract/*.schema.json) for the engine's tests, validated with jsonschema.

jsonschema is needed by the tests only, never by the engine: a test that validates calls validator() (or
problems(), assert_valid()), which skips that test with the reason when jsonschema is not installed.
The TypeScript tests validate the same files with ajv (test/contract/schemas.ts).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT

CONTRACT = ROOT / "contract"
FIXTURES = ROOT / "test" / "fixtures" / "contract"
SCHEMAS = ("run-directory", "engine-events", "control", "reward-host")
MISSING = "jsonschema is not installed for this Python (bash scripts/setup-python.sh installs it into .venv; or pip install jsonschema)"
# What each file of a run directory holds, by its path in the run directory.
RUN_FILES = (
    ("run.json", "RunInfo", "json"),
    ("metrics.jsonl", "StepMetrics", "jsonl"),
    ("eval.jsonl", "EvalResult", "jsonl"),
    ("rollouts/step-*.jsonl", "TrajectoryRecord", "jsonl"),
    ("index/step-*.jsonl", "IndexRow", "jsonl"),
    ("rewards/*.json", "RewardVersion", "json"),
    ("control.json", "ControlFile", "json"),
)


def schema(name: str) -> dict[str, Any]:
    return json.loads((CONTRACT / f"{name}.schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _registry():
    from referencing import Registry, Resource

    return Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in map(schema, SCHEMAS))


@lru_cache(maxsize=None)
def _validator(name: str, definition: str):
    jsonschema = pytest.importorskip("jsonschema", reason=MISSING)
    return jsonschema.Draft202012Validator({"$ref": f"{schema(name)['$id']}#/$defs/{definition}"}, registry=_registry())


def validator(name: str, definition: str):
    """The validator of one definition, e.g. validator("run-directory", "RunInfo"); skips the test without jsonschema."""
    pytest.importorskip("jsonschema", reason=MISSING)
    return _validator(name, definition)


def problems(name: str, definition: str, value: Any) -> list[str]:
    """What is wrong with a value by one definition ([] when it is valid)."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(the value)'}: {e.message}" for e in validator(name, definition).iter_errors(value)]


def assert_valid(name: str, definition: str, value: Any, where: str = "") -> None:
    found = problems(name, definition, value)
    assert not found, f"{where + ': ' if where else ''}not a valid {definition} (contract/{name}.schema.json): {'; '.join(found[:5])}\n{json.dumps(value)[:400]}"


def assert_run_dir_valid(run: Path) -> int:
    """Validates every record of a run directory (every line of its JSON Lines files); returns how many."""
    count = 0
    for pattern, definition, kind in RUN_FILES:
        schema_name = "control" if definition == "ControlFile" else "run-directory"
        for path in sorted(run.glob(pattern)):
            values = [json.loads(path.read_text(encoding="utf-8"))] if kind == "json" else \
                [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            for i, value in enumerate(values, 1):
                assert_valid(schema_name, definition, value, f"{path.relative_to(run)}{f' line {i}' if kind == 'jsonl' else ''}")
                count += 1
    return count
