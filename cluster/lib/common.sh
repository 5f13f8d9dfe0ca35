# Shared by the cluster/ scripts. Source it; do not run it.
# shellcheck shell=bash

RINGCACHE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RINGCACHE_RUN="${RINGCACHE_RUN:-$RINGCACHE_ROOT/cluster/run}"
RINGCACHE_BASE_PORT="${RINGCACHE_BASE_PORT:-7001}"

say() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run '$*' (no sudo here); install it by hand and try again"
    fi
}

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "missing $*, and this is not a Debian-like system with apt-get: install $* by hand"
    if [ "$APT_UPDATED" -eq 0 ]; then
        say "==> apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
        APT_UPDATED=1
    fi
    say "==> apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

require_swift() {
    command -v swift >/dev/null 2>&1 || die "the Swift toolchain (6.0 or later) is not on PATH; install it from swift.org first"
}

# What building needs: liblz4 found through pkg-config.
ensure_build_deps() {
    require_swift
    local missing=()
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    if ! pkg-config --exists liblz4 2>/dev/null; then missing+=(liblz4-dev); fi
    if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
}

# What the tests need on top: redis-cli and redis-benchmark (redis-tools), redis-py, pytest,
# and prometheus_client's parser for /metrics.
ensure_test_deps() {
    ensure_build_deps
    if ! command -v redis-cli >/dev/null 2>&1 || ! command -v redis-benchmark >/dev/null 2>&1; then
        apt_install redis-tools
    fi
    # The client library's TLS test makes its certificate with openssl.
    command -v openssl >/dev/null 2>&1 || apt_install openssl
    # The fault-injection tests build network namespaces (ip) and cut links (iptables); they
    # need root and skip without it, so only root installs these.
    if [ "$(id -u)" -eq 0 ]; then
        command -v ip >/dev/null 2>&1 || apt_install iproute2
        command -v iptables >/dev/null 2>&1 || apt_install iptables
    fi
    if ! python3 -c 'import redis, pytest, prometheus_client' >/dev/null 2>&1; then
        command -v python3 >/dev/null 2>&1 || apt_install python3 python3-pip
        say "==> pip install redis pytest prometheus_client"
        python3 -m pip install --quiet --disable-pip-version-check redis pytest prometheus_client 2>/dev/null \
            || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages redis pytest prometheus_client 2>/dev/null \
            || apt_install python3-redis python3-pytest python3-prometheus-client
        python3 -c 'import redis, pytest, prometheus_client' >/dev/null 2>&1 || die "could not install python3's redis, pytest and prometheus_client modules"
    fi
    # The Kubernetes manifests are checked against the API schemas when this installs.
    if ! python3 -c 'import kubernetes_validate, yaml' >/dev/null 2>&1; then
        say "==> pip install kubernetes-validate"
        python3 -m pip install --quiet --disable-pip-version-check kubernetes-validate 2>/dev/null \
            || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages kubernetes-validate 2>/dev/null \
            || say "    (kubernetes-validate could not be installed: the manifest check will be skipped)"
    fi
}

# python3's redis module (the demos read the slot table with it).
ensure_python_redis() {
    python3 -c 'import redis' >/dev/null 2>&1 && return 0
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-pip
    say "==> pip install redis"
    python3 -m pip install --quiet --disable-pip-version-check redis 2>/dev/null \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages redis 2>/dev/null \
        || apt_install python3-redis
    python3 -c 'import redis' >/dev/null 2>&1 || die "could not install python3's redis module"
}

# redis-cli, which the cluster scripts use to ask nodes how the cluster stands.
ensure_redis_cli() {
    command -v redis-cli >/dev/null 2>&1 || apt_install redis-tools
}

