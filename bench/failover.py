#!/usr/bin/env python3
"""Failover benchmark: three fake upstreams behind one alias, one of them SIGKILLed mid-run.

Measures, in one run:
  - throughput through one deployment and through three (round robin), wrk at 64 connections,
    interleaved over --rounds rounds: the three-deployment figure should be >= 0.9x the single one;
  - with one of the three killed during a wrk run: failed requests (non-2xx or socket errors seen by
    wrk; target 0) and the time from the first failed attempt at the killed deployment to its circuit
    opening, after which no request goes there (target <= 100 ms). /stats is polled every 2 ms, so
    that time is known to about +-2 ms.

Usage: bench/failover.py [--build-dir build] [--rounds 2] [--duration 8] [--out FILE.json]
Loopback only. Needs wrk and the build's bin/fake-upstream and bin/switchyard.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BODY = '{"model":"%s","messages":[{"role":"user","content":"hi"}]}'


def start(cmd, log):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        line = proc.stdout.readline()
        match = re.search(r"listening on http://[^:]+:(\d+)", line or "")
        if match:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep draining
            return proc, int(match.group(1))
        if proc.poll() is not None:
            break
    raise SystemExit(f"failover: {cmd[0]} did not start (see {log.name})")


def wrk(url, model, duration, connections=64):
    env = dict(os.environ, BENCH_BODY=BODY % model)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s",
         os.path.join(REPO, "bench", "chat.lua"), url],
        capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.split("WRK_JSON ", 1)[1].splitlines()[0])


def cpu_seconds(pid):
    """User + system CPU time of a process, all threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured_wrk(url, model, duration, pid):
    """wrk, plus the gateway's CPU time per request during the run (microseconds)."""
    before = cpu_seconds(pid)
    run = wrk(url, model, duration)
    run["gateway_cpu_us_per_request"] = (cpu_seconds(pid) - before) * 1e6 / max(run["requests"], 1)
    return run


def get_json(url):
    with urllib.request.urlopen(url, timeout=2) as response:
        return json.load(response)


