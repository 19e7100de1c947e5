#!/usr/bin/env bash
# trib rebalance vs redis-cli --cluster rebalance after adding an empty master, side by side.
#
# 3 redis-server masters on 127.0.0.1 with N string keys of 32 bytes, plus a 4th empty master
# added with add-node (replica migration off, so a drained master stays a master). Each round, each tool runs `rebalance --use-empty-masters` (4096 slots
# move to the new master from all three) and then drains it back with `--weight <new>=0`;
# the tools alternate their order between rounds. Prints timings, medians and ratios.
#
# Usage: benches/rebalance_vs_redis_cli.sh [N=1000000] [ROUNDS=2] [TRIB=target/release/trib]
set -euo pipefail

N=${1:-1000000}
ROUNDS=${2:-2}
TRIB=${3:-target/release/trib}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d -t trib-bench-XXXXXX)
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.2
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

[ -x "$TRIB" ] || { echo "build trib first: cargo build --release (or pass its path)" >&2; exit 2; }

PORTS=()
for i in 1 2 3 4; do
    port=$(free_port); bus=$(free_port)
    mkdir -p "$WORK/n$port"
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-port "$bus" \
        --cluster-config-file nodes.conf --cluster-node-timeout 5000 --save "" --appendonly no \
        --cluster-allow-replica-migration no \
        --dir "$WORK/n$port" --logfile "$WORK/n$port/log" --daemonize yes --pidfile "$WORK/n$port/pid"
    PORTS+=("$port")
done
for p in "${PORTS[@]}"; do
    for _ in $(seq 50); do [ -s "$WORK/n$p/pid" ] && redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
    PIDS+=("$(cat "$WORK/n$p/pid")")
done
A=127.0.0.1:${PORTS[0]}
redis-cli --cluster create "$A" "127.0.0.1:${PORTS[1]}" "127.0.0.1:${PORTS[2]}" --cluster-yes >/dev/null
redis-cli --cluster add-node "127.0.0.1:${PORTS[3]}" "$A" >/dev/null

wait_ok() {
    for _ in $(seq 100); do
        if redis-cli --cluster check "$A" 2>/dev/null | grep -q 'All nodes agree' &&
           ! redis-cli --cluster check "$A" 2>/dev/null | grep -q '\[ERR\]\|\[WARNING\]'; then
            return 0
        fi
        sleep 0.2
    done
    echo "cluster did not settle" >&2; exit 1
}
wait_ok
echo "filling $N keys of 32 bytes..."
python3 "$HERE/fill_cluster.py" "$N" 32 "$A"
NEW=$(redis-cli -p "${PORTS[3]}" cluster myid)
echo "keys per master: $(for p in "${PORTS[@]}"; do redis-cli -p "$p" dbsize; done | tr '\n' ' ')"

declare -A TIMES


trib_rebalance() {
    local start
    start=$(date +%s.%N)
    "$TRIB" rebalance "$A" "$@" >"$WORK/out" 2>&1 || return 1
    echo "$(date +%s.%N) - $start" | bc
}

run_tool() {
    local tool=$1 t1 t2 start
    wait_ok
    if [ "$tool" = trib ]; then
        t1=$(trib_rebalance --use-empty-masters) || { tail -5 "$WORK/out"; exit 1; }
        wait_ok
        t2=$(trib_rebalance --weight "$NEW=0") || { tail -5 "$WORK/out"; exit 1; }
    else
        start=$(date +%s.%N)
        redis-cli --cluster rebalance "$A" --cluster-use-empty-masters >"$WORK/out" 2>&1 || { tail -5 "$WORK/out"; exit 1; }
        t1=$(echo "$(date +%s.%N) - $start" | bc)
        wait_ok
        start=$(date +%s.%N)
        redis-cli --cluster rebalance "$A" --cluster-weight "$NEW=0" >"$WORK/out" 2>&1 || { tail -5 "$WORK/out"; exit 1; }
        t2=$(echo "$(date +%s.%N) - $start" | bc)
    fi
    TIMES[$tool]="${TIMES[$tool]:-} $t1 $t2"
    printf '%-5s fill-new %6.2f s   drain %6.2f s\n' "$tool" "$t1" "$t2"
}

for r in $(seq "$ROUNDS"); do
    echo "round $r"
    if [ $((r % 2)) -eq 1 ]; then order="trib cli"; else order="cli trib"; fi
    for tool in $order; do run_tool "$tool"; done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
MT=$(echo "${TIMES[trib]}" | median)
MC=$(echo "${TIMES[cli]}" | median)
echo
echo "rebalances moving 4096 slots (~$((N / 4)) keys), medians over $((ROUNDS * 2)) runs each:"
echo "  trib       $MT s   (all: ${TIMES[trib]})"
echo "  redis-cli  $MC s   (all: ${TIMES[cli]})"
echo "  ratio trib / redis-cli  $(echo "scale=3; $MT / $MC" | bc)"
