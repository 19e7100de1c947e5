#!/usr/bin/env bash
# trib reshard vs redis-cli --cluster reshard when every node's replies arrive DELAY_MS late
# (default 1 ms, what a real network looks like), side by side on the same cluster in one run.
#
# Same scenario as reshard_vs_redis_cli.sh (3 masters, N string keys of 32 bytes, 4096 slots
# A->B and back per tool, order alternating between rounds), but each redis-server sits behind
# benches/delay_proxy.py with cluster-announce-port pointing at the proxy: the tools' commands
# and every MIGRATE between nodes pay the delay; the cluster bus does not.
#
# Usage: benches/reshard_delayed_vs_redis_cli.sh [N=1000000] [ROUNDS=1] [TRIB=target/release/trib]
#        [TOOLS="trib cli10 cli1000"] [DELAY_MS=1]
set -euo pipefail

N=${1:-1000000}
ROUNDS=${2:-1}
TRIB=${3:-target/release/trib}
TOOLS=${4:-trib cli10 cli1000}
DELAY_MS=${5:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$TRIB" ] || { echo "build trib first: cargo build --release (or pass its path)" >&2; exit 2; }
# shellcheck source=benches/cluster_lib.sh
source "$HERE/cluster_lib.sh"

start_masters 3
redis-cli --cluster create "$A" "127.0.0.1:${PORTS[1]}" "127.0.0.1:${PORTS[2]}" --cluster-yes >/dev/null
wait_ok
ping_ms() {
    python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t = time.monotonic()
for _ in range(100):
    s.sendall(b"PING\r\n"); s.recv(64)
print("%.2f ms" % ((time.monotonic() - t) * 10))' "$1"
}
echo "replies delayed by $DELAY_MS ms: PING round trip through the proxy $(ping_ms "${PORTS[0]}")"
echo "filling $N keys of 32 bytes..."
python3 "$HERE/fill_cluster.py" "$N" 32 "$A"
ID_A=$(redis-cli -p "${PORTS[0]}" cluster myid)
ID_B=$(redis-cli -p "${PORTS[1]}" cluster myid)
echo "keys per master: $(for p in "${PORTS[@]}"; do redis-cli -p "$p" dbsize; done | tr '\n' ' ')"

for r in $(seq "$ROUNDS"); do
    echo "round $r"
    order=$TOOLS
    if [ $((r % 2)) -eq 0 ]; then order=$(echo "$TOOLS" | tr ' ' '\n' | tac | tr '\n' ' '); fi
    for tool in $order; do run_tool "$tool"; done
done

print_summary "$N" "$ROUNDS"
