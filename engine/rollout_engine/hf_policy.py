"""The hf policy: a transformers causal LM from a local folder, behind the same calls as the tiny policy
(generate, completion_logits, frozen_copy, save), so the training loop does not know which it trains.

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
from .model import left_pad
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


class HFPolicy(nn.Module):
    def __init__(self, model, tokenizer: HFTokenizer, precision: str, lora: bool):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.precision = precision
        self.lora = lora

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
        """Logits of the last n positions only: the LM head never runs over the prompt."""
        positions = (key_mask.long().cumsum(dim=1) - 1).clamp(min=0)
        with self.autocast():
            out = self.model(input_ids=idx, attention_mask=key_mask.long(), position_ids=positions, use_cache=False, logits_to_keep=n)
        return out.logits

    @torch.no_grad()
    def generate(self, prompts: list[list[int]], max_new_tokens: int, *, temperature: float = 1.0, top_p: float = 1.0,
                 eos_id: int, pad_id: int, generator: torch.Generator | None = None, num_samples: int = 1):
        """Batched sampling with the model's KV cache: `num_samples` rows per prompt, prompt by prompt.
        Returns (tokens, finished) per row as the tiny policy does. transformers samples from torch's
        global random state (seeded per run), not from `generator`."""
        prompts = [p for p in prompts for _ in range(num_samples)]
        idx, key_mask = left_pad(prompts, pad_id, self.device)
        greedy = temperature <= 1e-5
        sampling = {} if greedy else {"temperature": temperature, "top_p": top_p, "top_k": 0}
        with self.autocast():
            out = self.model.generate(input_ids=idx, attention_mask=key_mask.long(), max_new_tokens=max_new_tokens, do_sample=not greedy,
                                      eos_token_id=eos_id, pad_token_id=pad_id, **sampling)
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

    def completion_logits(self, idx, key_mask, n: int):
        with self.policy.model.disable_adapter():
            return self.policy.completion_logits(idx, key_mask, n)


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
    return HFPolicy(model, tokenizer, precision, lora=bool(settings.lora_rank)), tokenizer
