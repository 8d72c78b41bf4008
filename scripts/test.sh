#!/usr/bin/env bash
# Builds ModelGate and runs every test: unit, integration (on SQLite and on a
# throwaway PostgreSQL started here), and the openai SDK client test; then the
# unit and integration suites again under AddressSanitizer/UBSan.
# MODELGATE_SKIP_SANITIZERS=1 skips the second pass.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
bash scripts/build.sh

pgdir=$(mktemp -d /tmp/modelgate-pg-XXXXXX)
trap 'bash scripts/test-postgres.sh stop "$pgdir"' EXIT
MODELGATE_TEST_PG_URL=$(bash scripts/test-postgres.sh start "$pgdir")
export MODELGATE_TEST_PG_URL
echo "test: PostgreSQL at $MODELGATE_TEST_PG_URL"

ctest --test-dir build --output-on-failure -j"${JOBS:-2}"

if [ "${MODELGATE_SKIP_SANITIZERS:-0}" != 1 ]; then
  bash scripts/build.sh --sanitize
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ctest --test-dir build-asan -L 'unit|integration' --output-on-failure -j"${JOBS:-2}"
fi
echo "test: all passed"
