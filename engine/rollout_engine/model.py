"""The tiny policy: a small decoder-only transformer with a KV cache and batched sampling, in plain PyTorch.

Attention goes through torch's scaled_dot_product_attention (PyTorch 2) and is spelled out on PyTorch 1.
Prompts of different lengths are left-padded; `key_mask` marks the real tokens and positions count real
tokens only, so a padded sequence computes what it would alone. Positions are rotary (RoPE) in the
shipped base: attention then sees how far back a token is, which is what copying from a prompt needs
(a head that attends to the previous token, then one that attends to what followed a match). Older
checkpoints with learned position embeddings (`rope = False`) still load and run.

The shipped base also has a copy head (`copy_head`, a pointer-generator): the next token is either
generated from the vocabulary or copied from an earlier position, mixed by a learned gate. A large LLM
copies a city or a tool name from its prompt exactly; a half-million-parameter model trained for half an
hour on two cores copies fuzzily through its embeddings (another city of the same kind), and the copy
head gives it the exact copy that the task's held-out values and tools need. Its cache (finished keys,
last hidden states, token ids) is kept like attention's keys and values, one more entry after the layers'.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

_SDPA = hasattr(F, "scaled_dot_product_attention")


@dataclass
class ModelConfig:
    vocab_size: int
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 512
    dropout: float = 0.0
    rope: bool = False  # rotary positions instead of learned position embeddings
    copy_head: bool = False  # a pointer-generator output: copy a token from an earlier position, or generate one


def rotary_tables(positions: torch.Tensor, head_dim: int, dtype: torch.dtype, base: float = 10000.0):
    """cos and sin of each position's rotation angles: (B, 1, T, head_dim / 2) each."""
    inverse = 1.0 / (base ** (torch.arange(0, head_dim, 2, device=positions.device, dtype=torch.float32) / head_dim))
    angles = positions[:, None, :, None].float() * inverse
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x (B, H, T, D) with each pair of channels rotated by its position's angle."""
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.n_head = c.n_head
        self.qkv = nn.Linear(c.n_embd, 3 * c.n_embd)
        self.proj = nn.Linear(c.n_embd, c.n_embd)

    def forward(self, x, bias, cache, rope=None):
        """bias (B, 1, T, S): 0 where a query may attend, a large negative number where not; rope: the
        (cos, sin) tables of the T new positions, or None."""
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if rope is not None:  # keys are cached rotated
            q, k = rotate(q, *rope), rotate(k, *rope)
        if cache is not None:  # (k, v) of earlier positions
            k = torch.cat([cache[0], k], dim=2)
            v = torch.cat([cache[1], v], dim=2)
        if _SDPA:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        else:
            att = ((q @ k.transpose(-2, -1)) / math.sqrt(k.shape[-1]) + bias).softmax(dim=-1)
            y = att @ v
        return self.proj(y.transpose(1, 2).contiguous().view(B, T, C)), (k, v)


def attention_bias(key_mask: torch.Tensor, T: int, dtype: torch.dtype) -> torch.Tensor:
    """The additive mask of the last T queries over all S keys so far: causal, and no padded keys.
    A large finite value rather than -inf, so that a padded query row (every key masked) stays finite
    in the backward pass; the loss ignores such rows."""
    S = key_mask.shape[1]
    causal = torch.ones(T, S, dtype=torch.bool, device=key_mask.device).tril(S - T)
    allowed = causal[None, None] & key_mask[:, None, None, :]
    return torch.zeros(allowed.shape, dtype=dtype, device=key_mask.device).masked_fill(~allowed, torch.finfo(dtype).min)


