"""The cluster on real processes: joining through a seed, one slot table on every node, stock
cluster clients (redis-py RedisCluster, redis-cli -c) routing by it, failure detection after
kill -9, rejoining with the same id, the authenticated bus, MEET and FORGET."""
import signal
import socket
import subprocess
import time

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from conftest import free_port, free_udp_port, http_get_status, wait_until


def cluster_info(server) -> dict[str, str]:
    text = server.client().execute_command("CLUSTER", "INFO").decode()
    return dict(line.split(":", 1) for line in text.strip().splitlines())


def node_lines(server) -> list[list[str]]:
    return [line.split() for line in server.client().execute_command("CLUSTER", "NODES").decode().strip().splitlines()]


def seed_flag(seed) -> tuple[str, str]:
    return ("--cluster-seeds", f"127.0.0.1:{seed.port}@{seed.bus_port}")


def converged(nodes, count: int) -> bool:
    for node in nodes:
        info = cluster_info(node)
        if info["cluster_state"] != "ok" or info["cluster_known_nodes"] != str(count):
            return False
        if info.get("cluster_node_phase", "serving") != "serving":
            return False
        if any("fail" in line[2] for line in node_lines(node)):
            return False
    tables = {repr(node.client().execute_command("CLUSTER", "SLOTS")) for node in nodes}
    return len(tables) == 1


def raw_reply(port: int, *arguments: str, host: str = "127.0.0.1") -> str:
    """The first line of the reply, exactly as the server sent it."""
    request = f"*{len(arguments)}\r\n" + "".join(f"${len(argument.encode())}\r\n{argument}\r\n" for argument in arguments)
    with socket.create_connection((host, port), timeout=5) as connection:
        connection.sendall(request.encode())
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = connection.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.decode().split("\r\n")[0]


def replies(output: str) -> list[str]:
    """redis-cli -c output without its "-> Redirected to slot ..." notes."""
    return [line for line in output.splitlines() if not line.startswith("-> Redirected to slot")]


@pytest.fixture
def five(start_server):
    seed = start_server()
    nodes = [seed] + [start_server(*seed_flag(seed)) for _ in range(4)]
    wait_until(lambda: converged(nodes, 5), timeout=15, interval=0.1, message="five nodes to converge")
    return nodes


def test_five_nodes_from_one_seed_share_one_table_covering_every_slot(five):
    for node in five:
        info = cluster_info(node)
        assert info["cluster_state"] == "ok"
        assert info["cluster_known_nodes"] == "5"
        assert info["cluster_slots_assigned"] == "16384"
        assert info["cluster_size"] == "5"
        assert node.client().info("cluster")["cluster_enabled"] == 1
    table = five[0].client().execute_command("CLUSTER", "SLOTS")
    expected_next = 0
    for first, last, *owners in sorted(table, key=lambda entry: entry[0]):
        assert first == expected_next, "ranges must tile 0..16383 without gaps or overlaps"
        expected_next = last + 1
        assert len(owners) == 2, "cluster-replicas 1: a primary and one replica"
        assert owners[0][2] != owners[1][2]
    assert expected_next == 16384
    ids = {node.client().execute_command("CLUSTER", "MYID").decode() for node in five}
    assert ids == {entry[2].decode() for *_, entry in [(None, owner) for item in table for owner in item[2:]]}
    # CLUSTER SHARDS: each node's primary slots, covering every slot once, with its replicas.
    shards = five[4].client().execute_command("CLUSTER", "SHARDS")
    covered = []
    for shard in shards:
        shard = dict(zip(shard[0::2], shard[1::2])) if isinstance(shard, list) else shard
        slots = shard[b"slots"]
        for first, last in zip(slots[0::2], slots[1::2]):
            covered.extend(range(first, last + 1))
        nodes = [dict(zip(node[0::2], node[1::2])) if isinstance(node, list) else node for node in shard[b"nodes"]]
        assert nodes[0][b"role"] == b"master" and all(node[b"role"] == b"replica" for node in nodes[1:])
        assert all(node[b"health"] == b"online" for node in nodes)
    assert sorted(covered) == list(range(16384))
    assert len(shards) == 5
    shares = [int(node.client().info("ringcache")["ring_primary_slots"]) for node in five]
    assert sum(shares) == 16384
    assert max(shares) <= 1.10 * 16384 / 5, f"primary slots per node: {shares}"


