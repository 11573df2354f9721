#!/usr/bin/env bash
# Switchyard load benchmark: the fake upstream direct, nginx in front of it, and Switchyard in front of
# it, measured in one run with the targets interleaved (direct, nginx, switchyard, direct, ...).
# See docs/benchmarks.md. Loopback only.
#
#   bench/run.sh [--quick] [--out FILE.json] [--build-dir DIR] [--targets direct,nginx,switchyard]
#                [--scenarios chat,latency,stream,streams,anthropic_stream,anthropic_latency]
#                [--rounds N] [--duration S]
#                [--streams N] [--streams-duration S] [--upstream-threads N] [--workers N] [--keep-tmp]
#                [--wait-idle S] [--no-pin-latency]
#
# Every flag has an environment equivalent (BENCH_QUICK=1, BENCH_OUT, BENCH_BUILD_DIR, BENCH_TARGETS,
# BENCH_SCENARIOS, BENCH_ROUNDS, BENCH_DURATION, BENCH_STREAMS, BENCH_STREAMS_DURATION,
# BENCH_UPSTREAM_THREADS, BENCH_WORKERS, BENCH_KEEP_TMP=1, BENCH_WAIT_IDLE); flags win.
# --wait-idle S waits up to S seconds for other load on the machine to stop before each round.
# The 1-connection latency runs put the load generator, the upstream and the target on one CPU (see
# docs/benchmarks.md: in this VM a wake-up across cores costs ~80 us); --no-pin-latency turns that off.
# The anthropic_* scenarios send Anthropic streams to Switchyard's POST /v1/messages, which it translates
# to the OpenAI upstream and back; only Switchyard runs them (anthropic_latency also runs direct with the
# equivalent OpenAI stream as its baseline). anthropic_stream is compared with the stream scenario's
# nginx run of the same round, so select stream with it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

quick=${BENCH_QUICK:-0}
out=${BENCH_OUT:-}
build_dir=${BENCH_BUILD_DIR:-build}
targets_csv=${BENCH_TARGETS:-direct,nginx,switchyard}
scenarios_csv=${BENCH_SCENARIOS:-chat,latency,stream,streams,anthropic_stream,anthropic_latency}
rounds=${BENCH_ROUNDS:-}
duration=${BENCH_DURATION:-}
streams=${BENCH_STREAMS:-}
streams_duration=${BENCH_STREAMS_DURATION:-}
upstream_threads=${BENCH_UPSTREAM_THREADS:-}
workers=${BENCH_WORKERS:-}
keep_tmp=${BENCH_KEEP_TMP:-0}
wait_idle=${BENCH_WAIT_IDLE:-0}
pin_latency=${BENCH_PIN_LATENCY:-1}

die() { echo "bench: error: $*" >&2; exit 1; }
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) need_value "$@"; out=$2; shift ;;
    --build-dir) need_value "$@"; build_dir=$2; shift ;;
    --targets) need_value "$@"; targets_csv=$2; shift ;;
    --scenarios) need_value "$@"; scenarios_csv=$2; shift ;;
    --rounds) need_value "$@"; rounds=$2; shift ;;
    --duration) need_value "$@"; duration=$2; shift ;;
    --streams) need_value "$@"; streams=$2; shift ;;
    --streams-duration) need_value "$@"; streams_duration=$2; shift ;;
    --upstream-threads) need_value "$@"; upstream_threads=$2; shift ;;
    --workers) need_value "$@"; workers=$2; shift ;;
    --keep-tmp) keep_tmp=1 ;;
    --wait-idle) need_value "$@"; wait_idle=$2; shift ;;
    --no-pin-latency) pin_latency=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

cores=$(nproc)
if [ "$quick" = 1 ]; then
  : "${rounds:=1}" "${duration:=3}" "${streams:=200}" "${streams_duration:=5}"
else
  : "${rounds:=3}" "${duration:=10}" "${streams:=2000}" "${streams_duration:=30}"
