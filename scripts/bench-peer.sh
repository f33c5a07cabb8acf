#!/usr/bin/env bash
# bench-peer.sh: dohost next to the reference peer, Cloudflare's workerd running the same seed
# app (../shared/peer), under the same wrk load on this machine, alternating the two servers.
# Prints one line per case and server (with cpu_s_per_1k: the server process's user + system
# CPU seconds per 1,000 requests, from /proc/PID/stat), then the ratios dohost/workerd.
#
# Servers: dohost with the Go guest (guests/examples/room), dohost-X with the same app in another
# language (guests/examples/room-X: c, rust, as, wat), and workerd.
# Cases (every server serves GET /?roomId=R: Worker → idFromName → DO → one KV put + one KV get):
#   warm  100 rooms picked at random (wrk/rooms.lua)
#   cold  a never-seen room per request, so every request starts a new object (wrk/cold.lua)
#
# Env: DOHOST_FLAGS="" (more flags for dohost serve, e.g. "--sched-slice 0")
#      DUR=10 (s per measured run) WARM=3 (s warm-up) CONN=50 THREADS=2 ROUNDS=2
#      HOG=0: with HOG=N, N CPU-bound processes (busy loops at the same priority) run beside the
#      server and wrk during every run: the "busy machine" variant (make bench-peer HOG=1)
#      SERVERS="dohost dohost-c dohost-rust dohost-as dohost-wat workerd" (also dohost-ts: the
#      room in TypeScript on the JavaScript runtime; dohost-js: workerd's own app.js, unchanged,
#      on the JavaScript runtime)
#      PEER_HOME (default ~/.cache/dohost-peer; installed by ../shared/peer/setup.sh if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DOHOST_FLAGS=${DOHOST_FLAGS:-}
DUR=${DUR:-10}; WARM=${WARM:-3}; CONN=${CONN:-50}; THREADS=${THREADS:-2}; ROUNDS=${ROUNDS:-2}; HOG=${HOG:-0}
SERVERS=${SERVERS:-dohost dohost-c dohost-rust dohost-as dohost-wat workerd}
PEER_HOME=${PEER_HOME:-$HOME/.cache/dohost-peer}
PEER_SRC=${PEER_SRC:-$ROOT/../shared/peer}
WORKERD=$PEER_HOME/node_modules/.bin/workerd
# The npm shim may exec the platform binary or run it as a child; use the binary itself so that
# the PID we measure and stop is workerd's.
for b in "$PEER_HOME"/node_modules/@cloudflare/workerd-*/bin/workerd; do [ -x "$b" ] && WORKERD_BIN=$b; done
if [ ! -x "$WORKERD" ] || ! command -v wrk >/dev/null; then
  [ -x "$PEER_SRC/setup.sh" ] || { echo "workerd is not installed and $PEER_SRC/setup.sh is missing" >&2; exit 1; }
  PEER_HOME=$PEER_HOME "$PEER_SRC/setup.sh" >&2
fi
export WRK_DIR=$PEER_HOME/wrk
DOHOST_ADDR=127.0.0.1:8788
WORKERD_ADDR=127.0.0.1:8787
WORK=$(mktemp -d)
PID=""
HOGS=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; [ -n "$HOGS" ] && kill $HOGS 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

port_free() { ! curl -s -o /dev/null --max-time 1 "http://$1/" || { echo "something already listens on $1; stop it first" >&2; exit 1; }; }
wait_up() { for _ in $(seq 1 600); do curl -s -o /dev/null --max-time 1 "http://$1/?roomId=up" && return 0; sleep 0.05; done; echo "server on $1 did not come up" >&2; exit 1; }

