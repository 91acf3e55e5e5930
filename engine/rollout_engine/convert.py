"""Converters from the formats the papers trained on into the canonical dataset format.

    python -m rollout_engine.convert --from xlam|toolace|toolrl|tool-n1 INPUT OUTPUT.jsonl

- xlam: {"query", "tools", "answers"} (tools and answers as JSON strings; flat parameter maps with
  types like "str, optional").
- toolace: {"system", "conversations": [{"from", "value"}]}: the tools are the JSON list in the system
  text; every assistant turn that makes calls (Python syntax, `[f(a=1)]`) becomes one sample, with the
  conversation before it as history.
- toolrl: {"instruction", "input", "output"}: tools from the "Name:/Description:/Parameters:" blocks,
  the dialogue from <user>/<obs>/<tool_call>/<response> tags, the calls from the output's <tool_call>.
- tool-n1: {"tools", "conversations": [{"from": human|gpt|observation|function_call, "value"}], "answer"}.
A record that cannot be converted is reported with its index and left out; the rest are written.
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path
from typing import Any, Callable


class ConvertError(ValueError):
    pass


XLAM_TYPES = {"str": "string", "string": "string", "int": "integer", "integer": "integer", "float": "number", "number": "number",
              "bool": "boolean", "boolean": "boolean", "dict": "object", "object": "object"}


def schema_from_flat(params: dict[str, Any]) -> dict[str, Any]:
    """xLAM's {param: {type: "str, optional", description, default}} as a JSON schema."""
    properties, required = {}, []
    for name, spec in params.items():
        spec = spec if isinstance(spec, dict) else {}
        raw = str(spec.get("type", "string"))
        optional = "optional" in raw.lower() or "default" in spec
        base = raw.split(",")[0].strip()
        if base.lower().startswith(("list", "tuple", "array")):
            prop: dict[str, Any] = {"type": "array"}
        else:
            prop = {"type": XLAM_TYPES.get(base.lower(), "string")}
        if spec.get("description"):
            prop["description"] = spec["description"]
        properties[name] = prop
        if not optional:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


