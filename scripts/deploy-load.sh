#!/usr/bin/env bash
# deploy-load: hot deploys under load. Serves the counter example, puts it
# under wrk (POSTs to 100 counters), and deploys new versions while wrk
# runs, alternating the Go counter and the C counter (the same class and
# storage), then rolls back; prints wrk's figures with and without deploys
# and the time each deploy took. Every request must succeed.
#
#   scripts/deploy-load.sh            DUR=20 DEPLOYS=8 CONN=32 THREADS=2
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DUR=${DUR:-20}
DEPLOYS=${DEPLOYS:-8}
CONN=${CONN:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-8791}
ADMIN_PORT=${ADMIN_PORT:-9791}
command -v wrk >/dev/null || { echo "deploy-load: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
make -s bin/dohost guests/examples/counter/counter.wasm guests/examples/counter-c/counter-c.wasm

tmp=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
for v in go c; do
  mkdir -p "$tmp/$v"
  wasm=$ROOT/guests/examples/counter/counter.wasm
  [ $v = c ] && wasm=$ROOT/guests/examples/counter-c/counter-c.wasm
  sed "s#^main = .*#main = \"$wasm\"#" guests/examples/counter/wrangler.toml > "$tmp/$v/wrangler.toml"
done
cat > "$tmp/post.lua" <<'EOF'
math.randomseed(os.time())
request = function()
  return wrk.format("POST", "/?name=c" .. math.random(100))
end
EOF

export DOHOST_ADMIN_TOKEN=$(head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n')
export DOHOST_TOKEN=$DOHOST_ADMIN_TOKEN DOHOST_ADMIN=127.0.0.1:$ADMIN_PORT
bin/dohost serve --config "$tmp/go/wrangler.toml" --data "$tmp/data" --listen 127.0.0.1:$PORT \
  --admin-addr 127.0.0.1:$ADMIN_PORT 2>"$tmp/server.log" &
srv=$!
for _ in $(seq 200); do
  curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null && break
  sleep 0.1
done
curl -sf -X POST "http://127.0.0.1:$PORT/?name=warm" >/dev/null

figures() { grep -E "Requests/sec|Latency  |99%|Non-2xx|Socket errors|requests in" "$1" | sed 's/^/    /'; }

echo "# dohost $(git rev-parse --short HEAD): wrk -t$THREADS -c$CONN -d${DUR}s, POST to 100 counters; $(nproc) cores"
echo "## without deploys"
wrk -t"$THREADS" -c"$CONN" -d"${DUR}s" --latency -s "$tmp/post.lua" "http://127.0.0.1:$PORT" > "$tmp/base.txt"
figures "$tmp/base.txt"

echo "## with $DEPLOYS deploys and a rollback during the run"
wrk -t"$THREADS" -c"$CONN" -d"${DUR}s" --latency -s "$tmp/post.lua" "http://127.0.0.1:$PORT" > "$tmp/deploy.txt" &
wrk_pid=$!
sleep 1
gap=$(awk -v d="$DUR" -v n="$DEPLOYS" 'BEGIN { printf "%.2f", (d - 3) / (n + 1) }')
for i in $(seq "$DEPLOYS"); do
  v=c; [ $((i % 2)) = 0 ] && v=go
  start=$(date +%s%N)
  bin/dohost deploy --config "$tmp/$v/wrangler.toml" >/dev/null
  echo "    deploy $i ($v): $(( ($(date +%s%N) - start) / 1000000 )) ms"
  sleep "$gap"
done
start=$(date +%s%N)
bin/dohost rollback --worker counter >/dev/null
echo "    rollback: $(( ($(date +%s%N) - start) / 1000000 )) ms"
wait "$wrk_pid"
figures "$tmp/deploy.txt"
if grep -qE "Non-2xx|Socket errors" "$tmp/deploy.txt"; then
  echo "FAIL: requests failed during the deploys" >&2
  exit 1
fi
echo "every request succeeded; $(bin/dohost versions --worker counter | tail -n +2 | wc -l) versions recorded"