def test_redis_py_cluster_client_sets_and_gets_ten_thousand_keys(five):
    client = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", five[2].port)], socket_timeout=10)
    try:
        for index in range(10_000):
            client.set(f"key:{index}", index)
        values = [client.get(f"key:{index}") for index in range(10_000)]
        # Commands whose keys follow a count are flagged movablekeys: redis-py asks a node
        # COMMAND GETKEYS for their keys, then sends them to the keys' primary.
        client.zadd("{multi}a", {"x": 1, "y": 2})
        client.zadd("{multi}b", {"y": 3})
        assert client.zunionstore("{multi}sum", ["{multi}a", "{multi}b"]) == 2
        assert client.zrange("{multi}sum", 0, -1, withscores=True) == [(b"x", 1.0), (b"y", 5.0)]
        assert client.execute_command("ZMPOP", "2", "{multi}none", "{multi}sum", "MAX") == [b"{multi}sum", [[b"y", b"5"]]]
        assert client.delete("{multi}a", "{multi}b", "{multi}sum") == 3
    finally:
        client.close()
    assert values == [str(index).encode() for index in range(10_000)]
    wait_until(lambda: sum(node.client().dbsize() for node in five) == 20_000, timeout=10, interval=0.05,
               message="every key on its primary and its replica")
    sizes = [node.client().dbsize() for node in five]
    assert sum(sizes) == 20_000, "every key lives on exactly two nodes (cluster-replicas 1: its primary and a replica)"
    assert min(sizes) > 0


