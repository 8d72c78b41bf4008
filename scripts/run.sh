#!/usr/bin/env bash
# Quick start: installs what is missing, builds the gateway and its plugins (no
# test suites), and runs the gateway on port 8765 with the embedded SQLite
# database under ./data. Arguments go to modelgate (see ./build/core/modelgate
# --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh runtime
bash scripts/build.sh --runtime
exec ./build/core/modelgate "$@"
