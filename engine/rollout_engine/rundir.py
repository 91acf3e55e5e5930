"""The run directory: the contract between the engine and the extension (docs/run-directory.md).

    run.json                  config snapshot, status, reward versions, base model
    metrics.jsonl             one line per step
    rollouts/step-000001.jsonl  the step's trajectory records, written and flushed at the end of the step
    index/step-000001.jsonl   the step's compact index: filter and sort fields, and each record's byte range
    rewards/<version>.json    every reward version used (and the schedule's source, for schedule files)
    eval.jsonl                evaluation results
    control.json              while the engine runs: where its control socket is (control.py)
Files are appended and flushed per step; run.json is replaced atomically. A run directory holds one run: a
new run refuses one that holds a run (check_new_run_dir), and a resume drops what was written after the
checkpoint it resumes from, partial last lines included.

Every record is defined in contract/run-directory.schema.json (the engine's tests validate what it writes
against it); run.json records the contract version it was written with (schema_version).
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The run directory's schema version (contract/VERSION): written into run.json; a newer run is not resumed.
_VERSION_FILE = PROJECT_ROOT / "contract" / "VERSION"
if not _VERSION_FILE.exists():  # installed from the wheel: its bundled copy
    _VERSION_FILE = Path(__file__).resolve().parent / "_bundled" / "VERSION"
SCHEMA_VERSION = int(_VERSION_FILE.read_text(encoding="utf-8").strip())


def write_atomic(path: Path, text: str, durable: bool = True) -> None:
    """Writes through a temporary file and a rename, so a reader never sees half a file. durable=False
    skips the fsync: for run.json's step count after each step, which metrics.jsonl holds too (the fsync
    was most of the cost of writing a step)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        if durable:
            os.fsync(f.fileno())
    tmp.replace(path)


class RunInUseError(RuntimeError):
    """Another engine is writing this run directory."""


class RunExistsError(RuntimeError):
    """A new run was asked for in a run directory that already holds one."""


class NewerRunError(RuntimeError):
    """The run directory was written by a newer Rollout Studio (a higher schema_version)."""


def read_run_info(run_dir: Path) -> dict[str, Any]:
    """run.json of a run to continue. A run without schema_version is from before it was recorded: version 1."""
    info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    version = info.get("schema_version", 1)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise NewerRunError(f"{run_dir} was written by a newer Rollout Studio (run directory schema version {version}; this one "
                            f"reads up to {SCHEMA_VERSION}): update Rollout Studio to resume it")
    return info


def check_new_run_dir(run_dir: Path) -> None:
    """A new run needs a run directory without a run in it: writing into an old one would append its steps
    to the old run's. A folder with other files (the extension's engine.log) is fine."""
    held = [name for name in ("run.json", "metrics.jsonl", "rollouts", "checkpoints") if (run_dir / name).exists()]
    if held:
        raise RunExistsError(f"{run_dir} already holds a run ({', '.join(held)}): pass --resume to continue it, "
                             f"or choose another run directory (--run-dir, or leave it out for a new one)")


def trim_jsonl(path: Path, keep: Callable[[dict[str, Any]], bool], warn: Callable[[str], None]) -> None:
    """Rewrites a JSON Lines file with the rows `keep` accepts. A line that is not JSON (the partial last line
    of an engine killed while writing it) is dropped, with a warning naming the file and line."""
    if not path.exists():
        return
    kept = []
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if all(not rest.strip() for rest in lines[number:]):
                warn(f"{path}: dropped its partial last line ({len(line)} characters, left by an engine that was stopped while writing it)")
            else:
                warn(f"{path}: dropped line {number}, which is not JSON")
            continue
        if isinstance(row, dict) and keep(row):
            kept.append(line)
    write_atomic(path, "".join(line + "\n" for line in kept))


def _drop_partial_last_line(path: Path, warn: Callable[[str], None]) -> bool:
    """Cuts a file after its last newline when it ends in a partial line; True when it did."""
    size = path.stat().st_size
    if size == 0:
        return False
    with open(path, "rb+") as f:
        content = f.read()
        if content.endswith(b"\n"):
            return False
        end = content.rfind(b"\n") + 1
        f.truncate(end)
    warn(f"{path}: dropped its partial last line ({size - end} bytes, left by an engine that was stopped while writing it)")
    return True