# app_config writes a wrangler.toml that serves the peer's app.js as it is: its bindings, as
# workerd's config.capnp names them.
app_config() {
  cat >"$1" <<TOML
name = "peer-app"
main = "$PEER_HOME/workerd/app.js"
kv_namespaces = [{ binding = "YOUR_KV_NAMESPACE", id = "peer-kv" }]

[durable_objects]
bindings = [
  { name = "YOUR_DO_CLASS", class_name = "YourDurableObject" },
  { name = "COUNTER", class_name = "CounterObject" },
  { name = "STORAGE", class_name = "StorageObject" },
  { name = "THROWER", class_name = "ThrowObject" },
  { name = "LOOPER", class_name = "LoopObject" },
  { name = "CTOR_THROWER", class_name = "CtorThrowObject" },
  { name = "CHAT", class_name = "ChatRoom" },
]

[[migrations]]
tag = "v1"
new_classes = ["YourDurableObject", "CounterObject", "StorageObject", "ThrowObject", "LoopObject", "CtorThrowObject", "ChatRoom"]
TOML
}

start() { # start dohost|dohost-X|workerd: a fresh server with empty state
  case $1 in
    dohost-js)
      port_free $DOHOST_ADDR
      rm -rf "$WORK/data"
      app_config "$WORK/app.toml"
      "$ROOT/bin/dohost" serve --config "$WORK/app.toml" --listen $DOHOST_ADDR --data "$WORK/data" $DOHOST_FLAGS \
        >"$WORK/dohost.log" 2>&1 &
      PID=$!; wait_up $DOHOST_ADDR ;;
    dohost|dohost-*)
      local ex=room; [ "$1" != dohost ] && ex=room-${1#dohost-}
      port_free $DOHOST_ADDR
      rm -rf "$WORK/data"
      "$ROOT/bin/dohost" serve --config "$ROOT/guests/examples/$ex/wrangler.toml" --listen $DOHOST_ADDR --data "$WORK/data" $DOHOST_FLAGS \
        >"$WORK/dohost.log" 2>&1 &
      PID=$!; wait_up $DOHOST_ADDR ;;
    workerd)
      port_free $WORKERD_ADDR
      rm -rf "$PEER_HOME/data"; mkdir -p "$PEER_HOME/data/do" "$PEER_HOME/data/kv"
      (cd "$PEER_HOME/workerd" && exec "${WORKERD_BIN:-$WORKERD}" serve config.capnp) >"$WORK/workerd.log" 2>&1 &
      PID=$!; wait_up $WORKERD_ADDR ;;
  esac
}
stop() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; }
addr() { [ "$1" = workerd ] && echo $WORKERD_ADDR || echo $DOHOST_ADDR; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$PID/status" 2>/dev/null || echo 0; }

# run <server> <case> <script> <secs> [ENV=V...]: one wrk run; prints its RESULT fields.
# cpu_ticks: the server process's user + system CPU so far, in clock ticks (/proc/PID/stat).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat" 2>/dev/null || echo 0; }
TCK=$(getconf CLK_TCK)

# run <server> <case> <script> <secs> [ENV=V...]: one wrk run; prints its RESULT fields, and
# cpu_s_per_1k: the server's CPU seconds per 1,000 requests over the run.
run() {
  local srv=$1 name=$2 script=$3 secs=$4; shift 4
  local t0 out
  for _ in $(seq 1 "$HOG"); do sh -c 'while :; do :; done' & HOGS="$HOGS $!"; done
  t0=$(cpu_ticks)
  out=$(env CASE="$name" THREADS="$THREADS" "$@" wrk -t"$THREADS" -c"$CONN" -d"${secs}s" --latency \
    -s "$WRK_DIR/$script" "http://$(addr "$srv")" 2>&1 | grep '^RESULT' | sed 's/^RESULT case=[^ ]* //')
  local ticks=$(( $(cpu_ticks) - t0 )) reqs
  [ -n "$HOGS" ] && { kill $HOGS 2>/dev/null; wait $HOGS 2>/dev/null || true; HOGS=""; }
  reqs=$(echo "$out" | field requests)
  echo "$out cpu_s_per_1k=$(awk -v t="$ticks" -v k="$TCK" -v n="${reqs:-0}" 'BEGIN{ if (n > 0) printf "%.3f", t / k / n * 1000; else print "nan" }')"
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }

declare -A RPS P99 P50 CPU
echo "# dohost $(git -C "$ROOT" rev-parse --short HEAD) vs workerd $("$WORKERD" --version 2>&1); wrk -t$THREADS -c$CONN, ${WARM}s warm-up + ${DUR}s per run, $ROUNDS rounds; $(nproc) cores; $HOG CPU hogs beside"
for round in $(seq 1 "$ROUNDS"); do
  for srv in $SERVERS; do
    start "$srv"
    run "$srv" warmup rooms.lua "$WARM" PATHNAME=/ ROOMS=100 >/dev/null
    r=$(run "$srv" warm rooms.lua "$DUR" PATHNAME=/ ROOMS=100)
    echo "round $round $srv warm: $r rss_kB=$(rss_kb)"
    CPU[$srv,warm]="${CPU[$srv,warm]:-} $(echo "$r" | field cpu_s_per_1k)"
    RPS[$srv,warm]="${RPS[$srv,warm]:-} $(echo "$r" | field rps)"; P99[$srv,warm]="${P99[$srv,warm]:-} $(echo "$r" | field p99_ms)"
    P50[$srv,warm]="${P50[$srv,warm]:-} $(echo "$r" | field p50_ms)"
    stop
    start "$srv"
    r=$(run "$srv" cold cold.lua "$DUR" PATHNAME=/ RUN="cold$round" CAP=1000000000)
    echo "round $round $srv cold: $r rss_kB=$(rss_kb)"
    CPU[$srv,cold]="${CPU[$srv,cold]:-} $(echo "$r" | field cpu_s_per_1k)"
    RPS[$srv,cold]="${RPS[$srv,cold]:-} $(echo "$r" | field rps)"; P99[$srv,cold]="${P99[$srv,cold]:-} $(echo "$r" | field p99_ms)"
    P50[$srv,cold]="${P50[$srv,cold]:-} $(echo "$r" | field p50_ms)"
    stop
  done
done
mean() { awk '{s=0; for(i=1;i<=NF;i++) s+=$i; printf "%.2f", s/NF}'; }
mean3() { awk '{s=0; for(i=1;i<=NF;i++) s+=$i; printf "%.3f", s/NF}'; }
echo
if [[ " $SERVERS " != *" workerd "* ]]; then
  # No workerd to compare with: the means alone.
  echo "SUMMARY (means over $ROUNDS rounds)"
  for c in warm cold; do
    for srv in $SERVERS; do
      printf '%-5s %-10s rps %s | p50 ms %s | p99 ms %s | CPU s/1k req %s\n' "$c" "$srv" "$(echo ${RPS[$srv,$c]} | mean)" \
        "$(echo ${P50[$srv,$c]} | mean)" "$(echo ${P99[$srv,$c]} | mean)" "$(echo ${CPU[$srv,$c]} | mean3)"
    done
  done
  exit 0
fi
echo "SUMMARY (means over $ROUNDS rounds; ratio = dohost / workerd)"
for c in warm cold; do
  wr=$(echo ${RPS[workerd,$c]} | mean); w99=$(echo ${P99[workerd,$c]} | mean); w50=$(echo ${P50[workerd,$c]} | mean)
  wc=$(echo ${CPU[workerd,$c]} | mean3)
  for srv in $SERVERS; do
    [ "$srv" = workerd ] && continue
    dr=$(echo ${RPS[$srv,$c]} | mean); d99=$(echo ${P99[$srv,$c]} | mean); d50=$(echo ${P50[$srv,$c]} | mean)
    dc=$(echo ${CPU[$srv,$c]} | mean3)
    printf '%-5s %-10s rps %s vs workerd %s: %.2fx | p50 ms %s vs %s | p99 ms %s vs %s: %.2f | CPU s/1k req %s vs %s: %.2f\n' \
      "$c" "$srv" "$dr" "$wr" "$(awk -v a="$dr" -v b="$wr" 'BEGIN{print a/b}')" "$d50" "$w50" "$d99" "$w99" "$(awk -v a="$d99" -v b="$w99" 'BEGIN{print a/b}')" \
      "$dc" "$wc" "$(awk -v a="$dc" -v b="$wc" 'BEGIN{ if (b > 0) print a/b; else print "nan" }')"
  done
done
