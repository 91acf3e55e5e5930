"""The engine's reward-host client against the real host: the same fixtures the TypeScript tests use."""
import json

import pytest

from conftest import ROOT, shared_fixture
from rollout_engine.reward_client import RewardHost, RewardHostError, RewardSource


def fixture_rows(name):
    return [json.loads(line) for line in shared_fixture(f"fixtures/rewards/{name}").read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("preset,fixture", [("tool-n1", "tool-n1-fixtures.jsonl"), ("toolrl", "toolrl-fixtures.jsonl")])
def test_fixture_scores_from_python_equal_the_papers_gold(preset, fixture):
    rows = fixture_rows(fixture)
    with RewardHost(RewardSource(preset=preset)) as host:
        scores = host.score(rows, step=0, progress=0.0, epoch=0.0)
    assert [s["id"] for s in scores] == [r["id"] for r in rows]
    for row, score in zip(rows, scores):
        assert score["failure"] is None, (row["id"], score["failure"])
        assert score["total"] == row["gold"], (row["id"], score["total"], row["gold"])
        for name, gold in row.get("gold_components", {}).items():
            assert score["components"][name]["value"] == gold, (row["id"], name)


def test_step_reaches_the_schedule():
    truth = '<think>p</think>\n<tool_call>\n{"name": "f", "parameters": {}}\n</tool_call>'
    sample = {"id": "x", "completion": "no call", "ground_truth": truth}
    with RewardHost(RewardSource(preset="toolrl", options={"two_stage": True})) as host:
        early = host.score([sample], step=10, progress=0.1, epoch=0.1)[0]
        late = host.score([sample], step=40, progress=0.4, epoch=0.4)[0]
    assert (early["components"]["correctness"]["value"], late["components"]["correctness"]["value"]) == (-1, -3)


def test_a_crashed_host_is_restarted_and_the_batch_retried():
    sample = {"id": "a", "completion": '<think>x</think><tool_call>[]</tool_call>', "ground_truth": []}
    with RewardHost(RewardSource(preset="tool-n1")) as host:
        host.kill()
        scores = host.score([sample], step=1, progress=0.0, epoch=0.0)
        assert scores[0]["total"] == 1
        assert host.restarts == 1


def test_a_schedule_that_does_not_compile_is_a_clear_error():
    with pytest.raises(RewardHostError, match=r"(?s)could not be loaded: the schedule does not compile:.*broken\.ts:5:2"):
        RewardHost(RewardSource(schedule=str(ROOT / "test/reward/schedules/broken.ts"), watch=False))


def test_reward_failures_come_back_as_failures_not_zeros():
    schedule = str(ROOT / "test/reward/schedules/throws.ts")
    samples = [{"id": "ok", "completion": "fine", "ground_truth": []}, {"id": "bad", "completion": "BAD", "ground_truth": []}]
    with RewardHost(RewardSource(schedule=schedule, watch=False)) as host:
        ok, bad = host.score(samples, step=0, progress=0.0, epoch=0.0)
    assert ok["total"] == 1 and ok["failure"] is None
    assert bad["total"] is None and bad["failure"]["kind"] == "exception" and "cannot score this one" in bad["failure"]["message"]


def test_what_a_schedule_prints_comes_back_in_its_scores_logs_never_as_a_reply():
    # prints.ts logs 42, a JSON line shaped like a reply to request 1, and more, on every sample, and a line at load.
    schedule = str(ROOT / "test/reward/schedules/prints.ts")
    samples = [{"id": "a", "completion": "x", "ground_truth": []}, {"id": "b", "completion": "x", "ground_truth": []}]
    with RewardHost(RewardSource(schedule=schedule, watch=False)) as host:
        scores = host.score(samples, step=0, progress=0.0, epoch=0.0)
        again = host.score(samples, step=1, progress=0.0, epoch=0.0)
    assert [s["id"] for s in scores + again] == ["a", "b", "a", "b"]
    assert [s["total"] for s in scores + again] == [1, 1, 1, 1]
    assert scores[0]["logs"][0] == {"stream": "stdout", "text": '42\n{"id":1,"result":{"version":"printed","scores":[]}}\n{ id: 1, result: { scores: [] } }\n'}
    assert scores[1]["logs"][1] == {"stream": "stderr", "text": "warn b\nerror b\n"}
    assert [(log["during"], log["text"]) for log in host.logs] == [("load", "loading the printing schedule\n")]
    assert all(e.get("event") != "log" for e in host.events)


# A stand-in for the host that breaks the protocol in one way (FAKE_HOST_LINE is what it writes before each reply).
FAKE_HOST = r"""
const readline = require("node:readline");
const write = (m) => process.stdout.write((typeof m === "string" ? m : JSON.stringify(m)) + "\n");
write({ event: "ready", version: "fake", schedule: {}, workers: 1 });
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const request = JSON.parse(line);
  write(process.env.FAKE_HOST_LINE.replace("ID", String(request.id)));
  if (process.env.FAKE_HOST_REPLY !== "no") write({ id: request.id, result: { version: "fake", scores: request.params.samples.map((s) => ({ id: s.id, total: 1 })) } });
});
"""


@pytest.mark.parametrize("line,reply,error,restarts", [
    ("42", "yes", r"wrote a line that is not a JSON object but int: '42'", 1),
    ('["id", 1]', "yes", r"wrote a line that is not a JSON object but list: '\[\"id\", 1\]'", 1),
    ("Scoring sample a", "yes", r"wrote a line that is not JSON \(Expecting value.*\): 'Scoring sample a'", 1),
    ('{"id": 999, "result": {"scores": []}}', "no", r"reply does not match the pending request \d+ \(score\): \{\"id\": 999", 1),
    ('{"score": 1}', "yes", r"neither a reply nor an event: \{\"score\": 1\}", 1),
    ('{"id": ID, "result": 42}', "no", r"reply to request \d+ \(score\) has no result object: \{\"id\": \d+, \"result\": 42\}", 1),
    # A well-formed reply with malformed scores: no restart (the stream is fine), a clear error all the same.
    ('{"id": ID, "result": {"version": "fake", "scores": [3]}}', "no", r"scores are not a list of score objects: \{\"version\": \"fake\", \"scores\": \[3\]\}", 0),
])
def test_a_host_line_that_breaks_the_protocol_is_a_clear_error_naming_it(tmp_path, monkeypatch, line, reply, error, restarts):
    fake = tmp_path / "fake-host.cjs"
    fake.write_text(FAKE_HOST)
    monkeypatch.setenv("FAKE_HOST_LINE", line)
    monkeypatch.setenv("FAKE_HOST_REPLY", reply)
    with RewardHost(RewardSource(preset="tool-n1"), cli=fake) as host:
        with pytest.raises(RewardHostError, match=error):
            host.score([{"id": "a", "completion": "x", "ground_truth": []}], step=0, progress=0.0, epoch=0.0, timeout=5)
        assert host.restarts == restarts  # a broken stream is dropped: the host is started again and the batch sent once more


def test_a_float_argument_reaches_python_as_a_float():
    """The host's replies keep Python's number types: a call's 40.0 is a float here, so the engine's exact
    match (calls.py) agrees with the strict match of the TypeScript side (reward/match.ts)."""
    from rollout_engine.calls import same_calls

    calls = [{"name": "set_volume", "arguments": {"level": 40.0, "count": 3}}]
    completion = f"<think>loud</think>\n<tool_call>\n{json.dumps(calls)}\n</tool_call>"
    with RewardHost(RewardSource(preset="tool-n1")) as host:
        score = host.score([{"id": "a", "completion": completion, "ground_truth": calls}], step=0, progress=0.0, epoch=0.0)[0]
    arguments = score["calls"][0]["arguments"]
    assert type(arguments["level"]) is float and type(arguments["count"]) is int, arguments
    assert same_calls(score["calls"], calls)
    assert not same_calls(score["calls"], [{"name": "set_volume", "arguments": {"level": 40, "count": 3}}])


# A stand-in for the host that writes down every request line it reads (to FAKE_HOST_LOG) and answers it.
RECORDING_HOST = r"""
const fs = require("node:fs");
const readline = require("node:readline");
const write = (m) => process.stdout.write(JSON.stringify(m) + "\n");
const source = { kind: "preset", name: "tool-n1", options: {} };
write({ event: "ready", version: "fake", schedule: { name: "fake", description: "", components: [], options: {} }, workers: 1 });
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  fs.appendFileSync(process.env.FAKE_HOST_LOG, line + "\n");
  const { id, method, params } = JSON.parse(line);
  const results = {
    score: () => ({ version: "fake", scores: params.samples.map((s) => ({ id: s.id, total: 1, components: {}, calls: null, parseFailure: null, failure: null, version: "fake" })) }),
    weights: () => ({ rows: [] }),
    reload: () => ({ accepted: true, version: "fake", unchanged: true }),
    load: () => ({ accepted: true, version: "fake", source }),
  };
  write({ id, result: results[method]() });
});
"""


def test_what_the_client_sends_follows_the_contract(tmp_path, monkeypatch):
    from contract_check import assert_valid, validator

    validator("reward-host", "HostRequest")  # skips without jsonschema
    fake = tmp_path / "recording-host.cjs"
    fake.write_text(RECORDING_HOST)
    log = tmp_path / "requests.jsonl"
    monkeypatch.setenv("FAKE_HOST_LOG", str(log))
    tools = [{"name": "f", "description": "a tool", "parameters": {"type": "object", "properties": {}}}]
    with RewardHost(RewardSource(preset="tool-n1"), cli=fake) as host:
        host.score([{"id": "p#0", "completion": "x", "ground_truth": [{"name": "f", "arguments": {"a": 1.0}}], "tools": tools},
                    {"id": "p#1", "completion": "y", "ground_truth": "[]"}], step=3, progress=0.25, epoch=0.5)
        host.weights([0, 10])
        host.reload()
        host.load(schedule=str(tmp_path / "s.ts"))
        host.load(preset="toolrl", options={"two_stage": True})
        host.load(preset="tool-zero")
    requests = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["method"] for r in requests] == ["score", "weights", "reload", "load", "load", "load"]
    for request in requests:
        assert_valid("reward-host", "HostRequest", request, request["method"])


