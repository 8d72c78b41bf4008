#!/usr/bin/env bash
# Reproducible ModelGate benchmark: start-up time, idle/peak RSS, non-streaming
# throughput and latency (wrk, direct vs through the gateway, against nginx serving a
# canned completion) and concurrent streams (stream_load, direct vs through the gateway,
# against stream_upstream). Everything listens on 127.0.0.1 only, every step is bounded
# in time and every process started here is stopped on exit.
#
#   bash bench/run.sh
#
# Knobs (environment):
#   BENCH_DURATION=10s     wrk duration per run (a bare number means seconds)
#   BENCH_SKIP_10K=1       skip the 10,000-stream runs
#   BENCH_CHUNKS=20        content chunks per stream (stream_upstream --chunks)
#   BENCH_INTERVAL_MS=50   pause between chunks (stream_upstream --interval-ms)
#   BENCH_STREAM_TIMEOUT=60  hard bound (s) of each stream_load run
#   BENCH_RAMP_MS=1000     stream_load --ramp-ms
#   BENCH_KEEP_RUN_DIR=1   keep the temporary run directory (logs, data dir)
#
# Output: bench/out/results.json (all figures), a Markdown summary on stdout, and the
# logs of the run in bench/out/logs/.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH=$ROOT/bench
OUT=$BENCH/out
mkdir -p "$OUT"

DURATION=${BENCH_DURATION:-10s}
[[ $DURATION =~ ^[0-9]+$ ]] && DURATION="${DURATION}s"
[[ $DURATION =~ ^[1-9][0-9]*s$ ]] || { echo "BENCH_DURATION must be whole seconds, e.g. 10 or 10s" >&2; exit 2; }
SKIP_10K=${BENCH_SKIP_10K:-0}
CHUNKS=${BENCH_CHUNKS:-20}
INTERVAL_MS=${BENCH_INTERVAL_MS:-50}
STREAM_TIMEOUT=${BENCH_STREAM_TIMEOUT:-60}
RAMP_MS=${BENCH_RAMP_MS:-1000}
NGINX=${NGINX:-/usr/sbin/nginx}
GW_BIN=$ROOT/build/core/modelgate
CLK_TCK=$(getconf CLK_TCK)

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

RUN=$(mktemp -d /tmp/modelgate-bench.XXXXXX)
chmod 755 "$RUN"
RES=$RUN/results
mkdir -p "$RES" "$RUN/nginx" "$RUN/gw-data"

