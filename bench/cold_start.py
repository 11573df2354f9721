#!/usr/bin/env python3
"""Cold-start benchmark: what the gateway adds to a local model's load.

A local model (the fake upstream in its llama-server mode, answering 503 "Loading model" for
--load-ms after it starts) is unloaded; one streaming request arrives. Measured: the time from
sending the request to its first token, minus the configured load time. That difference is the
gateway's own cold-start overhead: reading the config's estimate, placing the model, forking the
server, the readiness polling granularity, waking the waiting request and relaying its first token
(target: at most 20 ms). The model is ejected between runs, so every run is a cold start.

Also measured, for comparison: the same request once the model is loaded (warm time to first token).

Usage: bench/cold_start.py [--build-dir build] [--runs 10] [--load-ms 500] [--out FILE.json]
Loopback only. Needs the build's bin/fake-upstream and bin/switchyard.
"""

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BODY = json.dumps({"model": "cold", "stream": True, "messages": [{"role": "user", "content": "hi"}]})


def start_gateway(binary, config_path, log):
    proc = subprocess.Popen([binary, "--config", config_path], stdout=subprocess.PIPE, stderr=log, text=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        match = re.search(r"listening on http://[^:]+:(\d+)", proc.stdout.readline() or "")
        if match:
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, int(match.group(1))
    proc.kill()
    sys.exit("switchyard did not start")


def get_json(port, path, method="GET", body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return json.loads(data)


def first_token_ms(port):
    """Sends the streaming request; milliseconds until the first content chunk has arrived."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body=BODY, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    if response.status != 200:
        sys.exit(f"request failed: {response.status} {response.read()[:300]!r}")
    first = None
    buffer = b""
    while True:
        piece = response.read1(65536)
        if not piece:
            break
        buffer += piece
        if first is None and b'"content":"tok' in buffer:
            first = (time.perf_counter() - started) * 1000
    conn.close()
    if first is None:
        sys.exit("no token in the answer")
    return first


def wait_status(port, wanted, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if get_json(port, "/v1/models/cold/status")["status"] == wanted:
            return
        time.sleep(0.01)
    sys.exit(f"model never became {wanted}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--load-ms", type=int, default=500)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    bin_dir = os.path.join(REPO, args.build_dir, "bin")
    tmp = tempfile.mkdtemp(prefix="switchyard-cold-")
    model = os.path.join(tmp, "cold.gguf")
    with open(model, "w") as f:
        f.write("stands in for a GGUF file\n")
    config = {
        "listen": "127.0.0.1:0",
        "logging": {"level": "warn"},
        "local": {
            "llama_server_path": os.path.join(bin_dir, "fake-upstream"),
            "state_dir": os.path.join(tmp, "state"),
            "idle_timeout_sec": 0,
            "fake_gpus": [{"name": "bench", "total_mib": 24000}],
        },
        "models": {
            "cold": {
                "local": {
                    "model_path": model,
                    "vram_mib": 4000,
                    "params": {"parallel": 1},
                    "env": {"FAKE_LLAMA_LOAD_MS": str(args.load_ms), "FAKE_LLAMA_TOKENS": "4"},
                }
            }
        },
    }
    config_path = os.path.join(tmp, "switchyard.json")
    with open(config_path, "w") as f:
        json.dump(config, f)
    with open(os.path.join(tmp, "switchyard.log"), "w") as log:
        gateway, port = start_gateway(os.path.join(bin_dir, "switchyard"), config_path, log)
        try:
            cold, warm = [], []
            for _ in range(args.runs):
                wait_status(port, "off")
                cold.append(first_token_ms(port) - args.load_ms)
                warm.append(first_token_ms(port))
                get_json(port, "/v1/models/eject", "POST", json.dumps({"model": "cold"}))
        finally:
            gateway.terminate()
            gateway.wait(timeout=15)
    result = {
        "runs": args.runs,
        "load_ms": args.load_ms,
        "cold_overhead_ms": {"median": statistics.median(cold), "max": max(cold), "min": min(cold), "all": cold},
        "warm_first_token_ms": {"median": statistics.median(warm), "max": max(warm)},
        "target_ms": 20,
        "pass": statistics.median(cold) <= 20,
    }
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
