#!/usr/bin/env bash
# Finds the Python the training engine runs with: one that has PyTorch 2 and pytest. It looks first at
# what is already there (ROLLOUT_STUDIO_PYTHON, an active venv or conda env, the project's .venv,
# python3 on PATH, the system's /usr/bin/python3). When none has them it makes the project's .venv with
# pip (torch, numpy, pytest, and jsonschema for the contract tests); only when pip cannot do that does it
# fall back to a PyTorch 1 already there, or to Debian's packages (as root), or say exactly what to install.
# The choice is written to .rollout-studio/python. jsonschema is for the tests only (the engine runs
# without it): when the chosen Python is the project's .venv and lacks it, it is installed there, best
# effort; the contract tests skip, saying why, where it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# torch >= 2 (scaled_dot_product_attention, torch.compile) and pytest.
has_torch2() { "$1" -c 'import sys, torch, pytest; sys.exit(0 if int(torch.__version__.split(".")[0]) >= 2 else 1)' >/dev/null 2>&1; }
has_any_torch() { "$1" -c 'import torch, pytest' >/dev/null 2>&1; }

candidates=("${ROLLOUT_STUDIO_PYTHON:-}" "${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}" "${CONDA_PREFIX:+$CONDA_PREFIX/bin/python}" \
            "$PWD/.venv/bin/python" "$(command -v python3 || true)" /usr/bin/python3)

pick() {  # $1: the test a candidate must pass
  for candidate in "${candidates[@]}"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$1" "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

python="$(pick has_torch2 || true)"

if [ -z "$python" ]; then
  # The project's own venv. PIP_RETRIES/PIP_TIMEOUT: where pip is set up with a local package store and
  # no reachable index, pip's default retries would wait minutes on the index before using the store.
  base="$(command -v python3 || echo /usr/bin/python3)"
  echo "setup: no Python here has PyTorch 2 and pytest; making .venv with pip (torch, numpy, pytest, jsonschema)"
  if "$base" -m venv .venv >/dev/null 2>&1 &&
     PIP_RETRIES="${PIP_RETRIES:-0}" PIP_TIMEOUT="${PIP_TIMEOUT:-15}" .venv/bin/pip install --quiet --disable-pip-version-check torch numpy pytest jsonschema; then
    has_torch2 .venv/bin/python && python="$PWD/.venv/bin/python"
  fi
  [ -n "$python" ] || echo "setup: pip could not install PyTorch 2 into .venv (see above); looking for an older PyTorch" >&2
fi

if [ -z "$python" ]; then
  python="$(pick has_any_torch || true)"
  [ -z "$python" ] || echo "setup: warning: using PyTorch 1 ($python); the engine is slower there. Install torch>=2 with pip for full speed." >&2
fi

if [ -z "$python" ]; then
  packages="python3-torch libopenblas0-pthread python3-pytest python3-numpy"
  if command -v apt-get >/dev/null 2>&1 && [ -x /usr/bin/python3 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "setup: no Python here has PyTorch and pytest, and pip could not install them. Either:" >&2
      echo "       pip install torch numpy pytest   (into a venv; then run this again with it active)" >&2
      echo "       sudo apt-get install -y $packages" >&2
      echo "       (or point ROLLOUT_STUDIO_PYTHON at a Python that has torch and pytest)" >&2
      exit 1
    fi
    echo "setup: installing PyTorch for the training engine from Debian's packages ($packages)"
    # OpenBLAS matters: without it torch falls back to a reference BLAS about 50x slower.
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
    python=/usr/bin/python3
    has_any_torch "$python" || { echo "setup: installed $packages but /usr/bin/python3 still cannot import torch and pytest" >&2; exit 1; }
  else
    echo "setup: no Python here has PyTorch and pytest. Install them into a Python 3.10+ (pip install torch numpy pytest)" >&2
    echo "       and run again with ROLLOUT_STUDIO_PYTHON=/path/to/that/python." >&2
    exit 1
  fi
fi

# The contract tests validate with jsonschema: add it to the project's own .venv when it lacks it (never
# to a Python set-up did not make; never failing set-up for it).
if [ "$python" = "$PWD/.venv/bin/python" ] && ! "$python" -c 'import jsonschema' >/dev/null 2>&1; then
  PIP_RETRIES="${PIP_RETRIES:-0}" PIP_TIMEOUT="${PIP_TIMEOUT:-15}" "$python" -m pip install --quiet --disable-pip-version-check jsonschema >/dev/null 2>&1 ||
    echo "setup: note: could not install jsonschema into .venv; the engine's contract tests will be skipped (pip install jsonschema)" >&2
fi

# The hf backend and the TRL integration run on Hugging Face's libraries: add them to the project's own
# .venv too (the versions the TRL integration was checked with, docs/trl.md), best effort — without them
# the tiny backend still runs and their tests skip, saying why. ROLLOUT_STUDIO_SKIP_HF=1 leaves them out.
if [ "$python" = "$PWD/.venv/bin/python" ] && [ -z "${ROLLOUT_STUDIO_SKIP_HF:-}" ] && ! "$python" -c 'import trl, transformers, peft' >/dev/null 2>&1; then
  echo "setup: installing transformers, peft and trl into .venv for the hf backend and the TRL integration"
  PIP_RETRIES="${PIP_RETRIES:-0}" PIP_TIMEOUT="${PIP_TIMEOUT:-15}" "$python" -m pip install --quiet --disable-pip-version-check \
      "torch>=2,<=2.14.1" trl==1.13.0 transformers==5.18.0 accelerate==1.15.0 datasets==5.0.1 peft >/dev/null 2>&1 ||
    echo "setup: note: could not install transformers/peft/trl into .venv; the hf backend's and TRL's tests will be skipped" >&2
fi

# The playground exports the tiny policy to ONNX (torch.onnx.export needs the onnx package) and its tests
# check the export with onnxruntime: best effort, as above; without them those tests skip, saying why.
if [ "$python" = "$PWD/.venv/bin/python" ] && ! "$python" -c 'import onnx, onnxruntime' >/dev/null 2>&1; then
  echo "setup: installing onnx and onnxruntime into .venv for the playground's export"
  PIP_RETRIES="${PIP_RETRIES:-0}" PIP_TIMEOUT="${PIP_TIMEOUT:-15}" "$python" -m pip install --quiet --disable-pip-version-check \
      onnx onnxruntime >/dev/null 2>&1 ||
    echo "setup: note: could not install onnx/onnxruntime into .venv; the ONNX export's tests will be skipped" >&2
fi

mkdir -p .rollout-studio
echo "$python" > .rollout-studio/python
echo "setup: training engine Python: $python (torch $("$python" -c 'import torch; print(torch.__version__)'))"
