"""MULTI, EXEC, DISCARD, WATCH and UNWATCH: replies checked against a real redis-server in the
same run, redis-py's transactional pipelines and WATCH retries, transactions that no other
client's command interleaves with, and a transaction in a cluster."""
import threading

import pytest
import redis

from conftest import reference_redis_server, wait_until
from test_cluster import converged, seed_flag


@pytest.fixture(scope="module")
def reference_redis():
    with reference_redis_server() as port:
        yield port


def _comparable(reply):
    """Errors as (class, text): redis-py strips the code of the errors it has a class for
    (EXECABORT, MOVED), and returns EXEC's failed commands as exception objects."""
    if isinstance(reply, Exception):
        return (type(reply).__name__, str(reply))
    if isinstance(reply, list):
        return [_comparable(element) for element in reply]
    return reply


def _reply(client, line):
    try:
        return _comparable(client.execute_command(*line.split(" ")))
    except redis.ResponseError as error:
        return _comparable(error)


# One connection each, replayed in order; every reply compared with Redis 7's.
SCRIPT = [
    "EXEC", "DISCARD", "UNWATCH", "MULTI", "MULTI", "WATCH a", "SET a 1", "INCR a", "GET a", "EXEC",
    "MULTI", "SET a 1", "NOSUCH x", "GET a", "EXEC", "GET a",
    "MULTI", "SET a 2", "GET a b", "EXEC", "GET a",
    "MULTI", "DISCARD", "EXEC", "WATCH a b", "UNWATCH", "WATCH a", "MULTI", "GET a", "EXEC",
    "MULTI", "SET s x", "INCR s", "LPUSH s y", "GET s", "EXEC",
    "MULTI", "BLPOP nolist 0", "BLMOVE nolist other LEFT LEFT 0", "BLMPOP 0 1 nolist LEFT", "BZMPOP 0 1 nolist MIN", "EXEC",
    "MULTI", "SAVE", "PING", "EXEC",
    "MULTI", "PING", "ECHO hi", "SELECT 0", "EXEC", "MULTI", "EXEC",
    "MULTI", "SET x 1", "EXPIRE x 100", "TTL x", "DEL x", "EXEC",
    "WATCH w", "SET w 1", "MULTI", "GET w", "EXEC", "GET w",
]


@pytest.mark.parametrize("protocol", [2, 3])
def test_replies_match_redis(server, reference_redis, protocol):
    ours = redis.Redis(port=server.port, socket_timeout=10, protocol=protocol, single_connection_client=True)
    theirs = redis.Redis(port=reference_redis, socket_timeout=10, protocol=protocol, single_connection_client=True)
    ours.flushall()
    theirs.flushall()
    for line in SCRIPT:
        expected, actual = _reply(theirs, line), _reply(ours, line)
        assert actual == expected, f"{line}: ringcache {actual!r}, redis {expected!r}"


def test_redis_py_pipelines_and_watch_retries(client, server):
    with client.pipeline(transaction=True) as pipe:
        pipe.set("counter", 10).incrby("counter", 5).lpush("queue", "a", "b").lrange("queue", 0, -1).get("missing")
        assert pipe.execute() == [True, 15, 2, [b"b", b"a"], None]

    other = server.client()
    # A write by another client between WATCH and EXEC: EXEC answers nil, redis-py raises.
    with client.pipeline() as pipe:
        pipe.watch("balance")
        current = int(pipe.get("balance") or 0)
        other.set("balance", 100)
        pipe.multi()
        pipe.set("balance", current + 1)
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert client.get("balance") == b"100"

    # Undisturbed, the same pattern commits; redis-py's `transaction` helper retries on its own.
    def add_one(pipe):
        value = int(pipe.get("balance"))
        pipe.multi()
        pipe.set("balance", value + 1)
    client.transaction(add_one, "balance")
    assert client.get("balance") == b"101"

    # A watched key that expires before EXEC fails it too (Redis 7).
    client.set("lease", "mine", px=100)
    with client.pipeline() as pipe:
        pipe.watch("lease")
        wait_until(lambda: other.exists("lease") == 0, timeout=5, message="the lease to expire")
        pipe.multi()
        pipe.set("lease", "renewed")
        with pytest.raises(redis.WatchError):
            pipe.execute()

    # FLUSHALL touches every watched key; UNWATCH forgets them.
    with client.pipeline() as pipe:
        pipe.watch("counter")
        other.flushall()
        pipe.multi()
        pipe.set("counter", 1)
        with pytest.raises(redis.WatchError):
            pipe.execute()
    with client.pipeline() as pipe:
        pipe.watch("counter")
        other.set("counter", 5)
        pipe.unwatch()
        pipe.multi()
        pipe.incr("counter")
        assert pipe.execute() == [6]
    other.close()


