# Shared by the cluster/demo-* scripts. Source it after common.sh.
# shellcheck shell=bash

# Seconds since the demo started, to a tenth.
DEMO_START="$(date +%s.%N)"
elapsed() { awk -v now="$(date +%s.%N)" -v start="$DEMO_START" 'BEGIN { printf "%6.1f", now - start }'; }
at() { printf '%s s  %s\n' "$(elapsed)" "$*"; }
now() { date +%s.%N; }
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# One field of a node's CLUSTER INFO.
cluster_field() { redis-cli -p "$1" CLUSTER INFO 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }

# The demo's own cluster: its own run folder and ports, stopped on exit whatever happens.
demo_cluster() {
    export RINGCACHE_RUN="${RINGCACHE_RUN:-$RINGCACHE_ROOT/cluster/run/$1}"
    export RINGCACHE_BASE_PORT="${RINGCACHE_BASE_PORT:-$2}"
    rm -rf "$RINGCACHE_RUN"
    mkdir -p "$RINGCACHE_RUN"
    trap demo_cleanup EXIT
}

demo_cleanup() {
    local index pid pids=()
    # Bash reports each killed job; the demo's output is already complete.
    exec 2>/dev/null
    [ -n "${LOAD_PID:-}" ] && kill "$LOAD_PID" 2>/dev/null || true
    for index in $(known_nodes); do
        if node_running "$index"; then
            pid="$(cat "$(node_dir "$index")/pid")"
            kill -9 "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
    done
    # Reap them, so nothing the demo started outlives it (bounded: 5 s).
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
}

# Starts ringcache-bench in the background with --verify (every acknowledged write is read
# back at the end); its per-second lines are shown prefixed with "load |".
start_load() {
    local port="$1" duration="$2"
    LOAD_OUT="$RINGCACHE_RUN/load.json"
    LOAD_START="$(now)"
    "$RINGCACHE_BENCH" --port "$port" --connections 4 --pipeline 4 --keys 20000 --value-size 64 \
        --duration "$duration" --verify --json >"$LOAD_OUT" 2> >(sed -u 's/^/          load | /') &
    LOAD_PID=$!
}

# Waits for the load to finish and prints one of its JSON fields per argument.
load_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get(sys.argv[2], ""))' "$LOAD_OUT" "$1"; }
