#!/usr/bin/env bash
# Configures and builds ModelGate: build/ by default, build-asan/ with
# --sanitize (AddressSanitizer + UndefinedBehaviorSanitizer). JOBS (default 2)
# sets the parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = --sanitize ]; then
  dir=build-asan
  flags+=(-DMODELGATE_SANITIZE=ON)
fi
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"${JOBS:-2}"
