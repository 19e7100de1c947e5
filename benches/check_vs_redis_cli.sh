#!/usr/bin/env bash
# Times `trib check` / `trib info` against `redis-cli --cluster check` / `info` on one
# 30-node redis-server cluster (15 masters + 15 replicas) on 127.0.0.1, alternating the two
# tools run by run. Starts its servers in a temporary directory and stops them by PID at exit.
# Usage: benches/check_vs_redis_cli.sh [runs] [keys]   (needs a release build: cargo build --release)
set -euo pipefail
RUNS=${1:-10}
KEYS=${2:-10000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TRIB=${TRIB:-$ROOT/target/release/trib}
[ -x "$TRIB" ] || { echo "build first: cargo build --release --bin trib" >&2; exit 2; }
DIR=$(mktemp -d -t trib-bench-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ADDRS=()
for i in $(seq 1 30); do
  port=$(free_port); bus=$(free_port)
  mkdir -p "$DIR/$port"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$DIR/$port" --logfile "$DIR/$port/log" \
    --save '' --appendonly no --cluster-enabled yes --cluster-port "$bus" \
    --cluster-config-file nodes.conf --cluster-node-timeout 5000 >/dev/null 2>&1 &
  PIDS+=($!)
  ADDRS+=("127.0.0.1:$port")
done
for a in "${ADDRS[@]}"; do
  for _ in $(seq 1 100); do redis-cli -p "${a##*:}" ping >/dev/null 2>&1 && break; sleep 0.05; done
done
"$TRIB" create "${ADDRS[@]}" --replicas 1 --yes -q
ENTRY=${ADDRS[0]}
# keys spread over every master (redis-cli -c follows MOVED)
python3 - "$ENTRY" "$KEYS" <<'PY' | redis-cli -c -p "${ENTRY##*:}" >/dev/null
import sys
for i in range(int(sys.argv[2])):
    print(f"SET bench:{i} v{i}")
PY

# Microseconds from bash's own clock: $(date) would add a process start to every measurement.
time_us() { local s e; s=${EPOCHREALTIME/./}; "$@" >/dev/null 2>&1 || true; e=${EPOCHREALTIME/./}; echo $(( e - s )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for what in check info; do
  T=(); R=()
  for _ in $(seq 1 "$RUNS"); do
    T+=("$(time_us "$TRIB" "$what" "$ENTRY")")
    R+=("$(time_us redis-cli --cluster "$what" "$ENTRY")")
  done
  tm=$(printf '%s\n' "${T[@]}" | median); rm_=$(printf '%s\n' "${R[@]}" | median)
  tm=$(awk -v u="$tm" 'BEGIN{printf "%.1f", u/1000}'); rm_=$(awk -v u="$rm_" 'BEGIN{printf "%.1f", u/1000}')
  echo "$what: trib median ${tm} ms, redis-cli median ${rm_} ms, ratio $(awk -v a="$tm" -v b="$rm_" 'BEGIN{printf "%.2f", a/b}') ($RUNS runs each, 30 nodes, $KEYS keys)"
done
