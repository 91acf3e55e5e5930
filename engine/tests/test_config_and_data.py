import json

from pathlib import Path

import pytest

from rollout_engine.config import ConfigError, RunConfig, load_config
from rollout_engine.data import DatasetError, read_dataset


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_full_config_reads_with_trl_names(tmp_path):
    path = write(tmp_path, "run.toml", """
[data]
train = "data/train.jsonl"
template = "tool-n1"
[policy]
backend = "tiny"
[reward]
preset = "toolrl"
options = { dynamic_scale = true }
[grpo]
num_generations = 4
beta = 0.001
epsilon = 0.2
temperature = 0.7
loss_type = "dr_grpo"
learning_rate = 1
[run]
seed = 7
""")
    config = load_config(path)
    assert config.grpo.num_generations == 4 and config.grpo.loss_type == "dr_grpo"
    assert config.grpo.learning_rate == 1.0 and isinstance(config.grpo.learning_rate, float)
    assert config.reward.options == {"dynamic_scale": True}
    assert RunConfig().grpo.beta == 0.0
    only_schedule = load_config(write(tmp_path, "s.toml", "[reward]\nschedule = \"r.ts\"\n"))
    assert (only_schedule.reward.preset, only_schedule.reward.schedule) == (None, str(tmp_path / "r.ts"))
    assert load_config(write(tmp_path, "d.toml", "")).reward.preset == "tool-zero"


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    path = write(tmp_path / "sub", "run.toml", """
[data]
train = "data/train.jsonl"
eval = ["a.jsonl", "/abs/b.jsonl"]
[policy]
model = "../base"
[reward]
schedule = "r.ts"
[run]
dir = "runs/one"
eval_every = 5
time_limit_s = 60
""")
    config = load_config(path)
    here = tmp_path / "sub"
    assert config.data.train == str(here / "data/train.jsonl") and config.data.eval == [str(here / "a.jsonl"), "/abs/b.jsonl"]
    assert config.reward.schedule == str(here / "r.ts") and config.run.dir == str(here / "runs/one")
    assert Path(config.policy.model).resolve() == tmp_path / "base"
    assert (config.run.eval_every, config.run.time_limit_s) == (5, 60.0)


@pytest.mark.parametrize("text,message", [
    ("[grpo]\nnum_generation = 4\n", r"\[grpo\]: unknown key 'num_generation'; known keys: .*num_generations"),
    ("[grpo]\nbeta = \"high\"\n", r"\[grpo\]: beta must be a number, got 'high'"),
    ("[grpo]\nloss_type = \"ppo\"\n", r"loss_type must be 'grpo' \| 'bnpo' \| 'dr_grpo'"),
    ("[grpo]\nnum_generations = true\n", r"num_generations must be an integer"),
    ("[trainer]\nx = 1\n", r"unknown key 'trainer'; known keys: data, grpo, policy, reward, run"),
    ("[reward]\nschedule = \"r.ts\"\npreset = \"toolrl\"\n", r"has both preset and schedule; keep one"),
    ("[grpo]\nnum_generations = 1\n", r"num_generations must be at least 2"),
    ("[policy]\nbackend = \"hf\"\n", r"needs model = a local path"),
    ("[grpo\n", r"not valid TOML"),
    ("[data]\neval = [\"a.jsonl\", 3]\n", r"eval must be a string or a list of strings or absent, got \['a.jsonl', 3\]"),
    ("[run]\neval_every = -1\n", r"\[run\] eval_every must be at least 0"),
    ("[policy]\ninit = \"zeros\"\n", r"init must be 'pretrained' \| 'random'"),
])
def test_bad_configs_name_the_key_and_the_file(tmp_path, text, message):
    path = write(tmp_path, "run.toml", text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


GOOD = {"id": "a", "tools": [{"name": "f", "parameters": {"type": "object", "properties": {}}}],
        "messages": [{"role": "user", "content": "do f"}], "ground_truth": [{"name": "f", "arguments": {}}]}


def test_a_dataset_reads_and_bad_lines_name_file_and_line(tmp_path):
    lines = [json.dumps(GOOD), "{not json", json.dumps({**GOOD, "id": "b", "ground_truth": [{"name": "f"}]}), json.dumps({**GOOD, "id": "a"})]
    path = write(tmp_path, "data.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"data\.jsonl:2: not valid JSON.*on_bad_line = \"skip\""):
        read_dataset(path)
    warnings = []
    samples = read_dataset(path, "skip", warnings.append)
    assert [s.id for s in samples] == ["a"]
    assert [w.split(": ", 1)[0].rsplit("/", 1)[-1] for w in warnings] == ["data.jsonl:2", "data.jsonl:3", "data.jsonl:4"]
    assert "ground_truth[0] must be" in warnings[1] and "duplicate id 'a'" in warnings[2]


def test_zero_usable_samples_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="no usable samples"):
        read_dataset(write(tmp_path, "bad.jsonl", "[]\n"), "skip")
    with pytest.raises(DatasetError, match="empty"):
        read_dataset(write(tmp_path, "empty.jsonl", "\n"))
