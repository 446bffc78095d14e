#!/usr/bin/env bash
# Builds the frontend fuzzer straight from the sources (no CMake, no MLIR)
# and runs it for SECONDS (default 60). Exits non-zero on any crash, leak,
# timeout or sanitizer report; prints the number of executions.
#
#   tests/fuzz/run.sh [SECONDS]
#   LACE_FUZZ_BUILD_DIR=/tmp/lace-fuzz tests/fuzz/run.sh 300
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${LACE_FUZZ_BUILD_DIR:-$root/build/fuzz}"
cxx="${CXX_FUZZ:-clang++-19}"
mkdir -p "$build/obj" "$build/corpus"

flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=all -I"$root/compiler/include"
       -I"$root/runtime/kernels")

# Compile each source once; recompile only what changed.
objects=()
for src in "$root"/compiler/frontend/*.cpp "$root"/compiler/support/*.cpp \
           "$root/tests/fuzz/fuzz_frontend.cpp"; do
  obj="$build/obj/$(basename "${src%.cpp}").o"
  if [[ ! -f "$obj" || "$src" -nt "$obj" ||
        -n "$(find "$root/compiler/include/lace/Frontend" "$root/compiler/frontend" \
              "$root/compiler/include/lace/Support" \
              -name '*.h' -newer "$obj" -print -quit)" ||
        -n "$(find "$root/compiler/include/lace/Frontend" -name '*.def' -newer "$obj" -print -quit)" ||
        "$root/runtime/kernels/lace_semantics.cuh" -nt "$obj" ]]; then
    echo "fuzz: compiling $(basename "$src")"
    # -fsanitize=fuzzer only on the final link; objects get the coverage.
    "$cxx" "${flags[@]/-fsanitize=fuzzer,address,undefined/-fsanitize=fuzzer-no-link,address,undefined}" \
      -c "$src" -o "$obj"
  fi
  objects+=("$obj")
done
"$cxx" "${flags[@]}" "${objects[@]}" -o "$build/fuzz_frontend"

# Seed the corpus from the pattern library and the lit tests.
shopt -s nullglob globstar
for seed in "$root"/patterns/*.lace "$root"/tests/lit/language/**/*.lace \
            "$root"/tests/fuzz/regressions/*; do
  cp -f "$seed" "$build/corpus/seed_$(echo "$seed" | md5sum | cut -c1-12).lace"
done

log="$build/fuzz.log"
set +e
"$build/fuzz_frontend" "$build/corpus" -max_total_time="$seconds" -timeout=5 \
  -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$build/" 2>&1 | tee "$log" | grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|==[0-9]+==|SUMMARY|ERROR"
status=${PIPESTATUS[0]}
set -e
runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "?")
time=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -Eo 'in [0-9]+' | grep -Eo '[0-9]+' || echo "$seconds")
echo "fuzz: $runs executions in ${time}s (exit status $status)"
if [[ $status -ne 0 ]]; then
  echo "fuzz: FAILED, see $log and the crash-* / leak-* / timeout-* files in $build" >&2
  exit 1
fi
