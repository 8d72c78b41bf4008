#!/usr/bin/env bash
# sdk/template as a third party builds it: the SDK installed from this build
# into a temporary prefix (cmake --install --component sdk), the template
# configured out of tree with find_package(ModelGateSDK), built warnings-clean,
# its conformance tests run (acme.so, and notes.so, the feature plugin),
# modelgate-plugin-check run on both, and then both loaded into a running
# gateway (the TemplatePlugin integration tests).
#
#   tests/sdk/template_build.sh BUILD_DIR SOURCE_DIR INTEGRATION_TEST_BINARY
set -euo pipefail
build=${1:?build dir}
src=${2:?source dir}
itests=${3:?integration test binary}
work=$(mktemp -d /tmp/modelgate-template-XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/sdk" --component sdk >/dev/null
cmake -S "$src/sdk/template" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/sdk" \
  -DCMAKE_CXX_FLAGS=-Werror -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" >/dev/null
cmake --build "$work/build" -j"${JOBS:-2}"
ctest --test-dir "$work/build" --output-on-failure
"$work/sdk/bin/modelgate-plugin-check" "$work/build/acme.so"
"$work/sdk/bin/modelgate-plugin-check" "$work/build/notes.so"
out=$work/integration.log
MODELGATE_TEMPLATE_PLUGIN="$work/build/acme.so" "$itests" --gtest_filter='*TemplatePlugin*' >"$out" 2>&1 \
  || { cat "$out"; exit 1; }
grep -E '^\[ *(PASSED|SKIPPED|FAILED) *\]' "$out"
# A skipped or empty run proves nothing.
grep -q '^\[ *SKIPPED *\]' "$out" && { echo "template tests were skipped" >&2; exit 1; }
grep -qE '^\[ *PASSED *\] [1-9]' "$out" || { echo "no template test ran" >&2; exit 1; }
