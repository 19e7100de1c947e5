#!/usr/bin/env bash
# trib-node vs redis-server throughput with redis-benchmark (a benchmark, not a test).
# Starts a release trib-node and a redis-server on free 127.0.0.1 ports, runs
#   redis-benchmark -P 16 -t set,get,incr,lpush,sadd,hset -n N -q
# against each, alternating A B A B (ROUNDS times), and prints per-command medians and the
# ratio trib-node / redis-server. Both servers are stopped by PID on exit.
# Usage: benches/node_vs_redis.sh [requests=1000000] [rounds=2]
set -euo pipefail

N=${1:-1000000}
ROUNDS=${2:-2}
TESTS=set,get,incr,lpush,sadd,hset
cd "$(dirname "$0")/.."

for prog in redis-server redis-benchmark; do
    command -v "$prog" >/dev/null || { echo "node_vs_redis: $prog not found" >&2; exit 2; }
done

cargo build --release --quiet --bin trib-node
NODE_BIN=target/release/trib-node
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_ready() {
    local port=$1
    for _ in $(seq 1 100); do
        if redis-cli -h 127.0.0.1 -p "$port" PING 2>/dev/null | grep -q PONG; then return 0; fi
        sleep 0.1
    done
    echo "node_vs_redis: server on port $port did not start" >&2
    exit 1
}

NODE_PORT=$(free_port)
REDIS_PORT=$(free_port)
"$NODE_BIN" --port "$NODE_PORT" --bind 127.0.0.1 --dir "$WORK" --logfile "$WORK/node.log" --save "" --appendonly no &
PIDS+=($!)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK" --logfile "$WORK/redis.log" --save "" --appendonly no &
PIDS+=($!)
wait_ready "$NODE_PORT"
wait_ready "$REDIS_PORT"

run() { # name port round
    redis-benchmark -h 127.0.0.1 -p "$2" -P 16 -t "$TESTS" -n "$N" -q 2>&1 \
        | tr '\r' '\n' | grep 'requests per second' \
        | sed -E 's/^([A-Za-z_ ]+[A-Za-z]).*: ([0-9.]+) requests per second.*/\1 \2/' \
        | awk -v who="$1" -v r="$3" '{ rate=$NF; $NF=""; sub(/ $/, ""); print who "\t" r "\t" $0 "\t" rate }'
    redis-cli -h 127.0.0.1 -p "$2" FLUSHALL >/dev/null
}

RESULTS="$WORK/results.tsv"
for round in $(seq 1 "$ROUNDS"); do
    run trib-node "$NODE_PORT" "$round" >>"$RESULTS"
    run redis-server "$REDIS_PORT" "$round" >>"$RESULTS"
done

echo "redis-benchmark -P 16 -n $N, $ROUNDS alternating rounds (median requests/s)"
python3 - "$RESULTS" <<'PY'
import sys, statistics, collections
rates = collections.defaultdict(list)
order = []
for line in open(sys.argv[1]):
    who, _, test, rate = line.rstrip("\n").split("\t")
    if test not in order:
        order.append(test)
    rates[(who, test)].append(float(rate))
print(f"{'test':<10} {'trib-node':>12} {'redis-server':>13} {'ratio':>7}")
for test in order:
    a = statistics.median(rates[("trib-node", test)] or [0])
    b = statistics.median(rates[("redis-server", test)] or [0])
    ratio = a / b if b else float("nan")
    print(f"{test:<10} {a:>12.0f} {b:>13.0f} {ratio:>6.2f}x")
PY
