#!/usr/bin/env python3
"""Statistics at scale: fills a database with request-log rows spread over 60 days,
lets the gateway aggregate them, then times every statistics endpoint and the logs
query (p50/p95 over sequential calls, and the first call of each, which may find
nothing of the past days cached yet), the aggregation of one day of many rows, and
the /v1 latency added while that aggregation runs.

    python3 bench/stats_bench.py --backend postgresql --rows 1000000
    python3 bench/stats_bench.py --backend sqlite --rows 1000000 --day-rows 1000000

Needs a built gateway (build/core/modelgate) and, for PostgreSQL, the server
binaries (scripts/test-postgres.sh starts a throwaway one). Everything listens on
127.0.0.1; every process started here is stopped on exit. Prints a Markdown table
and writes bench/out/stats-<backend>-<rows>.json.
"""
import argparse
import http.client
import http.server
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GATEWAY = os.path.join(ROOT, "build", "core", "modelgate")
ENDPOINTS = [
    "/admin/api/stats",
    "/admin/api/stats/period?period=day",
    "/admin/api/stats/period?period=month",
    "/admin/api/stats/aggregate?dimension=api_key&period=week",
    "/admin/api/stats/aggregate?dimension=model&period=month",
    "/admin/api/stats/trend?period=day",
    "/admin/api/stats/trend?period=week&dimension=provider&name=p1",
    "/admin/api/stats/trend?period=month",
    "/admin/api/stats/trend?period=year",
    "/admin/api/stats/error-trend",
    "/admin/api/stats/monitor-details?period=week",
    "/admin/api/stats/monitor-details?period=month",
    "/admin/api/stats/realtime",
    "/admin/api/stats/slow",
    "/admin/api/keys/1/stats",
    "/admin/api/keys/1/logs",
    "/admin/api/logs/today",
    "/admin/api/logs/errors/today",
    "/admin/api/logs/all",
    "/admin/api/logs/query?time_range=24h",
    "/admin/api/logs/query?key_name=key-3&time_range=7d",
    "/admin/api/logs/query?key_name=EY-3&time_range=24h",
    "/api/public/stats",
]

# Row generator: 20 keys, 4 providers, 10 models; 90 % success, then errors,
# timeouts, rate limits; latency 200 ms - 30 s.
PG_FILL = """
INSERT INTO request_logs (request_id, api_key_id, api_key_name, provider_id, provider_name,
  model, status, prompt_tokens, completion_tokens, total_tokens, latency_ms, ttft_ms,
  created_at, updated_at)
SELECT 'bench-{tag}-' || g, 1 + g % 20, 'key-' || (1 + g % 20), 1 + g % 4, 'p' || (1 + g % 4),
  'model-' || (g % 10),
  CASE WHEN g % 100 < 90 THEN 'success' WHEN g % 100 < 95 THEN 'error'
       WHEN g % 100 < 97 THEN 'timeout' WHEN g % 100 < 99 THEN 'rate_limited'
       ELSE 'local_rate_limited' END,
  100 + g % 900, 50 + g % 500, 150 + g % 1400, 200 + (g * 7919) % 30000, 100 + g % 900, t, t
FROM (SELECT g, {start} + (g::float8 / {n}) * {span} * interval '1 second' AS t
      FROM generate_series(1::bigint, {n}) g) s
"""


def log(msg):
    print(f"[stats-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Gateway:
    def __init__(self, env, port):
        self.port = port
        self.proc = subprocess.Popen([GATEWAY], env=env, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(env["MODELGATE_DATA_DIR"], "gw.log"), "ab"))
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("the gateway did not become healthy")
        status, _, headers = self.request("POST", "/admin/api/auth/login",
                                          {"username": "bench", "password": "bench-password-1"})
        assert status == 200, status
        self.cookie = headers["set-cookie"].split(";")[0]

    def request(self, method, path, body=None, cookie=None, timeout=600):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if cookie:
            headers["Cookie"] = cookie
        conn.request(method, path, data, headers)
        r = conn.getresponse()
        payload = r.read()
        out = (r.status, payload, {k.lower(): v for k, v in r.getheaders()})
        conn.close()
        return out

    def admin(self, method, path, body=None):
        return self.request(method, path, body, self.cookie)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def percentiles(samples):
    samples = sorted(samples)
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
    return round(statistics.median(samples), 1), round(p(0.95), 1)


