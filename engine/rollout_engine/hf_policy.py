"""The hf policy: a transformers causal LM from a local folder, behind the same calls as the tiny policy
(generate, completion_logprobs, frozen_copy, save), so the training loop does not know which it trains.

Rollouts ("shared-prefill", the default where the model's cache allows it): each prompt is read once and its
KV cache copied to its G samples; the decode loop keeps every row a tensor (finished rows write padding and
the loop asks the device whether all rows are done only every few tokens); sampling draws from a seeded
generator on the model's device and never sees a NaN (non-finite logits are counted and reported as a
NonFiniteError after the loop instead of tripping a device assert inside the sampler). "generate" is
transformers' own generate, kept as the fallback.

Log-probabilities for the update: rows right-padded (so no query row is ever fully masked), the LM head run
only over real completion tokens, in chunks whose logits are recomputed in the backward pass, so the full
(rows × length × vocabulary) logits never exist at once.

Imported only when a run config chooses backend = "hf": transformers (and peft, for LoRA) need not be
installed for anything else. Nothing is downloaded: the model and its tokenizer load from `model`.
"""
from __future__ import annotations

import contextlib
import copy
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn

from .config import ConfigError, PolicyConfig
from .grpo import NonFiniteError
from .model import left_pad, sample
from .templates import PLAIN_TEMPLATES, render_plain


def precision_for(settings: PolicyConfig, device: str) -> str:
    """auto: bf16 matmuls over fp32 weights on CUDA (as the papers' trainers run), plain fp32 on CPU."""
    if settings.precision != "auto":
        return settings.precision
    return "bf16-mixed" if device.startswith("cuda") else "fp32"


class HFTokenizer:
    """The model's own tokenizer with the tiny tokenizer's calls. Generation stops on the tokenizer's EOS
    token only (<|im_end|> for a chat model, <|endoftext|> for a base one), so the token the update
    appends to a finished completion is the one that ended it."""

    def __init__(self, tokenizer, warn: Callable[[str], None] = print):
        self.tokenizer = tokenizer
        if tokenizer.eos_token_id is None:
            raise ConfigError("[policy] model: the tokenizer has no EOS token, so completions could never end; set eos_token in its tokenizer_config.json")
        self.eos_id = int(tokenizer.eos_token_id)
        self.pad_id = int(tokenizer.pad_token_id) if tokenizer.pad_token_id is not None else self.eos_id
        self.has_chat_template = bool(getattr(tokenizer, "chat_template", None))
        self.warn = warn
        self.warned = False

    @property
    def vocab_size(self) -> int:
        return len(self.tokenizer)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def decode(self, ids) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=False)

    def encode_prompt(self, conversation: list[dict[str, str]], template: str) -> list[int]:
        """The plain templates (tool-zero, documentation) prompt base models with plain text (with the model's
        BOS, if it uses one); the chat templates (tool-n1, toolrl) go through the model's own chat template."""
        chat = template not in PLAIN_TEMPLATES
        if chat and self.has_chat_template:
            text = self.tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
            return self.encode(text)
        if chat and not self.warned:
            self.warned = True
            self.warn(f"the model's tokenizer has no chat template: {template} prompts use Rollout Studio's own role tags (<|user|> …)")
        return list(self.tokenizer(render_plain(conversation, template))["input_ids"])  # type: ignore[arg-type]


class UnsupportedCache(Exception):
    """The model's KV cache cannot be shared across a group's samples."""


