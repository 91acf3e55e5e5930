"""Rollout Studio for verl (rollout_engine/integrations/verl.py, docs/verl.md). verl cannot be installed here:
its files are the fixtures in test/fixtures/verl/, made by running verl's own writers (README there), and its
reward loop's concurrent per-sample calls are made here with threads and asyncio. A live verl run was not
exercised."""
import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import ROOT
from rollout_engine.integrations import verl
from rollout_engine.integrations.foreign import DatasetIndex, ForeignRunError, main as import_main
from rollout_engine.reward_client import RewardHost, RewardSource

FIXTURES = ROOT / "test" / "fixtures" / "verl"
SCHEDULES = ROOT / "test" / "reward" / "schedules"
RIGHT = '<think>ok</think>\n<tool_call>\n[{"name": "get_weather", "arguments": {"city": "Paris"}}]\n</tool_call>'
TRUTH = json.dumps([{"name": "get_weather", "arguments": {"city": "Paris"}}])


def _records(run, step):
    return [json.loads(line) for line in (run / "rollouts" / f"step-{step:06d}.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("version", ["v0.6.1", "v0.9.0"])
def test_a_verl_dump_folder_imports_as_a_run(tmp_path, version):
    from contract_check import assert_run_dir_valid

    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "1.jsonl").write_text((FIXTURES / f"rollout-dump-{version}.jsonl").read_text())
    out = tmp_path / "run"
    assert import_main(["import", str(dumps), "--out", str(out)]) == 0  # the format is found from the files
    assert assert_run_dir_valid(out) > 0
    assert json.loads((out / "run.json").read_text())["source"] == {"trainer": "verl", "path": str(dumps.resolve()), "mode": "import"}
    rows = [json.loads(line) for line in (dumps / "1.jsonl").read_text().splitlines()]
    records = _records(out, 1)
    assert [r["completion"] for r in records] == [row["output"] for row in rows]
    assert [r["source_reward"] for r in records] == pytest.approx([row["score"] for row in rows])
    assert [(r["group"], r["sample"]) for r in records] == [(0, 0), (0, 1), (1, 0), (1, 1)]  # 2 prompts × 2 samples
    first = records[0]
    assert [m["role"] for m in first["prompt"]["messages"]] == ["system", "user"]  # ChatML decoded without its markers
    assert first["prompt"]["messages"][1]["content"] == "What's the weather in Paris?"
    assert first["ground_truth"] == json.loads(rows[0]["gts"])
    # Scored again by tool-n1: the right call, but no <think> block, so Tool-N1's binary reward is 0.
    index = [json.loads(line) for line in (out / "index" / "step-000001.jsonl").read_text().splitlines()]
    assert index[0]["exact"] is True and first["reward"] == 0.0 and first["source_reward"] == 1.0


def test_dumps_without_ground_truth_need_the_dataset(tmp_path):
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "1.jsonl").write_text((FIXTURES / "rollout-dump-v0.4.1.jsonl").read_text())
    with pytest.raises(ForeignRunError, match=r"1\.jsonl:1: no `gts` .* pass --dataset"):
        verl.read_dumps(dumps)
    rows = [json.loads(line) for line in (dumps / "1.jsonl").read_text().splitlines()]
    requests = sorted({verl.prompt_messages(r["input"])[-1]["content"] for r in rows})
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"id": f"q{i}", "tools": [], "messages": [{"role": "user", "content": q}],
                                        "ground_truth": [{"name": "get_weather", "arguments": {"city": q.split()[-1].rstrip("?")}}]}) + "\n"
                            for i, q in enumerate(requests)))
    steps = verl.read_dumps(dumps, DatasetIndex(data))
    assert all(s.ground_truth and s.ground_truth[0]["name"] == "get_weather" for s in steps[1])


def test_a_dump_line_that_is_not_json_is_named(tmp_path):
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "3.jsonl").write_text((FIXTURES / "rollout-dump-v0.6.1.jsonl").read_text() + '{"input": "x", "output"\n')
    with pytest.raises(ForeignRunError, match=r"3\.jsonl:5: not a verl rollout dump line"):
        verl.read_dumps(dumps)


@pytest.mark.parametrize("version", ["v0.6.1", "v0.9.0"])
def test_the_file_logger_gives_each_step_its_update_statistics(version):
    metrics = verl.logger_metrics(FIXTURES / f"file-logger-{version}.jsonl")
    assert sorted(metrics) == [0, 1, 2]
    stats = verl.update_stats(metrics[1])
    assert stats["learning_rate"] is not None and stats["entropy"] is not None and stats["grad_norm"] is not None
    assert verl.update_stats(metrics[0])["learning_rate"] is None  # step 0: the validation before training only