# What the benchmarks need on top: Debian's redis-server to race against, numpy, matplotlib.
ensure_bench_deps() {
    command -v redis-server >/dev/null 2>&1 || apt_install redis-server
    command -v taskset >/dev/null 2>&1 || apt_install util-linux
    if ! python3 -c 'import numpy, matplotlib' >/dev/null 2>&1; then
        say "==> pip install numpy matplotlib"
        python3 -m pip install --quiet --disable-pip-version-check numpy matplotlib 2>/dev/null \
            || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages numpy matplotlib 2>/dev/null \
            || apt_install python3-numpy python3-matplotlib
        python3 -c 'import numpy, matplotlib' >/dev/null 2>&1 || die "could not install python3's numpy and matplotlib"
    fi
}

# Release builds turn the runtime's dynamic exclusivity checks off in every module, SwiftNIO's
# included: in NIO's per-read and per-flush paths they cost about 0.4 us of CPU per request at
# -P 1, a tenth of the server's user time (bench/RESULTS.md, "The -P 1 tail"). Ringcache's
# own hot state is already `@exclusivity(unchecked)` where confinement to one event loop makes
# the check redundant. Debug builds, and so `swift test`, keep every check on.
RELEASE_SWIFT_FLAGS=(-Xswiftc -enforce-exclusivity=unchecked)

# Builds the release server, ringctl and ringcache-bench unless they are up to date (swift
# build is incremental, as long as the flags stay the same).
build_release() {
    local product log
    for product in ringcache-server ringctl ringcache-bench; do
        say "==> swift build -c release ${RELEASE_SWIFT_FLAGS[*]} --product $product"
        # The build's own status decides, not a pipe's last command: a failed build must not
        # pass for one because an older binary is still in .build/release.
        log="$(mktemp)"
        if ! (cd "$RINGCACHE_ROOT" && swift build -c release "${RELEASE_SWIFT_FLAGS[@]}" --product "$product" >"$log" 2>&1); then
            grep -E "error" "$log" | head -n 20 >&2 || tail -n 20 "$log" >&2
            rm -f "$log"
            die "release build of $product failed"
        fi
        tail -n 3 "$log"
        rm -f "$log"
        [ -x "$RINGCACHE_ROOT/.build/release/$product" ] || die "release build did not produce .build/release/$product"
    done
    RINGCACHE_SERVER="$RINGCACHE_ROOT/.build/release/ringcache-server"
    RINGCTL="$RINGCACHE_ROOT/.build/release/ringctl"
    RINGCACHE_BENCH="$RINGCACHE_ROOT/.build/release/ringcache-bench"
    export RINGCACHE_SERVER RINGCTL RINGCACHE_BENCH
}

# Waits (bounded) until the node on port $1 answers PING.
wait_for_ping() {
    local port="$1" deadline=$((SECONDS + 15))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if [ "$(redis_ping "$port")" = "PONG" ]; then return 0; fi
        sleep 0.1
    done
    return 1
}

redis_ping() {
    if command -v redis-cli >/dev/null 2>&1; then
        redis-cli -p "$1" PING 2>/dev/null
    else
        python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1) as c:
    c.sendall(b"PING\r\n"); print("PONG" if c.recv(16) == b"+PONG\r\n" else "")
PY
    fi
}

