"""The demo dataset and the base corpus, generated from a seed.

Tools have arguments of every common kind (strings, integers, numbers, enums, booleans, nested objects,
optional arguments). Requests are written from phrase templates; some need several calls, some none.
Held out for evaluation: whole tools (never seen in training), and argument values (never seen with
any tool in training).

The base corpus teaches the language of the task, as a base LLM has read the web: tool documentation,
JSON and call syntax, and requests, but never a request paired with its answer.

    python -m rollout_engine.demo_data OUT_DIR [--seed 0] [--train 3000]
"""
from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import words
from .templates import signature

# Value pools: the first part is used in training, the last `HELD_OUT` values only in evaluation.
HELD_OUT = 3
POOLS: dict[str, list[Any]] = {
    "city": ["Oslo", "Rome", "Paris", "Berlin", "Madrid", "Lisbon", "Vienna", "Prague", "Dublin", "Athens", "Warsaw", "Helsinki", "Zagreb", "Tallinn", "Riga"],
    "person": ["Anna", "Ben", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam", "Maya", "Noah"],
    "artist": ["Nina Simone", "Miles Davis", "Bjork", "Adele", "Queen", "Radiohead", "Beyonce", "Coldplay", "Sade", "Muse"],
    "topic": ["electric cars", "football", "climate", "space travel", "chess", "cooking", "elections", "robots", "gardening", "volcanoes"],
    "item": ["milk", "bread", "eggs", "apples", "rice", "coffee", "tea", "butter", "cheese", "lemons"],
    "currency": ["USD", "EUR", "JPY", "GBP", "CHF", "SEK", "NOK", "CAD", "AUD", "PLN"],
    "language": ["French", "German", "Spanish", "Italian", "Polish", "Dutch", "Greek", "Czech", "Finnish"],
    "word": ["hello", "thank you", "good night", "friend", "water", "train station", "help", "good luck"],
    "title": ["call mom", "pay rent", "book dentist", "water plants", "renew passport", "buy gift", "clean garage", "file taxes"],
}


@dataclass
class Param:
    name: str
    kind: str  # string | integer | number | boolean | enum | object
    pool: str | None = None  # value pool for strings
    low: int = 1
    high: int = 10
    choices: list[str] = field(default_factory=list)
    required: bool = True
    fields: list["Param"] = field(default_factory=list)  # for objects
    phrase: str = ""  # how a request mentions the argument, e.g. " for {days} days"

    def schema(self) -> dict[str, Any]:
        types = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "enum": "string", "object": "object"}
        out: dict[str, Any] = {"type": types[self.kind]}
        if self.kind == "enum":
            out["enum"] = list(self.choices)
        if self.kind == "object":
            out["properties"] = {f.name: f.schema() for f in self.fields}
            out["required"] = [f.name for f in self.fields if f.required]
        return out


@dataclass
class Tool:
    name: str
    description: str
    params: list[Param]
    requests: list[str]  # templates with {param} slots; optional params are appended through their phrase

    def schema(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description,
                "parameters": {"type": "object", "properties": {p.name: p.schema() for p in self.params},
                               "required": [p.name for p in self.params if p.required]}}


def S(name, pool, phrase="", required=True):
    return Param(name, "string", pool=pool, phrase=phrase, required=required)


def I(name, low, high, phrase="", required=True):
    return Param(name, "integer", low=low, high=high, phrase=phrase, required=required)


def E(name, choices, phrase="", required=True):
    return Param(name, "enum", choices=choices, phrase=phrase, required=required)


def B(name, phrase, required=False):
    return Param(name, "boolean", phrase=phrase, required=required)


