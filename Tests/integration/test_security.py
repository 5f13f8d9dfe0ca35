"""Authentication, ACLs, the per-client rate limit and CL.THROTTLE on real servers, with
redis-py and redis-cli; error texts compared with a real redis-server in the same run."""
import socket
import subprocess
import threading
import time

import pytest
import redis

from conftest import free_port, free_udp_port, reference_redis_server, wait_until


@pytest.fixture
def reference_with_password():
    with reference_redis_server("--requirepass", "secret") as port:
        yield port


def _reply(client, *command):
    try:
        return client.execute_command(*command)
    except redis.ResponseError as error:
        return ("error", str(error))
    except redis.AuthenticationError as error:
        return ("error", str(error))


def _raw(port: int, *commands: str) -> list[str]:
    """Replies to commands sent on one fresh connection with no login, as redis-cli prints them."""
    result = subprocess.run(["redis-cli", "-p", str(port)], input="\n".join(commands) + "\n",
                            capture_output=True, text=True, timeout=30)
    return result.stdout.splitlines()


def test_requirepass_auth_and_acl_errors_match_redis(start_server, reference_with_password):
    server = start_server("--requirepass", "secret")
    session = ["GET x", "AUTH wrong", "HELLO 3", "AUTH secret", "SET x 1", "GET x", "ACL WHOAMI", "AUTH nobody pw",
               # RESET logs out: the default user needs a password here.
               "RESET", "GET x", "AUTH secret", "GET x"]
    assert _raw(server.port, *session) == _raw(reference_with_password, *session)
    ours = redis.Redis(port=server.port, password="secret", socket_timeout=5)
    theirs = redis.Redis(port=reference_with_password, password="secret", socket_timeout=5)
    setup = [
        ("ACL", "SETUSER", "alice", "on", ">pw", "~cache:*", "+@read", "-@dangerous", "&news", "+publish"),
        ("ACL", "SETUSER", "x", "badrule"), ("ACL", "SETUSER", "x", "+nosuchcmd"), ("ACL", "SETUSER", "x", "#abc"),
        ("ACL", "CAT", "nosuch"), ("ACL", "DELUSER", "default"), ("ACL", "GETUSER", "nobody"),
        ("ACL", "SETUSER", "bob", "off"), ("ACL", "DELUSER", "bob", "nobody"), ("ACL", "USERS"),
    ]
    for command in setup:
        assert _reply(ours, *command) == _reply(theirs, *command), command
    as_alice = ["AUTH alice pw", "GET x", "GET cache:x", "SET cache:x 1", "PUBLISH sport m", "PUBLISH news m", "KEYS *",
                "ACL WHOAMI", "AUTH alice wrong", "ACL SETUSER alice off"]
    assert _raw(server.port, *as_alice) == _raw(reference_with_password, *as_alice)
    assert _reply(ours, "ACL", "GETUSER", "alice")[b"keys"] == b"~cache:*"
    assert ours.acl_whoami() == "default"


def test_clients_log_in_with_a_user_and_lose_access_when_it_changes(start_server):
    server = start_server("--requirepass", "secret")
    admin = redis.Redis(port=server.port, password="secret", socket_timeout=5)
    admin.acl_setuser("app", enabled=True, passwords=["+apppass"], keys=["app:*"], commands=["+@all"], channels=["*"])
    app = redis.Redis(port=server.port, username="app", password="apppass", socket_timeout=5, protocol=3)
    assert app.set("app:1", "v") and app.get("app:1") == b"v"
    with pytest.raises(redis.exceptions.NoPermissionError):
        app.get("other")
    cli = subprocess.run(["redis-cli", "-p", str(server.port), "--user", "app", "--pass", "apppass", "--no-auth-warning", "get", "app:1"],
                         capture_output=True, text=True, timeout=30)
    assert cli.stdout.strip() == "v"
    assert any(client["user"] == "app" for client in admin.client_list())
    admin.acl_setuser("app", enabled=True, commands=["-set"])
    with pytest.raises(redis.exceptions.NoPermissionError):
        app.set("app:1", "w")
    admin.acl_deluser("app")
    with pytest.raises(redis.exceptions.AuthenticationError):
        app.get("app:1")
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(port=server.port, username="app", password="apppass", socket_timeout=5).ping()