PIDS=()      # long-running processes started here, stopped in cleanup
GW_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do          # up to 5 s for a clean exit
    local alive=0
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  mkdir -p "$OUT/logs"
  cp -f "$RUN"/*.log "$RUN"/nginx/*.log "$OUT/logs/" 2>/dev/null || true
  if [[ ${BENCH_KEEP_RUN_DIR:-0} == 1 ]]; then log "run directory kept: $RUN"; else rm -rf "$RUN"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need() { command -v "$1" >/dev/null 2>&1 || die "missing tool: $1"; }
need wrk; need curl; need python3; need g++
[[ -x $NGINX ]] || die "nginx not found at $NGINX (apt-get install nginx-light)"

# ---------------------------------------------------------------- build
if [[ ! -x $GW_BIN ]]; then
  log "gateway not built; running scripts/build.sh"
  bash scripts/build.sh
fi
[[ -x $GW_BIN ]] || die "no gateway binary at $GW_BIN"
for tool in stream_upstream stream_load; do
  if [[ ! -x $OUT/$tool || $BENCH/$tool.cpp -nt $OUT/$tool ]]; then
    log "compiling $tool"
    g++ -O2 -std=c++20 -Wall -o "$OUT/$tool" "$BENCH/$tool.cpp" -lpthread
  fi
done

# ---------------------------------------------------------------- limits
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
log "open-file limit: $NOFILE (hard $(ulimit -Hn))"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# http_status PORT PATH: prints the status code of GET PATH (no fork: bash /dev/tcp).
http_status() {
  local fd line=""
  { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || { echo 000; return 0; }
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&"$fd" 2>/dev/null || true
  IFS= read -r -t 2 -u "$fd" line || true
  exec {fd}>&-
  line=${line#HTTP/1.? }
  echo "${line:0:3}"
}

# wait_http PORT PATH SECONDS: poll every 5 ms until 200.
wait_http() {
  local deadline=$(( EPOCHSECONDS + $3 ))
  while (( EPOCHSECONDS < deadline )); do
    [[ $(http_status "$1" "$2") == 200 ]] && return 0
    sleep 0.005
  done
  return 1
}

proc_kb() { # PID FIELD -> kB value of FIELD in /proc/PID/status
  local k v _
  while read -r k v _; do [[ $k == "$2:" ]] && { echo "$v"; return 0; }; done < "/proc/$1/status"
  echo 0
}
proc_ticks() { # PID... -> utime+stime ticks summed
  local t=0 p
  for p in "$@"; do
    [[ -r /proc/$p/stat ]] || continue
    local s; s=$(cat "/proc/$p/stat" 2>/dev/null) || continue; s=${s##*) }
    local a; read -r -a a <<< "$s"
    t=$(( t + a[11] + a[12] ))
  done
  echo "$t"
}
thread_ticks() { # PID -> "tid comm ticks" per thread
  local t s a comm
  for t in /proc/"$1"/task/*; do
    s=$(cat "$t/stat" 2>/dev/null) || continue
    comm=${s#*(}; comm=${comm%%)*}; s=${s##*) }
    read -r -a a <<< "$s"
    echo "${t##*/} $comm $(( a[11] + a[12] ))"
  done
}
host_busy_pct() { # SECONDS -> % of all CPUs busy over that interval (from /proc/stat)
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat)
  sleep "$1"
  b=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN{split(a,x," "); split(b,y," "); t=y[1]-x[1]; i=y[2]-x[2]; printf "%.1f", (t > 0 ? 100*(t-i)/t : 0)}'
}
listen_overflows() { # TcpExt ListenOverflows of this network namespace (accept queue full -> SYN dropped)
  awk '/^TcpExt:/{ if (!h) { for (i = 1; i <= NF; i++) if ($i == "ListenOverflows") c = i; h = 1 } else { print (c ? $c : 0); exit } }' /proc/net/netstat 2>/dev/null || echo 0
}
mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
secs() { awk -v t="$1" -v h="$CLK_TCK" 'BEGIN{printf "%.2f", t/h}'; }

