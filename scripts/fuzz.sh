#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + UndefinedBehaviorSanitizer) into build-fuzz/,
# replays the known crash reproducers in fuzz/crashes/, then fuzzes each target for FUZZ_SECONDS
# (default 3) from a scratch copy of its seeds in fuzz/corpus/<target>. Fails on any crash, sanitizer
# report, broken check, leak or timeout; what the fuzzer found is kept in build-fuzz/fuzz-findings/.
#   FUZZ_SECONDS=600 FUZZ_TARGETS="json_scan sse_parser" scripts/fuzz.sh    (longer, a subset)
# See docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-3}
# ccache's cache outlives a clone: let a fresh checkout elsewhere hit it.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ not found (Debian: clang libclang-rt-14-dev; scripts/setup.sh installs them)" >&2
  exit 1
fi
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DSWITCHYARD_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}"

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

built=$(cat "$BUILD_DIR/fuzz_targets.txt")
targets=${FUZZ_TARGETS:-$built}
root=$PWD
findings="$root/$BUILD_DIR/fuzz-findings"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()

is_built() { grep -qx "$1" <<<"$built"; }

# Known reproducers: each must have stopped crashing (they stay as regression inputs once fixed).
for file in fuzz/crashes/*; do
  [ -f "$file" ] || continue
  name=$(basename "$file")
  target=${name%-*}
  if ! is_built "$target"; then
    echo "fuzz: $name skipped (no $target target in this checkout)"
    continue
  fi
  if ! "$BUILD_DIR/bin/${target}_fuzz" "$file" >"$scratch/$name.log" 2>&1; then
    echo "fuzz: FAILED $name: the known reproducer still fails"
    grep -E -m 3 "runtime error|what\(\)|check failed|ERROR: " "$scratch/$name.log" | sed 's/^/      /' || true
    failed+=("$name")
  fi
done

for target in $targets; do
  if ! is_built "$target"; then
    echo "fuzz: $target skipped (not built in this checkout: its sources are missing)"
    continue
  fi
  work="$scratch/$target"
  mkdir -p "$work/corpus"
  if [ -d "fuzz/corpus/$target" ]; then cp fuzz/corpus/"$target"/* "$work/corpus/"; fi
  start=$(date +%s%N)
  rc=0
  (cd "$work" && "$root/$BUILD_DIR/bin/${target}_fuzz" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" corpus) >"$work/log" 2>&1 || rc=$?
  seconds=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
  edges=$(grep -o 'cov: [0-9]*' "$work/log" | tail -n 1 | cut -d' ' -f2)
  if [ "$rc" -ne 0 ]; then
    mkdir -p "$findings"
    kept=""
    for artifact in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$work"/slow-unit-*; do
      [ -f "$artifact" ] || continue
      cp "$artifact" "$findings/$target-$(basename "$artifact")"
      kept="$findings/$target-$(basename "$artifact")"
    done
    cp "$work/log" "$findings/$target.log"
    printf 'fuzz: FAILED %s after %s runs (exit %s)\n' "$target" "${runs:-?}" "$rc"
    # What went wrong, and where in the project (not the fuzzer's own frames).
    grep -E "runtime error|what\(\)|check failed|ERROR: (Address|Leak|libFuzzer)" "$work/log" | head -n 3 | sed 's/^/      /' || true
    grep -E "^ +#[0-9]+ .*(/src/|/fuzz/)" "$work/log" | head -n 8 | sed 's/^/      /' || true
    if [ -n "$kept" ]; then
      echo "      input: $kept"
      echo "      replay: $BUILD_DIR/bin/${target}_fuzz $kept"
    fi
    failed+=("$target")
  else
    printf 'fuzz: %-30s %9s runs in %5ss, %s edges\n' "$target" "${runs:-?}" "$seconds" "${edges:-?}"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: all targets passed"
