#!/usr/bin/env bash
# trib backup vs redis-cli --cluster backup, and trib restore, on the same clusters in one run.
#
# A 3-master redis-server cluster holding N string keys of 32 bytes (fill_cluster.py), and a
# fresh 3-master cluster to restore into. Each round takes one backup with each tool
# (alternating which goes first), then restores trib's backup into the flushed second cluster
# and checks it holds N keys. Prints every timing, the medians and the ratio trib/redis-cli.
#
# Usage: benches/backup_restore.sh [N=1000000] [ROUNDS=3] [TRIB=target/release/trib]
# TRIB_ARGS="--pipeline 512" adds options to trib restore's runs.
set -euo pipefail
read -ra EXTRA <<<"${TRIB_ARGS:-}"

N=${1:-1000000}
ROUNDS=${2:-3}
TRIB=${3:-target/release/trib}
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$TRIB" ] || { echo "build trib first: cargo build --release (or pass its path)" >&2; exit 2; }
# shellcheck source=benches/cluster_lib.sh
source "$HERE/cluster_lib.sh"

start_masters 3
SRC=$A
redis-cli --cluster create "$SRC" "127.0.0.1:${PORTS[1]}" "127.0.0.1:${PORTS[2]}" --cluster-yes >/dev/null
wait_ok
start_masters 3
DST=127.0.0.1:${PORTS[3]}
redis-cli --cluster create "$DST" "127.0.0.1:${PORTS[4]}" "127.0.0.1:${PORTS[5]}" --cluster-yes >/dev/null
A=$DST wait_ok
A=$SRC

echo "filling $N keys..."
python3 "$HERE/fill_cluster.py" "$N" 32 "$SRC" >/dev/null

keys_in() {  # keys_in FIRST_INDEX: total DBSIZE of the three masters from PORTS[FIRST_INDEX]
    local total=0 i
    for i in 0 1 2; do total=$((total + $(redis-cli -p "${PORTS[$(($1 + i))]}" dbsize))); done
    echo "$total"
}
[ "$(keys_in 0)" = "$N" ] || { echo "source holds $(keys_in 0) keys, not $N" >&2; exit 1; }

# timed TOOL: one run; prints seconds
timed() {
    local tool=$1 start end
    start=$(date +%s.%N)
    case $tool in
        trib) "$TRIB" backup "$SRC" "$WORK/bk-trib" >"$WORK/out" 2>&1 ;;
        cli) mkdir -p "$WORK/bk-cli"
             redis-cli --cluster backup "$SRC" "$WORK/bk-cli" >"$WORK/out" 2>&1 ;;
        restore) "$TRIB" restore "$DST" "$WORK/bk-trib" "${EXTRA[@]}" >"$WORK/out" 2>&1 ;;
    esac
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

declare -A T
run() {
    local tool=$1 t
    t=$(timed "$tool") || { echo "$tool failed:"; tail -5 "$WORK/out"; exit 1; }
    T[$tool]="${T[$tool]:-} $t"
    printf '  %-8s %6.2f s\n' "$tool" "$t"
}

for r in $(seq "$ROUNDS"); do
    echo "round $r"
    rm -rf "$WORK/bk-trib" "$WORK/bk-cli"
    if [ $((r % 2)) = 1 ]; then run trib; run cli; else run cli; run trib; fi
    for p in "${PORTS[@]:3:3}"; do redis-cli -p "$p" flushall >/dev/null; done
    run restore
    got=$(keys_in 3)
    [ "$got" = "$N" ] || { echo "restore left $got keys, not $N" >&2; tail -5 "$WORK/out"; exit 1; }
done

mt=$(echo "${T[trib]}" | median)
mc=$(echo "${T[cli]}" | median)
mr=$(echo "${T[restore]}" | median)
echo
echo "$N keys, 3 masters, medians over $ROUNDS runs:"
printf '  %-32s %s s   (all: %s)\n' "trib backup" "$mt" "${T[trib]}"
printf '  %-32s %s s   (all: %s)\n' "redis-cli --cluster backup" "$mc" "${T[cli]}"
echo "  ratio trib / redis-cli backup    $(echo "scale=3; $mt / $mc" | bc)"
printf '  %-32s %s s   (all: %s)  = %s keys/s\n' "trib restore (3 -> 3 masters)" "$mr" "${T[restore]}" \
    "$(echo "$N / $mr" | bc)"
echo "  backup size: $(du -sh "$WORK/bk-trib" | cut -f1)"
