#!/usr/bin/env bash
# The hf backend's GPU checks in one call (docs/benchmarks.md, issue "The GPU engine"): 10 steps of the
# Qwen2.5-0.5B shape without a non-finite value, with the shared-prefill rollout, full model and LoRA, and
# the generate fallback for comparison. Needs .device/ from scripts/prepare-device.sh carried along; writes
# JSON figures to $OUT (or /tmp/gpu-check). STEPS, PROMPTS, NEW_TOKENS shrink it to fit the time left.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-/tmp/gpu-check}"; mkdir -p "$out"
if ! command -v node >/dev/null; then
  xz -dc .device/node.xz > /tmp/node && chmod +x /tmp/node && mkdir -p /tmp/nodebin && mv /tmp/node /tmp/nodebin/node
  export PATH="/tmp/nodebin:$PATH"
fi
mkdir -p dist && cp -n .device/cli.cjs .device/reward-worker.cjs dist/ 2>/dev/null || true
export ESBUILD_BINARY_PATH="$PWD/.device/esbuild/bin/esbuild"
steps="${STEPS:-10}"; prompts="${PROMPTS:-64}"; new="${NEW_TOKENS:-512}"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/device.txt"
cd engine
run() {  # name, steps, extra args
  local name=$1 n=$2; shift 2
  echo "== $name"
  timeout "${EACH_S:-400}" python ../bench/hf_grpo.py --shape qwen2.5-0.5b --steps "$n" --prompts "$prompts" --new-tokens "$new" \
    --device cuda --out "$out/$name.json" "$@" > "$out/$name.log" 2>&1
  echo "rc=$?"; grep -E '"(event)": "(error|warning)"' "$out/$name.log" | head -5; tail -25 "$out/$name.log" | grep -v '"event"' || true
}
run full-shared-prefill "$steps" --rollout shared-prefill
run lora-shared-prefill "$steps" --rollout shared-prefill --lora-rank 16
run full-generate 2 --rollout generate
