"""INFO, SLOWLOG, CLIENT KILL and the admin HTTP port, on a real server."""
import json
import time
import subprocess
import urllib.error
import urllib.request

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from conftest import free_port, http_get, wait_until


def start_with_admin(start_server):
    """A server with its admin port, once that port answers: the admin listener is its own
    service and may bind a moment after the client port answers PING."""
    admin = free_port()
    server = start_server("--admin-port", str(admin))

    def admin_up() -> bool:
        try:
            return http_get(admin, "/health")[0] == 200
        except (urllib.error.URLError, ConnectionError):
            return False

    wait_until(admin_up, timeout=10, message="the admin port to answer /health")
    return server, admin


def metrics(port: int) -> dict:
    status, body = http_get(port, "/metrics")
    assert status == 200
    samples = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_parse_and_move_with_commands(start_server):
    server, admin = start_with_admin(start_server)
    client = server.client()
    before = metrics(admin)
    for index in range(100):
        client.set(f"k{index}", "v")
    for index in range(150):
        client.get(f"k{index}")
    with pytest.raises(redis.ResponseError):
        client.incr("k1")
    after = metrics(admin)
    sets = ("ringcache_commands_total", (("cmd", "set"),))
    assert after[sets] - before.get(sets, 0) == 100
    assert after[("ringcache_keyspace_hits_total", ())] - before[("ringcache_keyspace_hits_total", ())] == 100
    assert after[("ringcache_keyspace_misses_total", ())] - before[("ringcache_keyspace_misses_total", ())] == 50
    assert after[("ringcache_keys", ())] == 100
    assert after[("ringcache_command_failures_total", (("cmd", "incrby"),))] == 1, "redis-py sends INCR as INCRBY"
    assert after[("ringcache_errors_total", (("code", "ERR"),))] >= 1
    assert after[("ringcache_command_duration_seconds_count", (("cmd", "get"),))] == 150
    assert after[("ringcache_command_duration_seconds_bucket", (("cmd", "get"), ("le", "+Inf")))] == 150
    assert after[("ringcache_memory_used_bytes", ())] > before[("ringcache_memory_used_bytes", ())]


def test_health_ready_cluster_and_unknown_paths(start_server):
    server, admin = start_with_admin(start_server)
    assert http_get(admin, "/health") == (200, "ok\n")
    assert http_get(admin, "/ready") == (200, "ready\n")
    status, body = http_get(admin, "/cluster")
    assert status == 200
    cluster = json.loads(body)
    assert cluster["myself"] == server.client().execute_command("CLUSTER", "MYID").decode()
    assert cluster["joined"] is True
    assert cluster["slots"] == [{"start": 0, "end": 16383, "primary": cluster["myself"], "replicas": []}]
    assert http_get(admin, "/nope")[0] == 404


def test_admin_port_is_off_by_default(server):
    assert server.client().config_get("admin-port") == {"admin-port": "0"}


def test_slowlog_records_a_slow_command(server, client):
    pipe = client.pipeline(transaction=False)
    for index in range(200_000):
        pipe.set(f"slow:{index}", "x")
    pipe.execute()
    client.slowlog_reset()
    client.config_set("slowlog-log-slower-than", 1000)
    assert len(client.keys("slow:*")) == 200_000
    client.get("fast")
    entries = client.slowlog_get()
    assert len(entries) == 1, entries
    assert entries[0]["command"] == b"KEYS slow:*"
    assert entries[0]["duration"] >= 1000
    assert client.slowlog_len() == 1
    client.config_set("slowlog-log-slower-than", 0)
    client.echo("every command now")
    assert client.slowlog_get(1)[0]["command"] == b"ECHO every command now"
    assert client.slowlog_reset() and client.slowlog_len() in (0, 1)
    assert server.cli("SLOWLOG", "GET", "-2").stdout.strip() == "ERR count should be greater than or equal to -1"


def test_info_sections_are_present_and_typed(server, client):
    client.ping()
    client.config_resetstat()  # redis-py's connection handshake probes newer commands
    client.set("a", "1")
    client.get("a")
    with pytest.raises(redis.ResponseError):
        client.execute_command("NOSUCHCOMMAND")
    with pytest.raises(redis.ResponseError):
        client.execute_command("GET")
    info = client.info("everything")
    typed = {"redis_version": str, "uptime_in_seconds": int, "connected_clients": int, "used_memory": int,
             "mem_fragmentation_ratio": float, "rdb_last_save_time": int, "total_commands_processed": int,
             "keyspace_hits": int, "role": str, "used_cpu_user": float, "cluster_enabled": int,
             "total_error_replies": int, "node_id": str}
    for field, kind in typed.items():
        assert isinstance(info[field], kind), (field, info.get(field))
    assert info["cmdstat_set"]["calls"] == 1
    assert info["cmdstat_get"]["calls"] == 1 and info["cmdstat_get"]["rejected_calls"] == 1
    assert info["cmdstat_config"]["calls"] == 1, "CONFIG RESETSTAT counts after the reset"
    assert info["errorstat_ERR"]["count"] == 2
    assert info["total_error_replies"] == 2
    assert "cmdstat_set" not in client.info(), "commandstats is not in the default sections"
    assert client.info("commandstats")["cmdstat_set"]["calls"] == 1
    client.config_resetstat()
    assert "cmdstat_set" not in client.info("commandstats")