# Node I listens on BASE_PORT + I - 1; its data, identity and log live in cluster/run/node-I.
node_port() { echo $((RINGCACHE_BASE_PORT + $1 - 1)); }
node_dir() { echo "$RINGCACHE_RUN/node-$1"; }
node_running() { local pidfile; pidfile="$(node_dir "$1")/pid"; [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

# The nodes cluster/up has made, running or not, by number.
known_nodes() {
    local dir
    for dir in "$RINGCACHE_RUN"/node-*; do
        [ -d "$dir" ] && basename "$dir" | sed 's/node-//'
    done | sort -n
}

# Starts node I, joining through `seeds` (host:port,...; empty founds a new cluster).
start_node() {
    local index="$1" seeds="$2" port dir
    port="$(node_port "$index")"
    dir="$(node_dir "$index")"
    mkdir -p "$dir"
    if node_running "$index"; then
        say "node $index is already running (pid $(cat "$dir/pid")) on 127.0.0.1:$port"
        return 0
    fi
    local flags=(--port "$port" --bind 127.0.0.1 --dir "$dir" --logfile "$dir/node.log")
    [ -n "$seeds" ] && flags+=(--cluster-seeds "$seeds")
    # Extra directives for every node, e.g. RINGCACHE_NODE_FLAGS="--min-replicas-ack 1".
    # shellcheck disable=SC2206
    [ -n "${RINGCACHE_NODE_FLAGS:-}" ] && flags+=($RINGCACHE_NODE_FLAGS)
    say "==> starting node $index on 127.0.0.1:$port${seeds:+ (seeds $seeds)}"
    setsid "$RINGCACHE_SERVER" "${flags[@]}" </dev/null >"$dir/stdout.log" 2>&1 &
    echo $! >"$dir/pid"
    if ! wait_for_ping "$port"; then
        cat "$dir/stdout.log" "$dir/node.log" 2>/dev/null >&2 || true
        die "node $index did not answer PING within 15 s (log: $dir/node.log)"
    fi
}

# Seeds for a node rejoining: every other node that is running.
running_seeds_except() {
    local index seeds=()
    for index in $(known_nodes); do
        [ "$index" = "$1" ] && continue
        node_running "$index" && seeds+=("127.0.0.1:$(node_port "$index")")
    done
    local IFS=,
    echo "${seeds[*]}"
}

# Waits (at most 20 s) until every running node sees `count` live members and serves all slots.
wait_for_convergence() {
    local count="$1" index ok
    for _ in $(seq 200); do
        ok=1
        for index in $(known_nodes); do
            node_running "$index" || continue
            local port live
            port="$(node_port "$index")"
            local info
            info="$(redis-cli -p "$port" CLUSTER INFO 2>/dev/null | tr -d '\r')"
            grep -q "^cluster_state:ok$" <<<"$info" || ok=0
            # Joining nodes are filled before they take their slots; moves finish first.
            grep -q "^cluster_node_phase:serving$" <<<"$info" || ok=0
            grep -q "^cluster_slots_moving:0$" <<<"$info" || ok=0
            live="$(redis-cli -p "$port" CLUSTER NODES 2>/dev/null | awk '$3 !~ /fail/' | wc -l)"
            [ "$live" = "$count" ] || ok=0
        done
        [ "$ok" = 1 ] && return 0
        sleep 0.1
    done
    # What each node still disagreed on, so a failure says which condition never held.
    for index in $(known_nodes); do
        node_running "$index" || continue
        local port
        port="$(node_port "$index")"
        echo "node $index (port $port): $(redis-cli -p "$port" CLUSTER INFO 2>/dev/null | tr -d '\r' \
            | grep -E '^cluster_(state|node_phase|slots_moving|slots_filling|known_nodes):' | tr '\n' ' ')" >&2
        redis-cli -p "$port" CLUSTER NODES 2>/dev/null | awk '{ print "    " $1 " " $2 " " $3 " " $8 }' >&2
    done
    return 1
}

# The cluster as ringctl shows it (its verdict line and table), or a short table from
# CLUSTER NODES when ringctl is not built.
print_status() {
    if [ -x "${RINGCTL:-}" ]; then
        "$RINGCTL" status --port "$1" || true
        return 0
    fi
    print_status_table "$1"
}

# A short table of the cluster as node `port` sees it.
print_status_table() {
    local port="$1"
    redis-cli -p "$port" CLUSTER NODES | awk '
        { state = ($3 ~ /fail\?/) ? "suspect" : ($3 ~ /fail/) ? "dead" : "alive"
          slots = 0
          for (i = 9; i <= NF; i++) { n = split($i, r, "-"); slots += (n == 2) ? r[2] - r[1] + 1 : 1 }
          split($2, a, "@")
          printf "  %s  %-16s %-8s %5d primary slots%s\n", substr($1, 1, 8), a[1], state, slots, ($3 ~ /myself/) ? "  (asked)" : "" }'
}
