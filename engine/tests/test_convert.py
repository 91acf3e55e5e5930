"""Converters from the papers' data formats into the canonical format."""
import json

from rollout_engine.convert import convert, python_calls
from rollout_engine.data import _problem

XLAM = {"id": 7, "query": "Weather in Oslo for 3 days?",
        "tools": json.dumps([{"name": "get_weather", "description": "Forecast", "parameters": {"city": {"type": "str", "description": "City"}, "days": {"type": "int, optional", "default": 1}}}]),
        "answers": json.dumps([{"name": "get_weather", "arguments": {"city": "Oslo", "days": 3}}])}
TOOLACE = {"system": 'You can call these functions. Here is a list of functions in JSON format that you can invoke:\n[{"name": "get_time", "description": "Time", "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]}}]. Use them well.',
           "conversations": [{"from": "user", "value": "Time in Berlin?"}, {"from": "assistant", "value": "[get_time(tz='Europe/Berlin')]"},
                             {"from": "tool", "value": "[{\"time\": \"10:00\"}]"}, {"from": "assistant", "value": "It is 10:00."},
                             {"from": "user", "value": "And Tokyo?"}, {"from": "assistant", "value": "[get_time(tz=\"Asia/Tokyo\")]"}]}
TOOLRL = {"instruction": "You are a helpful multi-turn dialogue assistant.\n**Available Tools**\n1. Name: convert_currency\nDescription: Converts money\nParameters: {\"amount\": {\"type\": \"float\"}, \"to\": {\"type\": \"str\"}}\n2. Name: get_time\nDescription: Time\nParameters: {\"tz\": {\"type\": \"str\"}}\n\nSteps for Each Turn...",
          "input": "**Dialogue Records History**\n<user> How much is 250 dollars in yen? </user>",
          "output": "<think>placeholder</think>\n<tool_call>\n{\"name\": \"convert_currency\", \"parameters\": {\"amount\": 250, \"to\": \"JPY\"}}\n</tool_call>"}
TOOL_N1 = {"id": "xlam", "tools": json.dumps([{"name": "search", "description": "Search", "parameters": {"q": {"type": "str"}}}]),
           "conversations": [{"from": "human", "value": "Find news on chess"}], "answer": [{"name": "search", "arguments": {"q": "chess"}}]}


def test_each_format_converts_to_valid_canonical_samples():
    for kind, record, truth in [("xlam", XLAM, [{"name": "get_weather", "arguments": {"city": "Oslo", "days": 3}}]),
                                ("toolrl", TOOLRL, [{"name": "convert_currency", "arguments": {"amount": 250, "to": "JPY"}}]),
                                ("tool-n1", TOOL_N1, [{"name": "search", "arguments": {"q": "chess"}}])]:
        rows = convert(kind, [record])
        assert len(rows) == 1 and _problem(rows[0]) is None, (kind, rows)
        assert rows[0]["ground_truth"] == truth
    xlam = convert("xlam", [XLAM])[0]
    assert xlam["tools"][0]["parameters"]["required"] == ["city"] and xlam["tools"][0]["parameters"]["properties"]["days"]["type"] == "integer"
    assert [t["name"] for t in convert("toolrl", [TOOLRL])[0]["tools"]] == ["convert_currency", "get_time"]


def test_toolace_splits_a_conversation_into_one_sample_per_call_turn():
    rows = convert("toolace", [TOOLACE])
    assert [r["ground_truth"] for r in rows] == [[{"name": "get_time", "arguments": {"tz": "Europe/Berlin"}}], [{"name": "get_time", "arguments": {"tz": "Asia/Tokyo"}}]]
    assert [len(r["messages"]) for r in rows] == [1, 5] and rows[1]["messages"][-1]["content"] == "And Tokyo?"
    assert all(_problem(r) is None for r in rows)


def test_python_call_syntax_reads_literals_and_keeps_other_values_as_text():
    assert python_calls("[f(a=1, b='x', c=[1, 2.0], d=None, e=True), math.sqrt(x=4)]") == [
        {"name": "f", "arguments": {"a": 1, "b": "x", "c": [1, 2.0], "d": None, "e": True}}, {"name": "math.sqrt", "arguments": {"x": 4}}]
    assert python_calls("f(when=today())") == [{"name": "f", "arguments": {"when": "today()"}}]


def test_bad_records_are_reported_by_index_and_left_out():
    problems = []
    rows = convert("xlam", [XLAM, {"query": "x", "tools": "not json", "answers": "[]"}, 5], problems.append)
    assert len(rows) == 1
    assert problems[0].startswith('record 1: field "tools" is not valid JSON') and problems[1] == "record 2: a record must be a JSON object"
