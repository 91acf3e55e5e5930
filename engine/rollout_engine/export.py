"""The tiny policy as an ONNX file the extension samples from (the playground: docs/playground.md).

    python -m rollout_engine.export --run RUN_DIR [--step N] [--out FOLDER]
    python -m rollout_engine.export --base engine/base --out FOLDER

writes FOLDER/model.onnx, FOLDER/tokenizer.json (the policy's tokenizer, as the TypeScript tokenizer reads it)
and FOLDER/export.json (where it came from, its shape, the ids of its special tokens). The default FOLDER is
<run>/exports/step-N (or <run>/exports/final for the trained policy.pt).

The graph is one decoding step with its KV cache, so sampling pays for each new token only:
inputs  input_ids (B, T) int64, position (1,) int64: the first new token's position, past_key_i /
        past_value_i (B, H, P, D) float32 for each layer (P = 0 on the first call);
        and, for a model with a copy head, past_copy_key (B, P - 2, C) and past_copy_hidden (B, 2, C) float32
        (its finished keys and its last two hidden states; fewer on the first steps), past_copy_ids (B, P) int64;
outputs logits (B, V) float32 of the last position, present_key_i / present_value_i (B, H, P + T, D)
        (and present_copy_key, present_copy_hidden, present_copy_ids). export.json's "cache" lists these
        tensors in order.
Every row of a batch has the same length (the N samples of one prompt), so there is no padding mask.
The hf backend's transformers models are not exported here (their own exporters do that).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

from .model import TinyGPT, attention_bias, rotary_tables
from .pretrain import load_base
from .tokenizer import Tokenizer


class DecodeStep(nn.Module):
    """TinyGPT.forward for rows without padding, with the cache as separate tensors (ONNX has no lists)."""

    def __init__(self, model: TinyGPT):
        super().__init__()
        self.model = model

    def forward(self, input_ids, position, *past):
        m = self.model
        B, T = input_ids.shape
        P = past[0].shape[2]
        positions = (torch.arange(T, device=input_ids.device) + position)[None, :].expand(B, T)
        x = m.wte(input_ids)
        rope = rotary_tables(positions, m.config.n_embd // m.config.n_head, x.dtype) if m.config.rope else None
        if not m.config.rope:
            x = x + m.wpe(positions)
        bias = attention_bias(torch.ones(B, P + T, dtype=torch.bool, device=input_ids.device), T, x.dtype)
        presents: list[torch.Tensor] = []
        for i, block in enumerate(m.blocks):
            x, (k, v) = block(x, bias, (past[2 * i], past[2 * i + 1]), rope)
            presents += [k, v]
        copy_cache = [tuple(past[2 * len(m.blocks):])] if m.copy is not None else None
        logits, caches = m.output(x, input_ids, bias, copy_cache, [])
        for cache in caches:  # the copy head's finished keys, last hidden states and token ids
            presents += list(cache)
        return (logits[:, -1], *presents)


def cache_layout(model: TinyGPT) -> list[dict]:
    """The cache tensors the decoding step takes and returns, in order: each with its input and output name,
    dtype, and shape on the first call (0 for the batch, which the caller sets, and 0 past positions)."""
    c = model.config
    head_dim = c.n_embd // c.n_head
    layout = [{"input": f"past_{kind}_{i}", "output": f"present_{kind}_{i}", "dtype": "float32", "shape": [0, c.n_head, 0, head_dim], "past_axis": 2}
              for i in range(c.n_layer) for kind in ("key", "value")]
    if c.copy_head:
        layout += [{"input": "past_copy_key", "output": "present_copy_key", "dtype": "float32", "shape": [0, 0, c.n_embd], "past_axis": 1},
                   {"input": "past_copy_hidden", "output": "present_copy_hidden", "dtype": "float32", "shape": [0, 0, c.n_embd], "past_axis": 1},
                   {"input": "past_copy_ids", "output": "present_copy_ids", "dtype": "int64", "shape": [0, 0], "past_axis": 1}]
    return layout


def load_policy(run: Path | None, step: int | None, base: Path | None) -> tuple[TinyGPT, Tokenizer, dict]:
    """The policy to export: a run's checkpoint (step N, or the latest), its trained policy.pt, or a base."""
    if base is not None:
        model, tokenizer = load_base(base)
        return model, tokenizer, {"source": "base", "path": str(base)}
    assert run is not None
    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    if info["config"]["policy"].get("backend", "tiny") != "tiny":
        raise ValueError(f"{run}: the playground exports the tiny policy; this run trained a transformers model (backend = "
                         f"\"{info['config']['policy']['backend']}\"), which its own exporters turn into ONNX")
    model, tokenizer = load_base(Path(info["base"]))
    checkpoints = {c["step"]: run / c["path"] for c in info.get("checkpoints", [])}
    if step is None and (run / "policy.pt").exists():
        saved = torch.load(run / "policy.pt", map_location="cpu")
        model.load_state_dict(saved["model"])
        return model, tokenizer, {"source": "run", "path": str(run), "step": info.get("step"), "file": "policy.pt"}
    if not checkpoints:
        raise ValueError(f"{run}: no checkpoint to export yet (checkpoints are written every [run] checkpoint_every steps)")
    chosen = step if step is not None else max(checkpoints)
    if chosen not in checkpoints:
        raise ValueError(f"{run}: no checkpoint at step {chosen}; checkpoints: {', '.join(map(str, sorted(checkpoints)))}")
    state = torch.load(checkpoints[chosen] / "state.pt", map_location="cpu")
    model.load_state_dict(state["model"])
    return model, tokenizer, {"source": "run", "path": str(run), "step": chosen, "file": str(checkpoints[chosen].relative_to(run))}


