#!/usr/bin/env bash
# Packs what a GPU machine without Node needs to run the engine with its reward host: node (xz), the built
# reward host (dist/cli.cjs, dist/reward-worker.cjs) and esbuild's binary (schedules are compiled with it),
# into .device/ (ignored by git; carried with the command). Then, on the GPU machine:
#   bash bench/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli.cjs ] && [ -f dist/reward-worker.cjs ] || npm run --silent build
rm -rf .device && mkdir -p .device/esbuild
xz -6 -c "$(command -v node)" > .device/node.xz
cp dist/cli.cjs dist/reward-worker.cjs .device/
cp -r node_modules/@esbuild/linux-x64/. .device/esbuild/
du -sh .device
