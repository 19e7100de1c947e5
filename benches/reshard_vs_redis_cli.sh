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
for i in 1 2 3; do
    port=$(free_port); bus=$(free_port)
    mkdir -p "$WORK/n$port"
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-port "$bus" \
        --cluster-config-file nodes.conf --cluster-node-timeout 5000 --save "" --appendonly no \
        --dir "$WORK/n$port" --logfile "$WORK/n$port/log" --daemonize yes --pidfile "$WORK/n$port/pid"
    PORTS+=("$port")
done
for p in "${PORTS[@]}"; do
    for _ in $(seq 50); do [ -s "$WORK/n$p/pid" ] && redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
    PIDS+=("$(cat "$WORK/n$p/pid")")
done
A=127.0.0.1:${PORTS[0]}
redis-cli --cluster create "$A" "127.0.0.1:${PORTS[1]}" "127.0.0.1:${PORTS[2]}" --cluster-yes >/dev/null

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
ID_A=$(redis-cli -p "${PORTS[0]}" cluster myid)
ID_B=$(redis-cli -p "${PORTS[1]}" cluster myid)
echo "keys per master: $(for p in "${PORTS[@]}"; do redis-cli -p "$p" dbsize; done | tr '\n' ' ')"

declare -A TIMES

# one move: tool, from, to; prints seconds
move() {
    local tool=$1 from=$2 to=$3 start end
    start=$(date +%s.%N)
    case $tool in
        trib)
            /usr/bin/time -f '%M' -o "$WORK/rss" "$TRIB" reshard "$A" --from "$from" --to "$to" \
                --slots 4096 --yes >"$WORK/out" 2>&1
            tail -1 "$WORK/rss" >>"$WORK/rss_all"   # move runs in a subshell: keep it in a file
            ;;
        cli10)
            redis-cli --cluster reshard "$A" --cluster-from "$from" --cluster-to "$to" \
                --cluster-slots 4096 --cluster-yes >"$WORK/out" 2>&1 ;;
        cli1000)
            redis-cli --cluster reshard "$A" --cluster-from "$from" --cluster-to "$to" \
                --cluster-slots 4096 --cluster-yes --cluster-pipeline 1000 >"$WORK/out" 2>&1 ;;
    esac
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

run_tool() {
    local tool=$1 t1 t2
    wait_ok
    t1=$(move "$tool" "$ID_A" "$ID_B") || { echo "$tool failed:"; tail -5 "$WORK/out"; exit 1; }
    wait_ok
    t2=$(move "$tool" "$ID_B" "$ID_A") || { echo "$tool failed:"; tail -5 "$WORK/out"; exit 1; }
    TIMES[$tool]="${TIMES[$tool]:-} $t1 $t2"
    printf '%-8s %6.2f s  %6.2f s\n' "$tool" "$t1" "$t2"
}

for r in $(seq "$ROUNDS"); do
    echo "round $r"
    if [ $((r % 2)) -eq 1 ]; then order="trib cli10 cli1000"; else order="cli1000 cli10 trib"; fi
    for tool in $order; do run_tool "$tool"; done
done

PEAK_RSS=$(sort -n "$WORK/rss_all" | tail -1)
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
MT=$(echo "${TIMES[trib]}" | median)
M10=$(echo "${TIMES[cli10]}" | median)
M1000=$(echo "${TIMES[cli1000]}" | median)
echo
echo "moves of 4096 slots (~$((N / 4)) keys), medians over $((ROUNDS * 2)) moves each:"
echo "  trib                          $MT s   (all: ${TIMES[trib]})"
echo "  redis-cli (pipeline 10)       $M10 s   (all: ${TIMES[cli10]})"
echo "  redis-cli --cluster-pipeline 1000  $M1000 s   (all: ${TIMES[cli1000]})"
echo "  ratio trib / redis-cli default       $(echo "scale=3; $MT / $M10" | bc)"
echo "  ratio trib / redis-cli pipeline 1000 $(echo "scale=3; $MT / $M1000" | bc)"
echo "  trib peak RSS                        $((PEAK_RSS / 1024)) MB ($PEAK_RSS kB)"