def test_no_other_command_comes_between_a_transactions_commands(server):
    """Four clients run MULTI INCR INCR EXEC while four others INCR alone: the two increments
    of every transaction are consecutive numbers."""
    failures: list[str] = []

    def transactions():
        client = server.client()
        for _ in range(300):
            first, second = client.pipeline(transaction=True).incr("shared").incr("shared").execute()
            if second != first + 1:
                failures.append(f"{first}, {second}")
        client.close()

    def singles():
        client = server.client()
        for _ in range(600):
            client.incr("shared")
        client.close()

    threads = [threading.Thread(target=transactions) for _ in range(4)] + [threading.Thread(target=singles) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert int(server.client().get("shared")) == 4 * 300 * 2 + 4 * 600


def test_a_transaction_in_a_cluster_stays_on_its_slot(start_server):
    seed = start_server()
    nodes = [seed, start_server(*seed_flag(seed))]
    wait_until(lambda: converged(nodes, 2), timeout=15, interval=0.1, message="two nodes to converge")
    client = redis.Redis(port=nodes[0].port, socket_timeout=10, single_connection_client=True)
    mine = [f"k{i}" for i in range(200) if _serves(client, f"k{i}")]
    theirs = [f"k{i}" for i in range(200) if not _serves(client, f"k{i}")]
    assert mine and theirs
    # Keys of one slot (a hash tag this node serves): the transaction runs.
    tag = next(f"{{{key}}}" for key in mine)
    assert _raw(client, "MULTI") == b"OK"
    assert _raw(client, f"SET {tag}:a 1") == b"QUEUED"
    assert _raw(client, f"INCR {tag}:a") == b"QUEUED"
    assert _raw(client, "EXEC") == [b"OK", 2]
    # A key the other node serves: MOVED while queuing, then EXECABORT.
    assert _raw(client, "MULTI") == b"OK"
    moved = _raw(client, f"SET {theirs[0]} 1")
    assert moved[0] == "MovedError", moved
    assert _raw(client, "EXEC") == ("ExecAbortError", "Transaction discarded because of previous errors.")
    # Two slots, each served here: every command queues alone, EXEC refuses the mix.
    other_slot = next(key for key in mine if client.execute_command("CLUSTER", "KEYSLOT", key) != client.execute_command("CLUSTER", "KEYSLOT", tag))
    assert _raw(client, "MULTI") == b"OK"
    assert _raw(client, f"SET {tag}:b 1") == b"QUEUED"
    assert _raw(client, f"SET {other_slot} 1") == b"QUEUED"
    assert _raw(client, "EXEC") == ("ClusterCrossSlotError", "Keys in request don't hash to the same slot")
    assert client.exists(f"{tag}:b") == 0


def _raw(client, line):
    """The reply without redis-py's per-command parsing (SET's would turn QUEUED into False)."""
    client.connection.send_command(*line.split(" "))
    try:
        return _comparable(client.connection.read_response())
    except redis.ResponseError as error:
        return _comparable(error)


def _serves(client, key: str) -> bool:
    try:
        client.execute_command("GET", key)
        return True
    except redis.exceptions.MovedError:
        return False
