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

An hf run (a transformers causal LM) exports the same way, with the model's own tokenizer files
(tokenizer.json, tokenizer_config.json, its chat template) beside it and "kind": "hf" in export.json: its
attention is exported in eager form (the exporter has no grouped-query scaled_dot_product_attention), in
float32, LoRA adapters merged. docs/playground.md says how large a model this is practical for.
"""
from __future__ import annotations

import argparse
import json
import os
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


class HFDecodeStep(nn.Module):
    """A transformers causal LM's forward with its KV cache as separate tensors: the same inputs and outputs
    as DecodeStep, so the extension samples either the same way."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.layers = model.config.num_hidden_layers

    def forward(self, input_ids, position, *past):
        from transformers import DynamicCache

        cache = DynamicCache()
        for i in range(self.layers):
            cache.update(past[2 * i], past[2 * i + 1], i)
        B, T = input_ids.shape
        positions = (torch.arange(T, device=input_ids.device) + position)[None, :].expand(B, T)
        out = self.model(input_ids=input_ids, position_ids=positions, past_key_values=cache, use_cache=True)
        presents: list[torch.Tensor] = []
        for layer in out.past_key_values.layers:
            presents += [layer.keys, layer.values]
        return (out.logits[:, -1], *presents)


def load_hf_model(folder: Path, state_file: Path | None, lora_rank: int = 0, lora_alpha: float = 0.0):
    """A transformers model from its folder, with a checkpoint's weights (HFPolicy's state, LoRA merged) when given."""
    import transformers

    model = transformers.AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.float32, attn_implementation="eager")
    if state_file is not None:
        state = torch.load(state_file, map_location="cpu")["model"]
        if lora_rank:
            import peft

            config = peft.LoraConfig(r=lora_rank, lora_alpha=lora_alpha or 2 * lora_rank, target_modules="all-linear", task_type="CAUSAL_LM")
            model = peft.get_peft_model(model, config)
        # HFPolicy keeps the model as `.model`: its state's keys start with "model.".
        model.load_state_dict({k.removeprefix("model."): v for k, v in state.items()})
        if lora_rank:
            model = model.merge_and_unload()
    return model.eval()


def export_hf(model, tokenizer_folder: Path, out: Path, origin: dict) -> dict:
    """A transformers model as one decoding step with its KV cache, and its tokenizer files beside it."""
    import transformers

    c = model.config
    heads = c.num_key_value_heads or c.num_attention_heads
    head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    layout = [{"input": f"past_{kind}_{i}", "output": f"present_{kind}_{i}", "dtype": "float32", "shape": [0, heads, 0, head_dim], "past_axis": 2}
              for i in range(c.num_hidden_layers) for kind in ("key", "value")]
    out.mkdir(parents=True, exist_ok=True)
    example = (torch.tensor([[5, 6, 7]]), torch.tensor([4]), *[torch.zeros(1, heads, 4, head_dim) for _ in layout])
    dynamic = {"input_ids": {0: "batch", 1: "new"}, "logits": {0: "batch"}}
    dynamic.update({e["input"]: {0: "batch", 2: f"{e['input']}_length"} for e in layout})
    dynamic.update({e["output"]: {0: "batch", 2: f"{e['output']}_length"} for e in layout})
    started = time.time()
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(HFDecodeStep(model), example, str(out / "model.onnx"), input_names=["input_ids", "position", *[e["input"] for e in layout]],
                          output_names=["logits", *[e["output"] for e in layout]], dynamic_axes=dynamic, opset_version=17, dynamo=False)
    _one_weights_file(out)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tokenizer_folder, local_files_only=True)
    tokenizer.save_pretrained(out)
    if getattr(tokenizer, "chat_template", None):  # one file whatever the transformers version writes
        (out / "chat_template.jinja").write_text(tokenizer.chat_template)
    eos = tokenizer.eos_token_id
    size = sum(p.stat().st_size for p in out.iterdir() if p.name.startswith("model.onnx"))
    meta = {**origin, "kind": "hf", "n_layer": c.num_hidden_layers, "n_head": heads, "head_dim": head_dim, "vocab_size": int(model.get_output_embeddings().weight.shape[0]),
            "block_size": int(getattr(c, "max_position_embeddings", 2048)), "cache": layout, "eos_id": eos,
            "pad_id": tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos,
            # The plain templates are encoded with the model's special tokens (its BOS, if it has one), as the hf backend does.
            "bos_id": tokenizer.bos_token_id if tokenizer("x")["input_ids"][:1] == [tokenizer.bos_token_id] else None,
            "params": sum(p.numel() for p in model.parameters()), "bytes": size, "export_s": round(time.time() - started, 3), "exported_at": time.time()}
    (out / "export.json").write_text(json.dumps(meta, indent=2))
    return meta