fi
: "${upstream_threads:=$(( (cores + 1) / 2 ))}"  # the fake upstream should not be the bottleneck
: "${workers:=$cores}"                            # nginx worker_processes and switchyard workers
: "${out:=bench/results/latest.json}"
warmup=$([ "$quick" = 1 ] && echo 1 || echo 2)

IFS=, read -r -a targets <<<"$targets_csv"
IFS=, read -r -a scenarios <<<"$scenarios_csv"
for t in "${targets[@]}"; do
  case "$t" in direct|nginx|switchyard) ;; *) die "unknown target '$t' (direct, nginx, switchyard)" ;; esac
done
for s in "${scenarios[@]}"; do
  case "$s" in
    chat|latency|stream|streams|anthropic_stream|anthropic_latency) ;;
    *) die "unknown scenario '$s' (chat, latency, stream, streams, anthropic_stream, anthropic_latency)" ;;
  esac
done
has_target() { local x; for x in "${targets[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }
has_scenario() { local x; for x in "${scenarios[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }

# Which of the selected targets a scenario runs for. nginx cannot translate, so the Anthropic scenarios
# run Switchyard only, plus direct (the equivalent OpenAI stream) as anthropic_latency's baseline.
scenario_targets() {
  local t
  for t in "${targets[@]}"; do
    case "$1:$t" in
      anthropic_stream:switchyard|anthropic_latency:switchyard|anthropic_latency:direct) echo "$t" ;;
      anthropic_*) ;;
      *) echo "$t" ;;
    esac
  done
}
for s in anthropic_stream anthropic_latency; do
  has_scenario $s || continue
  has_target switchyard || echo "bench: note: $s runs only with the switchyard target; skipped" >&2
done
if has_scenario anthropic_stream && has_target switchyard && ! { has_scenario stream && has_target nginx; }; then
  echo "bench: note: anthropic_stream is compared with the stream scenario's nginx run; without both the ratio is n/a" >&2
fi
if has_scenario anthropic_latency && has_target switchyard && ! has_target direct; then
  echo "bench: note: anthropic_latency's added latency needs the direct target; without it it is n/a" >&2
fi
has_anthropic() { { has_scenario anthropic_stream || has_scenario anthropic_latency; } && has_target switchyard; }

