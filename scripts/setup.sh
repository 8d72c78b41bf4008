#!/usr/bin/env bash
# Installs what building, running and testing ModelGate needs: Debian packages
# (apt) and, for the client tests, the npm packages pinned in tests/client.
# Installs only what is missing, so it is cheap to run again.
#
#   scripts/setup.sh runtime   build and run the gateway
#   scripts/setup.sh test      also GoogleTest, PostgreSQL, Node.js + npm packages
#   scripts/setup.sh fuzz      runtime plus clang and its libFuzzer runtime (scripts/fuzz.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-test}

packages=(build-essential cmake pkg-config ccache
  libpistache-dev libsoci-dev libpq-dev libsqlite3-dev
  libboost-dev libboost-filesystem-dev nlohmann-json3-dev libzip-dev
  libcurl4-openssl-dev libssl-dev libgoogle-perftools-dev ca-certificates tzdata)
if [ "$mode" = test ]; then
  packages+=(libgtest-dev libgmock-dev postgresql)
fi
if [ "$mode" = fuzz ]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "$mode" = test ]; then
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$node_major" -lt 18 ]; then missing+=(nodejs npm); fi
  if ! command -v npm >/dev/null 2>&1 && [ "$node_major" -ge 18 ]; then missing+=(npm); fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  echo "setup: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$mode" = test ]; then
  (cd tests/client && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: ready ($mode)"
