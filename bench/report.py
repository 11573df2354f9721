#!/usr/bin/env python3
"""Turns the raw runs recorded by bench/run.sh into the results JSON and a readable table.

Every figure is the median over rounds; "added" figures (proxy minus direct) are computed per round from
runs that ran next to each other and then take the median. Raw rounds are kept in the JSON.
Standard library only.
"""
import argparse
import json
import statistics
import sys

TARGETS = ("direct", "nginx", "switchyard")
OTHER_LOAD_LIMIT = 10  # % of the machine used by something else during a run that makes it "disturbed"
PROXIES = ("nginx", "switchyard")

# (name, scenario, how to get the value from the results, comparison, limit, unit)
CHECKS = [
    ("non-streaming throughput >= 0.9x nginx", "chat", lambda r: ratio(r, "chat", "rps"), ">=", 0.9, "x"),
    ("streaming throughput >= 0.9x nginx", "stream", lambda r: ratio(r, "stream", "rps"), ">=", 0.9, "x"),
    ("added latency p50 at 1 connection <= 50 us", "latency",
     lambda r: added(r, "latency", "switchyard", "p50_us"), "<=", 50, "us"),
    ("2,000 streams: added inter-chunk gap p99 <= 2 ms", "streams",
     lambda r: added(r, "streams", "switchyard", "gap_p99_us"), "<=", 2000, "us"),
    ("2,000 streams: switchyard RSS <= 150 MB", "streams",
     lambda r: r.get("switchyard_peak_rss_mb"), "<=", 150, "MB"),
    ("Anthropic stream via /v1/messages >= 0.7x nginx stream", "anthropic_stream",
     lambda r: r.get("translated", {}).get("anthropic_stream", {}).get("ratio_to_nginx_stream"), ">=", 0.7, "x"),
    ("Anthropic stream, 1 connection: added p50 <= 100 us", "anthropic_latency",
     lambda r: added(r, "anthropic_latency", "switchyard", "p50_us"), "<=", 100, "us"),
]
SCENARIOS = ("chat", "latency", "stream", "streams", "anthropic_stream", "anthropic_latency")


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(res, scenario, metric):
    m = res["scenarios"].get(scenario, {}).get("median", {})
    a, b = m.get("switchyard", {}).get(metric), m.get("nginx", {}).get(metric)
    return a / b if a is not None and b else None


def added(res, scenario, target, metric):
    return res["scenarios"].get(scenario, {}).get("added", {}).get(target, {}).get(metric)


def wrk_metrics(run):
    r = run["result"]
    lat = r["latency_us"]
    errors = sum(r["errors"].values())
    return {
        "rps": r["rps"],
        "p50_us": lat["p50"],
        "p99_us": lat["p99"],
        "mean_us": lat["mean"],
        "errors": errors,
        "requests": r["requests"],
        "cpu_us_per_req": run["proxy_cpu_s"] * 1e6 / r["requests"] if r["requests"] else None,
        "other_load_pct": run.get("machine", {}).get("other_pct"),
    }


def stream_metrics(run):
    r = run["result"]
    t, g = r.get("ttft_us", {}), r.get("gap_us", {})
    return {
        "completed": r["completed"],
        "failed": r["failed"],
        "unfinished": r.get("unfinished", 0),
        "streams_per_s": r["streams_per_s"],
        "ttft_p50_us": t.get("p50"),
        "ttft_p99_us": t.get("p99"),
        "ttft_max_us": t.get("max"),
        "gap_p50_us": g.get("p50"),
        "gap_p99_us": g.get("p99"),
        "gap_max_us": g.get("max"),
        "rss_peak_mb": run["rss_peak_kb"] / 1024,
        "vm_hwm_mb": run["vm_hwm_kb"] / 1024,
        "cpu_us_per_event": run["proxy_cpu_s"] * 1e6 / r["events"] if r.get("events") else None,
        "load_generator_cpu_s": r.get("cpu_s"),
        "other_load_pct": run.get("machine", {}).get("other_pct"),
    }


