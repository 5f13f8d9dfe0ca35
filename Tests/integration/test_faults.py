"""Fault injection on real nodes: a node cut off from the others by a network partition,
lossy (and, where the kernel has netem, slow) links between nodes, and SIGKILL of a node in
the middle of a slot migration. After each fault: no node crashed, the cluster converges to
one view once the fault is healed, and no write acknowledged under `min-replicas-ack 1` is
lost. SIGKILL and SIGSTOP of a serving node are covered in test_replication.py.

The partition and loss tests put each node in a Linux network namespace of its own, joined
to a bridge by a veth pair, all made by the test and removed by it; they need root and skip
with a message where namespaces cannot be made. The test process stays in the root
namespace, so it reaches every node even while the nodes cannot reach each other.
"""
import itertools
import os
import random
import shutil
import subprocess
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from conftest import server_binary, wait_until
from test_cluster import cluster_info, node_lines, raw_reply, seed_flag
from test_replication import cluster_client, settled, start_cluster

CLIENT_PORT = 6379
BUS_PORT = 16379
_lab_serial = itertools.count()


def first_reply_line(host: str, port: int, *arguments: str) -> str:
    """The first line of the reply as sent, cut at its first space; "" when nothing answers."""
    try:
        return raw_reply(port, *arguments, host=host).split(" ")[0]
    except (OSError, UnicodeDecodeError):
        return ""