def lock_run_dir(run_dir: Path):
    """Holds an exclusive lock on the run directory for this process's life: two engines writing one run
    would interleave its files. Returns the open lock file (keep a reference to hold the lock)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    handle = open(run_dir / ".lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise RunInUseError(f"{run_dir} is in use by another engine (pid {owner}); stop it first, or use another --run-dir") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


class RunWriter:
    def __init__(self, run_dir: Path, run_id: str, config: Any, base: str | None, resume_after: int | None = None,
                 warn: Callable[[str], None] = lambda _: None):
        """A new run, or with resume_after = the checkpoint's step, a run continued from it: steps written
        after that checkpoint (by an engine that was killed) are dropped, as they will be done again, and so
        are partial last lines (`warn` names each file). `config` is a RunConfig, or a dict in its shape
        (another trainer's settings: integrations/trl.py)."""
        self.dir = run_dir
        self.ended = False  # finish() was called: run.json has the run's last status
        previous = read_run_info(run_dir) if resume_after is not None else None  # before anything is changed
        self._lock = lock_run_dir(run_dir)
        for sub in ("rollouts", "index", "rewards", "checkpoints"):
            (run_dir / sub).mkdir(parents=True, exist_ok=True)
        if previous is None:
            self.info: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "id": run_id, "status": "running", "started_at": time.time(),
                                         "config": config if isinstance(config, dict) else asdict(config), "base": base, "reward_versions": [], "step": 0, "checkpoints": []}
        else:
            self.info = previous
            self.info.update(status="running", step=resume_after, schema_version=SCHEMA_VERSION)
            self.info.setdefault("resumed_at", []).append({"step": resume_after, "time": time.time()})
            trim_jsonl(run_dir / "metrics.jsonl", lambda row: isinstance(row.get("step"), int) and row["step"] <= resume_after, warn)
            # Evaluations after the checkpoint are done again; so is the starting one when no checkpoint was made.
            trim_jsonl(run_dir / "eval.jsonl", lambda row: isinstance(row.get("step"), int) and (0 < row["step"] <= resume_after or (row["step"] == 0 and resume_after > 0)), warn)
            for stale in [*(run_dir / "rollouts").glob("step-*.jsonl"), *(run_dir / "index").glob("step-*.jsonl")]:
                if int(stale.stem.split("-")[1]) > resume_after:
                    stale.unlink()
            for kept in sorted((run_dir / "rollouts").glob("step-*.jsonl")):
                if _drop_partial_last_line(kept, warn):
                    index = run_dir / "index" / kept.name
                    if index.exists():  # its byte ranges describe the cut file: the explorer reads the records instead
                        index.unlink()
            for kept in sorted((run_dir / "index").glob("step-*.jsonl")):
                _drop_partial_last_line(kept, warn)
        self._save_info()

    def set_status(self, status: str) -> None:
        self.info["status"] = status
        self._save_info()

    def checkpoint(self, step: int, path: Path) -> None:
        self.info.setdefault("checkpoints", []).append({"step": step, "path": str(path.relative_to(self.dir))})
        self._save_info()

    def _save_info(self, durable: bool = True) -> None:
        write_atomic(self.dir / "run.json", json.dumps(self.info, indent=2), durable)

    def reward_version(self, version: str, schedule: dict[str, Any] | None, source_file: str | None, step: int | None = None) -> None:
        """Records a reward version the first time it scores something, and the step it did so at."""
        if version in self.info["reward_versions"]:
            return
        if step is not None:
            self.info.setdefault("reward_version_steps", {})[version] = step
        entry: dict[str, Any] = {"version": version, "schedule": schedule, "first_step": step}
        if source_file:
            entry["source_file"] = source_file
            try:
                entry["source"] = Path(source_file).read_text(encoding="utf-8")
            except OSError as err:
                entry["source_error"] = str(err)
        write_atomic(self.dir / "rewards" / f"{version}.json", json.dumps(entry, indent=2))
        self.info["reward_versions"].append(version)
        self._save_info()

    def rollouts(self, step: int, records: list[dict[str, Any]], exact: list[bool] | None = None) -> None:
        """The step's trajectory records, written and flushed at the end of the step, and their compact index
        (index/step-NNNNNN.jsonl): the fields the explorer filters and sorts on, and where each record lies,
        so a long run opens without parsing every completion. The index is written after the records."""
        lines = [json.dumps(record).encode("utf-8") + b"\n" for record in records]
        with open(self.dir / "rollouts" / f"step-{step:06d}.jsonl", "wb") as f:
            f.write(b"".join(lines))
            f.flush()
        offset = 0
        entries = []
        for i, (record, line) in enumerate(zip(records, lines)):
            user = next((m["content"] for m in reversed(record["prompt"]["messages"]) if m["role"] == "user"), "")
            entries.append(json.dumps({
                "offset": offset, "length": len(line) - 1, "step": record["step"], "group": record["group"], "sample": record["sample"],
                "prompt_id": record["prompt_id"], "request": user[:200], "reward": record["reward"], "advantage": record["advantage"],
                "components": {name: c["value"] for name, c in record["components"].items()},
                "parse_failure": record["parse_failure"]["reason"] if record["parse_failure"] else None,
                "reward_version": record["reward_version"], "exact": bool(exact[i]) if exact is not None else None,
                "failure": f"{record['failure']['kind']}: {record['failure']['message']}" if record["failure"] else None,
                "completion_tokens": record["completion_tokens"]}) + "\n")
            offset += len(line)
        with open(self.dir / "index" / f"step-{step:06d}.jsonl", "w", encoding="utf-8") as f:
            f.write("".join(entries))
            f.flush()

    def metrics(self, step: int, metrics: dict[str, Any]) -> None:
        with open(self.dir / "metrics.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(metrics) + "\n")
            f.flush()
        self.info["step"] = step
        self._save_info(durable=False)

    def eval(self, result: dict[str, Any]) -> None:
        with open(self.dir / "eval.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(result) + "\n")

    def finish(self, status: str, summary: dict[str, Any] | None = None) -> None:
        self.ended = True
        self.info["status"] = status
        self.info["finished_at"] = time.time()
        if summary is not None:
            self.info["summary"] = summary
        self._save_info()
        self._lock.close()  # releases the run directory
