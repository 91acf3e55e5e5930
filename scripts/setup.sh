#!/usr/bin/env bash
# Sets up Rollout Studio on a fresh machine: checks Node, installs the npm dependencies, builds, and
# finds (or installs) the Python with PyTorch that the training engine runs with.
# Safe to run again: it skips what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_node_major=20
if ! command -v node >/dev/null 2>&1; then
  echo "setup: Node.js ${need_node_major}+ is required but 'node' is not on PATH." >&2
  echo "       On Debian/Ubuntu: apt-get install -y nodejs npm (or use nvm), then run this again." >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt "$need_node_major" ]; then
  echo "setup: Node.js ${need_node_major}+ is required; this is $(node --version)." >&2
  exit 1
fi

# Install when node_modules is missing or older than the lockfile.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

npm run --silent build
npm run --silent types  # type declarations of the schedule API, for editors
bash scripts/setup-python.sh
# The demo dataset, generated from a seed (docs/dataset-format.md).
[ -f demo/data/train.jsonl ] || PYTHONPATH=engine bash scripts/python.sh -m rollout_engine.demo_data demo/data >/dev/null
echo "setup: done (node $(node --version))."
