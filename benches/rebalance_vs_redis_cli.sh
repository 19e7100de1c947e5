#!/usr/bin/env bash
# trib rebalance vs redis-cli --cluster rebalance after adding an empty master, side by side.
#
# 3 redis-server masters on 127.0.0.1 with N string keys of 32 bytes, plus a 4th empty master
# added with add-node (replica migration off, so a drained master stays a master). Each round,
# each tool runs `rebalance --use-empty-masters` (4096 slots move to the new master from all
# three) and then drains it back with `--weight <new>=0`; the tools alternate their order
# between rounds. Prints timings, medians and ratios. DELAY_MS=1 puts every node behind
# benches/delay_proxy.py (replies 1 ms late, MIGRATE between nodes included), as
# reshard_delayed_vs_redis_cli.sh does. TRIB_ARGS adds options to every trib rebalance.
#
# Usage: [DELAY_MS=1] [TOOLS="trib cli"] benches/rebalance_vs_redis_cli.sh [N=1000000] [ROUNDS=2] [TRIB=target/release/trib]
set -euo pipefail

N=${1:-1000000}
ROUNDS=${2:-2}
TRIB=${3:-target/release/trib}
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$TRIB" ] || { echo "build trib first: cargo build --release (or pass its path)" >&2; exit 2; }
SERVER_ARGS=(--cluster-allow-replica-migration no)
read -r -a EXTRA <<<"${TRIB_ARGS:-}"
# shellcheck source=benches/cluster_lib.sh
source "$HERE/cluster_lib.sh"

start_masters 4
redis-cli --cluster create "$A" "127.0.0.1:${PORTS[1]}" "127.0.0.1:${PORTS[2]}" --cluster-yes >/dev/null
redis-cli --cluster add-node "127.0.0.1:${PORTS[3]}" "$A" >/dev/null
wait_ok
echo "replies delayed by ${DELAY_MS:-0} ms"
echo "filling $N keys of 32 bytes..."
python3 "$HERE/fill_cluster.py" "$N" 32 "$A"
NEW=$(redis-cli -p "${PORTS[3]}" cluster myid)
echo "keys per master: $(for p in "${PORTS[@]}"; do redis-cli -p "$p" dbsize; done | tr '\n' ' ')"

# timed TOOL ARGS...: one rebalance, prints seconds
timed() {
    local tool=$1 start
    shift
    start=$(date +%s.%N)
    if [ "$tool" = trib ]; then
        /usr/bin/time -f '%M' -o "$WORK/rss" "$TRIB" rebalance "$A" "$@" "${EXTRA[@]}" >"$WORK/out" 2>&1 || return 1
        tail -1 "$WORK/rss" >>"$WORK/rss_all"
    else
        redis-cli --cluster rebalance "$A" "$@" >"$WORK/out" 2>&1 || return 1
    fi
    echo "$(date +%s.%N) - $start" | bc
}

run_rebalance() {
    local tool=$1 t1 t2 fill drain
    if [ "$tool" = trib ]; then fill=(--use-empty-masters); drain=(--weight "$NEW=0");
    else fill=(--cluster-use-empty-masters); drain=(--cluster-weight "$NEW=0"); fi
    wait_ok
    t1=$(timed "$tool" "${fill[@]}") || { echo "$tool failed:"; tail -5 "$WORK/out"; exit 1; }
    wait_ok
    t2=$(timed "$tool" "${drain[@]}") || { echo "$tool failed:"; tail -5 "$WORK/out"; exit 1; }
    TIMES[$tool]="${TIMES[$tool]:-} $t1 $t2"
    printf '%-5s fill-new %6.2f s   drain %6.2f s\n' "$tool" "$t1" "$t2"
}

for r in $(seq "$ROUNDS"); do
    echo "round $r"
    order=${TOOLS:-trib cli}
    if [ $((r % 2)) -eq 0 ]; then order=$(echo "$order" | tr ' ' '\n' | tac | tr '\n' ' '); fi
    for tool in $order; do run_rebalance "$tool"; done
done

MT=$(echo "${TIMES[trib]:-}" | median)
echo
echo "rebalances moving 4096 slots (~$((N / 4)) keys), medians over $((ROUNDS * 2)) runs each:"
echo "  trib       $MT s   (all: ${TIMES[trib]:-})"
if [ -n "${TIMES[cli]:-}" ]; then
    MC=$(echo "${TIMES[cli]}" | median)
    echo "  redis-cli  $MC s   (all: ${TIMES[cli]})"
    echo "  ratio trib / redis-cli  $(echo "scale=3; $MT / $MC" | bc)"
fi
echo "  trib peak RSS  $(( $(sort -n "$WORK/rss_all" | tail -1) / 1024 )) MB"
