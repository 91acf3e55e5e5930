"""A stand-in for verl's trainer in the tests of `[run] engine = "verl"` (verl cannot be installed here): it
takes verl's key=value command line, loads the reward function the way verl does (by file path, as a module
outside any package) and calls it per sample, and writes what verl writes — a rollout dump per step in
trainer.rollout_data_dir and file-logger lines in $VERL_FILE_LOGGER_PATH. It trains nothing: its
"completions" are each prompt's right answer and a wrong one. Its command line goes to argv.json."""
import asyncio
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

settings = dict(arg.lstrip("+").split("=", 1) for arg in sys.argv[1:])
dumps = Path(settings["trainer.rollout_data_dir"])
dumps.mkdir(parents=True, exist_ok=True)
(dumps.parent / "argv.json").write_text(json.dumps(sys.argv[1:]))
prefix = "reward.custom_reward_function" if "reward.custom_reward_function.path" in settings else "custom_reward_function"
spec = importlib.util.spec_from_file_location("custom_module", settings[f"{prefix}.path"])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
reward = getattr(module, settings[f"{prefix}.name"])
kwargs = {k.rsplit(".", 1)[1]: v for k, v in settings.items() if k.startswith(f"{prefix}.reward_kwargs.")}
rows = pq.read_table(settings["data.train_files"]).to_pylist()
n, batch = int(settings["actor_rollout_ref.rollout.n"]), int(settings["data.train_batch_size"])
steps = min(int(settings["trainer.total_training_steps"]), int(os.environ.get("STANDIN_STEPS", "3")))
logger = open(os.environ["VERL_FILE_LOGGER_PATH"], "w")
for step in range(1, steps + 1):
    lines = []
    for row in rows[(step - 1) * batch:step * batch]:
        truth = row["reward_model"]["ground_truth"]
        right = "<think>ok</think>\n<tool_call>\n" + truth + "\n</tool_call>"
        prompt = "".join(f"{m['role']}\n{m['content']}\n" for m in row["prompt"]) + "assistant\n"
        for k in range(n):
            output = right if k % 2 == 0 else "<think>hm</think>\n<tool_call>\n[]\n</tool_call>"
            extra = dict(row["extra_info"])
            result = asyncio.run(reward(row["data_source"], output, truth, extra, **kwargs)) if asyncio.iscoroutinefunction(reward) \
                else reward(row["data_source"], output, truth, extra, **kwargs)
            lines.append(json.dumps({"input": prompt, "output": output, "gts": truth, **result, "step": step}))
    (dumps / f"{step}.jsonl").write_text("\n".join(lines) + "\n")
    logger.write(json.dumps({"step": step, "data": {"actor/lr": 1e-6, "actor/entropy": 1.5, "actor/grad_norm": 0.3}}) + "\n")
    logger.flush()
    time.sleep(float(os.environ.get("STANDIN_STEP_S", "0.2")))