TOOLS: list[Tool] = [
    Tool("get_weather", "Weather forecast for a city", [S("city", "city"), I("days", 1, 7, " for the next {days} days", False)],
         ["What is the weather in {city}", "Weather forecast for {city}", "Will it rain in {city}"]),
    Tool("get_time", "Current local time in a city", [S("city", "city")], ["What time is it in {city}", "Tell me the time in {city}"]),
    Tool("add_todo", "Add an item to the todo list", [S("title", "title"), I("priority", 1, 5, " with priority {priority}", False)],
         ["Add {title} to my todo list", "Remind me to {title}", "Put {title} on my list"]),
    Tool("play_music", "Play music by an artist", [S("artist", "artist"), B("shuffle", " on shuffle")],
         ["Play {artist}", "Put on some {artist}", "I want to listen to {artist}"]),
    Tool("set_volume", "Set the speaker volume", [I("level", 0, 100)], ["Set the volume to {level}", "Volume {level} please"]),
    Tool("convert_currency", "Convert an amount between currencies",
         [Param("amount", "number", low=1, high=500), S("from", "currency"), S("to", "currency")],
         ["Convert {amount} {from} to {to}", "How much is {amount} {from} in {to}"]),
    Tool("search_news", "Latest news headlines on a topic", [S("topic", "topic"), I("count", 1, 10, ", {count} headlines", False)],
         ["Any news about {topic}", "Show me headlines on {topic}", "What is new in {topic}"]),
    Tool("translate", "Translate text into a language", [S("text", "word"), S("target", "language")],
         ["Translate {text} into {target}", "How do you say {text} in {target}"]),
    Tool("send_message", "Send a text message to a contact", [S("to", "person"), E("channel", ["sms", "email", "chat"], " by {channel}", False)],
         ["Message {to}", "Send a note to {to}", "Text {to}"]),
    Tool("set_alarm", "Set an alarm", [I("hour", 0, 23), I("minute", 0, 59)], ["Set an alarm for {minute} minutes past {hour}", "Wake me at {minute} past {hour}"]),
    Tool("add_to_cart", "Add groceries to the shopping cart", [S("item", "item"), I("quantity", 1, 12)],
         ["Add {quantity} {item} to my cart", "Buy {quantity} {item}"]),
    Tool("book_table", "Reserve a restaurant table",
         [Param("booking", "object", fields=[S("city", "city"), I("people", 1, 8)]), I("hour", 17, 22)],
         ["Book a table for {booking.people} in {booking.city} at {hour}", "Reserve dinner for {booking.people} in {booking.city} at {hour}"]),
    Tool("set_thermostat", "Set the heating temperature", [I("celsius", 15, 26), E("mode", ["heat", "eco", "auto"], " in {mode} mode", False)],
         ["Set the heating to {celsius} degrees", "Make it {celsius} degrees inside"]),
    Tool("find_flight", "Search flights between two cities", [S("origin", "city"), S("destination", "city"), B("direct", " with no stops")],
         ["Find a flight from {origin} to {destination}", "Flights {origin} to {destination}"]),
    Tool("call_contact", "Start a phone call", [S("name", "person")], ["Call {name}", "Phone {name}"]),
    Tool("lights", "Turn the lights on or off", [E("state", ["on", "off"]), S("room", None, required=False)],
         ["Turn the lights {state}", "Lights {state} please"]),
    # Held-out tools: never in training, only in the unseen-tools evaluation split.
    Tool("get_air_quality", "Air quality index for a city", [S("city", "city")], ["How clean is the air in {city}", "Air quality in {city}"]),
    Tool("start_timer", "Start a countdown timer", [I("minutes", 1, 60)], ["Start a timer for {minutes} minutes", "Timer {minutes} minutes"]),
    Tool("find_recipe", "Find a recipe with an ingredient", [S("ingredient", "item"), B("vegetarian", " that is vegetarian")],
         ["Find a recipe with {ingredient}", "What can I cook with {ingredient}"]),
]
HELD_OUT_TOOLS = {"get_air_quality", "start_timer", "find_recipe"}
NO_CALL_REQUESTS = ["Tell me a joke", "How are you today", "Write a haiku about autumn", "What is the meaning of life",
                    "Thanks, that is all", "Who wrote Hamlet", "Explain photosynthesis", "Good morning"]
ROOMS = ["kitchen", "bedroom", "office", "hall"]


def _value(param: Param, rng: random.Random, held_out_values: bool) -> Any:
    if param.kind == "string":
        if param.pool is None:
            return rng.choice(ROOMS)
        pool = POOLS[param.pool]
        part = pool[-HELD_OUT:] if held_out_values else pool[:-HELD_OUT]
        return rng.choice(part)
    if param.kind == "integer":
        return rng.randint(param.low, param.high)
    if param.kind == "number":
        return rng.choice([rng.randint(param.low, param.high), round(rng.uniform(param.low, param.high), 2)])
    if param.kind == "enum":
        return rng.choice(param.choices)
    if param.kind == "boolean":
        return True  # an optional flag is mentioned only when set
    return {f.name: _value(f, rng, held_out_values) for f in param.fields}