def export(model: TinyGPT, tokenizer: Tokenizer, out: Path, origin: dict) -> dict:
    model = model.eval()
    c = model.config
    head_dim = c.n_embd // c.n_head
    out.mkdir(parents=True, exist_ok=True)
    layout = cache_layout(model)
    names = [entry["input"] for entry in layout]
    present = [entry["output"] for entry in layout]
    # An example call after 4 tokens: 4 cached positions, of which the copy head has finished 2 keys.
    example_len = {"past_copy_key": 2, "past_copy_hidden": 2}
    example_past = [torch.zeros([1 if i == 0 else (example_len.get(e["input"], 4) if i == e["past_axis"] else d) for i, d in enumerate(e["shape"])],
                                dtype=torch.long if e["dtype"] == "int64" else torch.float32) for e in layout]
    example = (torch.tensor([[5, 6, 7]]), torch.tensor([4]), *example_past)
    dynamic = {"input_ids": {0: "batch", 1: "new"}, "logits": {0: "batch"}}
    dynamic.update({e["input"]: {0: "batch", e["past_axis"]: f"{e['input']}_length"} for e in layout})
    dynamic.update({e["output"]: {0: "batch", e["past_axis"]: f"{e['output']}_length"} for e in layout})
    started = time.time()
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes on shape arithmetic, which the dynamic axes cover
        torch.onnx.export(DecodeStep(model), example, str(out / "model.onnx"), input_names=["input_ids", "position", *names],
                          output_names=["logits", *present], dynamic_axes=dynamic, opset_version=17, dynamo=False)
    tokenizer.save(out / "tokenizer.json")
    meta = {**origin, "n_layer": c.n_layer, "n_head": c.n_head, "head_dim": head_dim, "vocab_size": c.vocab_size,
            "block_size": c.block_size, "cache": layout, "eos_id": tokenizer.eos_id, "pad_id": tokenizer.pad_id, "params": model.num_params(),
            "bytes": (out / "model.onnx").stat().st_size, "export_s": round(time.time() - started, 3), "exported_at": time.time()}
    (out / "export.json").write_text(json.dumps(meta, indent=2))
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Export the tiny policy to ONNX for the playground.")
    parser.add_argument("--run", type=Path)
    parser.add_argument("--step", type=int)
    parser.add_argument("--base", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if (args.run is None) == (args.base is None):
        print("rollout-studio export: give --run RUN_DIR [--step N] or --base FOLDER", file=sys.stderr)
        return 2
    try:
        model, tokenizer, origin = load_policy(args.run, args.step, args.base)
    except (ValueError, OSError, KeyError) as err:
        print(f"rollout-studio export: {err}", file=sys.stderr)
        return 2
    out = args.out or (args.run / "exports" / (f"step-{origin['step']}" if origin.get("file") != "policy.pt" else "final"))
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    meta = export(model, tokenizer, tmp, origin)
    shutil.rmtree(out, ignore_errors=True)
    tmp.replace(out)
    print(json.dumps({"out": str(out), **meta}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
