"""Replication, failover and live rebalancing on real processes, driven by redis-py's
RedisCluster: no acknowledged write lost when a node is killed, scale-out and graceful
scale-in under load with no error replies, and a paused node that never serves stale values."""
import datetime
import random
import signal
import threading
import time
from collections import defaultdict

import redis
from redis.cluster import RedisCluster

from test_cluster import cluster_info, converged, node_lines, seed_flag
from conftest import wait_until


def start_cluster(start_server, count: int, *flags: str):
    seed = start_server(*flags)
    nodes = [seed] + [start_server(*flags, *seed_flag(seed)) for _ in range(count - 1)]
    wait_until(lambda: converged(nodes, count), timeout=20, interval=0.1, message=f"{count} nodes to converge")
    return nodes


def cluster_client(node) -> RedisCluster:
    return RedisCluster(host="127.0.0.1", port=node.port, socket_timeout=3, socket_connect_timeout=1)


def slot_owners(node) -> dict[int, list[int]]:
    """Slot → client ports of its owners, primary first, as `node` sees them."""
    owners = {}
    for first, last, *entries in node.client().execute_command("CLUSTER", "SLOTS"):
        ports = [entry[1] for entry in entries]
        for slot in range(first, last + 1):
            owners[slot] = ports
    return owners


def settled(nodes, after_failure: bool = False) -> bool:
    """Every node serving, no slot moving or being filled, nothing queued for a peer, and one
    table (after a failure, the dead node stays listed, flagged as failed)."""
    for node in nodes:
        info = cluster_info(node)
        if info["cluster_state"] != "ok" or info["cluster_node_phase"] != "serving" or info["cluster_slots_moving"] != "0" \
                or info["cluster_slots_filling"] != "0" or info["cluster_replication_pending_ops"] != "0":
            return False
    if after_failure:
        return len({repr(node.client().execute_command("CLUSTER", "SLOTS")) for node in nodes}) == 1
    return converged(nodes, len(nodes))