class StatsPoller(threading.Thread):
    """Samples the killed deployment's error count and circuit state every 2 ms."""

    def __init__(self, url, deployment):
        super().__init__(daemon=True)
        self.url, self.deployment, self.samples, self.stop = url, deployment, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                stats = get_json(self.url)
                for d in stats["models"]["triple"]["deployments"]:
                    if d["name"] == self.deployment:
                        self.samples.append((time.monotonic(), d["errors"], d["circuit"]))
            except Exception:  # noqa: BLE001 - a missed sample is only a coarser measurement
                pass
            time.sleep(0.002)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--out", default=os.path.join(REPO, "bench", "results", "failover.json"))
    args = parser.parse_args()
    bin_dir = os.path.join(args.build_dir, "bin")
    tmp = tempfile.mkdtemp(prefix="switchyard-failover-")
    log = open(os.path.join(tmp, "processes.log"), "w")
    procs = []
    try:
        fakes = []
        for i in range(3):
            proc, port = start([os.path.join(bin_dir, "fake-upstream"), "--listen", "127.0.0.1:0",
                                "--model", "fake-model", "--tokens", "20"], log)
            procs.append(proc)
            fakes.append((proc, port))
        upstreams = "".join(
            f"  gpu{i}:\n    kind: openai\n    base_url: http://127.0.0.1:{port}/v1\n    health: false\n"
            for i, (_, port) in enumerate(fakes))
        config = (f"listen: 127.0.0.1:0\nworkers: {os.cpu_count()}\nlogging: {{ level: warn }}\n"
                  f"upstreams:\n{upstreams}models:\n"
                  "  single:\n    deployments:\n      - { upstream: gpu0, model: fake-model }\n"
                  "  triple:\n    strategy: round_robin\n    deployments:\n"
                  + "".join(f"      - {{ upstream: gpu{i}, model: fake-model }}\n" for i in range(3)))
        config_path = os.path.join(tmp, "switchyard.yaml")
        with open(config_path, "w") as f:
            f.write(config)
        gateway, gw_port = start([os.path.join(bin_dir, "switchyard"), "--config", config_path], log)
        procs.append(gateway)
        base = f"http://127.0.0.1:{gw_port}"
        url = f"{base}/v1/chat/completions"
        wrk(url, "triple", 1)  # warm up every pool

        single, triple = [], []
        for r in range(args.rounds):
            single.append(measured_wrk(url, "single", args.duration, gateway.pid))
            triple.append(measured_wrk(url, "triple", args.duration, gateway.pid))
            print(f"failover: round {r + 1}: single {single[-1]['rps']:,.0f} req/s "
                  f"({single[-1]['gateway_cpu_us_per_request']:.1f} us CPU/request), three deployments "
                  f"{triple[-1]['rps']:,.0f} req/s ({triple[-1]['gateway_cpu_us_per_request']:.1f} us)", flush=True)

        poller = StatsPoller(f"{base}/stats", "gpu1")
        poller.start()
        victim = fakes[1][0]
        killer = threading.Timer(args.duration / 3, lambda: victim.send_signal(signal.SIGKILL))
        killer.start()
        kill_run = wrk(url, "triple", args.duration)
        poller.stop.set()
        poller.join()

        errors = kill_run["errors"]
        failed = errors["status"] + errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
        first_error = next((t for t, e, _ in poller.samples if e > 0), None)
        opened = next((t for t, _, c in poller.samples if c != "closed"), None)
        errors_at_kill = poller.samples[-1][1] if poller.samples else None
        move_ms = (opened - first_error) * 1000 if first_error and opened else None
        middle = lambda runs, key: sorted(x[key] for x in runs)[len(runs) // 2]  # noqa: E731
        single_rps, triple_rps = middle(single, "rps"), middle(triple, "rps")
        single_cpu = middle(single, "gateway_cpu_us_per_request")
        triple_cpu = middle(triple, "gateway_cpu_us_per_request")
        result = {
            "single_rps": single_rps,
            "triple_rps": triple_rps,
            "triple_over_single": triple_rps / single_rps,
            "gateway_cpu_us_per_request": {"single": single_cpu, "triple": triple_cpu},
            "kill_run": kill_run,
            "failed_requests": failed,
            "failed_attempts_at_killed_deployment": errors_at_kill,
            "time_to_move_ms": move_ms,
            "rounds": {"single": single, "triple": triple},
            "machine": {"cores": os.cpu_count()},
        }
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
        verdict = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
        print(f"\nfailover benchmark, {args.rounds} round(s) of {args.duration} s, 64 connections")
        print(f"  one deployment       {single_rps:>10,.0f} req/s   gateway CPU {single_cpu:.1f} us/request")
        print(f"  three deployments    {triple_rps:>10,.0f} req/s   gateway CPU {triple_cpu:.1f} us/request   "
              f"ratio {triple_rps / single_rps:.3f}")
        print(f"  run with gpu1 killed {kill_run['rps']:>10,.0f} req/s, {kill_run['requests']:,} requests")
        print(f"  {verdict(failed == 0)}  failed requests: {failed} (target 0)")
        if move_ms is None:
            print("  MISS  time to move traffic: not observed")
        else:
            shown = f"{move_ms:.1f} ms" if move_ms >= 2 else "under 2 ms (one poll)"
            print(f"  {verdict(move_ms <= 100)}  time from first failed attempt to circuit open: {shown} "
                  f"(target <= 100; {errors_at_kill} failed attempts, all retried)")
        print(f"  {verdict(triple_rps >= 0.9 * single_rps)}  three deployments >= 0.9x one: "
              f"{triple_rps / single_rps:.3f}x")
        print(f"results: {args.out}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        log.close()


if __name__ == "__main__":
    sys.exit(main())
