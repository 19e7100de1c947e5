# Shared shell functions of the reshard benchmarks (sourced, not run): start redis-server
# masters on 127.0.0.1 (each optionally behind benches/delay_proxy.py), create the cluster, wait
# until it is healthy, time one 4096-slot reshard with trib or redis-cli, medians and the
# summary. Does not fill keys (fill_cluster.py) nor choose rounds or tool orders (the callers).
# The caller sets TRIB and HERE and `set -euo pipefail`; DELAY_MS (default 0) puts every node
# behind a proxy delaying its replies by that many milliseconds; SERVER_ARGS (an array) adds
# redis-server options.

WORK=$(mktemp -d -t trib-bench-XXXXXX)
PIDS=()
PORTS=()
declare -A TIMES
[ -n "${SERVER_ARGS+x}" ] || SERVER_ARGS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.2
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_masters COUNT: COUNT cluster-enabled redis-servers; PORTS gets the ports clients use
# (the proxy's when DELAY_MS > 0: cluster-announce-port points there, so CLUSTER NODES, MOVED
# and MIGRATE's target all go through it; the bus port stays the real one).
start_masters() {
    local count=$1 port bus client announce i p
    local real=()
    for i in $(seq "$count"); do
        port=$(free_port); bus=$(free_port); client=$port; announce=()
        if [ "${DELAY_MS:-0}" != 0 ]; then
            client=$(free_port)
            python3 "$HERE/delay_proxy.py" "$client" "$port" "$DELAY_MS" &
            PIDS+=("$!")
            announce=(--cluster-announce-ip 127.0.0.1 --cluster-announce-port "$client"
                      --cluster-announce-bus-port "$bus")
        fi
        mkdir -p "$WORK/n$port"
        redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-port "$bus" \
            --cluster-config-file nodes.conf --cluster-node-timeout 5000 --save "" --appendonly no \
            "${announce[@]}" "${SERVER_ARGS[@]}" \
            --dir "$WORK/n$port" --logfile "$WORK/n$port/log" --daemonize yes --pidfile "$WORK/n$port/pid"
        real+=("$port")
        PORTS+=("$client")
        FILL_PORT_MAP="${FILL_PORT_MAP:-}$client=$port,"
    done
    export FILL_PORT_MAP
    for p in "${real[@]}"; do
        for _ in $(seq 50); do [ -s "$WORK/n$p/pid" ] && redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
        PIDS+=("$(cat "$WORK/n$p/pid")")
    done
    for p in "${PORTS[@]}"; do
        for _ in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
    done
    A=127.0.0.1:${PORTS[0]}
}

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

# run_tool TOOL: A->B then B->A with TOOL, recorded in TIMES[TOOL]
run_tool() {
    local tool=$1 t1 t2
    wait_ok
    t1=$(move "$tool" "$ID_A" "$ID_B") || { echo "$tool failed:"; tail -5 "$WORK/out"; exit 1; }
    wait_ok
    t2=$(move "$tool" "$ID_B" "$ID_A") || { echo "$tool failed:"; tail -5 "$WORK/out"; exit 1; }
    TIMES[$tool]="${TIMES[$tool]:-} $t1 $t2"
    printf '%-8s %6.2f s  %6.2f s\n' "$tool" "$t1" "$t2"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# print_summary N ROUNDS: medians of every tool run, ratios against trib, trib's peak RSS
print_summary() {
    local n=$1 rounds=$2 mt m peak tool
    mt=$(echo "${TIMES[trib]}" | median)
    echo
    echo "moves of 4096 slots (~$((n / 4)) keys), medians over $((rounds * 2)) moves each:"
    for tool in trib cli10 cli1000; do
        [ -n "${TIMES[$tool]:-}" ] || continue
        m=$(echo "${TIMES[$tool]}" | median)
        case $tool in
            trib) printf '  %-36s %s s   (all: %s)\n' "trib" "$m" "${TIMES[$tool]}" ;;
            cli10) printf '  %-36s %s s   (all: %s)\n' "redis-cli (pipeline 10)" "$m" "${TIMES[$tool]}"
                   echo "  ratio trib / redis-cli default       $(echo "scale=3; $mt / $m" | bc)" ;;
            cli1000) printf '  %-36s %s s   (all: %s)\n' "redis-cli --cluster-pipeline 1000" "$m" "${TIMES[$tool]}"
                     echo "  ratio trib / redis-cli pipeline 1000 $(echo "scale=3; $mt / $m" | bc)" ;;
        esac
    done
    peak=$(sort -n "$WORK/rss_all" | tail -1)
    echo "  trib peak RSS                        $((peak / 1024)) MB ($peak kB)"
}
