#!/usr/bin/env bash
# Builds the unit tests with AddressSanitizer and UndefinedBehaviorSanitizer (GCC, build-asan/) and
# runs them: any memory error, leak or undefined behaviour fails the run. See docs/testing.md.
#   scripts/sanitize.sh --gtest_filter='SseParser*'    (arguments go to the test binary)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${SANITIZE_BUILD_DIR:-build-asan}
# ccache's cache outlives a clone: let a fresh checkout elsewhere hit it, precompiled header included.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
# Also while building: test discovery runs the binary.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSWITCHYARD_SANITIZE=ON \
    -DSWITCHYARD_JEMALLOC=OFF -DSWITCHYARD_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}" --target unit_tests

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
GTEST_BRIEF=1 "$BUILD_DIR/bin/unit_tests" "$@"
echo "sanitize: no findings"