# --- tools and binaries ---------------------------------------------------------------------------
case "$build_dir" in /*) ;; *) build_dir="$repo/$build_dir" ;; esac
bin="$build_dir/bin"
fake_bin="$bin/fake-upstream"
sl_bin="$bin/stream-load"
sy_bin="$bin/switchyard"
build_hint="build them with: cmake -S $repo -B $build_dir -G Ninja && cmake --build $build_dir --target fake_upstream stream_load switchyard"
[ -x "$fake_bin" ] || die "missing $fake_bin; $build_hint"
if has_scenario streams; then [ -x "$sl_bin" ] || die "missing $sl_bin; $build_hint"; fi
if has_target switchyard; then [ -x "$sy_bin" ] || die "missing $sy_bin (or leave it out: --targets direct,nginx); $build_hint"; fi
if has_target nginx; then command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || die "nginx not found (apt-get install nginx-light)"; fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
command -v curl >/dev/null || die "curl not found"
command -v python3 >/dev/null || die "python3 not found (used to pick ports and to write the report)"

# 2,000 streams need ~4,000 descriptors in a proxy and 2,000 in the load generator.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
if has_scenario streams && [ "$nofile" != unlimited ] && [ "$nofile" -lt $((streams * 2 + 256)) ]; then
  echo "bench: warning: open-file limit is $nofile; $streams streams through a proxy need about $((streams * 2 + 256))" >&2
fi

# --- processes -------------------------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-bench.XXXXXX")
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 30); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [ "$keep_tmp" = 1 ] || [ $rc -ne 0 ]; then
    echo "bench: logs and raw results kept in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits for "listening on http://HOST:PORT" in a process's stdout and prints PORT.
wait_listening() {
  local file=$1 pid=$2 name=$3 port=""
  for _ in $(seq 1 200); do
    port=$(sed -n 's#.*listening on http://[^ ]*:\([0-9][0-9]*\).*#\1#p' "$file" 2>/dev/null | head -n1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    kill -0 "$pid" 2>/dev/null || { cat "$file" "${file%.out}.err" >&2 2>/dev/null; die "$name exited during start-up"; }
    sleep 0.05
  done
  cat "$file" "${file%.out}.err" >&2 2>/dev/null
  die "$name did not print 'listening on http://HOST:PORT' within 10 s"
}

# A port that is free right now (nginx needs a fixed one).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_fake() {  # name, extra args...
  local name=$1; shift
  "$fake_bin" --listen 127.0.0.1:0 --threads "$upstream_threads" --model fake-model "$@" \
    >"$tmp/$name.out" 2>"$tmp/$name.err" &
  local pid=$! port
  pids+=("$pid")
  port=$(wait_listening "$tmp/$name.out" "$pid" "$name") || exit 1
  printf -v "${name}_pid" '%s' "$pid"
  printf -v "${name}_port" '%s' "$port"
}

# CPU time (clock ticks, user + system) of a process and its threads, or of several processes.
cpu_ticks() {
  local total=0 p line
  for p in "$@"; do
    line=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    line=${line##*) }
    set -- $line
    total=$((total + ${12} + ${13}))
  done
  echo $total
}
clk_tck=$(getconf CLK_TCK)

nginx_pids() {  # master and workers
  [ -n "${nginx_master:-}" ] || return 0
  echo "$nginx_master"
  pgrep -P "$nginx_master" 2>/dev/null || true
}
proxy_pids() {  # target -> the processes whose CPU and memory count for it
  case "$1" in
    direct) echo "$fast_pid $slow_pid" ;;
    nginx) nginx_pids | tr '\n' ' ' ;;
    switchyard) echo "$sy_pid" ;;
  esac
}
rss_kb() {  # sum of VmRSS over pids
  local total=0 p v
  for p in "$@"; do
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
    total=$((total + ${v:-0}))
  done
  echo $total
}
hwm_kb() {
  local total=0 p v
  for p in "$@"; do
    v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
    total=$((total + ${v:-0}))
  done
  echo $total
}

# Share of all cores busy over one second, before this benchmark starts anything (other users of the
# machine make every figure worse; the result records it).
cpu_busy_pct() {
  local a b
  a=($(head -n1 /proc/stat)); sleep 1; b=($(head -n1 /proc/stat))
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  [ $total -gt 0 ] && echo $(( 100 * (total - idle) / total )) || echo 0
}
busy_samples=()
check_quiet() {  # label
  local busy
  busy=$(cpu_busy_pct)
  if [ "$busy" -gt 10 ] && [ "${wait_idle:-0}" -gt 0 ]; then
    echo "bench: machine ${busy}% busy; waiting up to ${wait_idle}s for it to go quiet" >&2
    local waited=0
    while [ "$busy" -gt 10 ] && [ $waited -lt "$wait_idle" ]; do
      sleep 4; waited=$((waited + 5)); busy=$(cpu_busy_pct)
    done
  fi
  busy_samples+=("$busy")
  if [ "$busy" -gt 10 ]; then
    echo "bench: WARNING: the machine was ${busy}% busy ($1) before this benchmark's load; figures will be noisy" >&2
  fi
}

echo "bench: $cores cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')); the load generator, upstream and proxy share them"
echo "bench: rounds $rounds, wrk runs ${duration}s, $streams streams for ${streams_duration}s, targets ${targets[*]}, scenarios ${scenarios[*]}"
echo "bench: fake upstream threads $upstream_threads, proxy workers $workers, open-file limit $nofile, tmp $tmp"

# Two fake upstreams: "fast" (20 tokens, no gap) for the wrk scenarios and "slow" (20 tokens, 50 ms
# apart) for the concurrent-streams scenario. The behaviour is also sent as x-fake-* request headers, but
# the start flags make the figures independent of whether a proxy forwards those headers.
start_fake fast --tokens 20 --gap-ms 0
start_fake slow --tokens 20 --gap-ms 50
echo "bench: fake upstream fast on :$fast_port, slow on :$slow_port"

nginx_fast_port="" nginx_slow_port="" nginx_master=""
if has_target nginx; then
  mkdir -p "$tmp/nginx"
  user_line=""
  [ "$(id -u)" = 0 ] && user_line="user $(id -un);"
  rlimit=$nofile; [ "$rlimit" = unlimited ] && rlimit=65536
  for attempt in 1 2 3 4 5; do
    nginx_fast_port=$(free_port)
    nginx_slow_port=$(free_port)
    [ "$nginx_fast_port" != "$nginx_slow_port" ] || continue
    cat >"$tmp/nginx/nginx.conf" <<EOF
# Generated by bench/run.sh: nginx as a plain reverse proxy in front of the fake upstream.
$user_line
daemon off;
master_process on;
worker_processes $workers;
worker_rlimit_nofile $rlimit;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events {
  worker_connections $(( rlimit / 2 > 1024 ? rlimit / 2 : 1024 ));
}
http {
  access_log off;
  client_body_temp_path $tmp/nginx/client_body;
  proxy_temp_path $tmp/nginx/proxy;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  upstream fast {
    server 127.0.0.1:$fast_port;
    keepalive 256;
    keepalive_requests 1000000;
  }
  upstream slow {
    server 127.0.0.1:$slow_port;
    keepalive 1024;
    keepalive_requests 1000000;
  }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_buffering off;
  proxy_request_buffering off;
  proxy_read_timeout 300s;
  server {
    listen 127.0.0.1:$nginx_fast_port reuseport backlog=4096;
    location / { proxy_pass http://fast; }
  }
  server {
    listen 127.0.0.1:$nginx_slow_port reuseport backlog=4096;
    location / { proxy_pass http://slow; }
  }
}
EOF
    "$nginx_bin" -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" -e "$tmp/nginx/error.log" \
      >"$tmp/nginx.out" 2>"$tmp/nginx.err" &
    nginx_master=$!
    ready=0
    for _ in $(seq 1 100); do
      kill -0 "$nginx_master" 2>/dev/null || break
      if curl -s -o /dev/null "http://127.0.0.1:$nginx_fast_port/" && curl -s -o /dev/null "http://127.0.0.1:$nginx_slow_port/"; then
        ready=1; break
      fi
      sleep 0.05
    done
    if [ $ready = 1 ]; then pids+=("$nginx_master"); break; fi
    kill -TERM "$nginx_master" 2>/dev/null || true
    wait "$nginx_master" 2>/dev/null || true
    nginx_master=""
    if ! grep -q "Address already in use" "$tmp/nginx/error.log" "$tmp/nginx.err" 2>/dev/null; then
      cat "$tmp/nginx.err" "$tmp/nginx/error.log" >&2 2>/dev/null || true
      die "nginx failed to start (config: $tmp/nginx/nginx.conf)"
    fi
  done
  [ -n "$nginx_master" ] || die "nginx could not find free ports after 5 attempts"
  echo "bench: nginx $("$nginx_bin" -v 2>&1 | sed 's#.*/##') on :$nginx_fast_port and :$nginx_slow_port"
