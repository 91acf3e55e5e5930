"""`rollout-studio import` (rollout_engine/integrations/foreign.py): a JSONL of samples, TRL's completions
tables and bad input, written as run directories that pass the contract. The TRL import of a real
GRPOTrainer run is in test_trl.py; verl's dumps in test_verl.py."""
import json

import pytest

from conftest import ROOT
from rollout_engine.integrations.foreign import ForeignRunError, main, read_jsonl, read_trl, detect_format


def _records(run, step):
    return [json.loads(line) for line in (run / "rollouts" / f"step-{step:06d}.jsonl").read_text().splitlines()]


def test_a_jsonl_of_samples_becomes_a_run_scored_by_the_chosen_reward(tmp_path):
    from contract_check import assert_run_dir_valid

    out = tmp_path / "run"
    assert main(["import", str(ROOT / "demo" / "rollouts.jsonl"), "--out", str(out), "--preset", "tool-n1"]) == 0
    assert assert_run_dir_valid(out) > 0
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "finished" and info["source"]["trainer"] == "jsonl" and info["source"]["mode"] == "import"
    assert info["config"]["reward"]["preset"] == "tool-n1"
    rows = [json.loads(line) for line in (ROOT / "demo" / "rollouts.jsonl").read_text().splitlines()]
    steps = sorted({r["step"] for r in rows})
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == steps and all(m["learning_rate"] is None for m in metrics)
    first = _records(out, steps[0])
    assert [r["completion"] for r in first] == [r["completion"] for r in rows if r["step"] == steps[0]]
    exact = next(r for r in first if r["prompt_id"] == "demo-1-0")
    assert exact["reward"] == 1.0 and exact["prompt"]["messages"] == [{"role": "user", "content": "Book a table for 4 at Luigi's at 19:30"}]
    assert set(exact["components"]) and all(c["why"] for c in exact["components"].values())
    spurious = next(r for r in first if r["prompt_id"] == "demo-1-1")
    assert spurious["reward"] == 0.0 and spurious["source_reward"] is None


def test_groups_are_runs_of_one_prompt_and_advantages_come_from_the_recorded_reward(tmp_path):
    truth = [{"name": "get_weather", "arguments": {"city": "Oslo"}}]
    right = '<think>x</think>\n<tool_call>\n[{"name": "get_weather", "arguments": {"city": "Oslo"}}]\n</tool_call>'
    lines = [{"id": "a", "step": 1, "messages": [{"role": "user", "content": "Weather in Oslo"}], "completion": c, "ground_truth": truth,
              "reward": r} for c, r in ((right, 2.0), ("nope", 0.0), (right, 1.0))]
    lines += [{"id": "b", "step": 1, "query": "Hi", "completion": "hello", "ground_truth": [], "reward": 0.5}]
    source = tmp_path / "samples.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "run"
    assert main(["import", str(source), "--out", str(out)]) == 0
    records = _records(out, 1)
    assert [(r["group"], r["sample"]) for r in records] == [(0, 0), (0, 1), (0, 2), (1, 0)]
    assert [r["source_reward"] for r in records] == [2.0, 0.0, 1.0, 0.5]
    assert records[0]["advantage"] == pytest.approx(1.0) and records[1]["advantage"] == pytest.approx(-1.0)
    assert records[2]["advantage"] == pytest.approx(0.0) and records[3]["advantage"] == 0.0  # a group of one has no baseline
    assert records[0]["reward"] == 1.0 and records[1]["reward"] == 0.0  # tool-n1 (the default) scores them again


def test_bad_input_names_the_file_line_or_column(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"completion": "x", "ground_truth": []}\n{not json\n')
    with pytest.raises(ForeignRunError, match=r"bad\.jsonl:2: not JSON"):
        read_jsonl(bad)
    bad.write_text('{"completion": "x"}\n')
    with pytest.raises(ForeignRunError, match=r"bad\.jsonl:1: a sample needs a `ground_truth`"):
        read_jsonl(bad)
    bad.write_text('{"completion": "x", "ground_truth": [], "step": 0}\n')
    with pytest.raises(ForeignRunError, match=r"bad\.jsonl:1: `step` must be a whole number from 1"):
        read_jsonl(bad)
    with pytest.raises(ForeignRunError, match="not a run Rollout Studio can import"):
        detect_format(tmp_path)

    pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed for this Python: reading TRL's completions needs it (pip install pyarrow)")
    import pyarrow.parquet as pq
    folder = tmp_path / "out" / "completions"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"step": [1], "prompt": ["Weather in Oslo"]}), folder / "completions_00001.parquet")
    with pytest.raises(ForeignRunError, match=r"completions_00001\.parquet: missing column\(s\) completion"):
        read_trl(tmp_path / "out", None)
    pq.write_table(pa.table({"step": [1], "prompt": ["Weather in Oslo"], "completion": ["x"], "my_reward": [1.0], "advantage": [0.0]}),
                   folder / "completions_00001.parquet")
    with pytest.raises(ForeignRunError, match="no ground truth in the completions; pass --dataset"):
        read_trl(tmp_path / "out", None)
    (folder / "completions_00001.parquet").write_text("not parquet")
    with pytest.raises(ForeignRunError, match="not a readable parquet file"):
        read_trl(tmp_path / "out", None)
    # The command line says it in one line and exits 2, writing nothing.
    assert main(["import", str(tmp_path / "out"), "--out", str(tmp_path / "never")]) == 2
    assert not (tmp_path / "never").exists()


def test_trl_completions_without_ids_find_their_ground_truth_by_the_request_in_the_prompt(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed for this Python: reading TRL's completions needs it (pip install pyarrow)")
    import pyarrow.parquet as pq
    from rollout_engine.integrations.foreign import DatasetIndex

    data = tmp_path / "train.jsonl"
    samples = [{"id": "s1", "tools": [], "messages": [{"role": "user", "content": "Weather in Oslo"}],
                "ground_truth": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
               {"id": "s2", "tools": [], "messages": [{"role": "user", "content": "Weather in Oslo tomorrow"}],
                "ground_truth": [{"name": "get_weather", "arguments": {"city": "Oslo", "days": 1}}]}]
    data.write_text("".join(json.dumps(s) + "\n" for s in samples))
    folder = tmp_path / "out" / "completions"
    folder.mkdir(parents=True)
    prompts = ["<|im_start|>user\nWeather in Oslo tomorrow<|im_end|>\n", "<|im_start|>user\nWeather in Oslo<|im_end|>\n"]
    pq.write_table(pa.table({"step": [4, 4], "prompt": prompts, "completion": ["a", "b"], "r": [0.0, 1.0], "advantage": [-1.0, 1.0]}),
                   folder / "completions_00004.parquet")
    steps = read_trl(tmp_path / "out", DatasetIndex(data))
    assert [s.prompt_id for s in steps[4]] == ["s2", "s1"]  # the longer request wins where both are in the prompt
    assert steps[4][0].ground_truth == samples[1]["ground_truth"] and steps[4][1].source_reward == 1.0
