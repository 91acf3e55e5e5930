"""The run directory: the contract between the engine and the extension (docs/run-directory.md).

    run.json                  config snapshot, status, reward versions, base model
    metrics.jsonl             one line per step
    rollouts/step-000001.jsonl  the step's trajectory records, written and flushed at the end of the step
    rewards/<version>.json    every reward version used (and the schedule's source, for schedule files)
    eval.jsonl                evaluation results
Files are appended and flushed per step; run.json is replaced atomically.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


class RunWriter:
    def __init__(self, run_dir: Path, run_id: str, config: Any, base: str | None):
        self.dir = run_dir
        for sub in ("rollouts", "rewards"):
            (run_dir / sub).mkdir(parents=True, exist_ok=True)
        self.info: dict[str, Any] = {"id": run_id, "status": "running", "started_at": time.time(), "config": asdict(config),
                                     "base": base, "reward_versions": [], "step": 0}
        self._save_info()

    def _save_info(self) -> None:
        write_atomic(self.dir / "run.json", json.dumps(self.info, indent=2))

    def reward_version(self, version: str, schedule: dict[str, Any] | None, source_file: str | None) -> None:
        """Records a reward version the first time it scores something."""
        if version in self.info["reward_versions"]:
            return
        entry: dict[str, Any] = {"version": version, "schedule": schedule}
        if source_file:
            entry["source_file"] = source_file
            try:
                entry["source"] = Path(source_file).read_text(encoding="utf-8")
            except OSError as err:
                entry["source_error"] = str(err)
        write_atomic(self.dir / "rewards" / f"{version}.json", json.dumps(entry, indent=2))
        self.info["reward_versions"].append(version)
        self._save_info()

    def rollouts(self, step: int, records: list[dict[str, Any]]) -> None:
        """The step's trajectory records, written and flushed at the end of the step."""
        with open(self.dir / "rollouts" / f"step-{step:06d}.jsonl", "w", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record) + "\n")
            f.flush()

    def metrics(self, step: int, metrics: dict[str, Any]) -> None:
        with open(self.dir / "metrics.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(metrics) + "\n")
            f.flush()
        self.info["step"] = step
        self._save_info()

    def eval(self, result: dict[str, Any]) -> None:
        with open(self.dir / "eval.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(result) + "\n")

    def finish(self, status: str, summary: dict[str, Any] | None = None) -> None:
        self.info["status"] = status
        self.info["finished_at"] = time.time()
        if summary is not None:
            self.info["summary"] = summary
        self._save_info()