def _request(tool: Tool, rng: random.Random, held_out_values: bool, value=None) -> tuple[str, dict[str, Any]]:
    """A request and the arguments it asks for. Every argument can be read from the request: optional
    ones the template does not mention are added through their phrase, or left out. `value(param, rng)`
    chooses argument values (default: the training or held-out part of each pool)."""
    template = rng.choice(tool.requests)
    args: dict[str, Any] = {}
    for p in tool.params:
        mentioned = "{" + p.name in template
        if p.required or mentioned or (p.phrase and rng.random() < 0.5):
            args[p.name] = value(p, rng) if value else _value(p, rng, held_out_values)
    text = template
    for name, value in args.items():
        if isinstance(value, dict):
            for key, inner in value.items():
                text = text.replace("{" + f"{name}.{key}" + "}", str(inner))
        elif "{" + name + "}" in text:
            text = text.replace("{" + name + "}", str(value))
        else:
            param = next(p for p in tool.params if p.name == name)
            text += param.phrase.replace("{" + name + "}", str(value))
    if "{" in text:
        raise ValueError(f"request template for {tool.name} has a slot with no argument: {text}")
    return text, args


def _sample(rng: random.Random, targets: list[Tool], distractors: list[Tool], held_out_values: bool, index: int, split: str, value=None) -> dict[str, Any]:
    """One sample: no call (10 %), two calls (15 %) or one call, among three candidate tools. `value`
    chooses argument values (default: the training or held-out part of each pool)."""
    kind = rng.random()
    if kind < 0.1:
        chosen: list[Tool] = []
        request, truth = rng.choice(NO_CALL_REQUESTS), []
    elif kind < 0.25:
        chosen = rng.sample(targets, k=2)
        (ra, aa), (rb, ab) = (_request(t, rng, held_out_values, value) for t in chosen)
        request = f"{ra}, and {rb[0].lower() + rb[1:]}"
        truth = [{"name": chosen[0].name, "arguments": aa}, {"name": chosen[1].name, "arguments": ab}]
    else:
        chosen = [rng.choice(targets)]
        request, args = _request(chosen[0], rng, held_out_values, value)
        truth = [{"name": chosen[0].name, "arguments": args}]
    others = [t for t in distractors if t not in chosen]
    shown = chosen + rng.sample(others, k=3 - len(chosen))
    rng.shuffle(shown)
    return {"id": f"{split}-{index:05d}", "tools": [t.schema() for t in shown],
            "messages": [{"role": "user", "content": request + rng.choice(["?", ".", "", " please."])}],
            "ground_truth": truth, "split": split}


def generate(seed: int = 0, train: int = 3000, eval_seen: int = 400, eval_unseen_values: int = 200, eval_unseen_tools: int = 200,
             made_up_train: int | None = None, varied_train: int = 0, varied_made_up: bool = True,
             mixed_lists: bool = True) -> dict[str, list[dict[str, Any]]]:
    """The demo splits: train, eval (seen tools, new requests), eval-unseen-values, eval-unseen-tools.

    Beside its `train` samples of the demo's training tools, the train split has `made_up_train` samples
    (default: as many) of made-up tools with made-up values, as a real RL dataset has thousands of tools:
    with 13 tools alone, GRPO rewards knowing those tools by heart, and a policy learns nothing that
    carries to a tool it has not seen; with many, it is rewarded for reading the tool list and copying
    from the request. It may also have `varied_train` samples of the training tools
    with values from the words the base knows (a city argument may hold any city but the demo's, as a
    real dataset's weather requests name thousands): with the pool's few values alone, GRPO rewards
    knowing them by heart as well as copying. `varied_made_up` phrases the made-up tools in more ways
    (synthetic_tool); `mixed_lists` lists them beside the demo's tools. The held-out tools and values
    never appear in the train split."""
    rng = random.Random(seed)
    seen = [t for t in TOOLS if t.name not in HELD_OUT_TOOLS]
    unseen = [t for t in TOOLS if t.name in HELD_OUT_TOOLS]
    splits = {
        "train": [_sample(rng, seen, seen, False, i, "train") for i in range(train)],
        "eval": [_sample(rng, seen, seen, False, i, "eval") for i in range(eval_seen)],
        "eval-unseen-values": [_sample(rng, seen, seen, True, i, "eval-unseen-values") for i in range(eval_unseen_values)],
        "eval-unseen-tools": [_sample(rng, unseen, seen, False, i, "eval-unseen-tools") for i in range(eval_unseen_tools)],
    }
    train_requests = {s["messages"][0]["content"] for s in splits["train"]}
    splits["eval"] = [s for s in splits["eval"] if s["messages"][0]["content"] not in train_requests]
    other = random.Random(seed + 1000)  # its own stream: the demo-tool samples stay what they were
    made_up = []
    for i in range(train if made_up_train is None else made_up_train):
        tools = [synthetic_tool(other, varied_made_up) for _ in range(3)]
        while any(t.name in HELD_OUT_TOOLS for t in tools):
            tools = [synthetic_tool(other, varied_made_up) for _ in range(3)]
        # Listed among the demo's tools when `mixed_lists`: a new tool among known ones, as eval-unseen-tools
        # asks; with made-up tools only in their lists, a policy learns to copy there and to answer from
        # memory whenever a known tool is listed — and then calls find_flight for a recipe.
        distractors = tools + seen if mixed_lists else tools
        made_up.append(_sample(other, tools, distractors, False, train + i, "train", value=lambda p, r: _example_value(p, r, NOUNS)))
    start = train + len(made_up)
    for i in range(varied_train):
        made_up.append(_sample(other, seen, seen, False, start + i, "train", value=lambda p, r: _example_value(p, r, NOUNS)))
    if made_up:
        splits["train"] = splits["train"] + made_up
        other.shuffle(splits["train"])
    return splits


LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Values the demo's tools take: the corpus never uses one as an argument, so held-out values stay unseen.
POOL_VALUES = {str(v) for pool in POOLS.values() for v in pool}
NOUNS = [n for n in words.NOUNS if n not in POOL_VALUES]  # for made-up names and choices


def made_up_word(rng: random.Random, capital: bool = False) -> str:
    """A made-up word of random letters (spelled in bytes: the tokenizer has no token for it)."""
    word = "".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 7)))
    return word.capitalize() if capital else word


def known_value(rng: random.Random, nouns: list[str] = words.NOUNS) -> str:
    """A string value from the English the base knows (words.py) — never one of the demo's own values:
    a name, a city, a language, a currency, a band, or one or two nouns. (The base corpus draws two-word
    values from all nouns, so a held-out word can be half of one there; the RL train split passes
    `nouns` without the demo's values, so no held-out word is in it at all.)"""
    while True:
        kind = rng.choice(["name", "city", "language", "currency", "band", "noun", "nouns"])
        if kind == "nouns":
            value = f"{rng.choice(words.VERBS + nouns)} {rng.choice(nouns)}"
        else:
            value = rng.choice({"name": words.NAMES, "city": words.CITIES, "language": words.LANGUAGES, "currency": words.CURRENCIES,
                                "band": words.BANDS, "noun": nouns}[kind])
        if value not in POOL_VALUES:
            return value


SEEN_VERBS = sorted({t.name.split("_")[0] for t in TOOLS if t.name not in HELD_OUT_TOOLS and "_" in t.name})
SEEN_ARGUMENTS = sorted({p.name for t in TOOLS if t.name not in HELD_OUT_TOOLS for p in t.params if p.kind in ("string", "integer")})
# Arguments named by their unit ("for 3 nights" → nights: 3) and flags named by an adjective ("that is
# fast" → fast: true), as many real APIs are.
UNITS = ["minutes", "hours", "days", "seconds", "weeks", "months", "years", "nights", "pages", "steps", "miles", "points", "times", "people", "degrees"]
# What the held-out tools alone use stays out of the made-up tools too: their names, and their argument
# names that no training tool has (minutes, ingredient, vegetarian).
HELD_OUT_ARGUMENTS = ({p.name for t in TOOLS if t.name in HELD_OUT_TOOLS for p in t.params}
                      - {p.name for t in TOOLS if t.name not in HELD_OUT_TOOLS for p in t.params})
VARIED_NOUNS = [n for n in NOUNS if n not in HELD_OUT_ARGUMENTS]
TOOL_NAMES = {t.name for t in TOOLS}
ADJECTIVES = ["new", "old", "big", "small", "good", "first", "long", "short", "high", "low", "hot", "cold", "warm", "cool", "fast", "slow",
              "early", "late", "open", "closed"]