def fill(backend, db, n, start_s, span_s, tag):
    t0 = time.time()
    if backend == "postgresql":
        sql = PG_FILL.format(tag=tag, n=n, span=span_s,
                             start=f"to_timestamp({start_s})")
        subprocess.run(["psql", "-q", db, "-c", sql], check=True)
        # The steady state of a table autovacuum looks after: visibility map set
        # (index-only scans), statistics fresh. A VACUUM right after the insert
        # cannot yet mark its last pages all-visible, hence the pause.
        time.sleep(5)
        subprocess.run(["psql", "-q", db, "-c", "VACUUM ANALYZE request_logs"], check=True)
    else:
        con = sqlite3.connect(db)
        con.execute("PRAGMA journal_mode=WAL")
        batch = []
        for g in range(1, n + 1):
            t = start_s + g / n * span_s
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)
            r = g % 100
            status = ("success" if r < 90 else "error" if r < 95 else "timeout" if r < 97
                      else "rate_limited" if r < 99 else "local_rate_limited")
            batch.append((f"bench-{tag}-{g}", 1 + g % 20, f"key-{1 + g % 20}", 1 + g % 4,
                          f"p{1 + g % 4}", f"model-{g % 10}", status, 100 + g % 900, 50 + g % 500,
                          150 + g % 1400, 200 + (g * 7919) % 30000, 100 + g % 900, ts, ts))
            if len(batch) == 50000 or g == n:
                con.executemany(
                    "INSERT INTO request_logs (request_id, api_key_id, api_key_name, provider_id,"
                    " provider_name, model, status, prompt_tokens, completion_tokens,"
                    " total_tokens, latency_ms, ttft_ms, created_at, updated_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
                con.commit()
                batch = []
        con.execute("ANALYZE")
        con.commit()
        con.close()
    log(f"filled {n} rows in {time.time() - t0:.0f} s")


class FakeUpstream(http.server.ThreadingHTTPServer):
    """An OpenAI-compatible upstream answering a canned completion at once."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.dumps({"id": "c1", "object": "chat.completion", "created": 1,
                               "model": "m", "choices": [{"index": 0, "finish_reason": "stop",
                               "message": {"role": "assistant", "content": "hi"}}],
                               "usage": {"prompt_tokens": 5, "completion_tokens": 1,
                                         "total_tokens": 6}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    def __init__(self):
        super().__init__(("127.0.0.1", 0), FakeUpstream.Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def v1_latencies(gw, secret, stop, out):
    body = {"model": "fake/m", "messages": [{"role": "user", "content": "hi"}]}
    while not stop.is_set():
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
        t = time.perf_counter()
        conn.request("POST", "/v1/chat/completions", json.dumps(body),
                     {"Content-Type": "application/json", "Authorization": "Bearer " + secret})
        r = conn.getresponse()
        r.read()
        conn.close()
        if r.status == 200:
            out.append((time.perf_counter() - t) * 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--day-rows", type=int, default=0, help="also time one day of this many rows")
    ap.add_argument("--samples", type=int, default=40)
    a = ap.parse_args()
    if not os.access(GATEWAY, os.X_OK):
        sys.exit("build the gateway first: bash scripts/build.sh --runtime")

    work = tempfile.mkdtemp(prefix="mg-stats-bench-")
    os.chmod(work, 0o755)  # the PostgreSQL server runs as its own user
    pgdir = None
    if a.backend == "postgresql":
        pgdir = os.path.join(work, "pg")
        url = subprocess.run(["bash", os.path.join(ROOT, "scripts/test-postgres.sh"), "start", pgdir],
                             check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        subprocess.run(["psql", "-q", url, "-c", "CREATE DATABASE mgbench"], check=True)
        db = url.rsplit("/", 1)[0] + "/mgbench"
        database_url = db
    else:
        db = os.path.join(work, "bench.db")
        database_url = "sqlite:" + db
    env = dict(os.environ, DATABASE_URL=database_url, MODELGATE_DATA_DIR=work, PORT=str(free_port()),
               HOST="127.0.0.1", ADMIN_USERS="bench:bench-password-1", MODELGATE_TIMEZONE="UTC",
               MODELGATE_MODEL_SYNC_MINUTES="0", LOG_LEVEL="WARNING")
    results = {"backend": a.backend, "rows": a.rows, "days": a.days, "endpoints": {}}
    gw = None
    try:
        gw = Gateway(env, int(env["PORT"]))  # creates the schema
        for i in range(1, 21):  # the keys the rows name (ids 1..20)
            status, body, _ = gw.admin("POST", "/admin/api/keys", {"name": f"key-{i}"})
            assert status == 201, body
        # The back-fill is timed by hand below: keep the schedule from starting it.
        for task in ("catch_up_daily_stats", "aggregate_daily_stats"):
            status, body, _ = gw.admin("PUT", f"/admin/api/scheduler/tasks/{task}", {"enabled": False})
            assert status == 200, body
        gw.stop()
        now = time.time()
        day = 86400
        fill(a.backend, db, a.rows, int(now // day * day - (a.days - 1) * day), (a.days - 1) * day + (now % day) - 60, "spread")
        gw = Gateway(env, int(env["PORT"]))
        # The back-fill aggregates every past day: run the job and wait for its run.
        t0 = time.time()
        while True:
            status, body, _ = gw.admin("POST", "/admin/api/scheduler/tasks/catch_up_daily_stats/trigger")
            if status in (200, 202):
                run_id = json.loads(body)["id"]
                break
            if time.time() - t0 > 600:
                raise RuntimeError(f"cannot trigger the back-fill: {status} {body[:200]}")
            time.sleep(1)
        while True:
            _, body, _ = gw.admin("GET", "/admin/api/scheduler/tasks/catch_up_daily_stats/logs")
            run = next((r for r in json.loads(body).get("logs", []) if r["id"] == run_id), None)
            if run and run["outcome"] != "running":
                assert run["outcome"] == "success", run
                results["backfill_ms"] = run["duration_ms"]
                results["backfill_summary"] = run["summary"]
                break
            if time.time() - t0 > 3600:
                raise RuntimeError("back-fill did not finish")
            time.sleep(1)
        log(f"back-fill: {results['backfill_summary']} in {results['backfill_ms']} ms")
        for path in ENDPOINTS:
            times = []
            first = None
            for i in range(a.samples + 2):
                t = time.perf_counter()
                status, body, _ = gw.admin("GET", path)
                if status != 200:
                    raise RuntimeError(f"{path}: {status} {body[:200]}")
                ms = (time.perf_counter() - t) * 1000
                if i == 0:
                    first = round(ms, 1)
                if i >= 2:
                    times.append(ms)
            results["endpoints"][path] = percentiles(times) + (first,)
            log(f"{path}: p50 {results['endpoints'][path][0]} ms, p95 {results['endpoints'][path][1]} ms, "
                f"first {first} ms")

        if a.day_rows:
            upstream = FakeUpstream()
            _, body, _ = gw.admin("POST", "/admin/api/providers",
                                  {"name": "fake", "base_url": f"http://127.0.0.1:{upstream.server_address[1]}/v1",
                                   "api_key": "sk-fake-upstream-key"})
            pid = json.loads(body)["id"]
            gw.admin("POST", f"/admin/api/providers/{pid}/models", {"model": "m"})
            _, body, _ = gw.admin("POST", "/admin/api/keys", {"name": "bench-v1"})
            secret = json.loads(body)["key"]
            yesterday = int(now // day * day - day)
            fill(a.backend, db, a.day_rows, yesterday, day - 1, "day")
            base = []
            stop = threading.Event()
            th = threading.Thread(target=v1_latencies, args=(gw, secret, stop, base))
            th.start()
            time.sleep(10)
            stop.set()
            th.join()
            during = []
            stop = threading.Event()
            th = threading.Thread(target=v1_latencies, args=(gw, secret, stop, during))
            th.start()
            date = time.strftime("%Y-%m-%d", time.gmtime(yesterday))
            t = time.perf_counter()
            status, body, _ = gw.admin("POST", "/admin/api/stats/reaggregate",
                                       {"start_date": date, "end_date": date})
            results["one_day_ms"] = round((time.perf_counter() - t) * 1000)
            stop.set()
            th.join()
            assert status == 200, body
            results["one_day_rows"] = a.day_rows
            results["v1_baseline_ms"] = percentiles(base)
            results["v1_during_aggregation_ms"] = percentiles(during) if during else None
            results["v1_calls_during"] = len(during)
            log(f"one day of {a.day_rows} rows (plus the spread rows of that day): "
                f"{results['one_day_ms']} ms; /v1 p50/p95 {results['v1_baseline_ms']} before, "
                f"{results['v1_during_aggregation_ms']} during ({len(during)} calls)")
            upstream.shutdown()
    finally:
        if gw:
            gw.stop()
        if pgdir:
            subprocess.run(["bash", os.path.join(ROOT, "scripts/test-postgres.sh"), "stop", pgdir])
    os.makedirs(os.path.join(ROOT, "bench", "out"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "out", f"stats-{a.backend}-{a.rows}.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    print(f"\n### {a.backend}, {a.rows:,} rows over {a.days} days\n")
    print(f"Back-fill of {a.days - 1} days: {results['backfill_ms']} ms ({results['backfill_summary']})\n")
    print("| endpoint | p50 ms | p95 ms | first call ms |\n|---|---|---|---|")
    for p, (p50, p95, first) in results["endpoints"].items():
        print(f"| `{p}` | {p50} | {p95} | {first} |")
    if a.day_rows:
        print(f"\nAggregating one day of {a.day_rows:,} rows: {results['one_day_ms']} ms; /v1 p50/p95 "
              f"{results['v1_baseline_ms']} ms before, {results['v1_during_aggregation_ms']} ms during "
              f"({results['v1_calls_during']} calls)")


if __name__ == "__main__":
    main()