# ---------------------------------------------------------------- host load
mkdir -p "$OUT/logs"
rm -f "$OUT"/logs/*.txt "$OUT"/logs/*.log
HOST_BUSY=$(host_busy_pct 1)
top_start() { timeout 10 top -b -n2 -d0.5 -w 200 2>/dev/null | awk 'BEGIN{f=0} /^top -/{f++} f==2' | head -n 22; }
top_start > "$OUT/logs/top-before.txt" || true
log "host CPU busy before the run: $HOST_BUSY% (over 1 s, all cores)"
if awk -v b="$HOST_BUSY" 'BEGIN{exit !(b > 20)}'; then
  log "warning: the host is already busy (see bench/out/logs/top-before.txt); figures will be lower and noisier"
fi

# ---------------------------------------------------------------- nginx
NGINX_PORT=$(free_port)
sed -e "s|@RUN_DIR@|$RUN/nginx|g" -e "s|@PORT@|$NGINX_PORT|g" "$BENCH/nginx.conf.in" > "$RUN/nginx/nginx.conf"
"$NGINX" -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -e "$RUN/nginx/nginx-error.log" > "$RUN/nginx.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_http "$NGINX_PORT" /v1/models 10 || { cat "$RUN/nginx.log" "$RUN/nginx/nginx-error.log" >&2 || true; die "nginx did not start"; }
log "nginx on 127.0.0.1:$NGINX_PORT (pid $NGINX_PID)"
nginx_pids() { echo "$NGINX_PID" $(cat "/proc/$NGINX_PID/task/$NGINX_PID/children" 2>/dev/null); }

# ---------------------------------------------------------------- stream_upstream
"$OUT/stream_upstream" --port 0 --chunks "$CHUNKS" --interval-ms "$INTERVAL_MS" > "$RUN/stream_upstream.out" 2> "$RUN/stream_upstream.log" &
SU_PID=$!
PIDS+=("$SU_PID")
SU_PORT=""
for _ in $(seq 1 200); do
  SU_PORT=$(awk '/^PORT /{print $2; exit}' "$RUN/stream_upstream.out" 2>/dev/null || true)
  [[ -n $SU_PORT ]] && break
  sleep 0.01
done
[[ -n $SU_PORT ]] || die "stream_upstream did not start"
log "stream_upstream on 127.0.0.1:$SU_PORT (pid $SU_PID)"

# ---------------------------------------------------------------- gateway
GW_PORT=$(free_port)
GW=http://127.0.0.1:$GW_PORT
T0=$EPOCHREALTIME
env -u DATABASE_URL -u ADMIN_USERS -u ADMIN_USERNAME -u HOST -u PORT -u MODELGATE_BASE_PATH \
  -u MODELGATE_THREADS -u MODELGATE_UPSTREAM_THREADS -u MODELGATE_WORKERS -u MODELGATE_MASTER_KEY \
  ADMIN_PASSWORD=bench-password LOG_LEVEL=WARNING MODELGATE_DATA_DIR="$RUN/gw-data" \
  MODELGATE_SHUTDOWN_GRACE_SECONDS=3 \
  "$GW_BIN" --host 127.0.0.1 --port "$GW_PORT" --database-url "sqlite:$RUN/gw-data/modelgate.db" \
  > "$RUN/gateway-stdout.log" 2> "$RUN/gateway.log" &
GW_PID=$!
PIDS+=("$GW_PID")
started=0
deadline=$(( EPOCHSECONDS + 30 ))
while (( EPOCHSECONDS < deadline )); do
  if [[ $(http_status "$GW_PORT" /healthz) == 200 ]]; then started=1; break; fi
  kill -0 "$GW_PID" 2>/dev/null || break
  sleep 0.005
done
T1=$EPOCHREALTIME
if [[ $started != 1 ]]; then
  tail -n 30 "$RUN/gateway.log" "$RUN/gateway-stdout.log" >&2 || true
  die "gateway did not answer /healthz 200 within 30 s"
fi
STARTUP_MS=$(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", (b-a)*1000}')
IDLE_RSS_KB=$(proc_kb "$GW_PID" VmRSS)
log "gateway on $GW (pid $GW_PID): start-up $STARTUP_MS ms, idle RSS $(mb "$IDLE_RSS_KB") MB"
echo "{\"startup_ms\":$STARTUP_MS,\"idle_rss_kb\":$IDLE_RSS_KB,\"idle_rss_mb\":$(mb "$IDLE_RSS_KB"),\"threads\":$(proc_kb "$GW_PID" Threads)}" > "$RES/startup.json"

gw_alive() { kill -0 "$GW_PID" 2>/dev/null; }
gw_tail() { log "gateway stderr (last 40 lines):"; tail -n 40 "$RUN/gateway.log" >&2 || true; }

# ---------------------------------------------------------------- configure
JAR=$RUN/cookies.txt
# api METHOD PATH [JSON]: admin call; prints the body; fails on a non-2xx answer.
api() {
  local body code args=()
  [[ $# -ge 3 ]] && args=(--data "$3")
  body=$(curl -sS --max-time 10 -b "$JAR" -c "$JAR" -X "$1" -H 'Content-Type: application/json' \
         "${args[@]}" -w '\n%{http_code}' "$GW/admin/api$2")
  code=${body##*$'\n'}
  body=${body%$'\n'*}
  [[ $code == 2* ]] || die "admin $1 $2 -> $code: $body"
  printf '%s' "$body"
}
jget() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

api POST /auth/login '{"username":"admin","password":"bench-password"}' > /dev/null
NGINX_PROVIDER=$(api POST /providers "{\"name\":\"nginx\",\"base_url\":\"http://127.0.0.1:$NGINX_PORT/v1\",\"max_concurrency\":256,\"queue_timeout_ms\":30000}" | jget id)
api POST "/providers/$NGINX_PROVIDER/models" '{"model":"gpt-bench"}' > /dev/null
STREAM_PROVIDER=$(api POST /providers "{\"name\":\"stream\",\"base_url\":\"http://127.0.0.1:$SU_PORT/v1\",\"max_concurrency\":20000,\"queue_timeout_ms\":60000}" | jget id)
api POST "/providers/$STREAM_PROVIDER/models" '{"model":"gpt-stream"}' > /dev/null
KEY=$(api POST /keys '{"name":"bench"}' | jget key)
[[ $KEY == sk-* ]] || die "could not create a key"
log "configured providers nginx=$NGINX_PROVIDER stream=$STREAM_PROVIDER and a key"

GW_CALLS=0   # proxied calls made through the gateway (each must get a log row)

# Sanity: one call of each kind through the gateway.
sanity=$(curl -sS --max-time 10 -w '\n%{http_code}' "$GW/v1/chat/completions" -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' -d '{"model":"nginx/gpt-bench","messages":[{"role":"user","content":"hi"}]}')
GW_CALLS=$((GW_CALLS + 1))
[[ ${sanity##*$'\n'} == 200 ]] || { gw_tail; die "non-streaming sanity call failed: $sanity"; }
sanity=$(timeout 30 "$OUT/stream_load" --port "$GW_PORT" --key "$KEY" --model stream/gpt-stream --concurrency 1 --ramp-ms 0 --timeout-s 20)
GW_CALLS=$((GW_CALLS + 1))
[[ $sanity == *'"completed":1,'* ]] || { gw_tail; die "streaming sanity call failed: $sanity"; }
log "sanity calls OK"

metric() { # NAME -> value summed over label sets (0 when absent)
  curl -sS --max-time 5 "$GW/metrics" 2>/dev/null | awk -v n="$1" '$1==n || index($1, n"{")==1 {s+=$NF} END{printf "%d", s}'
}
# settle: wait (bounded) until no call is active and the request-log queue is empty.
settle() {
  local deadline=$(( EPOCHSECONDS + ${1:-60} )) a q
  while (( EPOCHSECONDS < deadline )); do
    gw_alive || return 0
    a=$(metric modelgate_active_calls); q=$(metric modelgate_request_log_queue)
    [[ $a == 0 && $q == 0 ]] && return 0
    sleep 0.2
  done
  log "warning: gateway not idle after ${1:-60} s (active=$a log_queue=$q)"
}

top_snapshot() { # FILE: second frame of top (the first one averages since start)
  timeout 10 top -b -n2 -d0.5 -w 200 2>/dev/null | awk 'BEGIN{f=0} /^top -/{f++} f==2' | head -n 22 > "$1" || true
}

# ---------------------------------------------------------------- wrk
wrk_run() { # LABEL TARGET(direct|gateway) THREADS CONNS
  local label=$1 target=$2 t=$3 c=$4 url model
  if [[ $target == direct ]]; then url="http://127.0.0.1:$NGINX_PORT/v1/chat/completions"; model=gpt-bench
  else url="$GW/v1/chat/completions"; model=nginx/gpt-bench; fi
  log "wrk -t$t -c$c -d$DURATION $target"
  local g0 n0 g1 n1 w0 w1
  thread_ticks "$GW_PID" > "$RUN/threads0-$label"
  g0=$(proc_ticks "$GW_PID"); n0=$(proc_ticks $(nginx_pids)); w0=$EPOCHREALTIME
  ( sleep "$(awk -v d="${DURATION%s}" 'BEGIN{print d/2}')" 2>/dev/null && top_snapshot "$OUT/logs/top-wrk-$label.txt" ) &
  local topper=$!
  BENCH_KEY=$KEY BENCH_MODEL=$model timeout $(( ${DURATION%s} + 60 )) \
    wrk -t"$t" -c"$c" -d"$DURATION" --latency -s "$BENCH/post.lua" "$url" > "$RUN/wrk-$label.log" 2>&1 \
    || log "warning: wrk exited with $? ($label)"
  wait "$topper" 2>/dev/null || true
  g1=$(proc_ticks "$GW_PID"); n1=$(proc_ticks $(nginx_pids)); w1=$EPOCHREALTIME
  thread_ticks "$GW_PID" > "$RUN/threads1-$label"
  cat "$RUN/wrk-$label.log" >&2
  python3 "$BENCH/report.py" wrk "$RUN/wrk-$label.log" > "$RES/wrk_$label.json"
  python3 "$BENCH/report.py" merge "$RES/wrk_$label.json" threads="$t" connections="$c" \
    cpu_gateway_s="$(secs $((g1 - g0)))" cpu_nginx_s="$(secs $((n1 - n0)))" \
    wall_s="$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.2f", b-a}')" \
    cpu_gateway_threads="$(python3 "$BENCH/report.py" threads "$RUN/threads0-$label" "$RUN/threads1-$label" "$CLK_TCK")"
  if [[ $target == gateway ]]; then
    local n; n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("requests") or 0)' "$RES/wrk_$label.json")
    GW_CALLS=$((GW_CALLS + n))
    # wrk stops mid-flight: up to $c calls may still be answered/logged after its count.
    gw_alive || { gw_tail; die "gateway died during wrk $label"; }
    settle 60
  fi
}

wrk_run direct_c1 direct 1 1
wrk_run gateway_c1 gateway 1 1
wrk_run direct_c64 direct 2 64
wrk_run gateway_c64 gateway 2 64

# ---------------------------------------------------------------- streams
stream_run() { # TARGET(direct|gateway) CONCURRENCY
  local target=$1 c=$2 port key model label="$1_$2"
  if [[ $target == direct ]]; then port=$SU_PORT; key=none; model=gpt-stream
  else port=$GW_PORT; key=$KEY; model=stream/gpt-stream; fi
  if [[ $target == gateway && $NOFILE -lt $(( 2 * c + 200 )) ]]; then
    log "warning: the open-file limit ($NOFILE) is below 2 x $c + 200: the gateway needs one client and one upstream socket per stream"
  fi
  log "stream_load $c streams $target"
  local sampler="" peak_file=$RUN/peak-$label g0 u0 g1 u1
  echo 0 > "$peak_file"; echo 0 > "$peak_file.fd"
  if [[ $target == gateway ]]; then
    # VmRSS every 100 ms; open descriptors (client + upstream sockets) every 500 ms.
    ( max=0; maxfd=0; i=0; end=$(( EPOCHSECONDS + STREAM_TIMEOUT + 30 ))
      while (( EPOCHSECONDS < end )) && [[ -r /proc/$GW_PID/status ]]; do
        while read -r k v _; do
          if [[ $k == VmRSS: ]]; then (( v > max )) && { max=$v; echo "$max" > "$peak_file"; }; break; fi
        done < "/proc/$GW_PID/status" 2>/dev/null || true
        if (( i++ % 5 == 0 )); then
          fds=$(ls -U "/proc/$GW_PID/fd" 2>/dev/null | wc -l)
          (( fds > maxfd )) && { maxfd=$fds; echo "$maxfd" > "$peak_file.fd"; }
        fi
        sleep 0.1
      done ) &
    sampler=$!
  fi
  ( sleep "$(awk -v r="$RAMP_MS" -v i="$INTERVAL_MS" -v n="$CHUNKS" 'BEGIN{print (r + i*n/2)/1000}')" && top_snapshot "$OUT/logs/top-stream-$label.txt" ) &
  local topper=$!
  thread_ticks "$GW_PID" > "$RUN/threads0-$label"
  local lo0 lo1; lo0=$(listen_overflows)
  g0=$(proc_ticks "$GW_PID"); u0=$(proc_ticks "$SU_PID")
  local rc=0
  local timer=()
  [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f '%U %S' -o "$RUN/time-$label")
  "${timer[@]}" timeout $(( STREAM_TIMEOUT + 30 )) "$OUT/stream_load" \
    --port "$port" --key "$key" --model "$model" --concurrency "$c" --timeout-s "$STREAM_TIMEOUT" --ramp-ms "$RAMP_MS" \
    > "$RES/stream_$label.json" 2> "$RUN/stream_load-$label.log" || rc=$?
  g1=$(proc_ticks "$GW_PID"); u1=$(proc_ticks "$SU_PID"); lo1=$(listen_overflows)
  thread_ticks "$GW_PID" > "$RUN/threads1-$label" 2>/dev/null || true
  wait "$topper" 2>/dev/null || true
  if [[ -n $sampler ]]; then kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; fi
  [[ $rc == 0 && -s $RES/stream_$label.json ]] || { cat "$RUN/stream_load-$label.log" >&2; die "stream_load failed (rc $rc, $label)"; }
  local load_cpu; load_cpu=$(awk 'NR==1{printf "%.2f", $1+$2}' "$RUN/time-$label" 2>/dev/null || echo null)
  [[ -n $load_cpu ]] || load_cpu=null
  local extra=(cpu_upstream_s="$(secs $((u1 - u0)))" cpu_load_s="$load_cpu" listen_overflows="$((lo1 - lo0))")
  if [[ $target == gateway ]]; then
    GW_CALLS=$((GW_CALLS + c))
    local peak hwm=0 peakfd; peak=$(< "$peak_file"); peakfd=$(< "$peak_file.fd")
    if gw_alive; then hwm=$(proc_kb "$GW_PID" VmHWM); fi
    extra+=(cpu_gateway_threads="$(python3 "$BENCH/report.py" threads "$RUN/threads0-$label" "$RUN/threads1-$label" "$CLK_TCK")")
    extra+=(cpu_gateway_s="$(secs $((g1 - g0)))" peak_rss_kb="$peak" peak_rss_mb="$(mb "$peak")" \
            peak_fds="$peakfd" vmhwm_kb="$hwm" vmhwm_mb="$(mb "$hwm")" gateway_alive="$(gw_alive && echo true || echo false)")
  fi
  python3 "$BENCH/report.py" merge "$RES/stream_$label.json" target="$target" "${extra[@]}"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("  completed %d errors %d %s ttfb p50 %.1f p99 %.1f ms, wall %.1f s" % (r["completed"], r["errors"], r["error_kinds"], r["ttfb_ms"]["p50"], r["ttfb_ms"]["p99"], r["duration_s"]))' "$RES/stream_$label.json" >&2
  if [[ $target == gateway ]]; then
    gw_alive || { gw_tail; log "gateway DIED during $label"; return 0; }
    settle 90
  fi
}

STREAM_SIZES=(1000)
[[ $SKIP_10K == 1 ]] || STREAM_SIZES+=(10000)
for c in "${STREAM_SIZES[@]}"; do
  stream_run direct "$c"
  gw_alive && stream_run gateway "$c"
done

# ---------------------------------------------------------------- logging proof
TOTAL_LOGGED=null
METRICS_JSON='[]'
ALIVE=false
FINAL_HWM=0
if gw_alive; then
  ALIVE=true
  settle 60
  TOTAL_LOGGED=$(api GET '/logs/query?page_size=1' | jget total)
  METRICS_JSON=$(curl -sS --max-time 5 "$GW/metrics" | grep -E '^modelgate_request_log|^modelgate_database_up|^modelgate_http_handler_errors_total' \
                 | python3 -c 'import json,sys; print(json.dumps([l.rstrip() for l in sys.stdin]))')
  FINAL_HWM=$(proc_kb "$GW_PID" VmHWM)
  log "request-log rows: $TOTAL_LOGGED (gateway calls made: $GW_CALLS)"
else
  gw_tail
  log "gateway is not running any more"
fi
echo "{\"total_logged\":$TOTAL_LOGGED,\"expected_calls\":$GW_CALLS,\"metrics\":$METRICS_JSON,\"gateway_alive\":$ALIVE,\"final_vmhwm_mb\":$(mb "$FINAL_HWM")}" > "$RES/logs.json"

# ---------------------------------------------------------------- summary
DIRTY=false
[[ -n $(git status --porcelain 2>/dev/null) ]] && DIRTY=true
cat > "$RES/meta.json" <<EOF
{"date":"$(date -u)","commit":"$(git rev-parse --short HEAD 2>/dev/null || echo unknown)","dirty":$DIRTY,
 "nproc":$(nproc),"cpu":$(python3 -c 'import json; print(json.dumps(next((l.split(":",1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")))'),
 "kernel":"$(uname -r)","host_busy_pct_before":$HOST_BUSY,"nofile":$NOFILE,"nofile_hard":$(ulimit -Hn),"duration":"$DURATION",
 "nginx_version":"$("$NGINX" -v 2>&1 | sed 's|.*/||')","wrk_version":"$(wrk -v 2>&1 | head -1 | awk '{print $2}')",
 "chunks":$CHUNKS,"interval_ms":$INTERVAL_MS,"ramp_ms":$RAMP_MS,"stream_timeout_s":$STREAM_TIMEOUT,
 "skip_10k":$([[ $SKIP_10K == 1 ]] && echo true || echo false),
 "gateway_errors_in_stderr":$(grep -c -i -E 'error|fatal|abort' "$RUN/gateway.log" 2>/dev/null || true)}
EOF
python3 "$BENCH/report.py" summary "$RES" "$OUT/results.json" | tee "$OUT/summary.md"
log "results: $OUT/results.json; logs: $OUT/logs/"