def test_an_aclfile_is_loaded_at_start_saved_and_reloaded(start_server, tmp_path):
    acl_path = tmp_path / "users.acl"
    acl_path.write_text("# team users\nuser reader on >readpw ~* +@read\nuser default on nopass ~* &* +@all\n")
    server = start_server("--aclfile", str(acl_path))
    reader = redis.Redis(port=server.port, username="reader", password="readpw", socket_timeout=5)
    assert reader.get("k") is None
    with pytest.raises(redis.exceptions.NoPermissionError):
        reader.set("k", "v")
    admin = server.client()
    admin.acl_setuser("writer", enabled=True, passwords=["+writepw"], keys=["*"], commands=["+@write"])
    assert admin.acl_save()
    saved = acl_path.read_text()
    assert "user writer on #" in saved and "writepw" not in saved, "passwords are saved hashed"
    acl_path.write_text("user default on nopass ~* &* +@all\n")
    assert admin.acl_load()
    assert set(admin.acl_users()) == {"default"}
    acl_path.write_text("user broken on +nosuchcommand\n")
    with pytest.raises(redis.ResponseError, match="Unknown command or category name in ACL"):
        admin.acl_load()
    assert set(admin.acl_users()) == {"default"}, "a bad file changes nothing"


def test_a_bad_aclfile_stops_the_start_with_one_line(tmp_path):
    from conftest import server_binary
    acl_path = tmp_path / "bad.acl"
    acl_path.write_text("user x on +@nosuchcategory\n")
    result = subprocess.run([server_binary(), "--port", str(free_port()), "--cluster-port", str(free_udp_port()), "--aclfile", str(acl_path)],
                            capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == f"ringcache-server: bad aclfile '{acl_path}': {acl_path}:1: Unknown command or category name in ACL."


def test_client_rate_limit_answers_over_limit_commands_with_an_error(start_server):
    server = start_server("--client-rate-limit", "20 10")
    outcomes = []
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        for _ in range(40):
            raw.sendall(b"PING\r\n")
            reply = raw.recv(256)
            assert reply == b"+PONG\r\n" or reply.startswith(b"-RATELIMIT client-rate-limit exceeded"), reply
            outcomes.append("ok" if reply == b"+PONG\r\n" else "limited")
    assert outcomes[:10] == ["ok"] * 10, "the burst passes"
    assert outcomes.count("ok") <= 14, outcomes
    client = server.client()
    other = server.client()
    assert other.ping(), "the limit is per connection"
    wait_until(lambda: _answers_without_limit(client), timeout=5, message="tokens to come back")
    assert server.client().config_get("client-rate-limit") == {"client-rate-limit": "20 10"}


def _answers_without_limit(client) -> bool:
    try:
        return client.ping()
    except redis.ResponseError:
        return False


def test_cl_throttle_is_routed_by_key_across_a_cluster(start_server):
    from test_replication import cluster_client, settled, start_cluster
    nodes = start_cluster(start_server, 3)
    wait_until(lambda: settled(nodes), timeout=30, interval=0.1, message="the cluster to settle")
    client = cluster_client(nodes[0])
    keys = [f"user:{n}" for n in range(20)]
    assert len({client.keyslot(key) for key in keys}) > 1
    for key in keys:
        first = client.execute_command("CL.THROTTLE", key, 2, 10, 60)
        assert first == [0, 3, 2, -1, 6], key
        client.execute_command("CL.THROTTLE", key, 2, 10, 60)
        client.execute_command("CL.THROTTLE", key, 2, 10, 60)
        limited = client.execute_command("CL.THROTTLE", key, 2, 10, 60)
        assert limited[0] == 1 and limited[2] == 0 and 5 <= limited[3] <= 6, (key, limited)
    owners = {node.port: node.client().dbsize() for node in nodes}
    assert sum(1 for count in owners.values() if count > 0) >= 2, "the keys live on their slots' owners"


def test_idle_clients_are_closed_after_timeout_but_subscribers_and_waiters_stay(start_server):
    server = start_server("--timeout", "1")
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    idle.sendall(b"PING\r\n")
    assert idle.recv(64) == b"+PONG\r\n"
    subscriber = server.client().pubsub()
    subscriber.subscribe("news")
    assert subscriber.get_message(timeout=5)["type"] == "subscribe"
    control = server.client()
    waiter_result = {}
    waiter = threading.Thread(target=lambda: waiter_result.update(value=server.client().blpop(["never"], timeout=4)), daemon=True)
    waiter.start()
    wait_until(lambda: control.info("clients")["blocked_clients"] == 1, timeout=5, message="the waiter to block")
    # recv returns b"" when the server closes the connection (bounded by the socket timeout).
    assert idle.recv(64) == b"", "the idle client was closed"
    idle.close()
    control.publish("news", "still here")
    message = subscriber.get_message(timeout=5)
    assert message and message["data"] == b"still here", "a subscriber is not idle"
    waiter.join(timeout=10)
    assert waiter_result == {"value": None}, "the waiter was answered by its own timeout"
    subscriber.close()


def stalled_subscriber(server, channel: str) -> socket.socket:
    """A raw connection subscribed to `channel` that never reads again, with a small receive
    buffer so unsent messages pile up on the server's side."""
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.settimeout(10)
    stalled.connect(("127.0.0.1", server.port))
    stalled.sendall(f"SUBSCRIBE {channel}\r\n".encode())
    assert stalled.recv(64).startswith(b"*3\r\n$9\r\nsubscribe")
    return stalled


def test_a_subscriber_that_stops_reading_is_disconnected_at_the_pubsub_limit(start_server):
    server = start_server("--client-output-buffer-limit", "pubsub 1mb 0 0")
    assert server.client().config_get("client-output-buffer-limit")["client-output-buffer-limit"] == \
        "normal 0 0 0 replica 268435456 67108864 60 pubsub 1048576 0 0"
    stalled = stalled_subscriber(server, "firehose")
    publisher = server.client()
    message = b"x" * 10_000
    delivered = 0
    for _ in range(3000):
        delivered = publisher.publish("firehose", message)
        if delivered == 0:
            break
    assert delivered == 0, "the stalled subscriber was dropped before 30 MB piled up for it"
    assert publisher.pubsub_numsub("firehose") == [(b"firehose", 0)]
    assert publisher.ping()
    stalled.close()


def test_a_subscriber_above_the_soft_limit_is_dropped_only_after_the_soft_time(start_server):
    """`client-output-buffer-limit pubsub 0 64kb 30`: no hard limit, so a stalled subscriber with
    far more than 64 kB pending stays for now; with the soft time cut to 1 s by CONFIG SET it
    is dropped once it has stayed above 64 kB that long."""
    server = start_server("--client-output-buffer-limit", "pubsub 0 64kb 30")
    stalled = stalled_subscriber(server, "firehose")
    publisher = server.client()
    message = b"x" * 10_000
    for _ in range(300):
        assert publisher.publish("firehose", message) == 1, "above the soft limit for less than 30 s: still subscribed"
    assert publisher.config_set("client-output-buffer-limit", "pubsub 0 64kb 1")
    started = time.monotonic()

    def dropped() -> bool:
        return publisher.publish("firehose", message) == 0
    wait_until(dropped, timeout=10, interval=0.05, message="the subscriber to be dropped at the soft limit")
    assert time.monotonic() - started < 5
    assert publisher.pubsub_numsub("firehose") == [(b"firehose", 0)]
    stalled.close()


def test_a_normal_client_that_stops_reading_is_closed_at_its_output_limit(start_server):
    """A pipeline of 200 GETs of a 100 kB value makes 20 MB of replies in one batch for a client
    that reads none of them: kept without a limit (the default, as in Redis), closed under
    `client-output-buffer-limit normal 1mb 0 0`."""
    server = start_server()
    control = server.client()
    control.set("big", "x" * 100_000)

    def stalled_reader() -> tuple[socket.socket, str]:
        reader = socket.socket()
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        reader.settimeout(10)
        reader.connect(("127.0.0.1", server.port))
        reader.sendall(b"GET big\r\n" * 200)
        return reader, f"127.0.0.1:{reader.getsockname()[1]}"

    def connected(address: str) -> bool:
        return any(client["addr"] == address for client in control.client_list())
    unlimited, unlimited_address = stalled_reader()
    wait_until(lambda: connected(unlimited_address), timeout=5, message="the first reader to connect")
    assert control.config_set("client-output-buffer-limit", "normal 1mb 0 0")
    limited, _ = stalled_reader()
    # The server's own record of the close: reading the closed socket from here instead can
    # stall for seconds, since a 4 kB receive window never reopens to loopback's 64 kB MSS
    # and the sender falls back to zero-window probes with a growing backoff.
    wait_until(lambda: "Client closed for overcoming of output buffer limits" in server.log_path.read_text(), timeout=10,
               message="the reader over the limit to be closed")
    assert server.log_path.read_text().count("Client closed for overcoming of output buffer limits") == 1
    assert connected(unlimited_address), "the reader that came before the limit is still served"
    assert control.ping()
    unlimited.close()
    limited.close()


def test_maxblockedclients_caps_the_clients_waiting_in_blocking_commands(start_server):
    server = start_server("--maxblockedclients", "2")
    control = server.client()
    results: dict[int, object] = {}

    def wait_in(index: int):
        try:
            results[index] = server.client().blpop([f"queue:{index}"], timeout=10)
        except redis.ResponseError as error:
            results[index] = str(error)
    waiters = [threading.Thread(target=wait_in, args=(index,), daemon=True) for index in range(2)]
    for waiter in waiters:
        waiter.start()
    wait_until(lambda: control.info("clients")["blocked_clients"] == 2, timeout=5, message="two clients to block")
    with pytest.raises(redis.ResponseError, match="^max number of blocked clients reached$"):
        server.client().blpop(["queue:x"], timeout=1)
    assert server.client().lpop("queue:x") is None, "non-blocking commands still run"
    control.rpush("queue:0", "job")
    waiters[0].join(timeout=10)
    assert results[0] == (b"queue:0", b"job")
    third = threading.Thread(target=wait_in, args=(2,), daemon=True)
    third.start()
    wait_until(lambda: control.info("clients")["blocked_clients"] == 2, timeout=5, message="a freed place to be taken")
    control.rpush("queue:1", "a")
    control.rpush("queue:2", "b")
    for thread in (waiters[1], third):
        thread.join(timeout=10)
    assert results[1] == (b"queue:1", b"a") and results[2] == (b"queue:2", b"b")
    assert control.config_set("maxblockedclients", "0") and control.config_get("maxblockedclients") == {"maxblockedclients": "0"}


def _rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_ten_thousand_idle_connections_and_a_benchmark_on_top(start_server):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 12_000
    if hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
        except (ValueError, OSError):
            pytest.skip(f"the file descriptor limit is {hard}; 10,000 connections need {wanted}")
    else:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    # The server inherits the raised limit from this process.
    server = start_server("--maxclients", "10100")
    rss_before = _rss_bytes(server.process.pid)
    idle = []
    try:
        for _ in range(10_000):
            connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            idle.append(connection)
        control = server.client()
        wait_until(lambda: control.info("clients")["connected_clients"] >= 10_001, timeout=30, message="10,000 connections to be accepted")
        rss_idle = _rss_bytes(server.process.pid)
        result = subprocess.run(["redis-benchmark", "-p", str(server.port), "-q", "-n", "100000", "-c", "50", "-t", "set,get,lpush,lpop"],
                                capture_output=True, text=True, timeout=300)
        output = result.stdout + result.stderr
        assert result.returncode == 0 and "error" not in output.lower(), output
        for test in ("SET", "GET", "LPUSH", "LPOP"):
            assert f"\n{test}: " in output.replace("\r", "\n"), output
        # Some idle connections still answer: none was dropped to make room.
        for connection in idle[::1000]:
            connection.sendall(b"PING\r\n")
            assert connection.recv(16) == b"+PONG\r\n"
        per_connection = (rss_idle - rss_before) / 10_000
        print(f"\nRSS {rss_before / 2**20:.1f} MiB -> {rss_idle / 2**20:.1f} MiB with 10,000 idle connections "
              f"({per_connection / 1024:.1f} KiB each), {_rss_bytes(server.process.pid) / 2**20:.1f} MiB after the benchmark")
        assert per_connection < 64 * 1024, "an idle connection costs less than 64 KiB"
    finally:
        for connection in idle:
            connection.close()
