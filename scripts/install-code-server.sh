#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3 served to a browser) and Debian's Chromium for the
# end-to-end tests, from npm and Debian's packages only. Usage: install-code-server.sh DIR
# Skips what is already there. Needs root for apt-get (CI and these machines run as root).
set -euo pipefail
dest=${1:?usage: install-code-server.sh DIR}
if [ -x "$dest/node_modules/.bin/code-server" ] && command -v chromium >/dev/null 2>&1; then exit 0; fi

if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep chromium >/dev/null
else
  for tool in rg chromium; do
    command -v "$tool" >/dev/null 2>&1 || { echo "e2e: $tool is missing; as root: apt-get install -y ripgrep chromium build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev" >&2; exit 1; }
  done
fi

# @vscode/ripgrep's install script downloads rg from GitHub unless its cache already has the archive:
# seed the cache with Debian's rg.
cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
mkdir -p "$cache"
if [ ! -f "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" ]; then
  tmp=$(mktemp -d) && cp "$(command -v rg)" "$tmp/rg"
  tar czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$tmp" rg
fi

mkdir -p "$dest" && cd "$dest"
[ -f package.json ] || echo '{"name":"rollout-studio-e2e-vscode","private":true}' > package.json
export npm_config_yes=true npm_config_unsafe_perm=true
npm install --no-audit --no-fund --loglevel=error code-server@4.100.3
# npm 11 may skip dependencies' install scripts: run code-server's own when VS Code's modules are missing.
if [ ! -d node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin ]; then
  (cd node_modules/code-server && npm_config_user_agent="npm/$(npm -v) node/$(node -v) linux x64" sh ./postinstall.sh)
fi
node_modules/.bin/code-server --version
