"""Builds the tiny base model: next-token pretraining on a generated corpus that teaches the language of
the task (tool documentation, JSON and call syntax, prompts with their requests) but never shows a
request with its answer, as a base LLM has read the web but not the task.

The base is cached under .rollout-studio/base/<settings hash>/ and built on first use.
    python -m rollout_engine.pretrain [--steps 600] [--out DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from . import demo_data, templates, words
from .data import Sample
from .model import ModelConfig, TinyGPT
from .tokenizer import Tokenizer

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class BaseSettings:
    """The defaults are the shipped base's (engine/base)."""
    seed: int = 0
    corpus_size: int = 80000
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 1024
    rope: bool = True
    copy_head: bool = True  # copies values and names from the prompt exactly (model.py)
    steps: int = 2400
    batch_size: int = 16
    seq_len: int = 512  # longer than any RL prompt with its answer: every position a run uses is trained
    learning_rate: float = 3e-3
    threads: int = 2

    def key(self) -> str:
        """Changes with the settings and with the code that makes the corpus, tokenizer and model."""
        h = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode())
        for module in ("demo_data.py", "templates.py", "tokenizer.py", "model.py", "pretrain.py", "words.py"):
            h.update((Path(__file__).parent / module).read_bytes())
        return h.hexdigest()[:12]


def corpus(settings: BaseSettings) -> list[str]:
    """The base corpus: documents without any request paired with its answer."""
    rng = random.Random(settings.seed + 2)
    docs = demo_data.base_corpus(settings.seed, settings.corpus_size)
    # Prompts as the chat templates write them, with the request but no answer.
    rows = demo_data.generate(settings.seed + 100, train=settings.corpus_size // 4, eval_seen=0, eval_unseen_values=0, eval_unseen_tools=0,
                              made_up_train=0, varied_train=0)["train"]
    for row in rows:
        sample = Sample(id=row["id"], tools=row["tools"], messages=row["messages"], ground_truth=[])
        prompt = templates.render_plain(templates.messages(sample, rng.choice(["tool-n1", "toolrl"])))
        # Cut before the assistant marker: a prompt followed by the end of a document would teach the
        # base to stop right where its answer should begin.
        docs.append(prompt[: -len(templates.ROLE_TAGS["assistant"])])
    rng.shuffle(docs)
    return docs


def _batches(ids: list[int], settings: BaseSettings, rng: torch.Generator):
    data = torch.tensor(ids, dtype=torch.long)
    while True:
        starts = torch.randint(0, len(data) - settings.seq_len - 1, (settings.batch_size,), generator=rng)
        x = torch.stack([data[s:s + settings.seq_len] for s in starts.tolist()])
        y = torch.stack([data[s + 1:s + settings.seq_len + 1] for s in starts.tolist()])
        yield x, y


def _save(model: TinyGPT, config: ModelConfig, tokenizer: Tokenizer, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save(out / "tokenizer.json")
    torch.save({"config": asdict(config), "model": model.state_dict()}, out / "model.pt.tmp")
    (out / "model.pt.tmp").replace(out / "model.pt")


def build_base(settings: BaseSettings, out: Path, log=print, snapshot_every: int = 0) -> Path:
    """Pretrains and saves the base model and its tokenizer into `out` (and, with `snapshot_every`, the
    model so far into out/step-N every so many steps, to evaluate a long build as it goes)."""
    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads)
    started = time.time()
    docs = corpus(settings)
    # The vocabulary: the English the base knows (words.py) and the pieces of the documents other than
    # worked examples; the random-letter words of worked examples stay spelled in bytes, as any unknown
    # word is, so the base also practises copying words it has no token for.
    tokenizer = Tokenizer.train((d for d in docs if not d.startswith(demo_data.DOC_LAYOUT.split("{")[0])), words=words.ALL)
    ids: list[int] = []
    for doc in docs:
        ids.extend(tokenizer.encode(doc))
        ids.append(tokenizer.eos_id)
    config = ModelConfig(vocab_size=tokenizer.vocab_size, n_layer=settings.n_layer, n_head=settings.n_head, n_embd=settings.n_embd, block_size=settings.block_size, rope=settings.rope,
                         copy_head=settings.copy_head)
    model = TinyGPT(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=0.01)
    batches = _batches(ids, settings, torch.Generator().manual_seed(settings.seed))
    losses = []
    for step in range(settings.steps):
        lr = settings.learning_rate * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + torch.cos(torch.tensor(step / settings.steps * 3.14159)).item()))
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = next(batches)
        logits, _ = model(x)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if step % 100 == 0 or step == settings.steps - 1:
            log(json.dumps({"event": "pretrain", "step": step, "loss": round(loss.item(), 4), "elapsed_s": round(time.time() - started, 1)}))
        if snapshot_every and (step + 1) % snapshot_every == 0 and step + 1 < settings.steps:
            _save(model, config, tokenizer, out / f"step-{step + 1}")
    _save(model, config, tokenizer, out)
    meta = {"settings": asdict(settings), "params": model.num_params(), "tokens": len(ids), "seconds": round(time.time() - started, 1),
            "loss_first": losses[0], "loss_last": sum(losses[-20:]) / len(losses[-20:])}
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    return out


