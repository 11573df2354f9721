#!/usr/bin/env bash
# Installs everything Switchyard needs to build, run and test on Debian 12. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  g++ cmake ninja-build ccache pkg-config git curl ca-certificates openssl procps
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libssl-dev libyaml-cpp-dev libspdlog-dev libcli11-dev prometheus-cpp-dev libjemalloc-dev
  libgtest-dev libgmock-dev
  clang libclang-rt-14-dev llvm
  nginx-light wrk python3
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The real client SDKs the integration tests drive (pinned in tests/integration/package.json).
if [ -f tests/integration/package.json ]; then
  (cd tests/integration && npm ci --no-audit --no-fund --loglevel=error)
fi