fi

sy_port="" sy_pid=""
if has_target switchyard; then
  cat >"$tmp/switchyard.yaml" <<EOF
# Generated by bench/run.sh.
listen: 127.0.0.1:0
workers: $workers
logging: { level: warn }
upstreams:
  fast:
    kind: openai
    base_url: http://127.0.0.1:$fast_port/v1
  slow:
    kind: openai
    base_url: http://127.0.0.1:$slow_port/v1
models:
  bench-model:
    deployments:
      - { upstream: fast, model: fake-model }
  bench-model-slow:
    deployments:
      - { upstream: slow, model: fake-model }
EOF
  "$sy_bin" --config "$tmp/switchyard.yaml" >"$tmp/switchyard.out" 2>"$tmp/switchyard.err" &
  sy_pid=$!
  pids+=("$sy_pid")
  sy_port=$(wait_listening "$tmp/switchyard.out" "$sy_pid" switchyard)
  echo "bench: switchyard on :$sy_port (pid $sy_pid)"
fi

url_for() {  # target, fast|slow [, path]
  local port
  case "$1:$2" in
    direct:fast) port=$fast_port ;; direct:slow) port=$slow_port ;;
    nginx:fast) port=$nginx_fast_port ;; nginx:slow) port=$nginx_slow_port ;;
    switchyard:*) port=$sy_port ;;
  esac
  echo "http://127.0.0.1:$port${3:-/v1/chat/completions}"
}

