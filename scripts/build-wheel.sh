#!/usr/bin/env bash
# Builds the rollout-studio wheel (engine/pyproject.toml) into dist/wheels/: first bundles what the reward
# host needs into engine/rollout_engine/_bundled/ (ignored by git): the built CLI and reward worker,
# contract/VERSION, and esbuild with its Linux x64 binary (schedules are compiled at run time). Needs the
# project set up (node_modules) and setuptools >= 70 in the Python that builds (scripts/python.sh's).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${ROLLOUT_STUDIO_WHEEL_NO_BUILD:-}" = 1 ] || npm run --silent build  # the tests build first and set it
out="${ROLLOUT_STUDIO_WHEEL_OUT:-dist/wheels}"
bundle=engine/rollout_engine/_bundled
rm -rf "$bundle" && mkdir -p "$bundle/node_modules/@esbuild"
cp dist/cli.cjs dist/reward-worker.cjs contract/VERSION "$bundle/"
cp -r node_modules/esbuild "$bundle/node_modules/esbuild"
cp -r node_modules/@esbuild/linux-x64 "$bundle/node_modules/@esbuild/linux-x64"
rm -rf engine/build engine/*.egg-info
bash scripts/python.sh -m pip wheel ./engine --no-deps --no-build-isolation --no-index -w "$out" -q
rm -rf engine/build engine/*.egg-info
ls -1 "$out"/rollout_studio-*.whl