def test_redis_cli_in_cluster_mode_follows_redirects(five):
    commands = "".join(f"SET cli:{index} v{index}\n" for index in range(10_000))
    result = subprocess.run(["redis-cli", "-c", "-p", str(five[0].port)], input=commands, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    redirects = [line for line in result.stdout.splitlines() if line.startswith("-> Redirected to slot")]
    assert len(redirects) > 1000, "most keys live on other nodes than the first one asked"
    assert replies(result.stdout) == ["OK"] * 10_000
    reads = "".join(f"GET cli:{index}\n" for index in range(10_000))
    result = subprocess.run(["redis-cli", "-c", "-p", str(five[3].port)], input=reads, capture_output=True, text=True, timeout=120)
    assert replies(result.stdout) == [f"v{index}" for index in range(10_000)]
    check = subprocess.run(["redis-cli", "--cluster", "check", f"127.0.0.1:{five[1].port}"], capture_output=True, text=True, timeout=30)
    assert "[OK] All nodes agree about slots configuration." in check.stdout
    assert "[OK] All 16384 slots covered." in check.stdout


def test_plain_clients_get_moved_crossslot_and_readonly_replica_reads(five):
    node = five[0]
    myself = node.client().execute_command("CLUSTER", "MYID")
    table = node.client().execute_command("CLUSTER", "SLOTS")
    elsewhere = next(entry for entry in table if entry[2][2] != myself and entry[3][2] != myself)
    replica_here = next(entry for entry in table if entry[3][2] == myself)
    client = node.client()
    from redis.crc import key_slot
    key = next(f"k{index}" for index in range(100_000) if elsewhere[0] <= key_slot(f"k{index}".encode()) <= elsewhere[1])
    slot = key_slot(key.encode())
    assert raw_reply(node.port, "GET", key) == f"-MOVED {slot} 127.0.0.1:{elsewhere[2][1]}"
    cross = ["MSET", "{a}x", "1", "{b}y", "2"]
    assert raw_reply(node.port, *cross) == "-CROSSSLOT Keys in request don't hash to the same slot"
    # Keys counted by a numkeys argument are routed too, not only the first.
    for counted in (["SINTERCARD", "2", "{a}x", "{b}y"], ["ZUNION", "2", "{a}x", "{b}y"],
                    ["ZINTERSTORE", "{a}d", "2", "{a}x", "{b}y"], ["ZINTERCARD", "3", "{a}x", "{a}y", "{b}y", "LIMIT", "1"],
                    ["LMPOP", "2", "{a}x", "{b}y", "LEFT"], ["ZMPOP", "2", "{a}x", "{b}y", "MIN"],
                    ["BLMPOP", "0", "2", "{a}x", "{b}y", "LEFT"], ["BZMPOP", "0", "2", "{a}x", "{b}y", "MIN"],
                    ["GEOSEARCHSTORE", "{a}d", "{b}y", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
                    ["GEORADIUS", "{a}x", "0", "0", "1", "km", "STORE", "{b}y"], ["PFCOUNT", "{a}x", "{b}y"]):
        assert raw_reply(node.port, *counted) == "-CROSSSLOT Keys in request don't hash to the same slot", counted
    same_slot = ["MSET", "{a}x", "1", "{a}y", "2"]
    assert raw_reply(node.port, *same_slot) in ("+OK", f"-MOVED {key_slot(b'a')} " + next(
        f"127.0.0.1:{entry[2][1]}" for entry in table if entry[0] <= key_slot(b"a") <= entry[1]))
    # READONLY lets a connection read slots this node holds a copy of, but never write them.
    replica_key = next(f"r{index}" for index in range(100_000) if replica_here[0] <= key_slot(f"r{index}".encode()) <= replica_here[1])
    assert raw_reply(node.port, "GET", replica_key).startswith("-MOVED ")
    assert client.execute_command("READONLY") in (True, b"OK")
    assert client.get(replica_key) is None
    with pytest.raises(redis.exceptions.MovedError):
        client.set(replica_key, "x")
    assert client.execute_command("READWRITE") in (True, b"OK")
    with pytest.raises(redis.exceptions.MovedError):
        client.get(replica_key)
    assert client.execute_command("ASKING") in (True, b"OK")


def test_a_killed_node_is_marked_dead_within_three_seconds_and_rejoins_with_its_id(five, start_server):
    victim = five[3]
    victim_id = victim.client().execute_command("CLUSTER", "MYID").decode()
    survivors = [node for node in five if node is not victim]

    def all_see_it_failed() -> bool:
        return all(any(line[0] == victim_id and "fail" in line[2].split(",") for line in node_lines(node)) for node in survivors)

    victim.process.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    victim.process.wait(timeout=10)
    wait_until(all_see_it_failed, timeout=10, interval=0.02, message="every survivor to mark the killed node dead")
    elapsed = time.monotonic() - killed_at
    print(f"\nkill -9 → marked dead by all 4 survivors after {elapsed:.2f} s")
    assert elapsed < 3.0
    for node in survivors:
        assert cluster_info(node)["cluster_state"] == "ok", "the ring re-plans without the dead node"
        assert cluster_info(node)["cluster_size"] == "4"

    restarted = start_server(*seed_flag(five[0]), port=victim.port, bus_port=victim.bus_port)
    assert restarted.client().execute_command("CLUSTER", "MYID").decode() == victim_id
    wait_until(lambda: converged(survivors + [restarted], 5), timeout=15, interval=0.1, message="the restarted node to rejoin")


def test_a_node_with_the_wrong_secret_can_neither_join_nor_disturb(start_server):
    seed = start_server("--cluster-secret", "right")
    member = start_server("--cluster-secret", "right", *seed_flag(seed))
    wait_until(lambda: converged([seed, member], 2), timeout=10, interval=0.05, message="two nodes with the secret to converge")
    intruder = start_server("--cluster-secret", "wrong", *seed_flag(seed))
    wait_until(lambda: int(cluster_info(seed)["cluster_stats_messages_auth_failed"]) >= 2, timeout=10, message="the seed to drop the intruder's join")
    assert cluster_info(seed)["cluster_known_nodes"] == "2"
    assert cluster_info(intruder)["cluster_state"] == "fail"
    assert raw_reply(intruder.port, "GET", "anything") == "-CLUSTERDOWN Hash slot not served"
    assert converged([seed, member], 2)


def test_meet_joins_two_clusters_and_forget_drops_a_member(start_server):
    first = start_server()
    second = start_server()
    assert cluster_info(first)["cluster_known_nodes"] == "1"
    client = first.client()
    assert client.execute_command("CLUSTER", "MEET", "127.0.0.1", str(second.port), str(second.bus_port)) == b"OK"
    wait_until(lambda: converged([first, second], 2), timeout=10, interval=0.05, message="MEET to merge the two nodes")
    second_id = second.client().execute_command("CLUSTER", "MYID").decode()
    my_id = client.execute_command("CLUSTER", "MYID").decode()
    assert raw_reply(first.port, "CLUSTER", "FORGET", my_id) == "-ERR I tried hard but I can't forget myself..."
    assert raw_reply(first.port, "CLUSTER", "FORGET", "0123") == "-ERR Unknown node 0123"
    assert raw_reply(first.port, "CLUSTER", "MEET", "nowhere.invalid", "7000") == "-ERR Invalid node address specified: nowhere.invalid:7000"
    assert client.execute_command("CLUSTER", "FORGET", second_id) == b"OK"
    assert cluster_info(first)["cluster_known_nodes"] == "1"
    assert all(line[0] != second_id for line in node_lines(first))


def test_keys_in_slot_commands(server):
    client = server.client()
    from redis.crc import key_slot
    client.mset({f"{{user:1}}:{field}": field for field in ("name", "mail", "plan")})
    client.set("other", 1)
    slot = key_slot(b"user:1")
    assert client.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 3
    assert sorted(client.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 2)).__len__() == 2
    assert sorted(client.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 10)) == [b"{user:1}:mail", b"{user:1}:name", b"{user:1}:plan"]
    assert raw_reply(server.port, "CLUSTER", "COUNTKEYSINSLOT", "16384") == "-ERR Invalid or out of range slot"