def test_client_kill(server, client):
    import socket
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as victim:
        victim.sendall(b"CLIENT SETNAME victim\r\nCLIENT ID\r\n")
        reply = b""
        while reply.count(b"\r\n") < 2:
            reply += victim.recv(100)
        victim_id = int(reply.split(b"\r\n")[1][1:])
        assert client.client_kill_filter(_id=victim_id) == 1
        assert victim.recv(100) == b"", "the killed connection is closed"
    assert server.cli("CLIENT", "KILL", "1.2.3.4:5").stdout.strip() == "ERR No such client"
    assert client.client_kill_filter(_id=client.client_id()) == 0, "SKIPME yes by default"
    assert client.ping()


def test_node_id_on_every_log_line(start_server):
    server = start_server()
    node_id = server.client().execute_command("CLUSTER", "MYID").decode()
    lines = [line for line in server.log_path.read_text().splitlines() if line.strip()]
    assert lines and all(f"node={node_id[:8]}" in line for line in lines), lines


def test_cluster_metrics_count_members_and_gossip(start_server):
    seed, admin = start_with_admin(start_server)
    member = start_server("--cluster-seeds", f"127.0.0.1:{seed.port}@{seed.bus_port}")

    def alive_members() -> float:
        return metrics(admin)[("ringcache_cluster_members", (("state", "alive"),))]

    wait_until(lambda: alive_members() == 2, timeout=10, message="two alive members in /metrics")
    # Alive at once, and holding its slots once it has been filled (the seed hears of it).
    wait_until(lambda: metrics(admin)[("ringcache_cluster_primary_slots", ())] < 16384, timeout=10,
               message="the member to take its slots")
    pings = ("ringcache_cluster_gossip_messages_total", (("direction", "sent"), ("kind", "ping")))
    first = metrics(admin)[pings]
    wait_until(lambda: metrics(admin)[pings] > first, timeout=5, message="the ping counter to move")
    sample = metrics(admin)
    assert sample[("ringcache_cluster_joined", ())] == 1
    assert sample[("ringcache_cluster_primary_slots", ())] + int(member.client().info("ringcache")["ring_primary_slots"]) == 16384
    assert sample[("ringcache_cluster_bus_dropped_total", (("reason", "unauthenticated"),))] == 0
    assert 1.0 <= sample[("ringcache_cluster_ring_balance", ())] <= 1.1
    # Replication: the seed holds a copy of the member's slots, so it applies what the member
    # is sent; once everything is acknowledged nothing is pending.
    from redis.cluster import RedisCluster
    writer = RedisCluster(host="127.0.0.1", port=seed.port)
    for index in range(200):
        writer.set(f"metric:{index}", index)
    wait_until(lambda: metrics(admin)[("ringcache_replication_keys_applied_total", ())] > 0, timeout=10,
               message="the seed to apply the member's writes")
    wait_until(lambda: metrics(admin)[("ringcache_replication_pending_ops", ())] == 0, timeout=10,
               message="every write acknowledged")
    assert metrics(admin)[("ringcache_cluster_slots_moving", ())] == 0
    member.process.kill()
    member.process.wait(timeout=5)
    wait_until(lambda: metrics(admin)[("ringcache_cluster_members", (("state", "dead"),))] == 1, timeout=10, message="the killed member counted dead")
    assert metrics(admin)[("ringcache_cluster_failed_probes_total", ())] >= 1


def test_monitor_streams_every_command_in_redis_format(server):
    import re
    import socket
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as monitor:
        monitor.sendall(b"MONITOR\r\n")
        assert monitor.recv(5) == b"+OK\r\n"
        client = server.client()
        client.set("greeting", 'say "hi"\n')
        client.get("greeting")
        received = b""
        while b'"GET"' not in received:
            chunk = monitor.recv(4096)
            assert chunk, "monitor connection closed"
            received += chunk
    # redis-py's CLIENT SETINFO on connecting comes first; then our two commands, in order.
    lines = [line for line in received.decode().split("\r\n") if '"SET"' in line or '"GET"' in line]
    pattern = r'^\+\d{10}\.\d{6} \[0 127\.0\.0\.1:\d+\] '
    assert re.match(pattern + r'"SET" "greeting" "say \\"hi\\"\\n"$', lines[0]), lines[0]
    assert re.match(pattern + r'"GET" "greeting"$', lines[1]), lines[1]


def test_latency_monitor_records_slow_commands(server, client):
    assert client.execute_command("LATENCY", "LATEST") == []
    client.config_set("latency-monitor-threshold", 1)
    pipe = client.pipeline(transaction=False)
    for index in range(300_000):
        pipe.set(f"key:{index}", "v")
    pipe.execute()
    client.keys("*")  # walks 300,000 keys: well over a millisecond
    latest = client.execute_command("LATENCY", "LATEST")
    events = {event[0]: event[1:] for event in latest}
    assert b"command" in events
    timestamp, last_ms, max_ms = events[b"command"]
    assert abs(timestamp - time.time()) < 60 and 1 <= last_ms <= max_ms
    history = client.execute_command("LATENCY", "HISTORY", "command")
    assert history and history[-1][1] == last_ms
    assert client.execute_command("LATENCY", "RESET") >= 1
    assert client.execute_command("LATENCY", "LATEST") == []