def _one_weights_file(out: Path) -> None:
    """Past ONNX's 2 GB protobuf limit the exporter writes each weight to a file of its own beside model.onnx;
    they are gathered into one model.onnx.data (onnxruntime reads it from beside the graph)."""
    stray = [p for p in out.iterdir() if p.name != "model.onnx"]
    if not stray:
        return
    import onnx

    graph = onnx.load(str(out / "model.onnx"), load_external_data=True)
    for p in stray:
        p.unlink()
    onnx.save_model(graph, str(out / "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=1024)


def export_hf_run(run: Path, step: int | None, out: Path | None) -> dict:
    """An hf run's checkpoint (step N, the latest, or its trained policy/) as ONNX."""
    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    policy = info["config"]["policy"]
    base = Path(info["base"] or policy.get("model") or "")
    lora = (int(policy.get("lora_rank") or 0), float(policy.get("lora_alpha") or 0.0))
    if step is None and (run / "policy" / "config.json").exists() and not lora[0]:
        model, origin = load_hf_model(run / "policy", None), {"source": "run", "path": str(run), "step": info.get("step"), "file": "policy"}
        name = "final"
    else:
        folder, origin = _checkpoint(run, info, step)
        model = load_hf_model(base, folder / "state.pt", *lora)
        name = f"step-{origin['step']}"
    return write_atomically(out or run / "exports" / name, lambda tmp: export_hf(model, base, tmp, origin))


def write_atomically(out: Path, write) -> dict:
    """Writes an export to a folder of this process's own beside OUT, then replaces OUT with it: a picked
    checkpoint never reads half an export, and the engine and the playground exporting the same checkpoint
    at once do not write into each other's files. A failed export leaves nothing behind."""
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        meta = write(tmp)
        shutil.rmtree(out, ignore_errors=True)
        tmp.replace(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"out": str(out), **meta}


def is_hf_run(run: Path) -> bool:
    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    return info["config"]["policy"].get("backend", "tiny") == "hf"


def is_hf_base(folder: Path) -> bool:
    return (folder / "config.json").exists() and not (folder / "meta.json").exists()


def load_policy(run: Path | None, step: int | None, base: Path | None) -> tuple[TinyGPT, Tokenizer, dict]:
    """The tiny policy to export: a run's checkpoint (step N, or the latest), its trained policy.pt, or a base."""
    if base is not None:
        model, tokenizer = load_base(base)
        return model, tokenizer, {"source": "base", "path": str(base)}
    assert run is not None
    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    model, tokenizer = load_base(Path(info["base"]))
    if step is None and (run / "policy.pt").exists():
        saved = torch.load(run / "policy.pt", map_location="cpu")
        model.load_state_dict(saved["model"])
        return model, tokenizer, {"source": "run", "path": str(run), "step": info.get("step"), "file": "policy.pt"}
    folder, origin = _checkpoint(run, info, step)
    model.load_state_dict(torch.load(folder / "state.pt", map_location="cpu")["model"])
    return model, tokenizer, origin


def _checkpoint(run: Path, info: dict, step: int | None) -> tuple[Path, dict]:
    """A run's checkpoint folder at `step` (None: the latest) and the export's origin, or a ValueError that says which there are."""
    checkpoints = {c["step"]: run / c["path"] for c in info.get("checkpoints", [])}
    if not checkpoints:
        raise ValueError(f"{run}: no checkpoint to export yet (checkpoints are written every [run] checkpoint_every steps)")
    chosen = step if step is not None else max(checkpoints)
    if chosen not in checkpoints:
        raise ValueError(f"{run}: no checkpoint at step {chosen}; checkpoints: {', '.join(map(str, sorted(checkpoints)))}")
    return checkpoints[chosen], {"source": "run", "path": str(run), "step": chosen, "file": str(checkpoints[chosen].relative_to(run))}


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
    parser = argparse.ArgumentParser(description="Export a policy (the tiny one, or an hf run's transformers model) to ONNX for the playground.")
    parser.add_argument("--run", type=Path)
    parser.add_argument("--step", type=int)
    parser.add_argument("--base", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if (args.run is None) == (args.base is None):
        print("rollout-studio export: give --run RUN_DIR [--step N] or --base FOLDER", file=sys.stderr)
        return 2
    try:
        if args.base is not None and is_hf_base(args.base):
            if args.out is None:
                raise ValueError("--base with a transformers model needs --out FOLDER")
            result = write_atomically(args.out, lambda tmp: export_hf(load_hf_model(args.base, None), args.base, tmp, {"source": "base", "path": str(args.base)}))
        elif args.run is not None and is_hf_run(args.run):
            result = export_hf_run(args.run, args.step, args.out)
        else:
            model, tokenizer, origin = load_policy(args.run, args.step, args.base)
            out = args.out or (args.run / "exports" / (f"step-{origin['step']}" if origin.get("file") != "policy.pt" else "final"))
            result = write_atomically(out, lambda tmp: export(model, tokenizer, tmp, origin))
    except ImportError as err:
        print(f"rollout-studio export: {err}; an hf model's export needs transformers and onnx in the engine's Python (bash scripts/setup-python.sh installs them into .venv)", file=sys.stderr)
        return 2
    except (ValueError, OSError, KeyError) as err:
        print(f"rollout-studio export: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
