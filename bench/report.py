#!/usr/bin/env python3
"""Helpers for bench/run.sh.

  report.py wrk FILE              parse wrk --latency output -> JSON on stdout
  report.py merge FILE k=v ...    add numeric/string fields to a JSON object file
  report.py threads BEFORE AFTER CLK_TCK  per-thread CPU seconds between two
                                  "tid comm ticks" snapshots -> JSON list
  report.py summary DIR OUT.json  assemble DIR/*.json into OUT.json, print Markdown
"""
import json
import os
import re
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def to_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        return None
    return float(m.group(1)) * UNITS[m.group(2)]


def parse_wrk(path):
    out = {"rps": None, "p50_ms": None, "p75_ms": None, "p90_ms": None, "p99_ms": None,
           "avg_ms": None, "requests": None, "duration_s": None, "non_2xx": 0,
           "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}}
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    in_dist = False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("Latency Distribution"):
            in_dist = True
            continue
        if in_dist:
            m = re.fullmatch(r"(\d+)%\s+(\S+)", s)
            if m:
                out["p%s_ms" % m.group(1)] = to_ms(m.group(2))
                continue
            in_dist = False
        m = re.match(r"Latency\s+(\S+)\s+", s)
        if m and out["avg_ms"] is None:
            out["avg_ms"] = to_ms(m.group(1))
        m = re.match(r"(\d+) requests in ([0-9.]+)(\w+)", s)
        if m:
            out["requests"] = int(m.group(1))
            out["duration_s"] = to_ms(m.group(2) + m.group(3)) / 1000.0
        m = re.match(r"Requests/sec:\s+([0-9.]+)", s)
        if m:
            out["rps"] = float(m.group(1))
        m = re.match(r"Non-2xx or 3xx responses:\s+(\d+)", s)
        if m:
            out["non_2xx"] = int(m.group(1))
        m = re.match(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", s)
        if m:
            out["socket_errors"] = dict(zip(["connect", "read", "write", "timeout"], map(int, m.groups())))
    return out


def merge(path, pairs):
    with open(path, encoding="utf-8") as f:
        obj = json.load(f)
    for p in pairs:
        k, _, v = p.partition("=")
        try:
            obj[k] = json.loads(v)
        except ValueError:
            obj[k] = v
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, sort_keys=True)


def threads(before, after, hz):
    def load(p):
        d = {}
        try:
            with open(p, encoding="utf-8") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3:
                        d[int(parts[0])] = (" ".join(parts[1:-1]), int(parts[-1]))
        except OSError:
            pass
        return d
    a, b = load(before), load(after)
    out = []
    for i, tid in enumerate(sorted(b)):
        name, t1 = b[tid]
        t0 = a.get(tid, (name, 0))[1]
        if t1 - t0 > 0:
            out.append({"thread": "%s#%d" % (name, i), "tid": tid, "cpu_s": round((t1 - t0) / hz, 2)})
    out.sort(key=lambda x: -x["cpu_s"])
    return out


def fmt(v, nd=1, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return ("%%.%df" % nd) % v + unit
    return str(v) + unit


def summary(d, out_path):
    res = {}
    for name in sorted(os.listdir(d)):
        if name.endswith(".json"):
            with open(os.path.join(d, name), encoding="utf-8") as f:
                try:
                    res[name[:-5]] = json.load(f)
                except ValueError as e:
                    res[name[:-5]] = {"parse_error": str(e)}
    # Derived comparisons.
    comp = {}
    for c in ("c1", "c64"):
        a, b = res.get("wrk_direct_" + c), res.get("wrk_gateway_" + c)
        if a and b and a.get("rps") and b.get("rps") is not None:
            comp["wrk_" + c] = {
                "gateway_rps_pct_of_direct": 100.0 * b["rps"] / a["rps"],
                "added_p50_ms": (b["p50_ms"] or 0) - (a["p50_ms"] or 0),
                "added_p99_ms": (b["p99_ms"] or 0) - (a["p99_ms"] or 0),
            }
    for n in ("1000", "10000"):
        a, b = res.get("stream_direct_" + n), res.get("stream_gateway_" + n)
        if a and b:
            comp["stream_" + n] = {
                "added_ttfb_p50_ms": b["ttfb_ms"]["p50"] - a["ttfb_ms"]["p50"],
                "added_ttfb_p99_ms": b["ttfb_ms"]["p99"] - a["ttfb_ms"]["p99"],
            }
    res["comparison"] = comp
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1, sort_keys=True)

    meta = res.get("meta", {})
    st = res.get("startup", {})
    L = []
    L.append("## ModelGate benchmark")
    L.append("")
    L.append("- date: %s" % meta.get("date", "?"))
    L.append("- commit: %s%s" % (meta.get("commit", "?"), " (dirty tree)" if meta.get("dirty") else ""))
    L.append("- nproc: %s; CPU: %s" % (meta.get("nproc", "?"), meta.get("cpu", "?")))
    L.append("- host CPU busy before the run: %s%% (other processes; 0-5%% is a quiet machine)" % meta.get("host_busy_pct_before", "?"))
    L.append("- open-file limit: %s (hard %s); wrk duration %s; gateway threads: default (= cores)"
             % (meta.get("nofile", "?"), meta.get("nofile_hard", "?"), meta.get("duration", "?")))
    L.append("- upstreams: nginx %s (canned JSON), stream_upstream (%s chunks every %s ms)"
             % (meta.get("nginx_version", "?"), meta.get("chunks", "?"), meta.get("interval_ms", "?")))
    L.append("")
    L.append("### Non-streaming (wrk, POST /v1/chat/completions)")
    L.append("")
    L.append("| connections | direct req/s | gateway req/s | gateway % of direct | direct p50 | gateway p50 | direct p99 | gateway p99 | added p99 | gateway non-2xx / socket errors |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for c, label in (("c1", "1"), ("c64", "64")):
        a, b = res.get("wrk_direct_" + c), res.get("wrk_gateway_" + c)
        if not a or not b:
            L.append("| %s | not run | | | | | | | | |" % label)
            continue
        cp = comp.get("wrk_" + c, {})
        se = b.get("socket_errors", {})
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | +%s | %s / %s |" % (
            label, fmt(a["rps"], 0), fmt(b["rps"], 0), fmt(cp.get("gateway_rps_pct_of_direct"), 1, "%"),
            fmt(a["p50_ms"], 3, " ms"), fmt(b["p50_ms"], 3, " ms"), fmt(a["p99_ms"], 3, " ms"), fmt(b["p99_ms"], 3, " ms"),
            fmt(cp.get("added_p99_ms"), 3, " ms"), b.get("non_2xx", 0), sum(se.values()) if se else 0))
    L.append("")
    L.append("### Streaming (stream_load, one connection per stream)")
    L.append("")
    L.append("| streams | target | completed | errors | TTFB p50 | TTFB p90 | TTFB p99 | TTFB max | connect p99 | first byte -> end p50 | stream p50 | wall s | listen overflows | gateway peak RSS (sampled / VmHWM), peak fds | CPU s: gateway / upstream / load |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in ("1000", "10000"):
        for t in ("direct", "gateway"):
            r = res.get("stream_%s_%s" % (t, n))
            if not r:
                if n == "10000" and meta.get("skip_10k"):
                    L.append("| %s | %s | skipped (BENCH_SKIP_10K=1) | | | | | | | | | | | | |" % (n, t))
                continue
            kinds = r.get("error_kinds") or {}
            err = str(r.get("errors", "?"))
            if kinds:
                err += " (" + ", ".join("%s %s" % (k, v) for k, v in sorted(kinds.items())) + ")"
            rss = "-"
            if t == "gateway":
                rss = "%s / %s MB, %s fds" % (fmt(r.get("peak_rss_mb"), 1), fmt(r.get("vmhwm_mb"), 1), r.get("peak_fds", "?"))
            cpu = "%s / %s / %s" % (fmt(r.get("cpu_gateway_s"), 1) if t == "gateway" else "-",
                                    fmt(r.get("cpu_upstream_s"), 1), fmt(r.get("cpu_load_s"), 1))
            tt = r.get("ttfb_ms", {})
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                n, t, r.get("completed", "?"), err, fmt(tt.get("p50"), 1, " ms"), fmt(tt.get("p90"), 1, " ms"),
                fmt(tt.get("p99"), 1, " ms"), fmt(tt.get("max"), 1, " ms"),
                fmt(r.get("connect_ms", {}).get("p99"), 0, " ms"),
                fmt(r.get("first_byte_to_end_ms", {}).get("p50"), 0, " ms"),
                fmt(r.get("stream_ms", {}).get("p50"), 0, " ms"), fmt(r.get("duration_s"), 1),
                r.get("listen_overflows", "?"), rss, cpu))
    L.append("")
    L.append("TTFB = request written -> first response body byte. connect = connect start -> connected. "
             "stream = connect start -> end of stream. The upstream paces each stream over "
             "%s chunks x %s ms = %s ms, so first byte -> end is about that when nothing lags. Listen overflows = SYNs dropped because an accept "
             "queue was full (whole network namespace, counted during the run)." % (
                 meta.get("chunks", "?"), meta.get("interval_ms", "?"),
                 (meta.get("chunks") or 0) * (meta.get("interval_ms") or 0)))
    L.append("")
    L.append("### Gateway CPU by thread (seconds during each run; #n = thread index in creation order)")
    L.append("")
    L.append("| run | wall s | gateway CPU s | busiest threads |")
    L.append("|---|---|---|---|")
    for key in ("wrk_gateway_c1", "wrk_gateway_c64", "stream_gateway_1000", "stream_gateway_10000"):
        r = res.get(key)
        if not r or "cpu_gateway_threads" not in r:
            continue
        th = ", ".join("%s %.2f" % (t["thread"], t["cpu_s"]) for t in r["cpu_gateway_threads"][:5])
        L.append("| %s | %s | %s | %s |" % (key, fmt(r.get("wall_s", r.get("duration_s")), 1), fmt(r.get("cpu_gateway_s"), 2), th))
    L.append("")
    L.append("### Footprint and logging")
    L.append("")
    L.append("| figure | value |")
    L.append("|---|---|")
    L.append("| start-up (exec -> /healthz 200, fresh SQLite data dir) | %s |" % fmt(st.get("startup_ms"), 1, " ms"))
    L.append("| idle RSS after start-up | %s |" % fmt(st.get("idle_rss_mb"), 1, " MB"))
    for n in ("1000", "10000"):
        r = res.get("stream_gateway_" + n)
        if r:
            L.append("| peak RSS during %s streams (sampled every 100 ms) | %s |" % (n, fmt(r.get("peak_rss_mb"), 1, " MB")))
    lg = res.get("logs", {})
    if lg:
        L.append("| request-log rows (logs/query total) / gateway calls made | %s / %s |" % (lg.get("total_logged", "?"), lg.get("expected_calls", "?")))
        L.append("| final VmHWM (whole run) | %s |" % fmt(lg.get("final_vmhwm_mb"), 1, " MB"))
        L.append("| gateway alive at the end | %s |" % ("yes" if lg.get("gateway_alive") else "NO"))
    print("\n".join(L))
    if lg.get("metrics"):
        print("\n/metrics (request log):\n```\n" + "\n".join(lg["metrics"]) + "\n```")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "wrk":
        json.dump(parse_wrk(sys.argv[2]), sys.stdout, sort_keys=True)
        print()
    elif len(sys.argv) >= 3 and sys.argv[1] == "merge":
        merge(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 5 and sys.argv[1] == "threads":
        print(json.dumps(threads(sys.argv[2], sys.argv[3], float(sys.argv[4]))))
    elif len(sys.argv) == 4 and sys.argv[1] == "summary":
        summary(sys.argv[2], sys.argv[3])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
