#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test: unit tests (CTest/GoogleTest), the unit tests
# again under ASan + UBSan, a few seconds of fuzzing per decoder and translator (docs/testing.md), and
# the integration tests (the real switchyard and fake-upstream binaries on loopback, the npm openai SDK).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/build.sh

echo "== unit tests"
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 120

echo "== sanitizers (unit tests under ASan + UBSan)"
./scripts/sanitize.sh

echo "== fuzzing (each decoder and translator for FUZZ_SECONDS, default 3)"
./scripts/fuzz.sh

echo "== integration tests"
SWITCHYARD_BIN_DIR="$PWD/build/bin" node --test --test-concurrency=1 tests/integration/

echo "== all tests passed"
