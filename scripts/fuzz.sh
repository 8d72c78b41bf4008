#!/usr/bin/env bash
# Fuzzes with libFuzzer under AddressSanitizer and UBSan: provider plugins
# (each plugin's response parser for chat, embeddings and model lists, stream
# decoder fed in pieces the fuzzer chooses, error classifier and request
# builder, loaded through the SDK's host loader: tests/fuzz/adapter_fuzz.cpp,
# seeded from each plugin's fixtures), and the gateway's HTTP request path up
# to the proxy pipeline ("http": tests/fuzz/http_fuzz.cpp, seeded from
# tests/fuzz/http_corpus).
#
#   scripts/fuzz.sh [SECONDS] [PLUGIN...]
#
# SECONDS  time per plugin (default 60)
# PLUGIN   "http" for the HTTP request path, a bundled provider (openai, deepseek, ...), "template" for
#          sdk/template's acme.so (built out of tree against the SDK installed
#          from this build, as a third party builds it), or a path to a .so
#          built with clang and -fsanitize=fuzzer-no-link,address,undefined,
#          optionally followed by :FIXTURES_DIR. Default: http, every bundled
#          provider plugin and the template.
#
# Builds with clang in build-fuzz/ (JOBS, default 2, sets the parallelism).
# Inputs that crash or break the plugin contract are saved in
# build-fuzz/fuzz/<plugin>/artifacts/ and fail the script (exit 1); the corpus
# the fuzzer grows stays in build-fuzz/fuzz/<plugin>/corpus/ for the next run.
# Reproduce one with:
#   MODELGATE_FUZZ_PLUGIN=<.so> build-fuzz/tests/fuzz/adapter_fuzz <artifact>
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
[ $# -gt 0 ] && shift
jobs=${JOBS:-2}
dir=$PWD/build-fuzz
sanitize="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

bash scripts/setup.sh fuzz

echo "fuzz: building the harness in $dir"
cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMODELGATE_FUZZ=ON -DMODELGATE_BUILD_TESTS=OFF >/dev/null
cmake --build "$dir" -j"$jobs" --target adapter_fuzz adapter_fuzz_seeds

# name -> "so<TAB>fixtures" for the bundled plugins.
declare -A bundled=()
bundled_names=()
while IFS=$'\t' read -r name so fixtures; do
  [ -n "$name" ] || continue
  bundled[$name]="$so"$'\t'"$fixtures"
  bundled_names+=("$name")
done <"$dir/fuzz-plugins.txt"

requested=("$@")
[ ${#requested[@]} -gt 0 ] || requested=(http "${bundled_names[@]}" template)

failed=()
results=()
targets=()  # "name<TAB>so<TAB>fixtures"
for want in "${requested[@]}"; do
  if [ "$want" = http ]; then
    echo "fuzz: building the HTTP request path harness"
    if cmake --build "$dir" -j"$jobs" --target http_fuzz openai; then
      targets+=("http"$'\t'-$'\t'-$'\t'"$dir/tests/fuzz/http_fuzz"$'\t'"$PWD/tests/fuzz/http_corpus")
    else
      failed+=("http (build)")
    fi
  elif [ "$want" = template ] || [ "$want" = acme ]; then
    echo "fuzz: building sdk/template against the SDK installed from $dir"
    cmake --install "$dir" --prefix "$dir/sdk-install" --component sdk >/dev/null
    rm -f "$dir/template/CMakeCache.txt"
    if cmake -S sdk/template -B "$dir/template" -DCMAKE_CXX_COMPILER=clang++ \
        -DCMAKE_CXX_FLAGS="$sanitize" -DCMAKE_PREFIX_PATH="$dir/sdk-install" -DBUILD_TESTING=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
      cmake --build "$dir/template" -j"$jobs"; then
      targets+=("template"$'\t'"$dir/template/acme.so"$'\t'"$PWD/sdk/template/fixtures")
    else
      failed+=("template (build)")
    fi
  elif [ -n "${bundled[$want]:-}" ]; then
    echo "fuzz: building $want"
    if cmake --build "$dir" -j"$jobs" --target "$want"; then
      targets+=("$want"$'\t'"${bundled[$want]}")
    else
      failed+=("$want (build)")
    fi
    # A plugin may add a fuzzer of its own (<plugin>_fuzz) for properties the
    # ABI-level harness cannot see; it runs for the same time.
    if cmake --build "$dir" --target help | grep "^\.\.\. ${want}_fuzz\$" >/dev/null; then
      if cmake --build "$dir" -j"$jobs" --target "${want}_fuzz"; then
        exe=$(find "$dir/providers/$want" -maxdepth 1 -type f -name "${want}_fuzz" | head -n 1)
        targets+=("${want}_fuzz"$'\t'-$'\t'-$'\t'"$exe")  # "-": no .so, no fixtures
      else
        failed+=("${want}_fuzz (build)")
      fi
    fi
  elif [[ "${want%%:*}" == *.so ]] && [ -f "${want%%:*}" ]; then
    so=$(realpath "${want%%:*}")
    fixtures=""
    [[ "$want" == *:* ]] && fixtures=$(realpath "${want#*:}")
    targets+=("$(basename "$so" .so)"$'\t'"$so"$'\t'"$fixtures")
  else
    echo "fuzz: unknown plugin '$want' (bundled: ${bundled_names[*]} template; or a path to a .so)" >&2
    exit 2
  fi
done

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for entry in "${targets[@]}"; do
  IFS=$'\t' read -r name so fixtures exe seeds <<<"$entry"
  [ "$so" = - ] && so=
  [ "$fixtures" = - ] && fixtures=
  work=$dir/fuzz/$name
  rm -rf "$work/seeds"
  mkdir -p "$work/corpus" "$work/artifacts" "$work/seeds"
  [ -n "$fixtures" ] && "$dir/tests/fuzz/adapter_fuzz_seeds" "$fixtures" "$work/seeds" >/dev/null
  [ -n "${seeds:-}" ] && cp "$seeds"/* "$work/seeds/"
  echo "fuzz: $name for ${seconds}s (${exe:-$so})"
  rc=0
  MODELGATE_FUZZ_PLUGIN=$so MODELGATE_FUZZ_FIXTURES=$fixtures \
    "${exe:-$dir/tests/fuzz/adapter_fuzz}" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "$work/seeds" >"$work/fuzz.log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$work/fuzz.log" | tail -1 || true)
  if [ "$rc" -eq 0 ]; then
    results+=("$name: ok, ${runs:-?} runs in ${seconds}s, ${cov:-cov: ?}, corpus $(ls "$work/corpus" | wc -l)")
  else
    echo "fuzz: $name FAILED (exit $rc); the end of $work/fuzz.log:" >&2
    tail -n 40 "$work/fuzz.log" >&2
    results+=("$name: FAILED after ${runs:-?} runs; inputs in $work/artifacts/: $(ls "$work/artifacts" | tr '\n' ' ')")
    failed+=("$name")
  fi
done

echo "fuzz: results"
for r in "${results[@]}"; do echo "  $r"; done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no crashes"
