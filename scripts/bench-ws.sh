#!/usr/bin/env bash
# bench-ws.sh: one chat room with many WebSocket clients, on dohost (guests/examples/chat) and,
# when the reference peer is installed (or ../shared/peer/setup.sh can install it), on workerd
# serving the same chat with the Hibernation API (/chat?room=R), one after the other in one run.
# For each: the time from one message until every client has it (p50, p99 over ROUNDS
# broadcasts), the server's memory per idle socket (RSS), again once its object hibernated
# (dohost runs with --idle-timeout 5s), and messages a second through one object.
#
# Env: CLIENTS=10000 ROUNDS=30 SERVERS="dohost workerd" HIBERNATE=8s (0 to skip)
#      PING=1: each client sends a WebSocket ping once connected, as many client libraries do
#      PEER_HOME (default ~/.cache/dohost-peer)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CLIENTS=${CLIENTS:-10000}; ROUNDS=${ROUNDS:-30}; SERVERS=${SERVERS:-dohost workerd}; HIBERNATE=${HIBERNATE:-8s}; PING=${PING:-0}
PEER_HOME=${PEER_HOME:-$HOME/.cache/dohost-peer}
PEER_SRC=${PEER_SRC:-$ROOT/../shared/peer}
WORK=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"
go build -o "$WORK/wsbench" ./scripts/wsbench

port_free() { ! curl -s -o /dev/null --max-time 1 "http://$1/" || { echo "something already listens on $1; stop it first" >&2; exit 1; }; }
wait_up() { for _ in $(seq 1 400); do curl -s -o /dev/null --max-time 1 "http://$1/" && return 0; sleep 0.05; done; echo "server on $1 did not come up" >&2; exit 1; }

echo "# dohost $(git rev-parse --short HEAD); $CLIENTS clients in one room, $ROUNDS broadcasts; $(nproc) cores"
for srv in $SERVERS; do
  case $srv in
    dohost)
      for f in bin/dohost guests/examples/chat/chat.wasm; do
        [ -f "$ROOT/$f" ] || { echo "$f is not built: run make bench-ws, which builds it" >&2; exit 1; }
      done
      addr=127.0.0.1:8788; port_free $addr
      "$ROOT/bin/dohost" serve --config "$ROOT/guests/examples/chat/wrangler.toml" --listen $addr \
        --data "$WORK/data" --idle-timeout 5s >"$WORK/dohost.log" 2>&1 &
      PID=$!; wait_up $addr
      url="ws://$addr/?room=bench" ;;
    workerd)
      WORKERD=$PEER_HOME/node_modules/.bin/workerd
      if [ ! -x "$WORKERD" ]; then
        [ -x "$PEER_SRC/setup.sh" ] || { echo "# workerd: not installed and $PEER_SRC/setup.sh is missing; skipped"; continue; }
        PEER_HOME=$PEER_HOME "$PEER_SRC/setup.sh" >&2
      fi
      for b in "$PEER_HOME"/node_modules/@cloudflare/workerd-*/bin/workerd; do [ -x "$b" ] && WORKERD=$b; done
      addr=127.0.0.1:8787; port_free $addr
      rm -rf "$PEER_HOME/data"; mkdir -p "$PEER_HOME/data/do" "$PEER_HOME/data/kv"
      (cd "$PEER_HOME/workerd" && ulimit -n "$(ulimit -Hn)" && exec "$WORKERD" serve config.capnp) >"$WORK/workerd.log" 2>&1 &
      PID=$!; wait_up $addr
      url="ws://$addr/chat?room=bench" ;;
  esac
  hib=0; [ "$srv" = dohost ] && hib=$HIBERNATE
  ping=false; [ "$PING" = 1 ] && ping=true
  echo "$srv $("$WORK/wsbench" -url "$url" -clients "$CLIENTS" -rounds "$ROUNDS" -pid "$PID" -hibernate "$hib" -ping=$ping | sed -n 's/^RESULT //p')"
  kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""
done