def per_round(runs, scenario, target):
    """(round, wrk metrics) of one scenario and target."""
    return [(r["round"], wrk_metrics(r)) for r in runs if r["scenario"] == scenario and r["target"] == target]


def clean(metrics):
    other = metrics.get("other_load_pct")
    return other is None or other < OTHER_LOAD_LIMIT


def build(runs, meta):
    res = {"meta": meta, "scenarios": {}}
    for scenario in SCENARIOS:
        rs = [r for r in runs if r["scenario"] == scenario]
        if not rs:
            continue
        extract = stream_metrics if scenario == "streams" else wrk_metrics
        per_target = {}
        for r in rs:
            per_target.setdefault(r["target"], []).append((r["round"], extract(r)))
        # Runs during which something else used the machine are left out of the median when at least
        # one undisturbed run of that target exists; the JSON says which rounds were used.
        med = {}
        for t, items in per_target.items():
            use = [(rnd, m) for rnd, m in items if clean(m)] or items
            keys = items[0][1].keys()
            med[t] = {k: median([m[k] for _, m in use]) for k in keys}
            med[t]["rounds"] = len(items)
            med[t]["rounds_used"] = [rnd for rnd, _ in use]
        # Added over direct, per round (runs made seconds apart), then the median; rounds where both
        # runs were undisturbed are preferred in the same way.
        add = {}
        direct = dict(per_target.get("direct", []))
        metrics = ("p50_us", "p99_us") if scenario != "streams" else (
            "ttft_p50_us", "ttft_p99_us", "gap_p50_us", "gap_p99_us")
        for t in PROXIES:
            if t not in per_target or not direct:
                continue
            pairs = [(rnd, m, direct[rnd]) for rnd, m in per_target[t] if rnd in direct]
            pairs = [x for x in pairs if clean(x[1]) and clean(x[2])] or pairs
            rounds = {}
            for _, m, d in pairs:
                for k in metrics:
                    if m[k] is not None and d[k] is not None:
                        rounds.setdefault(k, []).append(m[k] - d[k])
            add[t] = {k: median(v) for k, v in rounds.items()}
            add[t]["per_round"] = rounds
            add[t]["rounds_used"] = [rnd for rnd, _, _ in pairs]
        res["scenarios"][scenario] = {"median": med, "added": add, "rounds": rs}

    hwm = meta.get("switchyard_vm_hwm_kb") or 0
    sampled = [r["rss_peak_kb"] for r in runs if r["scenario"] == "streams" and r["target"] == "switchyard"]
    res["switchyard_peak_rss_mb"] = max([hwm] + sampled) / 1024 if (hwm or sampled) else None

    res["ratios"] = {}
    for scenario in ("chat", "stream"):
        m = res["scenarios"].get(scenario, {}).get("median", {})
        rr = {}
        for a, b in (("switchyard", "nginx"), ("switchyard", "direct"), ("nginx", "direct")):
            if a in m and b in m and m[b]["rps"]:
                rr[f"{a}/{b}"] = m[a]["rps"] / m[b]["rps"]
        res["ratios"][scenario] = rr

    # The translated path (Anthropic client -> /v1/messages -> OpenAI upstream) has no nginx run of its
    # own: its throughput is compared per round with the stream scenario's runs (nginx passing the OpenAI
    # stream through, and Switchyard proxying it untranslated), then the median is taken.
    res["translated"] = {}
    a = {rnd: m for rnd, m in per_round(runs, "anthropic_stream", "switchyard")}
    if a:
        tr = {}
        for base, key in (("nginx", "ratio_to_nginx_stream"), ("switchyard", "ratio_to_switchyard_stream"),
                          ("direct", "ratio_to_direct_stream")):
            b = dict(per_round(runs, "stream", base))
            pairs = [(rnd, a[rnd], b[rnd]) for rnd in a if rnd in b and b[rnd]["rps"]]
            pairs = [x for x in pairs if clean(x[1]) and clean(x[2])] or pairs
            if pairs:
                tr[key] = median([x[1]["rps"] / x[2]["rps"] for x in pairs])
                tr[key + "_per_round"] = {str(x[0]): x[1]["rps"] / x[2]["rps"] for x in pairs}
                tr[key + "_rounds_used"] = [x[0] for x in pairs]
        def cpu(ms):  # median CPU per stream over the undisturbed runs (all runs when none is)
            return median([m["cpu_us_per_req"] for m in ([m for m in ms if clean(m)] or ms)])
        cpu_a = cpu(list(a.values()))
        cpu_s = cpu([m for _, m in per_round(runs, "stream", "switchyard")])
        if cpu_a is not None and cpu_s is not None:
            tr["translation_cpu_us_per_stream"] = cpu_a - cpu_s
        res["translated"]["anthropic_stream"] = tr

    checks = []
    n = meta.get("streams", 2000)
    for name, scenario, get, op, limit, unit in CHECKS:
        value = get(res) if scenario in res["scenarios"] else None
        ok = None if value is None else (value >= limit if op == ">=" else value <= limit)
        check = {"target": name, "value": value, "limit": limit, "unit": unit, "pass": ok}
        if scenario == "streams" and n != 2000:
            # The target is defined for 2,000 streams; a smaller run says little about it.
            check["note"] = f"measured with {n:,} streams"
        checks.append(check)
    res["checks"] = checks
    return res


