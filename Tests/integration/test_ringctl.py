"""ringctl and ringcache-bench against real nodes: every read command's --json parsed and
checked, exit codes for healthy, degraded and unreachable, key commands with their owners,
LEAVE with its hand-off, and the load generator's counts and verification."""
import json
import os
import subprocess

import redis
from redis.cluster import RedisCluster

from conftest import ROOT, wait_until
from test_cluster import converged
from test_replication import start_cluster

RINGCTL = os.environ.get("RINGCTL", str(ROOT / ".build" / "release" / "ringctl"))
BENCH = os.environ.get("RINGCACHE_BENCH", str(ROOT / ".build" / "release" / "ringcache-bench"))


def ringctl(port: int, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([RINGCTL, *arguments, "--port", str(port)], capture_output=True, text=True, timeout=60)


def three(start_server):
    return start_cluster(start_server, 3)


def test_status_ring_nodes_info_and_keys(start_server):
    nodes = three(start_server)
    port = nodes[0].port
    status = ringctl(port, "status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["verdict"] == "healthy" and report["cluster_state"] == "ok"
    assert len(report["nodes"]) == 3
    assert sum(node["primary_slots"] for node in report["nodes"]) == 16384
    assert sum(node["replica_slots"] for node in report["nodes"]) == 16384, "cluster-replicas 1: one replica per slot"
    assert {node["state"] for node in report["nodes"]} == {"alive"}
    assert all("used_memory" in node and "ops_per_sec" in node for node in report["nodes"])
    text = ringctl(port, "status")
    assert text.stdout.startswith("healthy: 3 nodes") and "\x1b[" not in text.stdout, "no colours off a terminal"

    ring = json.loads(ringctl(port, "ring", "--json").stdout)
    assert 1.0 <= ring["balance"] <= 1.1
    covered = sorted((entry["first"], entry["last"]) for entry in ring["ranges"])
    assert covered[0][0] == 0 and covered[-1][1] == 16383
    assert all(b[0] == a[1] + 1 for a, b in zip(covered, covered[1:])), "ranges tile every slot"
    assert all(len(entry["owners"]) == 2 for entry in ring["ranges"])

    listed = json.loads(ringctl(port, "nodes", "--json").stdout)
    ids = {node["id"] for node in listed}
    assert ids == {node.client().execute_command("CLUSTER", "MYID").decode() for node in nodes}

    other = nodes[2]
    other_id = other.client().execute_command("CLUSTER", "MYID").decode()
    info = json.loads(ringctl(port, "info", other_id[:10], "--json").stdout)
    assert info["tcp_port"] == str(other.port) and info["cluster_node_phase"] == "serving"
    missing = ringctl(port, "info", "zzzz")
    assert missing.returncode != 0 and missing.stderr.count("\n") == 1 and "ringctl nodes lists them" in missing.stderr

    written = json.loads(ringctl(port, "set", "user:42", "ada", "--ttl", "100", "--json").stdout)
    slot = RedisCluster(host="127.0.0.1", port=port).keyslot("user:42")
    assert written["reply"] == "OK" and written["slot"] == slot and len(written["owners"]) == 2
    read = json.loads(ringctl(port, "get", "user:42", "--json").stdout)
    assert read["reply"] == "ada" and read["owners"] == written["owners"]
    assert 0 < json.loads(ringctl(port, "ttl", "user:42", "--json").stdout)["reply"] <= 100
    assert json.loads(ringctl(port, "del", "user:42", "--json").stdout)["reply"] == 1
    assert json.loads(ringctl(port, "get", "user:42", "--json").stdout)["reply"] is None
    plan = json.loads(ringctl(port, "rebalance", "--plan", "--json").stdout)
    assert plan["slots_moving"] == 0 and plan["action_needed"] is False


def test_exit_codes_follow_the_clusters_health(start_server):
    nodes = three(start_server)
    unreachable = subprocess.run([RINGCTL, "status", "--port", "1"], capture_output=True, text=True, timeout=30)
    assert unreachable.returncode == 3
    assert unreachable.stderr.startswith("ringctl: can't reach 127.0.0.1:1") and unreachable.stderr.count("\n") == 1
    victim_id = nodes[2].client().execute_command("CLUSTER", "MYID").decode()
    nodes[2].process.kill()
    nodes[2].process.wait(timeout=5)

    # Unreachable at once, then suspect, then dead: degraded throughout.
    first = ringctl(nodes[0].port, "status", "--json")
    assert first.returncode == 2 and json.loads(first.stdout)["verdict"] == "degraded"

    def reported_dead() -> bool:
        result = ringctl(nodes[0].port, "status", "--json")
        return result.returncode == 2 and f"{victim_id[:8]} dead" in json.loads(result.stdout)["reason"]
    wait_until(reported_dead, timeout=15, interval=0.2, message="status to report the dead node")
    watch = ringctl(nodes[0].port, "watch", "--count", "2", "--interval", "0.2")
    assert watch.stdout.count("degraded") == 2 and watch.returncode == 2
    assert ringctl(nodes[0].port, "forget", victim_id[:12]).returncode == 0
    wait_until(lambda: ringctl(nodes[0].port, "status").returncode == 0, timeout=15, interval=0.2,
               message="a healthy two-node cluster once the dead node is forgotten")


def test_leave_hands_over_with_a_progress_bar_and_loses_nothing(start_server):
    nodes = three(start_server)
    client = RedisCluster(host="127.0.0.1", port=nodes[0].port)
    for index in range(3000):
        client.set(f"l:{index}", index)
    leaver = nodes[1]
    result = ringctl(leaver.port, "leave", "--timeout", "60")
    assert result.returncode == 0, result.stderr
    assert "slots handed over" in result.stdout and "left" in result.stdout
    assert leaver.process.wait(timeout=30) == 0
    wait_until(lambda: converged([nodes[0], nodes[2]], 2), timeout=15, interval=0.1, message="two nodes after the leave")
    fresh = RedisCluster(host="127.0.0.1", port=nodes[0].port)
    assert [fresh.get(f"l:{index}") for index in range(3000)] == [str(index).encode() for index in range(3000)]


def test_ringcache_bench_reports_counts_and_verifies_writes(start_server):
    nodes = three(start_server)

    def calls() -> dict[str, int]:
        """GET and SET calls across the nodes, from INFO commandstats."""
        total = {"get": 0, "set": 0}
        for node in nodes:
            stats = node.client().info("commandstats")
            for command in total:
                total[command] += stats.get(f"cmdstat_{command}", {}).get("calls", 0)
        return total
    before = calls()
    result = subprocess.run([BENCH, "--port", str(nodes[0].port), "--requests", "20000", "--connections", "4", "--pipeline", "4",
                             "--keys", "1000", "--value-size", "100", "--read-ratio", "0.5", "--populate", "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["operations"] + report["errors"] == 20000 and report["errors"] == 0
    after = calls()
    # Its count is the servers' count: every GET and SET it reports, and nothing else.
    assert (after["get"] - before["get"]) + (after["set"] - before["set"]) == report["operations"]
    assert 0.45 < (after["get"] - before["get"]) / report["operations"] < 0.55, "--read-ratio 0.5"
    latency = report["latency_us"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["p99.9"] <= latency["max"]
    sizes = [node.client().dbsize() for node in nodes]
    assert sum(sizes) == 2000, "1000 keys, two copies each"
    verified = subprocess.run([BENCH, "--port", str(nodes[0].port), "--duration", "2", "--connections", "2", "--pipeline", "4",
                               "--keys", "500", "--verify", "--json"], capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stderr
    report = json.loads(verified.stdout)
    assert report["lost_acknowledged_writes"] == 0 and report["operations"] > 100
    # Nobody there: exit 3 and one line.
    plain = subprocess.run([BENCH, "--port", "1", "--requests", "10"], capture_output=True, text=True, timeout=30)
    assert plain.returncode == 3 and "can't reach" in plain.stderr