def test_compute_score_batches_concurrent_calls_from_many_threads():
    batcher = verl.ScoreBatcher(RewardSource(preset="tool-n1"), max_wait_s=0.05)
    try:
        def one(i):
            sample = {"id": str(i), "completion": RIGHT if i % 2 == 0 else "no calls", "ground_truth": TRUTH}
            return batcher.submit(sample, 1, 0.0).result(timeout=60)

        with ThreadPoolExecutor(max_workers=32) as pool:
            scores = list(pool.map(one, range(64)))
        assert [s["total"] for s in scores] == [1.0 if i % 2 == 0 else 0.0 for i in range(64)]
        assert 1 <= batcher.batches < 16  # 64 calls in a few batches, not 64
    finally:
        batcher.close()


def test_compute_score_sync_and_async_return_the_same_keys_for_every_sample(monkeypatch):
    monkeypatch.delenv("ROLLOUT_STUDIO_SCHEDULE", raising=False)
    try:
        right = verl.compute_score("tool_calls", RIGHT, TRUTH, {"index": 1}, preset="tool-n1")
        assert right["score"] == 1.0 and right["rs_exact"] == 1.0 and right["rs_failed"] == 0.0
        assert set(right) == {"score", *verl.EXTRA_KEYS} and json.loads(right["rs_components"])

        async def many():
            return await asyncio.gather(*[verl.compute_score_async("tool_calls", RIGHT if i % 3 == 0 else "nope", TRUTH, {"index": i},
                                                                   preset="tool-n1") for i in range(30)])

        results = asyncio.run(many())
        assert [r["score"] for r in results] == [1.0 if i % 3 == 0 else 0.0 for i in range(30)]
        assert all(set(r) == set(right) for r in results)
    finally:
        verl.close_all()


def test_a_reward_failure_is_marked_never_a_silent_zero(caplog):
    try:
        failed = verl.compute_score("tool_calls", "BAD", "[]", None, schedule=str(SCHEDULES / "throws.ts"))
        assert failed["rs_failed"] == 1.0 and failed["score"] == 0.0
        assert "reward failure" in caplog.text and "cannot score this one" in caplog.text
        fine = verl.compute_score("tool_calls", "fine", "[]", None, schedule=str(SCHEDULES / "throws.ts"))
        assert fine["rs_failed"] == 0.0 and fine["score"] == 1.0
        with pytest.raises(Exception, match="reward failure"):
            verl.compute_score("tool_calls", "BAD", "[]", None, schedule=str(SCHEDULES / "throws.ts"), on_failure="raise")
    finally:
        verl.close_all()


def test_the_training_time_comes_from_the_newest_dump(tmp_path):
    assert verl.training_time(None, None, None) == (0, 0.0)
    assert verl.training_time({"global_step": 7}, None, 10) == (7, 0.6)
    (tmp_path / "1.jsonl").write_text("")
    (tmp_path / "2.jsonl").write_text("")
    assert verl.training_time({"global_step": 7}, str(tmp_path), 10) == (3, 0.2)


def test_the_follower_writes_each_dump_as_verl_writes_it_and_skips_a_bad_line(tmp_path):
    from contract_check import assert_run_dir_valid

    dumps, out, logger_file = tmp_path / "dumps", tmp_path / "run", tmp_path / "metrics.jsonl"
    dumps.mkdir()
    lines = (FIXTURES / "rollout-dump-v0.6.1.jsonl").read_text().splitlines()
    logged = (FIXTURES / "file-logger-v0.6.1.jsonl").read_text().splitlines()
    messages: list[str] = []
    host = RewardHost(RewardSource(preset="tool-n1"))
    follower = threading.Thread(target=verl.follow, args=(dumps, out, RewardSource(preset="tool-n1")),
                                kwargs=dict(metrics_file=logger_file, idle_exit_s=4.0, poll_s=0.1, settle_s=0.3, metrics_wait_s=1.0,
                                            log=messages.append, host=host))
    follower.start()
    try:
        (dumps / "1.jsonl").write_text("\n".join(lines) + "\n")
        logger_file.write_text("\n".join(logged[:2]) + "\n")  # steps 0 and 1
        time.sleep(1.5)
        assert (out / "rollouts" / "step-000001.jsonl").exists()
        with open(dumps / "2.jsonl", "w") as f:  # written in two parts, the second after a pause
            f.write("\n".join(lines[:2]) + "\n")
            f.flush()
            time.sleep(0.1)
            f.write("not json\n" + "\n".join(lines[2:]) + "\n")
        follower.join(timeout=30)
    finally:
        host.close()
    assert not follower.is_alive()
    assert assert_run_dir_valid(out) > 0
    assert json.loads((out / "run.json").read_text())["status"] == "finished"
    assert len(_records(out, 1)) == 4 and len(_records(out, 2)) == 4  # the whole file, minus the bad line
    assert any("2.jsonl:3: not a verl rollout dump line" in m and "skipped" in m for m in messages)
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2]
    assert metrics[0]["learning_rate"] == verl.update_stats(verl.logger_metrics(FIXTURES / "file-logger-v0.6.1.jsonl")[1])["learning_rate"]
    assert metrics[1]["learning_rate"] is None  # step 2's line never came: written without it after the wait
