"""The tiny policy's tokenizer: whole words, digits, punctuation and the task's tags from the base corpus,
with a byte fallback, so that text never seen in training (held-out argument values, new tool names)
can still be read and written.

Text is split into pieces: tags like <tool_call>, runs of letters, underscores, single digits, single
spaces and newlines, and runs of punctuation (but `<`, which opens tags) with an optional leading space
(`", "` or `"}}]`: JSON's glue, so a call is about half as many tokens). A piece in the vocabulary is
one token; a punctuation run that is not is written character by character; any other piece as its
UTF-8 bytes, one token each. A tool name is its words: `get_air_quality` is get, _, air, _, quality, so
a name never seen reads as words the model knows. (Tokenizers saved before that split, with snake_case
names as single pieces, keep their rule: `split` in tokenizer.json.)

In the `cased-words` split (the shipped base's), a capitalized word whose lowercase is a piece is two
tokens: a capital marker and the lowercase word ("Timer" is ⇧ timer), as fastai's xxmaj marks case. A
request that opens with "Timer" then holds the same token as the tool `start_timer`, so the model can
match and copy it; without the marker "Timer" was spelled in bytes, unrelated to "timer".
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Iterable

SPECIALS = ["<pad>", "<bos>", "<eos>"]
TAGS = ["<think>", "</think>", "<tool_call>", "</tool_call>", "<response>", "</response>", "<answer>", "</answer>",
        "<|system|>", "<|user|>", "<|assistant|>", "<|tool|>"]
WORDS = re.compile(r"<\|[a-z]+\|>|</?[a-z_]+>|[A-Za-z]+|_|\d| ?[^\sA-Za-z_\d<]+|<|\s")
SPLITS = {
    "words": WORDS,
    "cased-words": WORDS,  # the same pieces, with the capital marker (encode)
    "snake-case-words": re.compile(r"<\|[a-z]+\|>|</?[a-z_]+>|[A-Za-z_]+|\d| ?[^\sA-Za-z_\d<]+|<|\s"),  # before 2026-11-28
}
PIECE = WORDS
BYTE_BASE = len(SPECIALS)  # byte b is token BYTE_BASE + b
CAPITAL = "\x00cap"  # the capital marker's piece: no text splits into it, so only the marker is that token


def _capitalized(piece: str) -> bool:
    """An ASCII word with its first letter upper case and the rest lower case ("Timer", "I"; not "USD")."""
    return piece.isascii() and piece.isalpha() and piece[0].isupper() and (len(piece) == 1 or piece[1:].islower())


class Tokenizer:
    def __init__(self, pieces: list[str], split: str = "words"):
        if split not in SPLITS:
            raise ValueError(f"unknown tokenizer split {split!r}; known: {', '.join(SPLITS)}")
        self.split, self.pattern = split, SPLITS[split]
        self.pieces = list(pieces)
        self.index = {p: BYTE_BASE + 256 + i for i, p in enumerate(self.pieces)}
        self.pad_id, self.bos_id, self.eos_id = 0, 1, 2
        self.capital_id = self.index.get(CAPITAL) if split == "cased-words" else None

    @property
    def vocab_size(self) -> int:
        return BYTE_BASE + 256 + len(self.pieces)

    @classmethod
    def train(cls, texts: Iterable[str], max_pieces: int = 4000, min_count: int = 2, words: Iterable[str] = ()) -> "Tokenizer":
        """Keeps the tags, the capital marker, the given words, and the most frequent pieces of the corpus
        (single characters always; a capitalized word counts as its lowercase)."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(p.lower() if _capitalized(p) else p for p in PIECE.findall(text))
        pieces = list(dict.fromkeys([*TAGS, CAPITAL, *words]))
        known = set(pieces)
        for piece, n in counts.most_common():
            if len(pieces) >= max_pieces:
                break
            if piece not in known and (n >= min_count or len(piece) == 1):
                pieces.append(piece)
        return cls(pieces, "cased-words")

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for piece in self.pattern.findall(text):
            if self.capital_id is not None and _capitalized(piece) and piece.lower() in self.index:
                ids += [self.capital_id, self.index[piece.lower()]]
                continue
            token = self.index.get(piece)
            if token is not None:
                ids.append(token)
            elif len(piece) > 1 and not piece[-1].isalnum():  # an unknown punctuation run or tag: char by char
                for ch in piece:
                    ids.extend(self.encode(ch))
            else:
                ids.extend(BYTE_BASE + b for b in piece.encode("utf-8"))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        out: list[str] = []
        pending = bytearray()
        capital = False  # the marker capitalizes the first character of what comes next

        def emit(text: str) -> None:
            nonlocal capital
            if capital and text:
                text, capital = text[0].upper() + text[1:], False
            out.append(text)

        for i in ids:
            if BYTE_BASE <= i < BYTE_BASE + 256:
                pending.append(i - BYTE_BASE)
                continue
            if pending:
                emit(pending.decode("utf-8", errors="replace"))
                pending.clear()
            if i == self.capital_id:
                capital = True
            elif i >= BYTE_BASE + 256:
                emit(self.pieces[i - BYTE_BASE - 256])
            # special tokens decode to nothing
        if pending:
            emit(pending.decode("utf-8", errors="replace"))
        return "".join(out)

    def encode_prompt(self, conversation: list[dict[str, str]], template: str) -> list[int]:
        """A prompt as the tiny policy reads it (the hf policy's tokenizer uses the model's chat template)."""
        from .templates import render_plain  # templates reads datasets; the tokenizer needs only this
        return self.encode(render_plain(conversation, template))  # type: ignore[arg-type]

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"pieces": self.pieces, "split": self.split}, ensure_ascii=False))

    @classmethod
    def load(cls, path: str | Path) -> "Tokenizer":
        saved = json.loads(Path(path).read_text())
        return cls(saved["pieces"], saved.get("split", "snake-case-words"))