class HFPolicy(nn.Module):
    def __init__(self, model, tokenizer: HFTokenizer, precision: str, lora: bool, rollout: str = "auto", logprob_chunk: int = 4096):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.precision = precision
        self.lora = lora
        self.rollout_choice = rollout
        self.rollout_path = "generate" if rollout == "generate" else "shared-prefill"  # which rollouts use: said in the started event
        self.logprob_chunk = logprob_chunk

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def num_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def autocast(self):
        if self.precision != "bf16-mixed":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def completion_logits(self, idx, key_mask, n: int):
        """Logits of the last n positions of left-padded rows (the plain path; the update uses completion_logprobs)."""
        positions = (key_mask.long().cumsum(dim=1) - 1).clamp(min=0)
        with self.autocast():
            out = self.model(input_ids=idx, attention_mask=key_mask.long(), position_ids=positions, use_cache=False, logits_to_keep=n)
        return out.logits

    def completion_logprobs(self, rows: list[tuple[list[int], list[int]]], pad_id: int, chunk_tokens: int | None = None):
        """Log-probabilities and entropies of each row's completion tokens given its prompt: (logp, entropy,
        mask), each (B, longest completion), completions left-aligned, as train.sequence_logprobs returns them.
        Rows are right-padded: every query position then sees at least its own row's first token."""
        device = self.device
        chunk_tokens = chunk_tokens or self.logprob_chunk
        B, C = len(rows), max(len(c) for _, c in rows)
        L = max(len(p) + len(c) for p, c in rows)
        idx = torch.full((B, L), pad_id, dtype=torch.long)
        key_mask = torch.zeros(B, L, dtype=torch.long)
        for i, (p, c) in enumerate(rows):
            idx[i, :len(p) + len(c)] = torch.tensor(p + c, dtype=torch.long)
            key_mask[i, :len(p) + len(c)] = 1
        idx, key_mask = idx.to(device), key_mask.to(device)
        prompt_lengths = torch.tensor([len(p) for p, _ in rows], device=device)
        lengths = torch.tensor([len(c) for _, c in rows], device=device)
        mask = torch.arange(C, device=device)[None, :] < lengths[:, None]  # (B, C)
        row_of, column = mask.nonzero(as_tuple=True)  # every real completion token, row by row
        # Token j of a completion sits at prompt_length + j and is predicted by the position before it.
        target_at = prompt_lengths[row_of] + column
        with self.autocast():
            hidden = self._decoder()(input_ids=idx, attention_mask=key_mask, use_cache=False).last_hidden_state
        states = hidden[row_of, target_at - 1]  # (N, H): only the real completion tokens
        targets = idx[row_of, target_at]
        head = self._head()
        logp_parts, entropy_parts = [], []
        for a in range(0, states.shape[0], chunk_tokens):
            part = (states[a:a + chunk_tokens], targets[a:a + chunk_tokens])
            if torch.is_grad_enabled():
                logp, entropy = torch.utils.checkpoint.checkpoint(self._token_logprobs, head, *part, use_reentrant=False)
            else:
                logp, entropy = self._token_logprobs(head, *part)
            logp_parts.append(logp)
            entropy_parts.append(entropy)
        token_logp = torch.zeros(B, C, device=device, dtype=torch.float32)
        token_entropy = torch.zeros(B, C, device=device, dtype=torch.float32)
        if logp_parts:
            token_logp = token_logp.index_put((row_of, column), torch.cat(logp_parts))
            token_entropy = token_entropy.index_put((row_of, column), torch.cat(entropy_parts))
        return token_logp, token_entropy, mask.float()

    def _token_logprobs(self, head, states, targets):
        """log p(target) and the entropy at each state, from the LM head in fp32 (bf16 logits over a large
        vocabulary lose the small probabilities the ratio and the entropy are made of)."""
        with self.autocast():
            logits = head(states)
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        return logprobs.gather(-1, targets[:, None]).squeeze(-1), -(logprobs.exp() * logprobs).sum(-1)

    def _causal_lm(self):
        return self.model.get_base_model() if self.lora else self.model

    def _decoder(self):
        return self._causal_lm().get_decoder()

    def _head(self):
        return self._causal_lm().get_output_embeddings()

    @torch.no_grad()
    def generate(self, prompts: list[list[int]], max_new_tokens: int, *, temperature: float = 1.0, top_p: float = 1.0,
                 eos_id: int, pad_id: int, generator: torch.Generator | None = None, num_samples: int = 1):
        """Batched sampling: `num_samples` rows per prompt, prompt by prompt. Returns (tokens, finished) per
        row as the tiny policy does. Uses the shared-prefill loop unless the run chose "generate" or the
        model's cache cannot be shared (then transformers' generate, said once in a warning)."""
        if self.rollout_path == "shared-prefill":
            try:
                return self.decode(prompts, max_new_tokens, temperature=temperature, top_p=top_p, eos_id=eos_id, pad_id=pad_id,
                                   generator=generator, num_samples=num_samples)
            except UnsupportedCache as err:
                if self.rollout_choice == "shared-prefill":
                    raise ConfigError(f"[policy] rollout = \"shared-prefill\": {err}; use rollout = \"generate\"") from None
                self.rollout_path = "generate"
                self.tokenizer.warn(f"rollouts use transformers' generate: {err}")
        return self.generate_plain(prompts, max_new_tokens, temperature=temperature, top_p=top_p, eos_id=eos_id, pad_id=pad_id,
                                   generator=generator, num_samples=num_samples)

    @torch.no_grad()
    def decode(self, prompts: list[list[int]], max_new_tokens: int, *, temperature: float = 1.0, top_p: float = 1.0,
               eos_id: int, pad_id: int, generator: torch.Generator | None = None, num_samples: int = 1,
               share_prefill: bool = True, check_every: int = 8):
        """The shared-prefill rollout loop. share_prefill=False reads every row's prompt on its own (the same
        samples for the same generator, at G times the prefill work: the reference the tests compare with)."""
        device = self.device
        rows_in = prompts if share_prefill else [p for p in prompts for _ in range(num_samples)]
        idx, key_mask = left_pad(rows_in, pad_id, device)
        positions = (key_mask.long().cumsum(dim=1) - 1).clamp(min=0)
        with self.autocast():
            out = self.model(input_ids=idx, attention_mask=key_mask.long(), position_ids=positions, use_cache=True, logits_to_keep=1)
        cache = out.past_key_values
        logits = out.logits[:, -1].float()
        if share_prefill and num_samples > 1:
            if not hasattr(cache, "batch_repeat_interleave"):
                raise UnsupportedCache(f"{type(cache).__name__} cannot be copied to a group's samples")
            cache.batch_repeat_interleave(num_samples)
            logits = logits.repeat_interleave(num_samples, dim=0)
            key_mask = key_mask.repeat_interleave(num_samples, dim=0)
            positions = positions.repeat_interleave(num_samples, dim=0)
        B = logits.shape[0]
        draws = self._device_generator(generator)
        out_tokens = torch.full((B, max(max_new_tokens, 0)), pad_id, dtype=torch.long, device=device)
        lengths = torch.full((B,), max(max_new_tokens, 0), dtype=torch.long, device=device)
        done = torch.zeros(B, dtype=torch.bool, device=device)
        non_finite = torch.zeros((), dtype=torch.long, device=device)
        next_position = positions[:, -1] + 1
        one = torch.ones(B, 1, dtype=key_mask.dtype, device=device)
        for t in range(max_new_tokens):
            finite = torch.isfinite(logits).all(dim=-1)
            non_finite += (~finite & ~done).sum()
            logits = torch.where(finite[:, None], logits, torch.zeros_like(logits))  # the sampler never sees a NaN
            token = logits.argmax(dim=-1) if temperature <= 1e-5 else sample(logits, temperature, top_p, draws)
            token = torch.where(done, torch.full_like(token, pad_id), token)
            out_tokens[:, t] = token
            stops = (token == eos_id) & ~done
            lengths = torch.where(stops, torch.full_like(lengths, t), lengths)
            done |= stops
            if t == max_new_tokens - 1 or ((t + 1) % check_every == 0 and bool(done.all())):  # one host sync in check_every tokens
                break
            key_mask = torch.cat([key_mask, one], dim=1)
            with self.autocast():
                out = self.model(input_ids=token[:, None], attention_mask=key_mask.long(), position_ids=next_position[:, None],
                                 past_key_values=cache, use_cache=True)
            cache = out.past_key_values
            logits = out.logits[:, -1].float()
            next_position = next_position + 1
        if int(non_finite):
            raise NonFiniteError(f"the policy's logits were not finite for {int(non_finite)} sampled tokens during the rollout")
        rows, kept = out_tokens.tolist(), lengths.tolist()
        return [row[:n] for row, n in zip(rows, kept)], done.tolist()

    def _device_generator(self, generator: torch.Generator | None) -> torch.Generator | None:
        """A generator on the model's device, seeded from the run's sampling generator: the samples follow the
        run's seed (and its checkpoints) on any device."""
        if generator is None:
            return None
        seed = int(torch.randint(0, 2 ** 62, (1,), generator=generator))
        return torch.Generator(device=self.device).manual_seed(seed)

    @torch.no_grad()
    def generate_plain(self, prompts: list[list[int]], max_new_tokens: int, *, temperature: float = 1.0, top_p: float = 1.0,
                       eos_id: int, pad_id: int, generator: torch.Generator | None = None, num_samples: int = 1):
        """transformers' generate (the fallback). It samples from torch's global random state (seeded per run),
        not from `generator`; a logits processor counts non-finite logits and replaces them, so a NaN is a
        NonFiniteError here too, never a device assert."""
        from transformers import LogitsProcessor, LogitsProcessorList

        class CountNonFinite(LogitsProcessor):
            count = 0

            def __call__(self, input_ids, scores):
                finite = torch.isfinite(scores).all(dim=-1, keepdim=True)
                CountNonFinite.count += int((~finite).sum())
                return torch.where(finite, scores, torch.zeros_like(scores))

        prompts = [p for p in prompts for _ in range(num_samples)]
        idx, key_mask = left_pad(prompts, pad_id, self.device)
        greedy = temperature <= 1e-5
        sampling = {} if greedy else {"temperature": temperature, "top_p": top_p, "top_k": 0}
        with self.autocast():
            out = self.model.generate(input_ids=idx, attention_mask=key_mask.long(), max_new_tokens=max_new_tokens, do_sample=not greedy,
                                      eos_token_id=eos_id, pad_token_id=pad_id, logits_processor=LogitsProcessorList([CountNonFinite()]),
                                      **sampling)
        if CountNonFinite.count:
            raise NonFiniteError(f"the policy's logits were not finite in {CountNonFinite.count} rows during the rollout")
        tokens, finished = [], []
        for row in out[:, idx.shape[1]:].tolist():
            if eos_id in row:
                tokens.append(row[:row.index(eos_id)])
                finished.append(True)
            else:
                tokens.append(row)
                finished.append(False)
        return tokens, finished

    def frozen_copy(self):
        """The reference policy for the KL term: the model with its LoRA adapter off (no second copy), or a
        frozen copy of the full model."""
        if self.lora:
            return _AdapterOff(self)
        reference = copy.deepcopy(self)
        return reference.eval().requires_grad_(False)

    def save(self, run_dir) -> None:
        """The trained policy at the end of a run, as a transformers folder policy/ with its tokenizer
        (LoRA: the adapter only, which peft loads over the base model)."""
        self.model.save_pretrained(Path(run_dir) / "policy")
        self.tokenizer.tokenizer.save_pretrained(Path(run_dir) / "policy")