# -- the typed messages: the client reads what the contract defines ------------------------------------------

from rollout_engine import reward_client as rc  # noqa: E402

HOST_FIXTURES = ROOT / "test" / "fixtures" / "contract" / "reward-host"
HOST_SCHEMA = json.loads((ROOT / "contract" / "reward-host.schema.json").read_text(encoding="utf-8"))


def read_as_the_client_does(value):
    """A host message of the shared fixtures, read by the client's `_read_*` function for it."""
    if "event" in value:
        return rc._read_event(value)
    if "error" in value and "id" in value:  # an ErrorReply: the request is refused with its words
        return rc._problem_text(value["error"], value)
    if "result" not in value:  # a Score of its own
        return rc._read_score_result({"version": value.get("version"), "scores": [value]}, 1)
    result = value["result"]
    rc._read(value, "reply", {"result": "object"})
    if "scores" in result:
        return rc._read_score_result(result, len(result["scores"]) if isinstance(result["scores"], list) else 1)
    if "rows" in result:
        return rc._read_weights_result(result)
    if "accepted" in result:
        return rc._read_load_result(result) if "source" in result else rc._read_reload_result(result)
    if "source" in result:  # the answer to `version`, which the engine does not ask for
        return rc._read_source(result, "answer to version")
    return result


