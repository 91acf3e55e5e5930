"""The tiny policy's tokenizer and model: exact round trips, and a KV cache and left padding that change nothing."""
import json

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed for this Python (run bash scripts/setup.sh)")

from rollout_engine.model import ModelConfig, TinyGPT  # noqa: E402
from rollout_engine.tokenizer import BYTE_BASE, Tokenizer  # noqa: E402

CORPUS = ['<think>call the tool</think>\n<tool_call>\n[{"name": "get_weather", "arguments": {"city": "Oslo", "days": 3}}]\n</tool_call>',
          "get_weather returns the weather for a city. Weather in Oslo please, the weather in Rome."]


def test_tokenizer_round_trips_any_text_and_keeps_known_words_whole():
    tok = Tokenizer.train(CORPUS * 2)
    for text in CORPUS + ["Wetter in Zürich für 5 Tage 🌦", "unseen_tool(arg=\"x\")", "\t \r\n"]:
        assert tok.decode(tok.encode(text)) == text
    assert [tok.decode([i]) for i in tok.encode("get_weather")] == ["get", "_", "weather"]  # a tool name is its words
    assert len(tok.encode("set_weather")) == 1 + 2 + 1 + 1  # a new name of known words: bytes only where a word is new
    assert len(tok.encode("<tool_call>")) == 1
    unseen = tok.encode("Zürich")
    assert all(BYTE_BASE <= i < BYTE_BASE + 256 for i in unseen) and len(unseen) == len("Zürich".encode())
    assert tok.encode("31") == tok.encode("3") + tok.encode("1")  # digits compose numbers never seen


def test_a_capitalized_word_is_the_capital_marker_and_its_lowercase_word():
    """"Timer" at the start of a request is the same word token as in `start_timer`, behind the marker, so
    the model can match the request with the tool list; words without a lowercase piece keep their own."""
    tok = Tokenizer.train(CORPUS * 2, words=["timer", "Tallinn"])
    assert tok.split == "cased-words"
    timer = tok.encode("timer")
    assert tok.encode("Timer") == [tok.capital_id, *timer] and tok.encode("Weather") == [tok.capital_id, *tok.encode("weather")]
    assert len(tok.encode("Tallinn")) == 1 and tok.capital_id not in tok.encode("Tallinn USD WEATHER")
    for text in ["Timer 5 minutes. Air in Tallinn", "I call X", "Éclair", "WEATHER in Oslo", "weather\x00cap"]:
        assert tok.decode(tok.encode(text)) == text
    assert tok.decode([tok.capital_id]) == "" and tok.decode([tok.capital_id, BYTE_BASE + ord("x")]) == "X"
    words_split = Tokenizer(tok.pieces, "words")  # a tokenizer saved before the marker reads "Timer" as before
    assert tok.capital_id not in words_split.encode("Timer")


def test_tokenizer_saves_and_loads(tmp_path):
    tok = Tokenizer.train(CORPUS * 2, words=["Tallinn"])
    tok.save(tmp_path / "tok.json")
    again = Tokenizer.load(tmp_path / "tok.json")
    assert again.encode(CORPUS[0]) == tok.encode(CORPUS[0]) and again.vocab_size == tok.vocab_size
    assert len(again.encode("Tallinn")) == 1  # given words are tokens even when the corpus lacks them


def test_a_tokenizer_saved_before_names_were_split_keeps_its_rule(tmp_path):
    (tmp_path / "old.json").write_text(json.dumps({"pieces": ["get_weather", "Oslo"]}))
    old = Tokenizer.load(tmp_path / "old.json")
    assert len(old.encode("get_weather")) == 1 and old.decode(old.encode("get_weather(Oslo)")) == "get_weather(Oslo)"


@pytest.fixture(params=["rotary+copy", "rotary", "learned-positions"])
def variant(request):
    """Every model test runs as the shipped base is (rotary positions and the copy head) and as older
    checkpoints are (without the copy head; learned positions)."""
    return request.param


def model(variant, seed=0):
    torch.manual_seed(seed)
    rotary = variant.startswith("rotary")
    copy = variant == "rotary+copy"
    return TinyGPT(ModelConfig(vocab_size=300, n_layer=2, n_head=2, n_embd=32, block_size=64, rope=rotary, copy_head=copy)).eval()


def test_kv_cache_gives_the_logits_of_a_full_forward(variant):
    m = model(variant)
    seq = torch.randint(3, 300, (2, 12))
    full, _ = m(seq)
    logits, caches = m(seq[:, :5])
    steps = [logits[:, -1]]
    for t in range(5, 12):
        logits, caches = m(seq[:, t:t + 1], caches=caches)
        steps.append(logits[:, -1])
    assert torch.allclose(torch.stack(steps[:-1], dim=1), full[:, 4:11], atol=1e-5)


def test_left_padding_changes_nothing(variant):
    m = model(variant)
    short = torch.randint(3, 300, (1, 4))
    long = torch.randint(3, 300, (1, 9))
    alone, _ = m(short)
    batch = torch.zeros(2, 9, dtype=torch.long)
    batch[0, 5:] = short
    batch[1] = long
    mask = torch.zeros(2, 9, dtype=torch.bool)
    mask[0, 5:] = True
    mask[1] = True
    padded, _ = m(batch, mask)
    assert torch.allclose(padded[0, 5:], alone[0], atol=1e-5)


def test_generate_is_seeded_stops_at_eos_and_reports_truncation(variant):
    m = model(variant)
    prompts = [[5, 6, 7], [8, 9, 10, 11, 12]]
    first = m.generate(prompts, 10, eos_id=2, pad_id=0, generator=torch.Generator().manual_seed(1))
    second = m.generate(prompts, 10, eos_id=2, pad_id=0, generator=torch.Generator().manual_seed(1))
    assert first == second
    assert all(len(t) == 10 for t, f in zip(*first) if not f)
    # A model that always says eos stops at once and reports it finished.
    tokens, finished = TinyGPT.generate(_EosModel(m), prompts, 5, eos_id=2, pad_id=0)
    assert tokens == [[], []] and finished == [True, True]