class _AdapterOff:
    """The LoRA model's base weights, as a reference policy."""

    def __init__(self, policy: HFPolicy):
        self.policy = policy
        self.device = policy.device

    def completion_logprobs(self, rows, pad_id: int):
        with self.policy.model.disable_adapter():
            return self.policy.completion_logprobs(rows, pad_id)


def load_hf(settings: PolicyConfig, device: str, warn: Callable[[str], None] = print) -> tuple[HFPolicy, HFTokenizer]:
    try:
        import transformers
    except ImportError:
        raise ConfigError("[policy] backend = \"hf\" needs the transformers package in the engine's Python: "
                          "pip install transformers (and peft for lora_rank > 0), or use backend = \"tiny\"") from None
    transformers.utils.logging.disable_progress_bar()  # stderr is the engine log: no progress bars in it
    path = Path(settings.model or "")
    if not (path / "config.json").exists():
        raise ConfigError(f"[policy] model = {str(path)!r}: no config.json there. The hf backend loads a transformers model "
                          "from a local folder (save_pretrained's output); nothing is downloaded")
    tokenizer = HFTokenizer(transformers.AutoTokenizer.from_pretrained(path, local_files_only=True), warn)
    precision = precision_for(settings, device)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    if settings.init == "random":
        config = transformers.AutoConfig.from_pretrained(path, local_files_only=True)
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=dtype)
    else:
        model = transformers.AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=dtype)
    model.to(device)
    if settings.gradient_checkpointing:
        # Non-reentrant checkpointing also works when only LoRA adapters need gradients.
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if settings.lora_rank:
        try:
            import peft
        except ImportError:
            raise ConfigError("[policy] lora_rank > 0 needs the peft package in the engine's Python: pip install peft, or set lora_rank = 0") from None
        lora = peft.LoraConfig(r=settings.lora_rank, lora_alpha=settings.lora_alpha or 2 * settings.lora_rank,
                               target_modules="all-linear", task_type="CAUSAL_LM")
        model = peft.get_peft_model(model, lora)
    return HFPolicy(model, tokenizer, precision, lora=bool(settings.lora_rank), rollout=settings.rollout,
                    logprob_chunk=settings.logprob_chunk), tokenizer