def log_time(node, phrase: str) -> float | None:
    """Unix time of the first log line of `node` containing `phrase`."""
    for line in node.log_path.read_text().splitlines():
        if phrase in line:
            # 13294:M 29 Nov 2026 05:38:45.982 * ...
            stamp = " ".join(line.split()[1:5])
            parsed = datetime.datetime.strptime(stamp, "%d %b %Y %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
            return parsed.timestamp()
    return None


def test_a_node_killed_mid_write_loses_no_acknowledged_write(start_server):
    nodes = start_cluster(start_server, 3, "--min-replicas-ack", "1")
    victim = nodes[2]
    victim_slots = {slot for slot, ports in slot_owners(nodes[0]).items() if ports[0] == victim.port}
    client = cluster_client(nodes[0])
    acknowledged: dict[str, str] = {}
    # Values written after the last acknowledged one whose reply was an error: such a write
    # may or may not have been applied, so reading it back is no loss.
    unacknowledged: dict[str, set[str]] = defaultdict(set)
    errors = 0
    killed_at = first_success_after_kill = None
    probe_key = next(f"probe:{index}" for index in range(10_000) if client.keyslot(f"probe:{index}") in victim_slots)
    served_again: list[float] = []
    probe_errors: list[str] = []

    def probe_failover():
        """Writes the probe key straight to whichever node the seed names as its slot's primary,
        every 10 ms, until one takes it: when the dead node's slots are served again,
        independent of any client's retry backoff."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not served_again:
            primary = slot_owners(nodes[0])[client.keyslot(probe_key)][0]
            if primary != victim.port:
                try:
                    started = time.time()
                    if redis.Redis(port=primary, socket_timeout=2).set(probe_key, "x"):
                        served_again.append(time.time())
                except redis.RedisError as error:
                    probe_errors.append(f"{time.time() - started:.2f}s {primary} {error}")
            time.sleep(0.01)
    prober = threading.Thread(target=probe_failover, daemon=True)
    for sequence in range(20_000):
        key = f"r:{sequence % 2000}"
        value = f"{key}={sequence}"
        if sequence == 10_000:
            victim.process.kill()
            killed_at = time.time()
            prober.start()
        try:
            client.set(key, value)
        except redis.RedisError:
            errors += 1
            unacknowledged[key].add(value)
            continue
        acknowledged[key] = value
        unacknowledged[key].clear()
        if killed_at and first_success_after_kill is None and client.keyslot(key) in victim_slots:
            first_success_after_kill = time.time()
    survivors = nodes[:2]
    wait_until(lambda: settled(survivors, after_failure=True), timeout=30, interval=0.1, message="the survivors to restore RF")
    assert len(acknowledged) == 2000
    lost = [key for key, value in acknowledged.items()
            if (client.get(key) or b"").decode() not in {value} | unacknowledged[key]]
    assert lost == [], f"{len(lost)} acknowledged writes lost, e.g. {lost[:5]}"
    # RF restored: with two survivors and cluster-replicas 1, each holds every key.
    for node in survivors:
        direct = node.client()
        direct.execute_command("READONLY")
        assert direct.dbsize() == 2001, "the 2000 keys and the probe key"
        stale = [key for key, value in acknowledged.items()
                 if (direct.get(key) or b"").decode() not in {value} | unacknowledged[key]]
        assert stale == [], f"{node.port} holds old values for {len(stale)} keys"
    prober.join(timeout=35)
    # The cluster has marked it dead once every survivor has (gossip takes a moment between them).
    marks = [log_time(node, "Cluster member marked dead") for node in survivors]
    assert all(marks), "every survivor logs the death"
    marked_dead = max(marks)
    print(f"\nkill -9 mid-write: {errors} failed writes of 20000; marked dead {min(marks) - killed_at:.2f}–{marked_dead - killed_at:.2f} s after the kill; "
          f"its slots took writes again {served_again[0] - marked_dead:+.2f} s after that (redis-py's own writes, "
          f"after its retry backoff: {first_success_after_kill - marked_dead:+.2f} s)"
          + (f"; probe errors: {probe_errors}" if probe_errors else ""))
    assert served_again and first_success_after_kill is not None
    assert served_again[0] - marked_dead < 1.0, "writes to the dead node's slots succeed within 1 s of its death"


class MixedLoad(threading.Thread):
    """One client writing and reading back keys in a loop, remembering the last value each key
    was acknowledged with; every error reply is kept."""

    def __init__(self, node, keys: int):
        super().__init__(daemon=True)
        self.client = cluster_client(node)
        self.keys = keys
        self.model: dict[str, str] = {}
        self.errors: list[str] = []
        self.stale_reads = 0
        self.operations = 0
        self.stopping = threading.Event()

    def run(self):
        generator = random.Random(7)
        sequence = 0
        while not self.stopping.is_set():
            sequence += 1
            key = f"m:{generator.randrange(self.keys)}"
            try:
                if sequence % 2:
                    self.client.set(key, f"{sequence}")
                    self.model[key] = f"{sequence}"
                else:
                    value = self.client.get(key)
                    if key in self.model and (value or b"").decode() != self.model[key]:
                        self.stale_reads += 1
                self.operations += 1
            except redis.RedisError as error:
                self.errors.append(f"{type(error).__name__}: {error}")

    def stop(self):
        self.stopping.set()
        self.join(timeout=30)


def test_scale_out_and_graceful_scale_in_under_load_lose_nothing(start_server):
    nodes = start_cluster(start_server, 3)
    client = cluster_client(nodes[0])
    for index in range(4000):
        client.set(f"m:{index}", "initial")
    before = slot_owners(nodes[0])
    load = MixedLoad(nodes[0], 4000)
    load.model = {f"m:{index}": "initial" for index in range(4000)}
    load.start()
    try:
        joiner = start_server(*seed_flag(nodes[0]))
        four = nodes + [joiner]
        wait_until(lambda: settled(four), timeout=30, interval=0.1, message="the fourth node to be filled and serve")
        after = slot_owners(nodes[0])
        moved = sum(1 for index in range(4000) if before[client.keyslot(f"m:{index}")][0] != after[client.keyslot(f"m:{index}")][0])
        operations_at_join = load.operations
        wait_until(lambda: load.operations > operations_at_join + 500, timeout=10, message="load on four nodes")
        assert joiner.stop(signal.SIGTERM, timeout=60) == 0, "a graceful leave exits cleanly"
        wait_until(lambda: settled(nodes), timeout=30, interval=0.1, message="three nodes to settle after the leave")
        operations_at_leave = load.operations
        wait_until(lambda: load.operations > operations_at_leave + 500, timeout=10, message="load on three nodes")
    finally:
        load.stop()
    print(f"\nscale 3→4→3 under load: {load.operations} operations, {len(load.errors)} errors, {load.stale_reads} stale reads; "
          f"{moved / 4000:.1%} of keys changed primary on scale-out")
    assert load.errors == [], load.errors[:5]
    assert 0.10 < moved / 4000 < 0.35, "about a quarter of the keys move to the new node"
    lost = [key for key, value in load.model.items() if (client.get(key) or b"").decode() != value]
    assert lost == [], f"{len(lost)} keys lost or stale, e.g. {lost[:5]}"
    assert sum(node.client().dbsize() for node in nodes) == 8000, "two copies of every key on the three nodes"


def test_a_paused_node_never_serves_values_written_while_it_was_stopped(start_server):
    nodes = start_cluster(start_server, 3)
    victim = nodes[1]
    client = cluster_client(nodes[0])
    owners = slot_owners(nodes[0])
    key = next(f"p:{index}" for index in range(10_000) if owners[client.keyslot(f"p:{index}")][0] == victim.port)
    client.set(key, "old")
    for index in range(5000):
        client.set(f"w:{index}", index)
    wait_until(lambda: settled(nodes), timeout=10, interval=0.05, message="the writes to reach their replicas")
    survivors = [node for node in nodes if node is not victim]

    def keys_sent() -> int:
        return sum(int(cluster_info(node)["cluster_migration_keys_sent"]) for node in survivors)
    victim.process.send_signal(signal.SIGSTOP)
    try:
        wait_until(lambda: any("fail" in line[2] and str(victim.port) in line[1] and "fail?" not in line[2]
                               for line in node_lines(nodes[0])),
                   timeout=15, interval=0.05, message="the paused node to be declared dead")

        def write_new() -> bool:
            try:
                return client.set(key, "new") is True
            except redis.RedisError:
                return False
        wait_until(write_new, timeout=10, interval=0.05, message="a write to the paused node's slot")
        wait_until(lambda: settled(survivors, after_failure=True), timeout=20, interval=0.05,
                   message="the survivors to restore RF without it")
        sent_before = keys_sent()
    finally:
        victim.process.send_signal(signal.SIGCONT)
    replies: list[str] = []
    for readonly in (False, True):
        direct = redis.Redis(host="127.0.0.1", port=victim.port, socket_timeout=5)
        if readonly:
            direct.execute_command("READONLY")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                replies.append((direct.get(key) or b"").decode())
            except redis.ResponseError as error:
                replies.append(type(error).__name__)
    print(f"\nreads at the resumed node: {sorted(set(replies))}")
    assert "old" not in replies, "the resumed node served a value overwritten while it was paused"
    assert set(replies) <= {"new", "MovedError", "TryAgainError"}
    wait_until(lambda: settled(nodes), timeout=30, interval=0.1, message="the resumed node to rejoin")
    assert client.get(key) == b"new"
    direct = victim.client()
    direct.execute_command("READONLY")
    assert direct.get(key) == b"new", "the resumed node holds its replica copy again"
    # It compared per-slot digests with the donors: only slots written meanwhile were copied.
    sent = keys_sent() - sent_before
    holds = direct.dbsize()
    print(f"rejoin after the pause: {sent} keys copied to it; it holds {holds}")
    assert 1 <= sent < holds // 10, "slots that matched by digest were not copied again"


def test_a_node_restarted_from_its_snapshot_repairs_what_changed_and_copies_little(start_server):
    """Issue 12's cluster clause: the snapshot keeps each key's version, so after a restart
    the slots nobody wrote meanwhile match their other owners' digests and are not copied;
    the keys overwritten while the node was down are repaired before it serves them."""
    seed = start_server("--dbfilename", "seed.snapshot")
    victim = start_server("--dbfilename", "victim.snapshot", *seed_flag(seed))
    third = start_server("--dbfilename", "third.snapshot", *seed_flag(seed))
    nodes = [seed, victim, third]
    wait_until(lambda: converged(nodes, 3), timeout=20, interval=0.1, message="three nodes")
    client = cluster_client(seed)
    for index in range(6000):
        client.set(f"s:{index}", "before")
    wait_until(lambda: settled(nodes), timeout=10, interval=0.05, message="every write on its replica")
    assert victim.client().save()
    holds = victim.client().dbsize()
    victim.process.kill()
    victim.process.wait(timeout=5)
    survivors = [seed, third]
    wait_until(lambda: any(str(victim.port) in line[1] and "fail" in line[2] and "fail?" not in line[2] for line in node_lines(seed)),
               timeout=15, interval=0.05, message="the killed node declared dead")
    wait_until(lambda: settled(survivors, after_failure=True), timeout=20, interval=0.05, message="failover")
    client = cluster_client(seed)  # a fresh slot table, without the dead node
    for index in range(0, 6000, 100):
        client.set(f"s:{index}", "after")
    wait_until(lambda: settled(survivors, after_failure=True), timeout=20, interval=0.05, message="the new writes on both survivors")
    sent_before = sum(int(cluster_info(node)["cluster_migration_keys_sent"]) for node in survivors)
    restarted = start_server("--dbfilename", "victim.snapshot", *seed_flag(seed), port=victim.port, bus_port=victim.bus_port)
    assert "DB loaded from disk" in restarted.log_path.read_text()
    nodes = [seed, restarted, third]
    wait_until(lambda: settled(nodes), timeout=30, interval=0.1, message="the restarted node to rejoin")
    copied = sum(int(cluster_info(node)["cluster_migration_keys_sent"]) for node in survivors) - sent_before
    direct = restarted.client()
    direct.execute_command("READONLY")
    owners = slot_owners(seed)
    mine = [index for index in range(6000) if restarted.port in owners[client.keyslot(f"s:{index}")]]
    stale = [index for index in mine if direct.get(f"s:{index}") != (b"after" if index % 100 == 0 else b"before")]
    print(f"\nrestart from a snapshot of {holds} keys: {copied} keys copied back in, {len(stale)} stale")
    assert stale == [], "every key it owns reads its latest value"
    assert direct.dbsize() == len(mine), "it keeps only the keys of the slots it owns"
    assert copied < holds // 4, "slots whose digests matched were not copied again"


def test_writes_for_a_briefly_paused_owner_wait_in_its_queue_and_arrive(start_server):
    nodes = start_cluster(start_server, 3)
    replica = nodes[2]
    client = cluster_client(nodes[0])
    owners = slot_owners(nodes[0])
    keys = [key for key in (f"h:{index}" for index in range(5000))
            if owners[client.keyslot(key)][1] == replica.port][:300]
    replica.process.send_signal(signal.SIGSTOP)
    try:
        for key in keys:
            client.set(key, "while-paused")
        # Asynchronous replication: the writes were acknowledged, and wait for the replica.
        queued = sum(int(cluster_info(node)["cluster_replication_pending_ops"]) for node in nodes[:2])
    finally:
        replica.process.send_signal(signal.SIGCONT)
    assert queued >= len(keys), "the paused replica's writes are held until it acknowledges them"
    wait_until(lambda: settled(nodes), timeout=15, interval=0.05, message="the queue to drain")
    direct = replica.client()
    direct.execute_command("READONLY")
    assert [direct.get(key) for key in keys] == [b"while-paused"] * len(keys)


def test_a_node_that_had_a_live_peer_dead_sends_it_the_writes_it_took_meanwhile(start_server):
    """One node alone drops a peer from its ring (CLUSTER FORGET here; a false death under
    packet loss does the same for a moment, as CI's lossy-links test saw) and takes writes
    for slots that peer owns, which reach only the third node. The peer never left its own
    ring, so it keeps its copy of those slots as filled; once the ban ends and the two see each
    other again, the writer's `recheck` makes the peer compare its slots with it and copy what
    differs. Without that, the keys ended on one node only."""
    nodes = start_cluster(start_server, 3)
    writer, peer, third = nodes
    peer_id = peer.client().execute_command("CLUSTER", "MYID").decode()
    full = slot_owners(peer)
    assert writer.client().execute_command("CLUSTER", "FORGET", peer_id) == b"OK"
    wait_until(lambda: all(peer.port not in ports for ports in slot_owners(writer).values()), timeout=5,
               interval=0.05, message="the writer to drop the peer from its ring")
    without_peer = slot_owners(writer)
    client = cluster_client(writer)
    # Keys of slots the two share in the full ring whose primary, to the writer, is now the writer.
    keys = [key for key in (f"f:{index}" for index in range(20000))
            if set(full[client.keyslot(key)]) == {writer.port, peer.port} and without_peer[client.keyslot(key)][0] == writer.port][:200]
    assert len(keys) == 200
    direct = writer.client()
    for key in keys:
        assert direct.set(key, "written-without-the-peer")
    # CLUSTER FORGET bans news of the member for 60 s, as in Redis.
    wait_until(lambda: slot_owners(writer) == full, timeout=90, interval=0.5,
               message="the writer to take the peer back into its ring")
    wait_until(lambda: settled(nodes), timeout=30, interval=0.1, message="the cluster to settle")
    wait_until(lambda: all(cluster_info(node)["cluster_slots_purge_pending"] == "0" for node in nodes), timeout=30,
               interval=0.2, message="the third node to drop the slots it held for a while")
    rechecked = int(cluster_info(peer)["cluster_slots_rechecked"])
    on_peer = peer.client()
    on_peer.execute_command("READONLY")
    missing = [key for key in keys if on_peer.get(key) != b"written-without-the-peer"]
    print(f"\nforgotten for 60 s: {len(keys)} keys written without the peer, {rechecked} of its slots rechecked, "
          f"{len(missing)} missing there")
    assert missing == [], f"{len(missing)} of the {len(keys)} keys written without the peer never reached it"
    assert rechecked > 0
    assert sum(node.client().dbsize() for node in nodes) == 2 * len(keys), "two copies of every key, no stray"


def test_fills_are_paced_by_migration_max_bytes_per_sec(start_server):
    seed = start_server("--migration-max-bytes-per-sec", "1mb")
    client = seed.client()
    value = "x" * 1000
    pipe = client.pipeline(transaction=False)
    for index in range(3000):
        pipe.set(f"m:{index}", value)
    pipe.execute()
    started = time.monotonic()
    joiner = start_server(*seed_flag(seed))
    wait_until(lambda: converged([seed, joiner], 2), timeout=30, interval=0.05, message="the joiner to be filled")
    elapsed = time.monotonic() - started
    sent = int(cluster_info(seed)["cluster_migration_bytes_sent"])
    print(f"\nfill of {sent / 1e6:.1f} MB at migration-max-bytes-per-sec 1mb took {elapsed:.1f} s")
    assert sent >= 3_000_000, "two nodes with cluster-replicas 1: the joiner holds every key"
    assert elapsed >= 0.8 * sent / 1_048_576, "the donor streamed no faster than the limit (1mb = 1,048,576 bytes)"
    assert joiner.client().dbsize() == 3000