def test_ready_only_once_a_joining_node_holds_its_slots(start_server):
    seed_port, seed_bus = free_port(), free_udp_port()
    joiner = start_server("--cluster-seeds", f"127.0.0.1:{seed_port}@{seed_bus}", "--admin-port", str(free_port()))
    admin = int(joiner.client().config_get("admin-port")["admin-port"])
    wait_until(lambda: http_get_status(admin, "/health") == 200, timeout=10, message="the admin port")
    assert http_get_status(admin, "/ready") == 503
    assert cluster_info(joiner)["cluster_state"] == "fail"
    seed = start_server(port=seed_port, bus_port=seed_bus)
    wait_until(lambda: http_get_status(admin, "/ready") == 200, timeout=10, interval=0.05, message="/ready after joining")
    assert cluster_info(joiner)["cluster_node_phase"] == "serving", "ready means holding its slots"
    # The seed hears of it by gossip a moment later.
    wait_until(lambda: converged([seed, joiner], 2), timeout=5, interval=0.05, message="the seed to see the joiner serving")


def test_no_false_death_under_full_benchmark_load(five):
    """redis-benchmark in cluster mode saturates both cores for several seconds; no member may
    be declared dead meanwhile (suspicions are allowed if refuted)."""
    started = time.monotonic()
    result = subprocess.run(["redis-benchmark", "--cluster", "-p", str(five[0].port), "-t", "set,get", "-n", "4000000",
                             "-c", "50", "-P", "16", "-r", "1000000", "-d", "32", "-q"],
                            capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    print(f"\nbenchmark under gossip: {elapsed:.1f} s; " + " ".join(line.strip().split("\r")[-1] for line in result.stdout.splitlines() if "requests per second" in line))
    assert elapsed > 5, "the load must last long enough to matter"
    for node in five:
        assert all("fail" not in line[2] for line in node_lines(node))
        log = node.log_path.read_text()
        assert "marked dead" not in log, log[-2000:]


def test_proxy_routing_serves_plain_clients_from_any_node(start_server):
    seed = start_server("--cluster-routing", "proxy")
    nodes = [seed] + [start_server("--cluster-routing", "proxy", *seed_flag(seed)) for _ in range(2)]
    wait_until(lambda: converged(nodes, 3), timeout=15, interval=0.1, message="three proxy nodes to converge")
    client = nodes[1].client()
    # A pipeline mixing local and forwarded commands gets its replies in request order.
    pipe = client.pipeline(transaction=False)
    for index in range(2000):
        pipe.set(f"p:{index}", index)
        pipe.get(f"p:{index}")
    replies = pipe.execute()
    assert replies[1::2] == [str(index).encode() for index in range(2000)]
    # Two copies of each key (cluster-replicas 1), the replica's arriving asynchronously.
    wait_until(lambda: sum(node.client().dbsize() for node in nodes) == 4000, timeout=10, interval=0.05,
               message="every key on its primary and its replica")
    assert min(node.client().dbsize() for node in nodes) > 0, "keys live on their owners, not on the node asked"
    # Multi-key commands spanning nodes are split and gathered.
    keys = [f"m:{index}" for index in range(50)]
    assert client.mset({key: key.upper() for key in keys}) is True
    assert client.mget(keys + ["missing"]) == [key.upper().encode() for key in keys] + [None]
    assert client.exists(*keys, "missing") == 50
    assert client.delete(*keys[:20]) == 20
    assert client.mget(keys[:20]) == [None] * 20
    # RESP3 connections are proxied in RESP3.
    resp3 = redis.Redis(host="127.0.0.1", port=nodes[2].port, protocol=3, socket_timeout=10)
    assert [resp3.get(f"p:{index}") for index in range(0, 2000, 97)] == [str(index).encode() for index in range(0, 2000, 97)]
    # Switching back to Redis Cluster behaviour at run time.
    client.config_set("cluster-routing", "moved")
    owners = {node.client().execute_command("CLUSTER", "MYID") for node in nodes}
    moved = [raw_reply(nodes[1].port, "GET", f"p:{index}") for index in range(50)]
    assert any(reply.startswith("-MOVED ") for reply in moved) and len(owners) == 3


def test_a_seed_given_by_host_name_is_resolved(start_server):
    seed = start_server()
    joiner = start_server("--cluster-seeds", f"localhost:{seed.port}@{seed.bus_port}")
    wait_until(lambda: converged([seed, joiner], 2), timeout=10, interval=0.05, message="a node seeded by name to join")
