#!/usr/bin/env bash
# Installs what is needed, builds, and starts switchyard on 127.0.0.1:9300 in front of the fake
# upstream (a stand-in for a GPU server) on 127.0.0.1:8001, using examples/quickstart.yaml.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/build.sh

build/bin/fake-upstream --listen 127.0.0.1:8001 --model Qwen/Qwen2.5-7B-Instruct --gap-ms 20 &
fake_pid=$!
trap 'kill $fake_pid 2>/dev/null || true' EXIT

cat <<MSG

  switchyard is starting on http://127.0.0.1:9300 with examples/quickstart.yaml. In another terminal:

    curl http://127.0.0.1:9300/v1/chat/completions -H 'Content-Type: application/json' \\
      -d '{"model":"qwen-7b","messages":[{"role":"user","content":"Hello!"}]}'

MSG
build/bin/switchyard --config examples/quickstart.yaml
