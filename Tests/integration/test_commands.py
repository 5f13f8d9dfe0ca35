"""Commands through redis-py, in RESP2 and RESP3."""
import pytest
import redis

from conftest import wait_until


@pytest.mark.parametrize("protocol", [2, 3])
def test_strings_through_redis_py(server, protocol):
    client = server.client(protocol=protocol)
    assert client.set("k", "v", ex=100) is True
    assert client.get("k") == b"v"
    assert client.ttl("k") == 100
    assert client.set("k", "w", nx=True) is None
    assert client.set("k", "w", xx=True, get=True) == b"v"
    assert client.getex("k", persist=True) == b"w"
    assert client.ttl("k") == -1
    assert client.mset({"a": "1", "b": "2"}) is True
    assert client.mget(["a", "missing", "b"]) == [b"1", None, b"2"]
    assert client.incrby("a", 10) == 11
    assert client.incrbyfloat("f", 1.5) == 1.5
    assert client.append("s", "ab") == 2
    assert client.getrange("s", 0, 0) == b"a"
    assert client.setrange("s", 5, "z") == 6
    assert client.get("s") == b"ab\x00\x00\x00z"
    assert client.get("missing") is None
    assert client.delete("a", "b", "missing") == 2
    assert client.type("s") == b"string"
    client.close()


def test_wrong_arguments_raise_redis_errors(client):
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        client.execute_command("SET", "k", "v", "EX", "soon")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        client.execute_command("SET", "k", "v", "NX", "XX")
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'set' command"):
        client.set("k", "v", ex=0)


def test_expire_family_and_ttls(client):
    client.set("k", "v")
    assert client.expire("k", 100, nx=True) is True
    assert client.expire("k", 50, gt=True) is False
    assert client.pexpire("k", 500_000, gt=True) is True
    assert client.pttl("k") > 400_000
    assert client.expiretime("k") > 0
    assert client.persist("k") is True
    assert client.ttl("missing") == -2


def test_px_100_is_gone_on_access_and_from_dbsize(server):
    client = server.client()
    client.set("short", "lived", px=100)
    client.set("other", "short", px=100)
    assert client.get("short") == b"lived"
    wait_until(lambda: client.get("short") is None, timeout=5, message="GET to miss after expiry")
    # "other" is never read: active expiry must reclaim it, so DBSIZE reaches 0 on its own.
    wait_until(lambda: client.dbsize() == 0, timeout=5, message="DBSIZE to drop to 0")
    info = client.info("stats")
    assert info["expired_keys"] == 2


def test_scan_iter_returns_every_key(client):
    keys = {f"scan:{index}".encode() for index in range(5000)}
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, "1")
    pipe.execute()
    client.set("other", "1")
    assert set(client.scan_iter(match="scan:*", count=100)) == keys
    assert len(set(client.scan_iter(count=1000))) == 5001
    assert set(client.keys("scan:1?")) == {f"scan:1{d}".encode() for d in range(10)}


def test_rename_randomkey_touch_object(client):
    client.set("a", "12345")
    assert client.rename("a", "b") is True
    assert client.renamenx("b", "c") is True
    assert client.randomkey() == b"c"
    assert client.touch("c", "nope") == 1
    assert client.object("encoding", "c") == b"int"
    assert client.object("idletime", "c") == 0


def test_connection_and_server_commands(server, client):
    assert client.ping() is True
    assert client.echo("hi") == b"hi"
    assert client.client_setname("worker-1") is True
    assert client.client_getname() == "worker-1" or client.client_getname() == b"worker-1"
    client_id = client.client_id()
    listing = client.client_list()
    assert any(entry["name"] == "worker-1" and int(entry["id"]) == client_id for entry in listing)
    assert client.dbsize() == 0
    seconds, micros = client.time()
    assert seconds > 1_600_000_000 and 0 <= micros < 1_000_000
    info = client.info()
    assert info["redis_version"] == "7.0.0"
    assert info["tcp_port"] == server.port
    assert info["connected_clients"] >= 1
    client.set("x", "1", ex=100)
    assert client.info("keyspace")["db0"]["keys"] == 1
    assert client.info("keyspace")["db0"]["expires"] == 1
    assert client.config_get("save") == {"save": ""}
    assert client.config_get("appendonly") == {"appendonly": "no"}
    assert client.config_get("port") == {"port": str(server.port)}
    assert client.config_set("hz", 20) is True
    assert client.config_get("hz") == {"hz": "20"}
    with pytest.raises(redis.ResponseError, match="Unknown option or number of arguments for CONFIG SET - 'nosuch'"):
        client.config_set("nosuch", "1")
    with pytest.raises(redis.ResponseError, match="can't set immutable config"):
        client.config_set("port", "1234")
    assert client.command_count() > 50
    commands = client.command()
    assert commands["get"]["arity"] == 2
    assert commands["mset"]["step_count"] == 2 and commands["mset"]["last_key_pos"] == -1
    assert "readonly" in commands["get"]["flags"]
    assert client.flushall() is True


def test_resp3_hello_and_maps(server):
    client = server.client(protocol=3)
    hello = client.execute_command("HELLO", "3")
    assert hello[b"proto"] == 3
    assert client.config_get("save") == {b"save": b""} or client.config_get("save") == {"save": ""}
    with pytest.raises(redis.ResponseError, match="NOPROTO"):
        client.execute_command("HELLO", "4")
    client.close()


def test_maxclients_refuses_with_redis_error(server, client):
    client.config_set("maxclients", 2)
    second = server.client()
    second.ping()
    third = server.client()
    with pytest.raises(redis.exceptions.ConnectionError, match="max number of clients reached"):
        third.ping()
    second.close()
    third.close()
    client.config_set("maxclients", 10000)


def test_cluster_keyslot_agrees_with_redis_py(client):
    import random
    from redis.crc import key_slot
    generator = random.Random(7)
    keys = [f"user:{generator.randrange(10**9)}" for _ in range(1000)]
    keys += [f"{{tag{generator.randrange(100)}}}.field{index}" for index in range(500)]
    keys += ["", "{", "}", "{}", "foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}", "123456789"]
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.execute_command("CLUSTER", "KEYSLOT", key)
    assert pipe.execute() == [key_slot(key.encode()) for key in keys]
    # A node started alone is a one-node cluster that owns every slot.
    assert client.execute_command("CLUSTER", "COUNTKEYSINSLOT", "0") == 0


def test_client_list_names_each_clients_command_as_redis_does(server):
    """cmd= is the command running now for the caller's own line, and the last command for
    the others, with a container's subcommand (client|list, config|get)."""
    from conftest import reference_redis_server

    def commands(port: int) -> tuple[str, str, str]:
        with redis.Redis(port=port) as worker, redis.Redis(port=port) as observer:
            worker.set("k", "v")
            worker.config_get("maxmemory")
            worker_id, observer_id = worker.client_id(), observer.client_id()
            worker.set("k", "w")
            by_id = {int(entry["id"]): entry["cmd"] for entry in observer.client_list()}
            own = observer.client_info()["cmd"]
            return by_id[worker_id], by_id[observer_id], own

    with reference_redis_server() as redis_port:
        expected = commands(redis_port)
    assert expected == ("set", "client|list", "client|info")
    assert commands(server.port) == expected