class Block(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(c.n_embd)
        self.attn = Attention(c)
        self.ln2 = nn.LayerNorm(c.n_embd)
        self.mlp = nn.Sequential(nn.Linear(c.n_embd, 4 * c.n_embd), nn.GELU(), nn.Linear(4 * c.n_embd, c.n_embd))

    def forward(self, x, bias, cache, rope=None):
        a, cache = self.attn(self.ln1(x), bias, cache, rope)
        x = x + a
        return x + self.mlp(self.ln2(x)), cache


class CopyHead(nn.Module):
    """Mixes the vocabulary distribution with a copy distribution over the tokens so far.

    p(w) = g * sum_j a_j [token_j = w] + (1 - g) * softmax(logits)(w), with a one-head attention a over
    every earlier position (and this one) and a gate g, both read from the final hidden state. It returns
    log p as the logits, so sampling, temperature and log-probs downstream stay what they are.

    A position's key also reads the LOOKAHEAD positions after it, once they exist: a causal hidden state
    knows only what came before it, so the first word of `get_air_quality` would otherwise be pointed at
    knowing nothing of "air quality", and a tool could not be picked by copying its name. The cache holds
    the finished keys (every position but the last LOOKAHEAD), the last LOOKAHEAD hidden states, whose keys
    are finished when the next tokens come, and the token ids."""

    LOOKAHEAD = 2

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.query = nn.Linear(c.n_embd, c.n_embd)
        self.key = nn.Linear(c.n_embd, c.n_embd)
        self.ahead = nn.ModuleList(nn.Linear(c.n_embd, c.n_embd, bias=False) for _ in range(self.LOOKAHEAD))
        self.gate = nn.Linear(c.n_embd, 1)

    def forward(self, h, logits, ids, bias, cache):
        """h (B, T, C) final hidden states, logits (B, T, V), ids (B, T) the tokens at these positions,
        bias (B, 1, T, S) the attention mask, cache: (finished keys, last hidden states, ids) or None."""
        B, T, C = h.shape
        if cache is None:
            done, window, ids_all = h[:, :0], h, ids
        else:
            done, window, ids_all = cache[0], torch.cat([cache[1], h], dim=1), torch.cat([cache[2], ids], dim=1)
        L = window.shape[1]  # the window: the unfinished positions and the new ones; queries are its last T rows
        q = self.query(h)
        scale = 1 / math.sqrt(C)
        keys = self.key(window)
        scores = q @ keys.transpose(1, 2)
        rows = torch.arange(T, device=h.device)[:, None] + (L - T)  # each query's position in the window
        cols = torch.arange(L, device=h.device)[None, :]
        for k, ahead in enumerate(self.ahead, start=1):
            later = ahead(window)
            shifted = torch.cat([later[:, k:], later[:, :k] * 0], dim=1)  # row j: what position j + k adds to key j
            seen = (cols + k <= rows).to(h.dtype)  # a query sees what j + k adds only once j + k has come
            scores = scores + (q @ shifted.transpose(1, 2)) * seen
            keys = keys + shifted
        scores = torch.cat([q @ done.transpose(1, 2), scores], dim=2) * scale + bias[:, 0]
        pointed = scores.softmax(dim=-1)  # (B, T, S)
        S = pointed.shape[2]
        copied = torch.zeros(B, T, logits.shape[-1], dtype=pointed.dtype, device=pointed.device)
        copied = copied.scatter_add(2, ids_all[:, None, :].expand(B, T, S), pointed)
        gate = torch.sigmoid(self.gate(h))
        probs = gate * copied + (1 - gate) * logits.softmax(dim=-1)
        # Slices from the end (not max(L - LOOKAHEAD, 0)), so that the ONNX export keeps them dynamic.
        cache = (torch.cat([done, keys[:, :-self.LOOKAHEAD]], dim=1), window[:, -self.LOOKAHEAD:], ids_all)
        # A floor instead of log(0): a token with no mass gets a very small, finite log-probability.
        return torch.log(probs.clamp_min(1e-30)), cache


class TinyGPT(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        if not config.rope:
            self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.head.weight = self.wte.weight  # tied
        self.copy = CopyHead(config) if config.copy_head else None
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

    def shared_prompt_logits(self, prompts: list[list[int]], counts: list[int], completions: torch.Tensor, completion_mask: torch.Tensor, pad_id: int):
        """Logits predicting each completion token, (B, C, V), for rows that come in runs sharing a prompt:
        prompts[i] is the prompt of the next counts[i] rows. Each prompt is read once and its KV cache
        shared by its rows (the backward pass sums their gradients into it): in GRPO the G samples of a
        group share their prompt, so the update reads prompts G times less. completions (B, C) are
        right-padded, completion_mask marks their real tokens."""
        idx, prompt_mask = left_pad(prompts, pad_id, self.wte.weight.device)
        prompt_logits, caches = self(idx, prompt_mask)
        repeats = torch.tensor(counts, device=idx.device)

        def share(t):
            return t.repeat_interleave(repeats, dim=0)

        key_mask = torch.cat([share(prompt_mask), completion_mask], dim=1)
        completion_logits, _ = self(completions, key_mask, [tuple(share(t) for t in cache) for cache in caches])
        # The prompt's last position predicts the first completion token; each completion token the next.
        return torch.cat([share(prompt_logits[:, -1:]), completion_logits[:, :-1]], dim=1)

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
        x = self.wte(idx)
        rope = None
        if self.config.rope:
            rope = rotary_tables(positions, self.config.n_embd // self.config.n_head, x.dtype)
        else:
            x = x + self.wpe(positions)
        bias = attention_bias(key_mask[:, :past + T], T, x.dtype)  # once for all layers
        new_caches = []
        for i, block in enumerate(self.blocks):
            x, cache = block(x, bias, None if caches is None else caches[i], rope)
            new_caches.append(cache)
        return self.output(x, idx, bias, None if caches is None else caches[len(self.blocks):], new_caches)

    def output(self, x, idx, bias, copy_cache, new_caches):
        """The logits of the final hidden states x, through the copy head where the model has one (its
        cache is the entry after the layers'); new_caches gets the copy head's entry."""
        h = self.ln_f(x)
        logits = self.head(h)
        if self.copy is not None:
            logits, cache = self.copy(h, logits, idx, bias, copy_cache[0] if copy_cache else None)
            new_caches.append(cache)
        return logits, new_caches

    @torch.no_grad()
    def generate(self, prompts: list[list[int]], max_new_tokens: int, *, temperature: float = 1.0, top_p: float = 1.0,
                 eos_id: int, pad_id: int, generator: torch.Generator | None = None, num_samples: int = 1):
        """Samples `num_samples` continuations of each prompt (left-padded into one batch). Each prompt is
        read once and its KV cache shared by its samples. Returns (tokens, finished), one row per sample,
        prompt by prompt: the generated ids without the stop token, and whether it stopped on eos (False:
        truncated). The loop is over tokens only: rows are tensors until the end."""
        device = self.wte.weight.device
        idx, key_mask = left_pad(prompts, pad_id, device)
        logits, caches = self(idx, key_mask)
        next_logits = logits[:, -1, :]
        if num_samples > 1:
            def share(t):
                return t.repeat_interleave(num_samples, dim=0)
            key_mask, next_logits = share(key_mask), share(next_logits)
            caches = [tuple(share(t) for t in cache) for cache in caches]
        B = key_mask.shape[0]
        out = torch.full((B, max(max_new_tokens, 0)), pad_id, dtype=torch.long, device=device)
        lengths = torch.full((B,), max(max_new_tokens, 0), dtype=torch.long, device=device)
        done = torch.zeros(B, dtype=torch.bool, device=device)
        one = torch.ones(B, 1, dtype=torch.bool, device=device)
        for t in range(max_new_tokens):
            token = sample(next_logits, temperature, top_p, generator)
            out[:, t] = token
            stops = (token == eos_id) & ~done
            lengths = torch.where(stops, torch.full_like(lengths, t), lengths)
            done |= stops
            if t == max_new_tokens - 1 or bool(done.all()):
                break
            key_mask = torch.cat([key_mask, one], dim=1)
            logits, caches = self(token[:, None], key_mask, caches)
            next_logits = logits[:, -1, :]
        rows, kept = out.tolist(), lengths.tolist()
        return [row[:n] for row, n in zip(rows, kept)], done.tolist()


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