def base_dir(settings: BaseSettings) -> Path:
    # ROLLOUT_STUDIO_CACHE: where the extension keeps it (its global storage), shared by every workspace.
    cache = Path(os.environ["ROLLOUT_STUDIO_CACHE"]) if os.environ.get("ROLLOUT_STUDIO_CACHE") else PROJECT_ROOT / ".rollout-studio"
    return cache / "base" / f"tiny-{settings.key()}"


SHIPPED_BASE = PROJECT_ROOT / "engine" / "base"


def default_base(log=print) -> Path:
    """The tiny backend's base when a run names none: the one shipped in engine/base (built with the
    default settings: `python -m rollout_engine.pretrain --out engine/base`), else built and cached."""
    if (SHIPPED_BASE / "model.pt").exists() and (SHIPPED_BASE / "tokenizer.json").exists():
        return SHIPPED_BASE
    return ensure_base(BaseSettings(), log)


def ensure_base(settings: BaseSettings, log=print) -> Path:
    """The cached base model for these settings, built first if missing."""
    out = base_dir(settings)
    if (out / "model.pt").exists() and (out / "tokenizer.json").exists():
        return out
    log(json.dumps({"event": "pretrain_started", "dir": str(out)}))
    return build_base(settings, out, log)


def load_base(path: Path) -> tuple[TinyGPT, Tokenizer]:
    saved = torch.load(path / "model.pt", map_location="cpu")
    model = TinyGPT(ModelConfig(**saved["config"]))
    model.load_state_dict(saved["model"])
    return model, Tokenizer.load(path / "tokenizer.json")


def main() -> None:
    parser = argparse.ArgumentParser(description="Pretrain the tiny base model.")
    parser.add_argument("--steps", type=int, default=BaseSettings.steps)
    parser.add_argument("--corpus-size", type=int, default=BaseSettings.corpus_size, help="documents in the generated corpus")
    parser.add_argument("--batch-size", type=int, default=BaseSettings.batch_size)
    parser.add_argument("--seq-len", type=int, default=BaseSettings.seq_len)
    parser.add_argument("--layers", type=int, default=BaseSettings.n_layer)
    parser.add_argument("--width", type=int, default=BaseSettings.n_embd)
    parser.add_argument("--no-copy-head", action="store_true", help="a model without the copy head (as bases before it)")
    parser.add_argument("--threads", type=int, default=BaseSettings.threads)
    parser.add_argument("--out", type=Path, help="where to write it (engine/base is the shipped one); default: the cache")
    parser.add_argument("--snapshot-every", type=int, default=0, help="also save the model so far into OUT/step-N every N steps")
    args = parser.parse_args()
    settings = BaseSettings(steps=args.steps, corpus_size=args.corpus_size, batch_size=args.batch_size, seq_len=args.seq_len,
                            n_layer=args.layers, n_embd=args.width, threads=args.threads, copy_head=not args.no_copy_head)
    out = build_base(settings, args.out or base_dir(settings), snapshot_every=args.snapshot_every)
    print(json.dumps({"event": "pretrain_done", "dir": str(out), **json.loads((out / "meta.json").read_text())}))


if __name__ == "__main__":
    main()