class _EosModel(torch.nn.Module):
    """Wraps a model so that its logits always pick eos."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.wte = inner.wte

    def forward(self, idx, key_mask=None, caches=None, positions=None):
        logits, caches = self.inner(idx, key_mask, caches, positions)
        logits = torch.full_like(logits, -1e9)
        logits[..., 2] = 0
        return logits, caches


def test_samples_sharing_a_prompt_read_it_once_and_match_sampling_it_repeated(variant):
    """num_samples rows share their prompt's KV cache: the same tokens as the prompt repeated in the batch."""
    m = model(variant)
    prompts = [[5, 6, 7], [8, 9, 10, 11, 12]]
    repeated = [p for p in prompts for _ in range(3)]
    shared = m.generate(prompts, 8, eos_id=2, pad_id=0, generator=torch.Generator().manual_seed(3), num_samples=3)
    plain = m.generate(repeated, 8, eos_id=2, pad_id=0, generator=torch.Generator().manual_seed(3))
    assert shared == plain and len(shared[0]) == 6
    calls = []
    original = m.forward

    def counting(idx, *args, **kwargs):
        calls.append(idx.shape)
        return original(idx, *args, **kwargs)

    m.forward = counting
    m.generate(prompts, 4, eos_id=2, pad_id=0, generator=torch.Generator().manual_seed(3), num_samples=3)
    assert calls[0] == (2, 5), "the prompts are read once each, not once per sample"
    assert all(shape[0] == 6 and shape[1] == 1 for shape in calls[1:]) and len(calls) <= 4


def test_the_update_reads_a_groups_prompt_once_and_computes_what_reading_it_per_row_does(variant):
    """Shared-prompt log-probabilities (and their gradients) equal the per-row path, for groups cut anywhere."""
    from rollout_engine.train import sequence_logprobs

    class PerRow(torch.nn.Module):  # the same model without prompt sharing: the generic path
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        @property
        def device(self):
            return self.inner.device

        def completion_logits(self, idx, key_mask, n):
            return self.inner.completion_logits(idx, key_mask, n)

    torch.manual_seed(0)
    m = model(variant)
    g = torch.Generator().manual_seed(5)
    prompts = [torch.randint(3, 300, (n,), generator=g).tolist() for n in (4, 9, 6)]
    rows = [(p, torch.randint(3, 300, (int(torch.randint(1, 7, (1,), generator=g)),), generator=g).tolist()) for p in prompts for _ in range(3)]
    for span in (rows, rows[2:7]):  # whole groups, and a micro-batch that cuts groups
        shared = sequence_logprobs(m, span, 0)
        plain = sequence_logprobs(PerRow(m), span, 0)
        for a, b in zip(shared, plain):
            assert torch.allclose(a, b, atol=1e-5)
        grads = []
        for impl in (m, PerRow(m)):
            m.zero_grad()
            sequence_logprobs(impl, span, 0)[0].sum().backward()
            grads.append(torch.cat([p.grad.flatten() for p in m.parameters()]))
        assert torch.allclose(grads[0], grads[1], atol=1e-4)


def test_rotary_positions_depend_only_on_distance():
    """With rotary positions a model computes the same for a sequence wherever it starts (attention sees
    how far back a key is, not where it is): what copying from a prompt relies on."""
    torch.manual_seed(0)
    idx = torch.randint(3, 300, (1, 12))
    at = lambda m, start: m(idx, positions=torch.arange(start, start + 12)[None])[0]  # noqa: E731
    rotary = TinyGPT(ModelConfig(vocab_size=300, n_layer=2, n_head=2, n_embd=32, block_size=64, rope=True)).eval()
    learned = TinyGPT(ModelConfig(vocab_size=300, n_layer=2, n_head=2, n_embd=32, block_size=64, rope=False)).eval()
    with torch.no_grad():
        assert torch.allclose(at(rotary, 0), at(rotary, 30), atol=1e-4)
        assert not torch.allclose(at(learned, 0), at(learned, 30), atol=1e-4)


def test_the_copy_head_mixes_a_copy_of_the_context_with_the_vocabulary_by_its_gate():
    """The copy head's output is a distribution: with its gate open, all its mass is on tokens of the
    context so far (exactly: the attention's weights summed per token); shut, it is the vocabulary's softmax."""
    m = model("rotary+copy")
    idx = torch.tensor([[5, 9, 9, 40, 7]])
    with torch.no_grad():
        mixed = m(idx)[0].exp()
        assert torch.allclose(mixed.sum(-1), torch.ones(1, 5), atol=1e-5)
        m.copy.gate.bias.fill_(50.0)
        opened = m(idx)[0].exp()
        m.copy.gate.bias.fill_(-50.0)
        shut = m(idx)[0]
    for t in range(5):
        context = set(idx[0, :t + 1].tolist())
        assert abs(float(opened[0, t, sorted(context)].sum()) - 1) < 1e-5
        assert float(opened[0, t, [w for w in range(300) if w not in context]].sum()) < 1e-5
    plain = TinyGPT(ModelConfig(vocab_size=300, n_layer=2, n_head=2, n_embd=32, block_size=64, rope=True)).eval()
    plain.load_state_dict({k: v for k, v in m.state_dict().items() if not k.startswith("copy.")})
    with torch.no_grad():
        assert torch.allclose(shut, plain(idx)[0].log_softmax(-1), atol=1e-4)
