#!/usr/bin/env bash
# trib import vs redis-cli --cluster import, side by side on the same cluster in one run.
#
# 3 redis-server masters on 127.0.0.1 and one standalone redis-server holding N string keys of
# 32 bytes (DEBUG POPULATE). Each round imports the N keys with each tool, moving them (the
# source is refilled before every run) and with --copy, alternating the order of the tools
# between rounds; the cluster is flushed before every run and checked to hold N keys after it.
# Prints every timing, the medians, the ratios trib/redis-cli and trib's peak RSS.
#
# Usage: benches/import_vs_redis_cli.sh [N=1000000] [ROUNDS=3] [TRIB=target/release/trib]
# TRIB_ARGS="--pipeline 512" adds options to trib's runs; TOOLS="trib" skips redis-cli (tuning).
set -euo pipefail
read -ra EXTRA <<<"${TRIB_ARGS:-}"
TOOLS=${TOOLS:-trib cli}

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

SRC_PORT=$(free_port)
mkdir -p "$WORK/src"
redis-server --port "$SRC_PORT" --bind 127.0.0.1 --save "" --appendonly no --enable-debug-command local \
    --dir "$WORK/src" --logfile "$WORK/src/log" --daemonize yes --pidfile "$WORK/src/pid"
for _ in $(seq 50); do [ -s "$WORK/src/pid" ] && redis-cli -p "$SRC_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
PIDS+=("$(cat "$WORK/src/pid")")
SRC=127.0.0.1:$SRC_PORT

# the source holds exactly N keys, the cluster none
reset() {
    for p in "${PORTS[@]}"; do redis-cli -p "$p" flushall >/dev/null; done
    if [ "$(redis-cli -p "$SRC_PORT" dbsize)" != "$N" ]; then
        redis-cli -p "$SRC_PORT" flushall >/dev/null
        redis-cli -p "$SRC_PORT" debug populate "$N" key 32 >/dev/null
    fi
}

cluster_keys() {
    local total=0 p
    for p in "${PORTS[@]}"; do total=$((total + $(redis-cli -p "$p" dbsize))); done
    echo "$total"
}

# import TOOL MODE: one import, timed; prints seconds
import() {
    local tool=$1 mode=$2 start end copy=() got
    start=$(date +%s.%N)
    case $tool in
        trib)
            [ "$mode" = copy ] && copy=(--copy)
            /usr/bin/time -f '%M' -o "$WORK/rss" "$TRIB" import "$A" --from "$SRC" "${copy[@]}" "${EXTRA[@]}" \
                >"$WORK/out" 2>&1
            tail -1 "$WORK/rss" >>"$WORK/rss_all"
            ;;
        cli)
            [ "$mode" = copy ] && copy=(--cluster-copy)
            # one line per key: written to /dev/null, not counted against it as file I/O
            redis-cli --cluster import "$A" --cluster-from "$SRC" "${copy[@]}" >/dev/null 2>"$WORK/out"
            ;;
    esac
    end=$(date +%s.%N)
    got=$(cluster_keys)
    [ "$got" = "$N" ] || { echo "$tool $mode: the cluster holds $got keys, not $N" >&2; tail -5 "$WORK/out" >&2; exit 1; }
    echo "$end - $start" | bc
}

echo "source $SRC, $N keys of 32 bytes; cluster $A (3 masters)"
for r in $(seq "$ROUNDS"); do
    echo "round $r"
    order=$TOOLS
    if [ $((r % 2)) -eq 0 ]; then order=$(echo "$TOOLS" | tr ' ' '\n' | tac | tr '\n' ' '); fi
    for mode in move copy; do
        for tool in $order; do
            reset
            t=$(import "$tool" "$mode")
            TIMES[$tool-$mode]="${TIMES[$tool-$mode]:-} $t"
            printf '  %-5s %-5s %7.2f s\n' "$tool" "$mode" "$t"
        done
    done
done

echo
echo "imports of $N keys, medians over $ROUNDS runs each:"
for mode in move copy; do
    [ -n "${TIMES[cli-$mode]:-}" ] || { echo "  $mode trib $(echo "${TIMES[trib-$mode]}" | median) s (all:${TIMES[trib-$mode]})"; continue; }
    mt=$(echo "${TIMES[trib-$mode]}" | median)
    mc=$(echo "${TIMES[cli-$mode]}" | median)
    printf '  %-4s trib %7s s (all:%s)   redis-cli %7s s (all:%s)   ratio %s\n' "$mode" "$mt" \
        "${TIMES[trib-$mode]}" "$mc" "${TIMES[cli-$mode]}" "$(echo "scale=3; $mt / $mc" | bc)"
done
peak=$(sort -n "$WORK/rss_all" | tail -1)
echo "  trib peak RSS $((peak / 1024)) MB ($peak kB)"
