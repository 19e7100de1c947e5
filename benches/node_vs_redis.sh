#!/usr/bin/env bash
# trib-node vs redis-server throughput: redis-benchmark -P 16 on both, alternating A B A B in one
# run (the machine is shared and noisy), then the best rate of each and the ratio per command.
# Usage: benches/node_vs_redis.sh [requests] [rounds]   (builds trib-node --release first)
set -euo pipefail
N=${1:-1000000}
ROUNDS=${2:-2}
TESTS=${TESTS:-set,get,incr,lpush,sadd,hset}
cd "$(dirname "$0")/.."
cargo build --release --bin trib-node >/dev/null
TMP=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_ping() {
  for _ in $(seq 1 100); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "server on port $1 did not start" >&2; exit 1
}

TP=$(free_port); RP=$(free_port)
target/release/trib-node --port "$TP" --bind 127.0.0.1 --logfile "$TMP/tn.log" --save "" &
pids+=($!)
redis-server --port "$RP" --bind 127.0.0.1 --logfile "$TMP/r.log" --save "" --appendonly no &
pids+=($!)
wait_ping "$TP"; wait_ping "$RP"

run() { # port -> "TEST rate" lines
  redis-benchmark -p "$1" -P 16 -t "$TESTS" -n "$N" -q 2>/dev/null | tr '\r' '\n' |
    awk -F': ' '/requests per second/ {split($2, a, " "); print $1, a[1]}'
}
for r in $(seq 1 "$ROUNDS"); do
  run "$TP" | sed 's/^/trib-node /' >>"$TMP/results"
  run "$RP" | sed 's/^/redis-server /' >>"$TMP/results"
done
echo "redis-benchmark -P 16 -n $N, best of $ROUNDS alternating rounds (requests/s)"
awk '{ k=$1" "$2; if ($3 > best[k]) best[k]=$3; tests[$2]=1 }
  END {
    printf "%-8s %14s %14s %7s\n", "test", "trib-node", "redis-server", "ratio";
    for (t in tests) {
      tn=best["trib-node "t]; rs=best["redis-server "t];
      printf "%-8s %14.0f %14.0f %7.2f\n", t, tn, rs, (rs > 0 ? tn/rs : 0);
    }
  }' "$TMP/results"