chat_body='{"model":"bench-model","messages":[{"role":"user","content":"hi"}]}'
stream_body='{"model":"bench-model","stream":true,"messages":[{"role":"user","content":"hi"}]}'
slow_body='{"model":"bench-model-slow","stream":true,"messages":[{"role":"user","content":"hi"}]}'
# An Anthropic client's stream, translated by Switchyard to the OpenAI upstream (20 tokens, no gap) and
# back; the headers are what the Anthropic SDKs send.
anthropic_path=/v1/messages
anthropic_body='{"model":"bench-model","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}'
anthropic_headers=('anthropic-version: 2023-06-01' 'x-api-key: bench')

# --- sanity: every target answers both kinds of request before anything is measured ----------------
for t in "${targets[@]}"; do
  code=$(curl -s -o "$tmp/check.$t.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --max-time 10 -d "$chat_body" "$(url_for "$t" fast)" || true)
  [ "$code" = 200 ] || { cat "$tmp/check.$t.json" >&2 2>/dev/null; die "$t: non-streaming chat returned HTTP $code"; }
  grep -q '"choices"' "$tmp/check.$t.json" || die "$t: non-streaming chat response has no choices"
  curl -s -N -H 'Content-Type: application/json' -H 'x-fake-tokens: 3' -H 'x-fake-gap-ms: 0' \
    --max-time 10 -d "$stream_body" "$(url_for "$t" fast)" >"$tmp/check.$t.sse" || true
  n=$(grep -c '^data: {' "$tmp/check.$t.sse" || true)
  grep -q '^data: \[DONE\]' "$tmp/check.$t.sse" || die "$t: stream did not end with data: [DONE] (got $n data events)"
  curl -s -N -H 'Content-Type: application/json' --max-time 10 -d "$slow_body" \
    "$(url_for "$t" slow)" >"$tmp/check.$t.slow.sse" || true
  grep -q '^data: \[DONE\]' "$tmp/check.$t.slow.sse" || die "$t: slow stream did not end with data: [DONE]"
done
if has_anthropic; then
  curl -s -N -H 'Content-Type: application/json' -H "${anthropic_headers[0]}" -H "${anthropic_headers[1]}" \
    --max-time 10 -d "$anthropic_body" "$(url_for switchyard fast "$anthropic_path")" >"$tmp/check.anthropic.sse" || true
  n=$(grep -c '^event: content_block_delta' "$tmp/check.anthropic.sse" || true)
  grep -q '^event: message_stop' "$tmp/check.anthropic.sse" ||
    { head -c 2000 "$tmp/check.anthropic.sse" >&2; die "switchyard: Anthropic stream did not end with message_stop"; }
  [ "$n" = 20 ] || die "switchyard: Anthropic stream had $n content_block_delta events, expected 20 (see $tmp/check.anthropic.sse)"
fi
echo "bench: all targets answer chat and stream requests$(has_anthropic && echo ', switchyard answers Anthropic streams')"

# --- measurement -----------------------------------------------------------------------------------
runs="$tmp/runs.jsonl"
: >"$runs"

record() {  # scenario round target cpu_ticks extra_json result_json
  printf '{"scenario":"%s","round":%s,"target":"%s","proxy_cpu_s":%s,%s"result":%s}\n' \
    "$1" "$2" "$3" "$(awk -v t="$4" -v h="$clk_tck" 'BEGIN {printf "%.3f", t / h}')" "$5" "$6" >>"$runs"
}

# Machine-wide CPU accounting around each run, to tell how much of the machine something else used:
# prints "busy total steal ours" in clock ticks, where ours is every process this script started
# (including the finished load generators, via the shell's children times).
ours_pids() { echo "$fast_pid $slow_pid ${sy_pid:-}"; nginx_pids; }
sys_snapshot() {
  local a self i total=0
  a=($(head -n1 /proc/stat))
  for i in 1 2 3 4 5 6 7 8; do total=$((total + a[i])); done
  self=$(cat "/proc/$$/stat"); self=${self##*) }
  set -- $self
  echo "$((a[1] + a[2] + a[3] + a[6] + a[7])) $total ${a[8]} $(( $(cpu_ticks $(ours_pids)) + ${14} + ${15} ))"
}
# JSON fields for the share of the machine used by others / stolen by the hypervisor between two snapshots.
sys_delta_json() {
  local b0 t0 s0 o0 b1 t1 s1 o1
  read -r b0 t0 s0 o0 <<<"$1"
  read -r b1 t1 s1 o1 <<<"$2"
  awk -v db=$((b1 - b0)) -v dt=$((t1 - t0)) -v ds=$((s1 - s0)) -v dour=$((o1 - o0)) 'BEGIN {
    if (dt <= 0) dt = 1; other = 100 * (db - dour) / dt; if (other < 0) other = 0;
    printf "\"machine\":{\"busy_pct\":%.1f,\"other_pct\":%.1f,\"steal_pct\":%.1f},", 100 * db / dt, other, 100 * ds / dt }'
}
other_note() {  # machine json fragment -> " (other load N%)" when noticeable
  local o
  o=$(sed -n 's/.*"other_pct":\([0-9.]*\).*/\1/p' <<<"$1")
  awk -v o="${o:-0}" 'BEGIN { if (o >= 5) printf "  (other load %.0f%%)", o }'
}

ensure_alive() {  # target
  local p
  for p in $(proxy_pids "$1"); do
    kill -0 "$p" 2>/dev/null || die "$1 (pid $p) died during the benchmark; logs in $tmp"
  done
  [ -n "$(proxy_pids "$1")" ] || die "$1 is not running; logs in $tmp"
}

# Moves every thread of the given processes onto one CPU list ("0", or "0-N" to undo).
set_affinity() {
  local cpus=$1 p; shift
  for p in "$@"; do taskset -a -p -c "$cpus" "$p" >/dev/null 2>&1 || true; done
}
all_cpus="0-$((cores - 1))"

run_wrk() {  # scenario round target connections body path headers...
  local scenario=$1 round=$2 target=$3 conns=$4 body=$5 path=$6; shift 6
  local pin=()
  if [ "$conns" = 1 ] && [ "$pin_latency" = 1 ] && command -v taskset >/dev/null; then
    pin=(taskset -c 0)
    set_affinity 0 $fast_pid $(proxy_pids "$target")
  fi
  local hdr=() h
  for h in "$@"; do hdr+=(-H "$h"); done
  local ps c0 c1 log="$tmp/wrk.$scenario.$round.$target.txt"
  ps=$(proxy_pids "$target")
  local snap0 snap1 mach
  snap0=$(sys_snapshot)
  c0=$(cpu_ticks $ps)
  BENCH_BODY=$body "${pin[@]}" wrk -t1 -c"$conns" -d"${duration}s" --timeout 10s --latency -s bench/chat.lua \
    "${hdr[@]}" "$(url_for "$target" fast "$path")" >"$log" 2>&1 || { ensure_alive "$target"; die "wrk failed, see $log"; }
  c1=$(cpu_ticks $ps)
  snap1=$(sys_snapshot)
  mach=$(sys_delta_json "$snap0" "$snap1")
  [ ${#pin[@]} -eq 0 ] || set_affinity "$all_cpus" $fast_pid $(proxy_pids "$target")
  ensure_alive "$target"
  local js
  js=$(sed -n 's/^WRK_JSON //p' "$log")
  [ -n "$js" ] || die "wrk printed no summary, see $log"
  record "$scenario" "$round" "$target" $((c1 - c0)) "$mach\"pinned\":$([ ${#pin[@]} -gt 0 ] && echo true || echo false)," "$js"
  python3 - "$js" "$scenario" "$round" "$target" "$(other_note "$mach")" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); l = r["latency_us"]; e = sum(r["errors"].values())
print(f"  {sys.argv[2]:<8} round {sys.argv[3]} {sys.argv[4]:<10} {r['rps']:>10.0f} req/s  p50 {l['p50']:>6} us  p99 {l['p99']:>6} us" + (f"  ERRORS {e}" if e else "") + sys.argv[5])
PY
}

run_streams() {  # round target
  local round=$1 target=$2
  local ps c0 c1 sampler_pid log="$tmp/streams.$round.$target.json"
  ps=$(proxy_pids "$target")
  local rss_before
  rss_before=$(rss_kb $ps)
  local snap0 snap1 mach
  snap0=$(sys_snapshot)
  c0=$(cpu_ticks $ps)
  # Sample the proxy's RSS twice a second while the streams run.
  ( while :; do echo "$(rss_kb $(proxy_pids "$target"))"; sleep 0.5; done ) >"$tmp/rss.$round.$target.txt" &
  sampler_pid=$!
  pids+=("$sampler_pid")
  "$sl_bin" --url "$(url_for "$target" slow)" --streams "$streams" --duration-s "$streams_duration" \
    --header 'x-fake-gap-ms: 50' --header 'x-fake-tokens: 20' --body "$slow_body" --json \
    >"$log" 2>"$tmp/streams.$round.$target.err" || true
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  c1=$(cpu_ticks $ps)
  snap1=$(sys_snapshot)
  mach=$(sys_delta_json "$snap0" "$snap1")
  ensure_alive "$target"
  [ -s "$log" ] || { cat "$tmp/streams.$round.$target.err" >&2; die "stream-load printed nothing for $target"; }
  local rss_peak hwm samples
  rss_peak=$(sort -n "$tmp/rss.$round.$target.txt" | tail -n1)
  samples=$(paste -sd, "$tmp/rss.$round.$target.txt")
  hwm=$(hwm_kb $ps)
  record streams "$round" "$target" $((c1 - c0)) \
    "$mach\"rss_before_kb\":$rss_before,\"rss_peak_kb\":${rss_peak:-0},\"vm_hwm_kb\":$hwm,\"rss_samples_kb\":[${samples}]," \
    "$(cat "$log")"
  python3 - "$log" "$round" "$target" "${rss_peak:-0}" "$(other_note "$mach")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); t = r["ttft_us"]; g = r["gap_us"]
print(f"  streams  round {sys.argv[2]} {sys.argv[3]:<10} done {r['completed']:>7} failed {r['failed']:>4}  "
      f"ttft p50 {t.get('p50','-'):>6} p99 {t.get('p99','-'):>6} us  gap p50 {g.get('p50','-'):>6} p99 {g.get('p99','-'):>6} us  "
      f"rss {int(sys.argv[4]) / 1024:.1f} MB" + sys.argv[5])
PY
}

# Warm-up (not recorded): fills connection pools and page caches.
for t in "${targets[@]}"; do
  BENCH_BODY=$chat_body wrk -t1 -c64 -d"${warmup}s" -s bench/chat.lua "$(url_for "$t" fast)" >/dev/null 2>&1 || true
done
if has_anthropic; then
  BENCH_BODY=$anthropic_body wrk -t1 -c64 -d"${warmup}s" -s bench/chat.lua -H "${anthropic_headers[0]}" \
    -H "${anthropic_headers[1]}" "$(url_for switchyard fast "$anthropic_path")" >/dev/null 2>&1 || true
fi

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for round in $(seq 1 "$rounds"); do
  check_quiet "before round $round"
  echo "bench: round $round of $rounds (background load ${busy_samples[-1]}%)"
  # Each Anthropic scenario runs right after the OpenAI scenario it is compared with.
  if has_scenario chat; then
    for t in $(scenario_targets chat); do run_wrk chat "$round" "$t" 64 "$chat_body" ""; done
  fi
  if has_scenario latency; then
    for t in $(scenario_targets latency); do run_wrk latency "$round" "$t" 1 "$chat_body" ""; done
  fi
  if has_scenario anthropic_latency; then
    for t in $(scenario_targets anthropic_latency); do
      if [ "$t" = direct ]; then  # the equivalent OpenAI stream, straight to the upstream
        run_wrk anthropic_latency "$round" "$t" 1 "$stream_body" "" 'x-fake-tokens: 20' 'x-fake-gap-ms: 0'
      else
        run_wrk anthropic_latency "$round" "$t" 1 "$anthropic_body" "$anthropic_path" "${anthropic_headers[@]}"
      fi
    done
  fi
  if has_scenario stream; then
    for t in $(scenario_targets stream); do
      run_wrk stream "$round" "$t" 64 "$stream_body" "" 'x-fake-tokens: 20' 'x-fake-gap-ms: 0'
    done
  fi
  if has_scenario anthropic_stream; then
    for t in $(scenario_targets anthropic_stream); do
      run_wrk anthropic_stream "$round" "$t" 64 "$anthropic_body" "$anthropic_path" "${anthropic_headers[@]}"
    done
  fi
  if has_scenario streams; then
    for t in "${targets[@]}"; do run_streams "$round" "$t"; done
  fi
done

# --- report ----------------------------------------------------------------------------------------
sy_hwm=0
[ -n "$sy_pid" ] && sy_hwm=$(hwm_kb "$sy_pid")
case "$out" in /*) ;; *) out="$repo/$out" ;; esac
mkdir -p "$(dirname "$out")"
python3 bench/report.py --runs "$runs" --out "$out" \
  --meta "$(python3 - "$started" "$quick" "$rounds" "$duration" "$streams" "$streams_duration" \
    "$upstream_threads" "$workers" "$targets_csv" "$scenarios_csv" "$sy_hwm" "$nofile" \
    "$(IFS=,; echo "${busy_samples[*]}")" <<'PY'
import json, os, platform, subprocess, sys
a = sys.argv[1:]
cpu = ""
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
except OSError:
    pass
def cmd(*c):
    try:
        r = subprocess.run(c, capture_output=True, text=True, timeout=5)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except Exception:
        return ""
print(json.dumps({
    "started": a[0], "quick": a[1] == "1", "rounds": int(a[2]), "wrk_duration_s": float(a[3]),
    "streams": int(a[4]), "streams_duration_s": float(a[5]), "upstream_threads": int(a[6]),
    "proxy_workers": int(a[7]), "targets": a[8].split(","), "scenarios": a[9].split(","),
    "switchyard_vm_hwm_kb": int(a[10]), "open_file_limit": a[11],
    "background_cpu_busy_pct_before_rounds": [int(x) for x in a[12].split(",") if x],
    "machine": {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
                "note": "load generator, fake upstream and proxy share these cores"},
    "versions": {"nginx": cmd("nginx", "-v"), "wrk": cmd("wrk", "-v"),
                 "git": cmd("git", "describe", "--always", "--dirty")},
}))
PY
)"