def synthetic_tool(rng: random.Random, varied: bool = False) -> Tool:
    """A made-up tool of known words — verb_noun or verb_noun_noun, with one to three arguments named by
    nouns, of every kind — standing in for the many APIs on the web. Its requests name it by its words
    (some by its noun alone, some by its verb alone) and state each argument's value, as real requests do.

    `varied` (the made-up tools of the RL train split and of the base corpus's worked examples) writes
    them in more of the ways requests are written: a third take a demo tool's verb and some a demo tool's
    argument names (so that a tool's name does not tell its arguments: they must be read from the
    list), integers named by a unit ("for 3 nights"), flags named by an adjective ("that is fast", or a
    made-up word), values after a preposition ("in Lyon"), and requests that are a bare noun or a
    question."""
    verb = rng.choice(SEEN_VERBS) if varied and rng.random() < 0.33 else rng.choice(words.VERBS)
    nouns = rng.sample(VARIED_NOUNS if varied else NOUNS, k=rng.choice([1, 1, 2]))
    if varied and f"{verb}_{'_'.join(nouns)}" in TOOL_NAMES:  # a made-up get_weather would contradict the real one
        return synthetic_tool(rng, varied)
    noun = " ".join(nouns)
    params: list[Param] = []

    def taken(name: str) -> bool:  # one of the tool's own words, an argument it has, or held out
        return name in nouns or any(p.name == name for p in params) or (varied and name in HELD_OUT_ARGUMENTS)

    for _ in range(rng.choice([1, 1, 2, 2, 3])):
        name = rng.choice(SEEN_ARGUMENTS) if varied and rng.random() < 0.25 else rng.choice(NOUNS)
        if taken(name):
            continue
        kind = rng.choices(["string", "integer", "number", "enum", "boolean"], weights=[5, 3, 1, 1, 1])[0]
        phrase = rng.choice([" {%s}", " with {%s}", " %s {%s}", ", %s {%s}"])
        phrase = phrase % ((name,) if phrase.count("%s") == 1 else (name, name))
        if varied and kind == "string" and rng.random() < 0.4:
            phrase = rng.choice([" in {%s}", " for {%s}", " about {%s}", " from {%s}", " to {%s}", " at {%s}"]) % name
        if varied and kind == "integer" and rng.random() < 0.5:
            name = rng.choice(UNITS)
            if taken(name):
                continue
            phrase = rng.choice([" for {%s} %s", " {%s} %s", ", %s {%s}", " in {%s} %s"]) % (name, name)
        if varied and kind == "boolean" and rng.random() < 0.5:
            name = rng.choice(ADJECTIVES) if rng.random() < 0.5 else made_up_word(rng)
            if taken(name):
                continue
            params.append(Param(name, "boolean", phrase=rng.choice([f" that is {name}", f", {name} only", f" and make it {name}"]), required=False))
            continue
        if kind == "string":
            params.append(Param(name, "string", pool="*", phrase=phrase))
        elif kind == "integer":
            params.append(Param(name, "integer", low=1, high=rng.choice([9, 60, 500]), phrase=phrase))
        elif kind == "number":
            params.append(Param(name, "number", low=1, high=200, phrase=phrase))
        elif kind == "enum":
            params.append(Param(name, "enum", choices=rng.sample(words.COMMON + (VARIED_NOUNS if varied else NOUNS), k=3), phrase=phrase))
        else:
            params.append(Param(name, "boolean", phrase=rng.choice([f" {name}", f" with {name}"]), required=False))
    requests = [f"{verb.capitalize()} the {noun}", f"Please {verb} my {noun}", f"I need a {noun}", f"{noun.capitalize()} for me",
                f"Can you {verb} it", f"{verb.capitalize()} a {noun} now"]
    if varied:
        requests += [f"{noun.capitalize()}", f"{verb.capitalize()} a {noun}", f"What is the {noun}", f"How is my {noun}"]
    return Tool(f"{verb}_{'_'.join(nouns)}", f"{verb.capitalize()} a {noun}", params, requests)


def _example_value(param: Param, rng: random.Random, nouns: list[str] = words.NOUNS) -> Any:
    """Arguments of usage examples: for strings, known words in any role (80 %: a city for an `item`, a
    band for a `title`) or a word of random letters, so copying from the request is the only way to
    predict them; fresh numbers; the tool's own choices."""
    if param.kind == "string":
        return known_value(rng, nouns) if rng.random() < 0.8 else made_up_word(rng, capital=rng.random() < 0.5)
    if param.kind == "integer":
        return rng.randint(param.low, param.high)
    if param.kind == "number":
        return rng.choice([rng.randint(param.low, param.high), round(rng.uniform(param.low, param.high), 2)])
    if param.kind == "object":
        return {f.name: _example_value(f, rng, nouns) for f in param.fields}
    return _value(param, rng, False)


DOC_LAYOUT = "Tools:\n{tools}\nRequest: {request}\n"


