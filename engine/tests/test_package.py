"""The wheel (engine/pyproject.toml, scripts/build-wheel.sh): installed into a fresh virtual environment with
nothing else — no PyTorch, no checkout beside it — its verl reward function scores through the bundled
reward host, with a preset and with a schedule file (compiled by the bundled esbuild), and the importer runs."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT


def test_the_wheel_installs_alone_and_scores_through_its_bundled_reward_host(tmp_path):
    try:
        import setuptools
    except ImportError:
        pytest.skip("setuptools is not installed for this Python: building the wheel needs setuptools >= 70")
    if int(setuptools.__version__.split(".")[0]) < 70:
        pytest.skip(f"setuptools {setuptools.__version__} is older than 70: building the wheel needs setuptools >= 70")
    if not (ROOT / "dist" / "cli.cjs").exists():
        pytest.skip("the reward host is not built (npm run build): the wheel bundles it")
    env = {**os.environ, "ROLLOUT_STUDIO_WHEEL_NO_BUILD": "1", "ROLLOUT_STUDIO_WHEEL_OUT": str(tmp_path / "wheels")}
    built = subprocess.run(["bash", str(ROOT / "scripts" / "build-wheel.sh")], capture_output=True, text=True, env=env, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((tmp_path / "wheels").glob("rollout_studio-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=120)
    python = tmp_path / "venv" / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel)], check=True, timeout=300)
    schedule = tmp_path / "reward-schedule.ts"
    schedule.write_text((ROOT / "demo" / "reward-schedule.ts").read_text())
    code = f"""
import json, sys
sys.modules["torch"] = None  # it must not need PyTorch
from rollout_engine.integrations import verl
import rollout_engine.reward_client as rc
right = '<think>ok</think>\\n<tool_call>\\n[{{"name": "get_weather", "arguments": {{"city": "Paris"}}}}]\\n</tool_call>'
truth = json.dumps([{{"name": "get_weather", "arguments": {{"city": "Paris"}}}}])
out = {{"cli": str(rc.DEFAULT_CLI), "preset": verl.compute_score("d", right, truth, None, preset="tool-n1"),
        "schedule": verl.compute_score("d", right, truth, None, schedule={str(schedule)!r})}}
verl.close_all()
print(json.dumps(out))
"""
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ROLLOUT_STUDIO_CLI")}
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=tmp_path, env=clean_env, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert "/site-packages/rollout_engine/_bundled/" in out["cli"]
    assert out["preset"]["score"] == 1.0 and out["preset"]["rs_exact"] == 1.0
    assert out["schedule"]["rs_failed"] == 0.0 and set(json.loads(out["schedule"]["rs_components"])) == {"format", "strict", "credit"}
    # The importer and follower are installed as a command too.
    imported = subprocess.run([str(tmp_path / "venv" / "bin" / "rollout-studio-py"), "import", str(ROOT / "demo" / "rollouts.jsonl"),
                               "--out", str(tmp_path / "run")], capture_output=True, text=True, cwd=tmp_path, env=clean_env, timeout=120)
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "finished"
