#!/usr/bin/env bash
# Configures and builds ModelGate in build/ (build-asan/ with --sanitize:
# AddressSanitizer + UndefinedBehaviorSanitizer).
#   scripts/build.sh              the gateway, its plugins and every test suite
#   scripts/build.sh --runtime    only what running needs: the gateway and its plugins
#   scripts/build.sh --sanitize   everything, instrumented, in build-asan/
# JOBS (default 2) sets the parallelism. --runtime and the full build share build/:
# the full build after a runtime one only adds the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMODELGATE_BUILD_TESTS=ON)
case "${1:-}" in
  --sanitize)
    dir=build-asan
    flags+=(-DMODELGATE_SANITIZE=ON)
    ;;
  --runtime)
    flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMODELGATE_BUILD_TESTS=OFF)
    ;;
  "") ;;
  *) echo "usage: $0 [--runtime|--sanitize]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"${JOBS:-2}"
