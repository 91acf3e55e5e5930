#!/usr/bin/env bash
# Finds the Python the training engine runs with: one that has PyTorch and pytest. It looks first at
# what is already there (ROLLOUT_STUDIO_PYTHON, an active venv or conda env, python3 on PATH, the
# system's /usr/bin/python3); only when none has them does it install Debian's packages (as root), or
# say exactly what to install. The choice is written to .rollout-studio/python.
set -euo pipefail
cd "$(dirname "$0")/.."

has_packages() { "$1" -c 'import torch, pytest' >/dev/null 2>&1; }

python=""
for candidate in "${ROLLOUT_STUDIO_PYTHON:-}" "${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}" "${CONDA_PREFIX:+$CONDA_PREFIX/bin/python}" \
                 "$(command -v python3 || true)" /usr/bin/python3; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && has_packages "$candidate"; then
    python="$candidate"
    break
  fi
done

if [ -z "$python" ]; then
  packages="python3-torch libopenblas0-pthread python3-pytest python3-numpy"
  if command -v apt-get >/dev/null 2>&1 && [ -x /usr/bin/python3 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "setup: no Python here has PyTorch and pytest. Install Debian's packages, then run this again:" >&2
      echo "       sudo apt-get install -y $packages" >&2
      echo "       (or point ROLLOUT_STUDIO_PYTHON at a Python that has torch and pytest)" >&2
      exit 1
    fi
    echo "setup: installing PyTorch for the training engine from Debian's packages ($packages)"
    # OpenBLAS matters: without it torch falls back to a reference BLAS about 50x slower.
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
    python=/usr/bin/python3
    has_packages "$python" || { echo "setup: installed $packages but /usr/bin/python3 still cannot import torch and pytest" >&2; exit 1; }
  else
    echo "setup: no Python here has PyTorch and pytest. Install them into a Python 3.10+ (see https://pytorch.org)" >&2
    echo "       and run again with ROLLOUT_STUDIO_PYTHON=/path/to/that/python." >&2
    exit 1
  fi
fi

mkdir -p .rollout-studio
echo "$python" > .rollout-studio/python
echo "setup: training engine Python: $python (torch $("$python" -c 'import torch; print(torch.__version__)'))"
