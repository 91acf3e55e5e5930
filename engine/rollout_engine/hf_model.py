"""Makes a local transformers model folder from a config alone, for the hf backend's tests and GPU
benchmarks where no weights can be downloaded: a Qwen2 model (random weights) and a byte-level BPE
tokenizer trained on the demo corpus, with a ChatML chat template like Qwen2.5's.

    python -m rollout_engine.hf_model --shape qwen2.5-0.5b --out /tmp/qwen-shaped
"""
from __future__ import annotations

import argparse
from pathlib import Path

# Qwen2.5-0.5B's published shape; "test" is small enough for a CPU test.
SHAPES = {
    "qwen2.5-0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                         num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768, tie_word_embeddings=True),
    "test": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=0, max_position_embeddings=2048, tie_word_embeddings=True),
}

CHATML = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def make_tokenizer(vocab_size: int = 2000):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from . import demo_data
    from .data import Sample
    from .templates import ideal_completion, messages, render_plain

    rows = demo_data.generate(seed=0, train=400, eval_seen=0, eval_unseen_values=0, eval_unseen_tools=0)["train"]
    samples = [Sample(id=r["id"], tools=r["tools"], messages=r["messages"], ground_truth=r["ground_truth"]) for r in rows]
    texts = [render_plain(messages(s, "tool-n1"), "tool-n1") + ideal_completion(s, "tool-n1") for s in samples]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.chat_template = CHATML
    return tokenizer


def make_model_folder(out: Path, shape: str = "test", seed: int = 0) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    tokenizer = make_tokenizer()
    settings = dict(SHAPES[shape])
    settings["vocab_size"] = settings["vocab_size"] or len(tokenizer)  # the real shape keeps Qwen's vocabulary size
    torch.manual_seed(seed)
    config = Qwen2Config(**settings, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=None)
    model = AutoModelForCausalLM.from_config(config)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="Make a local transformers model folder from a config (random weights).")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="test")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(make_model_folder(args.out, args.shape))


if __name__ == "__main__":
    main()