@pytest.mark.parametrize("path", sorted(HOST_FIXTURES.glob("HostMessage/valid*.json")) + sorted(HOST_FIXTURES.glob("Score/valid*.json")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_client_reads_every_valid_host_message_of_the_contract(path):
    value = json.loads(path.read_text(encoding="utf-8"))
    assert read_as_the_client_does(value) is not None


@pytest.mark.parametrize("name,error", [
    ("HostMessage/invalid-ready-without-version.json", r"the reward host's ready event has no version string: \{\"event\": \"ready\""),
    ("HostMessage/invalid-score-reply-scores-not-a-list.json", r"the reward host's scores are not a list of score objects: \{\"version\": \"v\""),
    ("HostMessage/invalid-source-kind-unknown.json", r"answer to version has a source of unknown kind 'url' \(file or preset expected\)"),
    ("Score/invalid-missing-version.json", r"the reward host's score 1 of 1 has no version string: \{\"id\": \"p7#0\""),
    ("Score/invalid-parse-failure-in-snake-case.json", r"score 1 of 1 has no parseFailure object or null: "),
    ("Score/invalid-total-a-string.json", r"score 1 of 1 has no total number or null: \{\"id\": \"p7#0\", \"total\": \"1.6\".* \(its total is string\)"),
])
def test_a_host_message_without_a_field_the_client_reads_is_an_error_naming_the_field_and_the_message(name, error):
    value = json.loads((HOST_FIXTURES / name).read_text(encoding="utf-8"))
    with pytest.raises(RewardHostError, match=error):
        read_as_the_client_does(value)


@pytest.mark.parametrize("typed,pointer", [
    (rc.ReadyEvent, "ReadyEvent"), (rc.LoadFailedEvent, "LoadFailedEvent"), (rc.ReloadedEvent, "ReloadedEvent"),
    (rc.ReloadRejectedEvent, "ReloadRejectedEvent"), (rc.LogEvent, "LogEvent"), (rc.ScheduleInfo, "ScheduleInfo"),
    (rc.LoadProblem, "LoadProblem"), (rc.FileSource, "ScheduleSource/oneOf/0"), (rc.PresetSource, "ScheduleSource/oneOf/1"),
    (rc.Score, "Score"), (rc.ScoreResult, "ScoreReply/properties/result"), (rc.WeightsResult, "WeightsReply/properties/result"),
    (rc.WeightsRow, "WeightsRow"), (rc.ReloadResult, "ReloadResult"), (rc.LoadResult, "LoadResult"),
], ids=lambda x: x if isinstance(x, str) else None)
def test_the_clients_message_types_have_the_contracts_fields(typed, pointer):
    """The TypedDicts in reward_client.py name the fields of contract/reward-host.schema.json, required and optional."""
    definition = HOST_SCHEMA["$defs"]
    for part in pointer.split("/"):
        definition = definition[int(part)] if isinstance(definition, list) else definition[part]
    required = set(definition.get("required", []))
    assert (set(typed.__required_keys__), set(typed.__optional_keys__)) == (required, set(definition["properties"]) - required), typed.__name__