def sh(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result


class NamespacedNode:
    """One ringcache-server in its own network namespace, listening on its veth address."""

    def __init__(self, namespace: str, address: str, folder: Path, *flags: str):
        self.namespace = namespace
        self.ip = address
        self.port = CLIENT_PORT
        self.bus_port = BUS_PORT
        folder.mkdir(parents=True, exist_ok=True)
        self.log_path = folder / "server.log"
        self.log = open(self.log_path, "a")
        # `ip netns exec` execs the server, so this pid is the server's and signals reach it.
        self.process = subprocess.Popen(["ip", "netns", "exec", namespace, server_binary(), "--bind", address,
                                         "--port", str(CLIENT_PORT), "--cluster-port", str(BUS_PORT), *flags],
                                        stdout=self.log, stderr=subprocess.STDOUT, cwd=folder)
        wait_until(self._answers_ping, timeout=10, message=f"the node at {address} to answer PING")

    def _answers_ping(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"node exited with {self.process.returncode}: {self.log_path.read_text()}")
        return first_reply_line(self.ip, self.port, "PING") in ("+PONG", "-DENIED", "-NOAUTH")

    def client(self, **options) -> redis.Redis:
        return redis.Redis(host=self.ip, port=self.port, socket_timeout=5, socket_connect_timeout=2, **options)

    def seed_flag(self) -> tuple[str, str]:
        return ("--cluster-seeds", f"{self.ip}:{self.port}@{self.bus_port}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


class NetworkLab:
    """A bridge in the root namespace holding 10.A.B.1 (the test's address) and one namespace
    per node at 10.A.B.(10 + i), each joined to the bridge by a veth pair. Names carry this
    process's pid and a serial number, so two runs or two tests never share one."""

    def __init__(self, tmp_path: Path):
        serial = next(_lab_serial)
        tag = f"{(os.getpid() * 8 + serial) % 0xFFFFF:05x}"
        self.tmp_path = tmp_path
        self.bridge = f"rcb{tag}"
        self.veth_prefix = f"rcv{tag}"
        self.namespace_prefix = f"ringcache-{tag}"
        self.subnet = f"10.{200 + serial % 50}.{os.getpid() % 250}"
        self.namespaces: list[str] = []
        self.nodes: list[NamespacedNode] = []
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        sh("ip", "addr", "add", f"{self.subnet}.1/24", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")

    def add_node(self, *flags: str) -> NamespacedNode:
        index = len(self.nodes)
        namespace = f"{self.namespace_prefix}-{index}"
        address = f"{self.subnet}.{10 + index}"
        host_side, node_side = f"{self.veth_prefix}h{index}", f"{self.veth_prefix}n{index}"
        sh("ip", "netns", "add", namespace)
        self.namespaces.append(namespace)
        sh("ip", "link", "add", host_side, "type", "veth", "peer", "name", node_side, "netns", namespace)
        sh("ip", "link", "set", host_side, "master", self.bridge)
        sh("ip", "link", "set", host_side, "up")
        sh("ip", "-n", namespace, "addr", "add", f"{address}/24", "dev", node_side)
        sh("ip", "-n", namespace, "link", "set", node_side, "up")
        sh("ip", "-n", namespace, "link", "set", "lo", "up")
        seeds = self.nodes[0].seed_flag() if self.nodes else ()
        # protected-mode would refuse the test's clients, which come from the bridge address.
        node = NamespacedNode(namespace, address, self.tmp_path / namespace, "--protected-mode", "no", *seeds, *flags)
        self.nodes.append(node)
        return node

    def start_cluster(self, count: int, *flags: str) -> list[NamespacedNode]:
        nodes = [self.add_node(*flags) for _ in range(count)]
        wait_until(lambda: settled(nodes), timeout=30, interval=0.1, message=f"{count} namespaced nodes to converge")
        return nodes

    def iptables(self, node: NamespacedNode, *rule: str):
        sh("ip", "netns", "exec", node.namespace, "iptables", *rule)

    def cut_off(self, node: NamespacedNode):
        """Drops every packet between `node` and the other nodes, both ways; the test's own
        address still reaches it."""
        for other in self.nodes:
            if other is not node:
                self.iptables(node, "-A", "INPUT", "-s", other.ip, "-j", "DROP")
                self.iptables(node, "-A", "OUTPUT", "-d", other.ip, "-j", "DROP")

    def impair(self, loss: float, delay_ms: int) -> str:
        """Loss (and delay, where the kernel has netem) on every link between nodes: netem on
        each node's interface when it exists, else iptables' random drop on the traffic from
        other nodes. Returns what it did."""
        netem = [sh("ip", "netns", "exec", node.namespace, "tc", "qdisc", "add", "dev", f"{self.veth_prefix}n{index}", "root",
                    "netem", "delay", f"{delay_ms}ms", "loss", f"{loss * 100:g}%", check=False)
                 for index, node in enumerate(self.nodes)]
        if all(result.returncode == 0 for result in netem):
            return f"tc netem: {delay_ms} ms delay and {loss:.0%} loss on every node's interface"
        for index, node in enumerate(self.nodes):
            if netem[index].returncode == 0:
                sh("ip", "netns", "exec", node.namespace, "tc", "qdisc", "del", "dev", f"{self.veth_prefix}n{index}", "root")
            self.iptables(node, "-A", "INPUT", "-s", f"{self.subnet}.1", "-j", "ACCEPT")
            self.iptables(node, "-A", "INPUT", "-s", f"{self.subnet}.0/24", "-m", "statistic", "--mode", "random",
                          "--probability", f"{loss}", "-j", "DROP")
        return (f"iptables: {loss:.0%} of the packets from other nodes dropped on arrival at each node; no delay, "
                f"because this kernel has no netem ({netem[0].stderr.strip()})")

    def heal(self):
        for index, node in enumerate(self.nodes):
            self.iptables(node, "-F")
            sh("ip", "netns", "exec", node.namespace, "tc", "qdisc", "del", "dev", f"{self.veth_prefix}n{index}", "root", check=False)

    def tear_down(self):
        for node in self.nodes:
            node.stop()
        # Deleting the host end of a veth pair deletes both ends; the namespace itself can
        # outlive `ip netns del` for a moment, holding the pair, so the pairs go first.
        for index in range(len(self.namespaces)):
            sh("ip", "link", "del", f"{self.veth_prefix}h{index}", check=False)
        for namespace in self.namespaces:
            sh("ip", "netns", "del", namespace, check=False)
        sh("ip", "link", "del", self.bridge, check=False)


@pytest.fixture
def lab(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    for tool in ("ip", "iptables"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (cluster/test installs it when run as root)")
    probe = f"ringcache-probe-{os.getpid()}"
    made = sh("ip", "netns", "add", probe, check=False)
    if made.returncode != 0:
        pytest.skip(f"this machine does not allow network namespaces: {made.stderr.strip()}")
    sh("ip", "netns", "del", probe, check=False)
    try:
        network = NetworkLab(tmp_path)
    except RuntimeError as error:
        pytest.skip(f"could not make a bridge: {error}")
    try:
        yield network
    finally:
        network.tear_down()
    leftovers = [line for line in sh("ip", "netns", "list").stdout.splitlines() if line.startswith(network.namespace_prefix)]
    leftovers += [line for line in sh("ip", "-o", "link").stdout.splitlines()
                  if f" {network.veth_prefix}" in line or f" {network.bridge}:" in line]
    assert leftovers == [], f"namespaces or links left behind: {leftovers}"


class AcknowledgedWrites(threading.Thread):
    """Writes `keys` keys round and round through a cluster client, remembering per key the
    last value acknowledged and the values sent since whose reply was an error: such a write
    may or may not have been applied, so reading one back later is no loss. After an error
    it asks `new_client` for a fresh client (a fresh slot table), at most every 0.3 s."""

    def __init__(self, new_client, keys: int, prefix: str = "a"):
        super().__init__(daemon=True)
        self.new_client = new_client
        self.client = new_client()
        self.keys = keys
        self.prefix = prefix
        self.acknowledged: dict[str, str] = {}
        self.unacknowledged: dict[str, set[str]] = defaultdict(set)
        self.errors: dict[str, int] = defaultdict(int)
        self.attempts = 0
        self.stopping = threading.Event()

    def run(self):
        refreshed_at = 0.0
        for sequence in itertools.count():
            if self.stopping.is_set():
                return
            key = f"{self.prefix}:{sequence % self.keys}"
            value = f"{sequence}"
            self.attempts += 1
            try:
                self.client.set(key, value)
            except (redis.RedisError, redis.exceptions.RedisClusterException) as error:
                self.unacknowledged[key].add(value)
                self.errors[str(error).split(" ")[0] or type(error).__name__] += 1
                if time.monotonic() - refreshed_at > 0.3:
                    refreshed_at = time.monotonic()
                    try:
                        self.client = self.new_client()
                    except (redis.RedisError, redis.exceptions.RedisClusterException):
                        pass
                continue
            self.acknowledged[key] = value
            self.unacknowledged[key].clear()

    def stop(self):
        self.stopping.set()
        self.join(timeout=30)
        assert not self.is_alive(), "the writer stops"

    def lost(self, reader) -> list[str]:
        """Keys whose value is neither the last acknowledged one nor one sent after it."""
        return [key for key, value in self.acknowledged.items()
                if (reader.get(key) or b"").decode() not in {value} | self.unacknowledged[key]]


def namespaced_cluster_client(node: NamespacedNode) -> RedisCluster:
    return RedisCluster(host=node.ip, port=node.port, socket_timeout=2, socket_connect_timeout=1)


def declared_dead(observer, target) -> bool:
    """Whether `observer` lists `target` as failed (not merely suspected)."""
    address = f"{target.ip}:{target.port}@" if hasattr(target, "ip") else f"127.0.0.1:{target.port}@"
    return any(line[1].startswith(address) and "fail" in line[2].split(",") for line in node_lines(observer))


def assert_nothing_lost(writer: "AcknowledgedWrites", nodes, reader, other_keys: int = 0):
    """No acknowledged write lost; once the keys of slots given up are dropped, every key on
    exactly its two owners (cluster-replicas 1), with equal values. A key of the writer's
    exists unless none of its writes was acknowledged."""
    lost = writer.lost(reader)
    assert lost == [], f"{len(lost)} acknowledged writes lost, e.g. {lost[:5]}"
    wait_until(lambda: purged(nodes), timeout=30, interval=0.2, message="keys of slots given up to be dropped")
    assert replicas_agree(nodes, reader) == []
    written = sum(1 for index in range(writer.keys) if reader.exists(f"{writer.prefix}:{index}"))
    assert written >= len(writer.acknowledged)
    assert sum(node.client().dbsize() for node in nodes) == 2 * (written + other_keys), "two copies of every key"


def purged(nodes) -> bool:
    """Whether no node still holds keys of slots it gave up (they are dropped 10 s later, for
    requests routed by an older table)."""
    return all(cluster_info(node)["cluster_slots_purge_pending"] == "0" for node in nodes)


def replicas_agree(nodes, reader) -> list[str]:
    """Keys some owner holds a different value of than the cluster serves: every copy of every
    key, read with READONLY from each node, against the primary's."""
    differing = []
    for node in nodes:
        direct = node.client()
        direct.execute_command("READONLY")
        for key in direct.scan_iter(count=1000):
            where = f"{key.decode()} on {getattr(node, 'ip', '127.0.0.1')}:{node.port}"
            try:
                if direct.get(key) != reader.get(key):
                    differing.append(where)
            except redis.exceptions.MovedError as moved:
                differing.append(f"{where}, which does not own its slot ({moved})")
    return differing


def test_a_partitioned_node_is_declared_dead_refuses_writes_and_rejoins_losing_nothing(lab):
    nodes = lab.start_cluster(3, "--min-replicas-ack", "1")
    majority, cut = nodes[:2], nodes[2]
    writer = AcknowledgedWrites(lambda: namespaced_cluster_client(random.choice(majority)), keys=2000)
    writer.start()
    try:
        wait_until(lambda: len(writer.acknowledged) >= 500, timeout=20, message="writes before the partition")
        lab.cut_off(cut)
        partitioned_at = time.monotonic()
        wait_until(lambda: all(declared_dead(node, cut) for node in majority), timeout=10, interval=0.05,
                   message="the majority to declare the cut-off node dead")
        majority_verdict = time.monotonic() - partitioned_at
        wait_until(lambda: all(declared_dead(cut, node) for node in majority), timeout=10, interval=0.05,
                   message="the cut-off node to declare the others dead")
        # On its own it holds no replica for any slot: under min-replicas-ack 1 it refuses
        # every write before running it, so nothing it answers can diverge.
        refused = []
        direct = cut.client()
        for index in range(100):
            try:
                direct.set(f"cut:{index}", "x")
                refused.append("OK")
            except redis.ResponseError as error:
                refused.append(str(error).split(" ")[0])
        assert set(refused) == {"NOREPLICAS"}, f"the cut-off node answered {set(refused)}"
        assert direct.exists(*[f"cut:{index}" for index in range(100)]) == 0, "a refused write was not applied"
        wait_until(lambda: settled(majority, after_failure=True), timeout=20, interval=0.1,
                   message="the majority to serve every slot with two copies")
        during = len(writer.acknowledged), writer.attempts
        wait_until(lambda: writer.attempts > during[1] + 2000, timeout=30, message="writes during the partition")
    finally:
        lab.heal()
    healed_at = time.monotonic()
    wait_until(lambda: settled(nodes), timeout=60, interval=0.1, message="one view of three serving nodes after healing")
    rejoined_after = time.monotonic() - healed_at
    writer.stop()
    assert [node.process.poll() for node in nodes] == [None] * 3, "no node crashed"
    reader = namespaced_cluster_client(nodes[0])
    print(f"\npartition of one node of three: majority declared it dead after {majority_verdict:.2f} s; "
          f"{writer.attempts} writes, {len(writer.acknowledged)} keys acknowledged, errors {dict(writer.errors)}; "
          f"one view again {rejoined_after:.2f} s after healing")
    assert_nothing_lost(writer, nodes, reader)


def test_lossy_links_between_nodes_lose_no_acknowledged_write(lab):
    nodes = lab.start_cluster(3, "--min-replicas-ack", "1")
    writer = AcknowledgedWrites(lambda: namespaced_cluster_client(random.choice(nodes)), keys=2000)
    writer.start()
    try:
        started_at, started_with = time.monotonic(), writer.attempts
        wait_until(lambda: len(writer.acknowledged) >= 500, timeout=20, message="writes before the impairment")
        healthy_rate = (writer.attempts - started_with) / (time.monotonic() - started_at)
        how = lab.impair(loss=0.10, delay_ms=20)
        before = writer.attempts
        impaired_at = time.monotonic()
        wait_until(lambda: writer.attempts > before + 500, timeout=60,
                   message=f"writes over the lossy links (errors so far: {dict(writer.errors)})")
        impaired_rate = (writer.attempts - before) / (time.monotonic() - impaired_at)
        verdicts = [sum(declared_dead(observer, node) for node in nodes if node is not observer) for observer in nodes]
    finally:
        lab.heal()
    wait_until(lambda: settled(nodes), timeout=60, interval=0.1, message="one view of three serving nodes after healing")
    writer.stop()
    assert [node.process.poll() for node in nodes] == [None] * 3, "no node crashed"
    reader = namespaced_cluster_client(nodes[0])
    deaths = sum(log.count("Cluster member marked dead") for log in (node.log_path.read_text() for node in nodes))
    rechecked = [int(cluster_info(node)["cluster_slots_rechecked"]) for node in nodes]
    print(f"\nlossy links ({how}): {healthy_rate:.0f} writes/s before, {impaired_rate:.0f} writes/s with loss; "
          f"{writer.attempts} writes, errors {dict(writer.errors)}; "
          f"members listed as failed at the end of the impairment {verdicts}; false deaths logged {deaths}; "
          f"slots rechecked {rechecked}")
    assert_nothing_lost(writer, nodes, reader)


@pytest.mark.parametrize("victim_role", ["joiner", "donor"])
def test_sigkill_during_a_slot_migration_loses_no_acknowledged_write(start_server, victim_role):
    """A fourth node joins three that hold 6 MB, with fills paced at 1 MB/s so the migration
    is still running when one side of it is killed: the joiner, or a node sending to it."""
    flags = ("--min-replicas-ack", "1", "--migration-max-bytes-per-sec", "1mb")
    nodes = start_cluster(start_server, 3, *flags)
    loader = cluster_client(nodes[0])
    pipe = loader.pipeline()
    for index in range(6000):
        pipe.set(f"bulk:{index}", "v" * 1000)
    pipe.execute()
    writer = AcknowledgedWrites(lambda: cluster_client(random.choice(nodes)), keys=2000)
    writer.start()
    joiner = None
    try:
        wait_until(lambda: len(writer.acknowledged) >= 500, timeout=20, message="writes before the join")
        joiner = start_server(*flags, *seed_flag(nodes[0]))

        def sending() -> list:
            # A donor mid-fill: bytes have gone out and the fill is not yet acknowledged.
            # (`cluster_migration_keys_sent` counts only finished streams, so waiting on it
            # could miss the whole window between the first stream ending and the last.)
            def streaming(info: dict) -> bool:
                return int(info["cluster_migration_bytes_sent"]) > 0 and int(info["cluster_fills_streaming"]) > 0
            return [node for node in nodes if streaming(cluster_info(node))]
        donors: list = []

        def under_way() -> bool:
            donors[:] = sending()
            return bool(donors) and cluster_info(joiner)["cluster_node_phase"] == "joining"
        wait_until(under_way, timeout=20, interval=0.02, message="the migration to the joiner to be under way")
        victim = joiner if victim_role == "joiner" else donors[0]
        victim.process.kill()
        victim.process.wait(timeout=10)
        survivors = [node for node in nodes + [joiner] if node is not victim]
        killed_at = time.monotonic()
        wait_until(lambda: all(declared_dead(node, victim) for node in survivors), timeout=15, interval=0.05,
                   message="the survivors to declare the killed node dead")
        # Bounded below the 30 s a fill request may go unanswered before it is asked again:
        # the joiner must ask the next holder as soon as a dead donor leaves the plan.
        wait_until(lambda: settled(survivors, after_failure=True), timeout=20, interval=0.1,
                   message="the survivors to finish moving slots and serve every slot")
        settled_after = time.monotonic() - killed_at
        writer.stop()
    finally:
        writer.stopping.set()
    assert [node.process.poll() for node in survivors] == [None] * len(survivors), "no other node crashed"
    reader = cluster_client(survivors[0])
    print(f"\nSIGKILL of the {victim_role} mid-migration: settled {settled_after:.2f} s later; "
          f"{writer.attempts} writes, errors {dict(writer.errors)}")
    bulk_lost = [index for index in range(6000) if reader.get(f"bulk:{index}") is None]
    assert bulk_lost == [], f"{len(bulk_lost)} preloaded keys lost"
    assert_nothing_lost(writer, survivors, reader, other_keys=6000)


def test_protected_mode_refuses_a_client_from_another_host_until_a_password_is_set(lab):
    """A node with no password and protected-mode on (the default) answers a client on the
    bridge with a DENIED error, while its own loopback works; once a password is set, that
    client gets in after AUTH."""
    node = lab.add_node("--protected-mode", "yes", "--bind", f"{lab.subnet}.10", "127.0.0.1")
    assert first_reply_line(node.ip, node.port, "PING") == "-DENIED"
    with pytest.raises(redis.ResponseError, match="^DENIED .*protected mode"):
        node.client().get("k")

    def local(*arguments: str) -> str:
        return sh("ip", "netns", "exec", node.namespace, "redis-cli", "--no-auth-warning", "-h", "127.0.0.1",
                  "-p", str(node.port), *arguments).stdout.strip()
    assert local("PING") == "PONG", "loopback clients are served"
    assert local("CONFIG", "SET", "requirepass", "s3cret") == "OK"
    assert first_reply_line(node.ip, node.port, "PING") == "-NOAUTH"
    remote = node.client(password="s3cret")
    assert remote.set("k", "v") and remote.get("k") == b"v"
    assert local("-a", "s3cret", "CONFIG", "SET", "requirepass", "") == "OK"
    assert first_reply_line(node.ip, node.port, "PING") == "-DENIED", "no password again: refused again"