def fmt(v, nd=0):
    if v is None:
        return "-"
    if isinstance(v, float) and nd == 0:
        return f"{v:,.0f}"
    return f"{v:,.{nd}f}"


def table(res):
    meta = res["meta"]
    mach = meta["machine"]
    out = []
    p = out.append
    p("")
    p(f"Switchyard benchmark  {meta['started']}  {'QUICK (smoke test) ' if meta['quick'] else ''}"
      f"median of {meta['rounds']} round(s), targets interleaved")
    p(f"machine: {mach['nproc']} cores, {mach['cpu']}, kernel {mach['kernel']}; "
      "load generator, fake upstream and proxy share the cores")
    p(f"fake upstream threads {meta['upstream_threads']}, proxy workers {meta['proxy_workers']}, "
      f"wrk {meta['wrk_duration_s']:g} s per run")
    busy = meta.get("background_cpu_busy_pct_before_rounds") or []
    if busy:
        p(f"other load on the machine before each round: {', '.join(f'{b}%' for b in busy)}"
          + ("  <- WARNING: not a quiet machine, figures are noisy" if max(busy) > 10 else ""))
    sc = res["scenarios"]

    def note_dropped(m, targets):
        dropped = {t: m[t]["rounds_used"] for t in targets if len(m[t]["rounds_used"]) < m[t]["rounds"]}
        if dropped:
            p("  (disturbed runs left out; rounds used: "
              + ", ".join(f"{t} {','.join(map(str, r))}" for t, r in dropped.items()) + ")")

    def wrk_block(key, title):
        if key not in sc:
            return
        m = sc[key]["median"]
        targets = [t for t in TARGETS if t in m]
        p("")
        head = f"{title:<44}" + "".join(f"{t:>12}" for t in targets)
        r = res["ratios"].get(key, {})
        extra = [k for k in ("switchyard/nginx", "switchyard/direct", "nginx/direct") if k in r]
        p(head + "".join(f"{k:>19}" for k in extra))
        p(f"{'  requests/s':<44}" + "".join(f"{fmt(m[t]['rps']):>12}" for t in targets)
          + "".join(f"{fmt(r[k], 3):>19}" for k in extra))
        p(f"{'  latency p50 (us)':<44}" + "".join(f"{fmt(m[t]['p50_us']):>12}" for t in targets))
        p(f"{'  latency p99 (us)':<44}" + "".join(f"{fmt(m[t]['p99_us']):>12}" for t in targets))
        p(f"{'  CPU per request (us; direct = upstream)':<44}"
          + "".join(f"{fmt(m[t]['cpu_us_per_req'], 1):>12}" for t in targets))
        p(f"{'  other load on the machine (%)':<44}" + "".join(f"{fmt(m[t]['other_load_pct']):>12}" for t in targets))
        note_dropped(m, targets)
        errs = {t: m[t]["errors"] for t in targets if m[t]["errors"]}
        if errs:
            p(f"  WARNING: errors (median per run): {errs}")

    wrk_block("chat", "non-streaming chat, 64 connections")
    wrk_block("stream", "streaming, 20 chunks, 64 connections")

    def latency_block(key, title, footnote=None):
        if key not in sc:
            return
        m = sc[key]["median"]
        a = sc[key]["added"]
        targets = [t for t in TARGETS if t in m]
        p("")
        if any(r.get("pinned") for r in sc[key]["rounds"]):
            title += ", on CPU 0"
        p(f"{title:<44}" + "".join(f"{t:>12}" for t in targets)
          + "".join(f"{t + '-direct':>19}" for t in PROXIES if t in a))
        for k, label in (("p50_us", "  latency p50 (us)"), ("p99_us", "  latency p99 (us)")):
            p(f"{label:<44}" + "".join(f"{fmt(m[t][k]):>12}" for t in targets)
              + "".join(f"{fmt(a[t].get(k)):>19}" for t in PROXIES if t in a))
        p(f"{'  requests/s':<44}" + "".join(f"{fmt(m[t]['rps']):>12}" for t in targets))
        p(f"{'  CPU per request (us; direct = upstream)':<44}"
          + "".join(f"{fmt(m[t]['cpu_us_per_req'], 1):>12}" for t in targets))
        p(f"{'  other load on the machine (%)':<44}" + "".join(f"{fmt(m[t]['other_load_pct']):>12}" for t in targets))
        if footnote:
            p(footnote)
        note_dropped(m, targets)

    latency_block("latency", "non-streaming chat, 1 connection")

    if "anthropic_stream" in sc:
        m = sc["anthropic_stream"]["median"]
        base = sc.get("stream", {}).get("median", {})
        tr = res["translated"].get("anthropic_stream", {})
        p("")
        cols = [("switchyard", m.get("switchyard"))] + [
            (f"{t} (OpenAI)", base.get(t)) for t in ("nginx", "switchyard") if t in base]
        ratios = [(k, tr.get(key)) for k, key in (("/nginx", "ratio_to_nginx_stream"),
                                                  ("/switchyard OpenAI", "ratio_to_switchyard_stream"))
                  if tr.get(key) is not None]
        title = "Anthropic stream via /v1/messages, 64 conn."
        p(f"{title:<44}" + "".join(f"{c:>20}" for c, _ in cols) + "".join(f"{k:>19}" for k, _ in ratios))
        for k, label, nd in (("rps", "  requests/s", 0), ("p50_us", "  latency p50 (us)", 0),
                             ("p99_us", "  latency p99 (us)", 0), ("cpu_us_per_req", "  CPU per request (us)", 1),
                             ("other_load_pct", "  other load on the machine (%)", 0)):
            p(f"{label:<44}" + "".join(f"{fmt(v[k] if v else None, nd):>20}" for _, v in cols)
              + ("".join(f"{fmt(v, 3):>19}" for _, v in ratios) if k == "rps" else ""))
        if tr.get("translation_cpu_us_per_stream") is not None:
            p(f"  translation's CPU per stream (Anthropic minus OpenAI through switchyard): "
              f"{tr['translation_cpu_us_per_stream']:.1f} us")
        p("  (OpenAI columns: the stream scenario's runs; ratios are per round, then the median)")
        note_dropped(m, [t for t in TARGETS if t in m])
        if m.get("switchyard", {}).get("errors"):
            p(f"  WARNING: errors (median per run): {m['switchyard']['errors']}")

    latency_block("anthropic_latency", "Anthropic stream, 1 connection",
                  "  (direct: the equivalent OpenAI stream straight to the upstream; switchyard: the Anthropic one)")

    if "streams" in sc:
        m = sc["streams"]["median"]
        a = sc["streams"]["added"]
        targets = [t for t in TARGETS if t in m]
        p("")
        title = f"{meta['streams']:,} concurrent streams, 50 ms gap, {meta['streams_duration_s']:g} s"
        p(f"{title:<44}"
          + "".join(f"{t:>12}" for t in targets) + "".join(f"{t + '-direct':>19}" for t in PROXIES if t in a))
        p(f"{'  streams completed / failed':<44}"
          + "".join(f"{fmt(m[t]['completed']) + '/' + fmt(m[t]['failed']):>12}" for t in targets))
        for k, label in (("ttft_p50_us", "  time to first token p50 (us)"),
                         ("ttft_p99_us", "  time to first token p99 (us)"),
                         ("gap_p50_us", "  inter-chunk gap p50 (us)"),
                         ("gap_p99_us", "  inter-chunk gap p99 (us)")):
            p(f"{label:<44}" + "".join(f"{fmt(m[t][k]):>12}" for t in targets)
              + "".join(f"{fmt(a[t].get(k)):>19}" for t in PROXIES if t in a))
        p(f"{'  inter-chunk gap max (us)':<44}" + "".join(f"{fmt(m[t]['gap_max_us']):>12}" for t in targets))
        p(f"{'  RSS peak sampled (MB; direct = upstreams)':<44}"
          + "".join(f"{fmt(m[t]['rss_peak_mb'], 1):>12}" for t in targets))
        p(f"{'  CPU per chunk (us)':<44}" + "".join(f"{fmt(m[t]['cpu_us_per_event'], 2):>12}" for t in targets))
        p(f"{'  load generator CPU (s)':<44}" + "".join(f"{fmt(m[t]['load_generator_cpu_s'], 1):>12}" for t in targets))
        p(f"{'  other load on the machine (%)':<44}" + "".join(f"{fmt(m[t]['other_load_pct']):>12}" for t in targets))
        note_dropped(m, targets)
        bad = {t: (m[t]["failed"], m[t]["unfinished"]) for t in targets if m[t]["failed"] or m[t]["unfinished"]}
        if bad:
            p(f"  WARNING: failed/unfinished streams (median per run): {bad}")

    others = [r.get("machine", {}).get("other_pct") for v in sc.values() for r in v["rounds"]]
    others = [o for o in others if o is not None]
    if others and max(others) >= 10:
        p("")
        p(f"WARNING: something else used up to {max(others):.0f}% of the machine during some runs "
          f"(rows 'other load'); runs over {OTHER_LOAD_LIMIT}% are left out of the medians where an "
          "undisturbed run of the same target exists.")

    if res.get("switchyard_peak_rss_mb") is not None:
        p("")
        p(f"switchyard peak RSS over the whole run (VmHWM): {res['switchyard_peak_rss_mb']:.1f} MB")

    p("")
    p("targets")
    for c in res["checks"]:
        verdict = "n/a " if c["pass"] is None else ("PASS" if c["pass"] else "MISS")
        v = "-" if c["value"] is None else (f"{c['value']:.3f}" if c["unit"] == "x" else f"{c['value']:.1f}")
        note = f"  ({c['note']})" if c.get("note") else ""
        p(f"  {verdict}  {c['target']:<50} {v} {c['unit'] if c['value'] is not None else ''}{note}")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True, help="runs.jsonl written by bench/run.sh")
    ap.add_argument("--meta", required=True, help="JSON object describing the run")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    runs = [json.loads(line) for line in open(args.runs) if line.strip()]
    if not runs:
        sys.exit("report: no runs recorded")
    res = build(runs, json.loads(args.meta))
    with open(args.out, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    print(table(res))
    print(f"\nresults: {args.out}")


if __name__ == "__main__":
    main()
