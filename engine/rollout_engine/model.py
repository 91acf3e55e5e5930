"""The tiny policy: a small decoder-only transformer with a KV cache and batched sampling, in plain PyTorch.

Written for torch 1.13 (Debian's) and 2.x alike: attention is spelled out rather than using
scaled_dot_product_attention. Prompts of different lengths are left-padded; `key_mask` marks the real
tokens and positions count real tokens only, so a padded sequence computes what it would alone.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 512
    dropout: float = 0.0


class Attention(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.n_head = c.n_head
        self.qkv = nn.Linear(c.n_embd, 3 * c.n_embd)
        self.proj = nn.Linear(c.n_embd, c.n_embd)

    def forward(self, x, key_mask, cache):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if cache is not None:  # (k, v) of earlier positions
            k = torch.cat([cache[0], k], dim=2)
            v = torch.cat([cache[1], v], dim=2)
        S = k.shape[2]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.shape[-1])
        # Causal over the whole sequence so far (queries are its last T positions), and no padded keys.
        causal = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(S - T)
        allowed = causal[None, None] & key_mask[:, None, None, :S]
        # A large finite value rather than -inf: a padded query row (all keys masked) then stays finite
        # in the backward pass; the loss ignores such rows.
        att = att.masked_fill(~allowed, torch.finfo(att.dtype).min).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y), (k, v)


class Block(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(c.n_embd)
        self.attn = Attention(c)
        self.ln2 = nn.LayerNorm(c.n_embd)
        self.mlp = nn.Sequential(nn.Linear(c.n_embd, 4 * c.n_embd), nn.GELU(), nn.Linear(4 * c.n_embd, c.n_embd))

    def forward(self, x, key_mask, cache):
        a, cache = self.attn(self.ln1(x), key_mask, cache)
        x = x + a
        return x + self.mlp(self.ln2(x)), cache


class TinyGPT(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.head.weight = self.wte.weight  # tied
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @property
    def device(self) -> torch.device:
        return self.wte.weight.device

    def completion_logits(self, idx, key_mask, n: int):
        """Logits of the last n positions (B, n, V): all the GRPO update needs. The same call as the hf policy's."""
        return self(idx, key_mask)[0][:, -n:]

    def frozen_copy(self) -> "TinyGPT":
        """The reference policy for the KL term."""
        copy = TinyGPT(self.config).to(self.device)
        copy.load_state_dict(self.state_dict())
        return copy.eval().requires_grad_(False)

    def save(self, run_dir) -> None:
        """The trained policy at the end of a run (its tokenizer is the base's)."""
        torch.save({"config": asdict(self.config), "model": self.state_dict()}, Path(run_dir) / "policy.pt")

    def forward(self, idx, key_mask=None, caches=None, positions=None):
        """idx (B, T) → logits (B, T, V) and the new caches. key_mask (B, S) covers every position so far."""
        B, T = idx.shape
        past = 0 if caches is None else caches[0][0].shape[2]
        if key_mask is None:
            key_mask = torch.ones(B, past + T, dtype=torch.bool, device=idx.device)
        if positions is None:
            # Count only real tokens, so left padding does not shift positions.
            positions = (key_mask.long().cumsum(dim=1) - 1).clamp(min=0)[:, past:past + T]
        if int(positions.max()) >= self.config.block_size:
            raise ValueError(f"sequence longer than the model's block size {self.config.block_size}")
        x = self.wte(idx) + self.wpe(positions)
        new_caches = []
        for i, block in enumerate(self.blocks):
            x, cache = block(x, key_mask, None if caches is None else caches[i])
            new_caches.append(cache)
        return self.head(self.ln_f(x)), new_caches

    @torch.no_grad()
    def generate(self, prompts: list[list[int]], max_new_tokens: int, *, temperature: float = 1.0, top_p: float = 1.0,
                 eos_id: int, pad_id: int, generator: torch.Generator | None = None):
        """Samples continuations for a batch of prompts (left-padded). Returns (tokens, finished) per row:
        the generated ids without the stop token, and whether it stopped on eos (False: truncated)."""
        B = len(prompts)
        device = self.wte.weight.device
        idx, key_mask = left_pad(prompts, pad_id, device)
        logits, caches = self(idx, key_mask)
        out = [[] for _ in range(B)]
        done = torch.zeros(B, dtype=torch.bool, device=device)
        finished = [False] * B
        next_logits = logits[:, -1, :]
        for _ in range(max_new_tokens):
            token = sample(next_logits, temperature, top_p, generator)
            for i in range(B):
                if done[i]:
                    continue
                t = int(token[i])
                if t == eos_id:
                    done[i] = True
                    finished[i] = True
                else:
                    out[i].append(t)
            if bool(done.all()):
                break
            key_mask = torch.cat([key_mask, torch.ones(B, 1, dtype=torch.bool, device=device)], dim=1)
            logits, caches = self(token[:, None], key_mask, caches)
            next_logits = logits[:, -1, :]
        return out, finished


def left_pad(sequences: list[list[int]], pad_id: int, device=None):
    """Token ids left-padded to one length, and the mask of real tokens: (B, L) each."""
    L = max(len(seq) for seq in sequences)
    idx = torch.full((len(sequences), L), pad_id, dtype=torch.long, device=device)
    key_mask = torch.zeros(len(sequences), L, dtype=torch.bool, device=device)
    for i, seq in enumerate(sequences):
        if seq:
            idx[i, L - len(seq):] = torch.tensor(seq, dtype=torch.long)
            key_mask[i, L - len(seq):] = True
    return idx, key_mask


def sample(logits, temperature: float, top_p: float, generator=None):
    """One token per row from softmax(logits / temperature), restricted to the top-p nucleus."""
    probs = F.softmax(logits / max(temperature, 1e-6), dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        keep = sorted_probs.cumsum(dim=-1) - sorted_probs < top_p
        sorted_probs = sorted_probs * keep
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


def config_dict(config: ModelConfig) -> dict:
    return asdict(config)
