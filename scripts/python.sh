#!/usr/bin/env bash
# Runs the Python chosen by scripts/setup-python.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -s "$root/.rollout-studio/python" ]; then
  echo "rollout-studio: no Python chosen yet; run \`bash scripts/setup.sh\` first" >&2
  exit 2
fi
exec "$(cat "$root/.rollout-studio/python")" "$@"