def usage_example(tools: list[Tool], rng: random.Random, others: list[Tool], calls: int = 1, value=_example_value) -> str:
    """Function-calling documentation with a worked example: a list of tools, a request, and the answer
    that serves it in the tagged call syntax — written as docs, not in a prompt template (no roles, no
    instruction to follow). `calls` of the listed tools are called (0: a request no tool serves)."""
    chosen = tools[:calls]
    listed = [*chosen, *rng.sample([t for t in others if t not in chosen], k=3 - len(chosen))]
    rng.shuffle(listed)
    answers = []
    parts = []
    for tool in chosen:
        text, args = _request(tool, rng, False, value=value)
        parts.append(text)
        answers.append({"name": tool.name, "arguments": args})
    if not chosen:
        request, think = rng.choice(NO_CALL_REQUESTS), "No tool fits."
    else:
        request = parts[0] if len(parts) == 1 else f"{parts[0]}, and {parts[1][0].lower() + parts[1][1:]}"
        think = f"I call {' and '.join(a['name'] for a in answers)}."
    header = "\n".join(signature(t.schema()) for t in listed)
    return DOC_LAYOUT.format(tools=header, request=request) + f"<think>{think}</think>\n<tool_call>\n{json.dumps(answers)}\n</tool_call>"


def worked_example(rng: random.Random, seen: list[Tool]) -> str:
    """One worked example: mostly made-up tools (80 %: phrased in varied ways, listed half the time among
    the seen tools, as a new tool among known ones), else the seen tools with made-up or training values
    (half each); one call (75 %), two (15 %) or none (10 %)."""
    calls = rng.choices([1, 2, 0], weights=[75, 15, 10])[0]
    if rng.random() < 0.8:
        tools = [synthetic_tool(rng, varied=True) for _ in range(3)]
        return usage_example(tools, rng, tools if rng.random() < 0.5 else tools + seen, calls)
    value = _example_value if rng.random() < 0.5 else (lambda p, r: _value(p, r, False))
    return usage_example(rng.sample(seen, k=max(calls, 1)), rng, seen, calls, value)


def base_corpus(seed: int = 0, size: int = 4000) -> list[str]:
    """Documents of the task's language with no request paired with its answer in a prompt template:
    tool docs, calls on their own, requests on their own, reasoning snippets, lists of words, and API
    docs with worked examples — mostly of made-up tools with made-up values, so that what is learned is to pick a tool
    from a list and copy values from a request, which carries to tools and values never seen."""
    rng = random.Random(seed + 1)
    seen = [t for t in TOOLS if t.name not in HELD_OUT_TOOLS]
    docs = []
    for _ in range(size):
        tool = rng.choice(seen)
        kind = rng.random()
        if kind < 0.1:
            docs.append(json.dumps(tool.schema()))
        elif kind < 0.2:
            calls = [{"name": t.name, "arguments": _request(t, rng, False)[1]} for t in rng.sample(seen, k=rng.choice([1, 1, 2]))]
            docs.append(f"<tool_call>\n{json.dumps(calls)}\n</tool_call>")
        elif kind < 0.3:
            docs.append(_request(tool, rng, False)[0] + rng.choice(["?", ".", ""]))
        elif kind < 0.35:
            docs.append(f"<think>The {tool.name} tool: {tool.description.lower()}.</think>")
        elif kind < 0.4:
            docs.append(glossary(rng))
        else:
            docs.append(worked_example(rng, seen))
    return docs


GLOSSARY = {"Cities": words.CITIES, "Names": words.NAMES, "Languages": words.LANGUAGES, "Currencies": words.CURRENCIES,
            "Bands": words.BANDS, "Things": words.NOUNS, "Actions": words.VERBS}


def glossary(rng: random.Random) -> str:
    """A line of words of one kind ("Cities: Riga, Lyon, …"): every word the tokenizer knows is read in
    text, as a base LLM has read "Tallinn" somewhere, so that its token means something. A word no
    document uses keeps its random initial embedding, and the base cannot copy it — which is what a
    base without these lines did with every held-out value."""
    label = rng.choice(list(GLOSSARY))
    return f"{label}: {', '.join(rng.sample(GLOSSARY[label], k=8))}."


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the demo dataset and base corpus.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train", type=int, default=3000)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for split, rows in generate(args.seed, args.train).items():
        (args.out / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        print(f"{split}: {len(rows)} samples")
    (args.out / "base-corpus.txt").write_text("\n\n".join(base_corpus(args.seed)) + "\n")


if __name__ == "__main__":
    main()
