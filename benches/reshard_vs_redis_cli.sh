#!/usr/bin/env bash
# trib reshard vs redis-cli --cluster reshard, side by side on the same cluster in one run.
#
# 3 redis-server masters on 127.0.0.1, N string keys of 32 bytes spread over all slots; each
# round moves 4096 slots from master A to master B and back with each tool (trib, redis-cli at
# its default pipeline 10, redis-cli --cluster-pipeline 1000), alternating the order between
# rounds. Prints every timing, the medians, the ratios trib/redis-cli and trib's peak RSS.
#
# Usage: benches/reshard_vs_redis_cli.sh [N=1000000] [ROUNDS=3] [TRIB=target/release/trib]
set -euo pipefail

N=${1:-1000000}
ROUNDS=${2:-3}
TRIB=${3:-target/release/trib}
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$TRIB" ] || { echo "build trib first: cargo build --release (or pass its path)" >&2; exit 2; }
# shellcheck source=benches/cluster_lib.sh
source "$HERE/cluster_lib.sh"

start_masters 3
redis-cli --cluster create "$A" "127.0.0.1:${PORTS[1]}" "127.0.0.1:${PORTS[2]}" --cluster-yes >/dev/null
wait_ok
echo "filling $N keys of 32 bytes..."
python3 "$HERE/fill_cluster.py" "$N" 32 "$A"
ID_A=$(redis-cli -p "${PORTS[0]}" cluster myid)
ID_B=$(redis-cli -p "${PORTS[1]}" cluster myid)
echo "keys per master: $(for p in "${PORTS[@]}"; do redis-cli -p "$p" dbsize; done | tr '\n' ' ')"

for r in $(seq "$ROUNDS"); do
    echo "round $r"
    if [ $((r % 2)) -eq 1 ]; then order="trib cli10 cli1000"; else order="cli1000 cli10 trib"; fi
    for tool in $order; do run_tool "$tool"; done
done

print_summary "$N" "$ROUNDS"