def tool_schema(tool: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
        raise ConvertError('a tool needs a "name"')
    params = tool.get("parameters", {})
    if isinstance(params, dict) and params.get("type") == "object" and "properties" in params:
        schema = params
    else:
        schema = schema_from_flat(params if isinstance(params, dict) else {})
    return {"name": tool["name"], "description": tool.get("description", ""), "parameters": schema}


def _json_field(record: dict[str, Any], key: str) -> Any:
    value = record.get(key)
    if value is None:
        raise ConvertError(f'missing field "{key}"')
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise ConvertError(f'field "{key}" is not valid JSON: {err}') from None
    return value


def _calls(items: Any, key: str = "arguments") -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise ConvertError("the answer must be a list of calls")
    out = []
    for i, c in enumerate(items):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not isinstance(c.get(key, c.get("arguments", c.get("parameters"))), dict):
            raise ConvertError(f"call {i + 1} must have a name and {key}")
        out.append({"name": c["name"], "arguments": c.get(key, c.get("arguments", c.get("parameters")))})
    return out


def from_xlam(record: dict[str, Any], index: int) -> list[dict[str, Any]]:
    tools = [tool_schema(t) for t in _json_field(record, "tools")]
    query = record.get("query")
    if not isinstance(query, str):
        raise ConvertError('missing field "query"')
    return [{"id": f"xlam-{record.get('id', index)}", "tools": tools, "messages": [{"role": "user", "content": query}],
             "ground_truth": _calls(_json_field(record, "answers")), "meta": {"source": "xlam"}}]


def python_calls(text: str) -> list[dict[str, Any]]:
    """Calls written in Python syntax, `[f(a=1, b="x")]`; a value that is not a literal is kept as its text."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:
        raise ConvertError(f"not Python call syntax: {err.msg}") from None
    nodes = tree.elts if isinstance(tree, (ast.List, ast.Tuple)) else [tree]
    calls = []
    for node in nodes:
        if not isinstance(node, ast.Call):
            raise ConvertError("expected function calls")
        name = ast.unparse(node.func)
        if node.args:
            raise ConvertError(f"{name}: positional arguments are not supported")
        args = {}
        for kw in node.keywords:
            try:
                args[kw.arg] = ast.literal_eval(kw.value)
            except ValueError:
                args[kw.arg] = ast.unparse(kw.value)
        calls.append({"name": name, "arguments": args})
    return calls


def _json_list_in(text: str) -> list[Any]:
    start = text.find("[")
    decoder = json.JSONDecoder()
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text[start:])
            if isinstance(value, list):
                return value
        except json.JSONDecodeError:
            pass
        start = text.find("[", start + 1)
    raise ConvertError("no JSON list of tools in the system text")


ROLES = {"user": "user", "human": "user", "assistant": "assistant", "gpt": "assistant", "tool": "tool", "observation": "tool", "function_call": "assistant"}


def from_toolace(record: dict[str, Any], index: int) -> list[dict[str, Any]]:
    system = record.get("system")
    if not isinstance(system, str):
        raise ConvertError('missing field "system"')
    tools = [tool_schema(t) for t in _json_list_in(system)]
    names = {t["name"] for t in tools}
    history: list[dict[str, str]] = []
    samples = []
    for turn in record.get("conversations") or []:
        role = ROLES.get(str(turn.get("from")))
        value = str(turn.get("value", ""))
        if role is None:
            raise ConvertError(f"unknown speaker {turn.get('from')!r}")
        if role == "assistant" and re.match(r"^\s*\[?\s*[A-Za-z_][\w.]*\(", value):
            calls = python_calls(value)
            if all(c["name"] in names for c in calls) and history:
                samples.append({"id": f"toolace-{index}-{len(samples)}", "tools": tools, "messages": list(history), "ground_truth": calls,
                                "meta": {"source": "toolace"}})
        history.append({"role": role, "content": value})
    if not samples:
        raise ConvertError("no assistant turn with calls to the listed tools")
    return samples


def from_toolrl(record: dict[str, Any], index: int) -> list[dict[str, Any]]:
    instruction, dialogue, output = (record.get(k) for k in ("instruction", "input", "output"))
    if not all(isinstance(x, str) for x in (instruction, dialogue, output)):
        raise ConvertError('needs string fields "instruction", "input" and "output"')
    tools = []
    for name, description, params in re.findall(r"Name:\s*(.+?)\s*\nDescription:\s*(.*?)\s*\nParameters:\s*(\{.*?\})\s*(?=\n\d+\.|\n\n|\Z)", instruction, re.S):
        try:
            tools.append(tool_schema({"name": name, "description": description, "parameters": json.loads(params)}))
        except json.JSONDecodeError as err:
            raise ConvertError(f"tool {name}: parameters are not JSON: {err}") from None
    messages = [{"role": {"user": "user", "obs": "tool", "tool_call": "assistant", "response": "assistant"}[tag], "content": text.strip()}
                for tag, text in re.findall(r"<(user|obs|tool_call|response)>(.*?)</\1>", dialogue, re.S)]
    if not messages:
        raise ConvertError('no <user> turn in "input"')
    block = re.search(r"<tool_call>(.*?)</tool_call>", output, re.S)
    truth = _calls([json.loads(line) for line in block.group(1).strip().splitlines() if line.strip()], "parameters") if block else []
    return [{"id": f"toolrl-{index}", "tools": tools, "messages": messages, "ground_truth": truth, "meta": {"source": "toolrl"}}]


def from_tool_n1(record: dict[str, Any], index: int) -> list[dict[str, Any]]:
    tools = [tool_schema(t) for t in _json_field(record, "tools")]
    messages = []
    for turn in record.get("conversations") or []:
        role = ROLES.get(str(turn.get("from")))
        if role is None:
            raise ConvertError(f"unknown speaker {turn.get('from')!r}")
        messages.append({"role": role, "content": turn.get("value") if isinstance(turn.get("value"), str) else json.dumps(turn.get("value"))})
    if not messages:
        raise ConvertError('missing field "conversations"')
    return [{"id": f"tool-n1-{index}", "tools": tools, "messages": messages, "ground_truth": _calls(_json_field(record, "answer")),
             "meta": {"source": "tool-n1", "kind": record.get("id")}}]


CONVERTERS: dict[str, Callable[[dict[str, Any], int], list[dict[str, Any]]]] = {
    "xlam": from_xlam, "toolace": from_toolace, "toolrl": from_toolrl, "tool-n1": from_tool_n1,
}


def convert(kind: str, records: list[Any], warn=lambda message: None) -> list[dict[str, Any]]:
    if kind not in CONVERTERS:
        raise ConvertError(f"unknown format {kind!r}; formats: {', '.join(CONVERTERS)}")
    out = []
    for i, record in enumerate(records):
        try:
            if not isinstance(record, dict):
                raise ConvertError("a record must be a JSON object")
            out.extend(CONVERTERS[kind](record, i))
        except ConvertError as err:
            warn(f"record {i}: {err}")
    return out


def read_records(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description="Convert a dataset into Rollout Studio's canonical format.")
    parser.add_argument("--from", dest="kind", required=True, choices=sorted(CONVERTERS))
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    problems: list[str] = []
    rows = convert(args.kind, read_records(args.input), problems.append)
    for p in problems:
        print(f"{args.input}: {p}", file=sys.stderr)
    args.output.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} samples written to {args.output}; {len(problems)} records left out")
    if not rows:
        sys.exit(1)


if __name__ == "__main__":
    main()
