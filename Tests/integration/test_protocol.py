"""The wire protocol, driven over raw sockets and redis-cli."""
import socket
import time

import pytest

from conftest import reference_redis_server, wait_until
from test_pubsub import exchange


@pytest.fixture(scope="module")
def reference_redis():
    with reference_redis_server() as port:
        yield port


def raw(server, timeout=5.0) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    return connection


def read_until(connection: socket.socket, expected_length: int, timeout: float = 10) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while len(data) < expected_length and time.monotonic() < deadline:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def read_to_close(connection: socket.socket, timeout: float = 5) -> bytes:
    """Reads until the server closes the connection. A close with our bytes still unread
    arrives as a reset, which is a close too."""
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = connection.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk
    raise AssertionError(f"connection was not closed; got {data!r}")


def multibulk(*words: bytes) -> bytes:
    out = b"*%d\r\n" % len(words)
    for word in words:
        out += b"$%d\r\n%s\r\n" % (len(word), word)
    return out


def test_inline_commands_typed_into_telnet(server):
    with raw(server) as connection:
        connection.sendall(b'PING\r\nSET greeting "hello world"\r\nGET greeting\nECHO \'a b\'\r\n')
        expected = b"+PONG\r\n+OK\r\n$11\r\nhello world\r\n$3\r\na b\r\n"
        assert read_until(connection, len(expected)) == expected


def test_a_command_split_at_every_byte(server):
    request = multibulk(b"SET", b"split", b"value\r\nwith crlf") + multibulk(b"GET", b"split")
    expected = b"+OK\r\n$16\r\nvalue\r\nwith crlf\r\n"
    with raw(server) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in request:
            connection.sendall(bytes([byte]))
        assert read_until(connection, len(expected)) == expected


def test_ten_thousand_pipelined_sets_then_gets(server, client):
    pipe = client.pipeline(transaction=False)
    for index in range(10_000):
        pipe.set(f"burst:{index}", f"value-{index}")
    assert pipe.execute() == [True] * 10_000
    pipe = client.pipeline(transaction=False)
    for index in range(10_000):
        pipe.get(f"burst:{index}")
    assert pipe.execute() == [f"value-{index}".encode() for index in range(10_000)]
    assert client.dbsize() == 10_000


def test_one_write_carries_thousands_of_commands(server):
    request = b"".join(multibulk(b"INCR", b"counter") for _ in range(5000))
    with raw(server) as connection:
        connection.sendall(request)
        expected = b"".join(b":%d\r\n" % n for n in range(1, 5001))
        assert read_until(connection, len(expected)) == expected


def test_replies_keep_their_order_when_the_socket_is_full(server, client):
    """A plain-TCP connection writes its replies to the socket directly until the socket takes
    only part of them; the rest, and the replies after it, go through the channel until it
    has drained, and then the connection writes directly again (ConnectionHandler+
    DirectWrite). Twice on one connection: 80 MiB of replies to requests sent before any is
    read, the reading held back until the server has produced more than the loopback socket
    buffers hold (tcp_wmem and tcp_rmem's maximums are 4 and 6 MiB), so part of them must wait
    in the channel. Every byte must come back in request order."""
    value = bytes(range(256)) * 8192  # 2 MiB
    client.set("big", value)
    requests = []
    expected = []
    for index in range(40):
        requests += [multibulk(b"GET", b"big"), multibulk(b"ECHO", b"%d" % index)]
        expected += [b"$%d\r\n%s\r\n" % (len(value), value), b"$%d\r\n%d\r\n" % (len(b"%d" % index), index)]
    requests = b"".join(requests)
    expected = b"".join(expected)
    with raw(server, timeout=30) as connection:
        for _ in range(2):
            produced_before = client.info("stats")["total_net_output_bytes"]
            connection.sendall(requests)
            wait_until(lambda: client.info("stats")["total_net_output_bytes"] - produced_before > 16 << 20, timeout=30)
            received = bytearray()
            deadline = time.monotonic() + 60
            while len(received) < len(expected) and time.monotonic() < deadline:
                chunk = connection.recv(1 << 20)
                if not chunk:
                    break
                received += chunk
            assert len(received) == len(expected)
            mismatch = next((index for index in range(0, len(expected), 4096)
                             if received[index:index + 4096] != expected[index:index + 4096]), None)
            assert mismatch is None, f"replies differ from byte {mismatch} on"
            connection.sendall(multibulk(b"PING") + multibulk(b"ECHO", b"after"))
            assert read_until(connection, 18) == b"+PONG\r\n$5\r\nafter\r\n"


def test_protocol_errors_reply_once_and_close(server):
    cases = {
        b"*abc\r\n": b"-ERR Protocol error: invalid multibulk length\r\n",
        b"*2\r\n:1\r\n": b"-ERR Protocol error: expected '$', got ':'\r\n",
        b"*1\r\n$-3\r\n": b"-ERR Protocol error: invalid bulk length\r\n",
        b"*1048577\r\n": b"-ERR Protocol error: invalid multibulk length\r\n",
        b'GET "oops\r\n': b"-ERR Protocol error: unbalanced quotes in request\r\n",
    }
    for request, reply in cases.items():
        with raw(server) as connection:
            connection.sendall(b"PING\r\n" + request)
            assert read_to_close(connection) == b"+PONG\r\n" + reply
    assert server.client().ping()


def test_bulk_above_proto_max_bulk_len_is_refused(server, client):
    client.config_set("proto-max-bulk-len", "1mb")
    with raw(server) as connection:
        connection.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n")
        assert read_to_close(connection) == b"-ERR Protocol error: invalid bulk length\r\n"


def test_inline_line_over_64k_is_refused(server):
    with raw(server) as connection:
        try:
            connection.sendall(b"a" * (70 * 1024))
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert read_to_close(connection) == b"-ERR Protocol error: too big inline request\r\n"


def test_query_buffer_limit_closes_a_client_that_sends_too_much(server, client):
    client.config_set("client-query-buffer-limit", "1mb")
    with raw(server) as connection:
        connection.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4000000\r\n")
        sent = 0
        try:
            while sent < 4_000_000:
                connection.sendall(b"x" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        # The server closes the connection (read_to_close fails if it stays open) ...
        read_to_close(connection)
    # ... and keeps serving everyone else, without the half-sent value.
    assert client.ping()
    assert client.exists("k") == 0


def test_random_garbage_never_takes_the_server_down(server):
    import random
    generator = random.Random(1234)
    alphabet = b"*$:+-\r\n0123456789abc \"'\\"
    for _ in range(300):
        payload = bytes(generator.choice(alphabet) for _ in range(generator.randint(1, 200)))
        with raw(server, timeout=2) as connection:
            try:
                connection.sendall(payload + b"\r\nPING\r\n")
                connection.shutdown(socket.SHUT_WR)
                read_to_close(connection, timeout=5)
            except (ConnectionResetError, BrokenPipeError):
                pass
    assert server.client().ping()
    assert server.process.poll() is None


def test_redis_cli_round_trip_and_errors(server):
    assert server.cli("SET", "k", "v").stdout.strip() == "OK"
    assert server.cli("GET", "k").stdout.strip() == "v"
    assert server.cli("GET").stdout.strip() == "ERR wrong number of arguments for 'get' command"
    assert server.cli("NOSUCH", "a", "b").stdout.strip() == "ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b'"
    assert server.cli("INCR", "k").stdout.strip() == "ERR value is not an integer or out of range"
    assert server.cli("SELECT", "1").stdout.strip() == "ERR DB index is out of range"
    assert server.cli("SELECT", "0").stdout.strip() == "OK"
    # redis-cli's interactive mode reads commands from standard input
    session = server.cli(input="SET a 1\nINCRBY a 41\nGET a\n")
    assert session.stdout.split() == ["OK", "42", "42"]


def test_redis_cli_resp3(server):
    out = server.cli("-3", "HELLO", "3").stdout
    assert "proto" in out and "3" in out
    assert server.cli("--no-raw", "-3", "GET", "missing").stdout.strip() == "(nil)"
    assert server.cli("--no-raw", "-3", "CONFIG", "GET", "save").stdout.splitlines() == ['1# "save" => ""']


END_OF_SCRIPT = b"$13\r\nend-of-script\r\n"


def transcript(port: int, *requests: list[str]) -> bytes:
    """Every reply to `requests`, sent on one connection, exactly as the server wrote them."""
    data = exchange(port, *(multibulk(*(word.encode() for word in words)) for words in [*requests, ["ECHO", "end-of-script"]]),
                    expect=END_OF_SCRIPT)
    assert data.endswith(END_OF_SCRIPT), data
    return data


def test_reset_gives_a_new_connection_as_redis_does(server, reference_redis):
    script = [
        # Out of MULTI, its queue discarded; no name.
        ["CLIENT", "SETNAME", "before"], ["MULTI"], ["SET", "k", "1"], ["RESET"], ["EXEC"], ["GET", "k"],
        ["CLIENT", "GETNAME"],
        # WATCH forgotten: the EXEC after it is not aborted by the change to the watched key.
        ["SET", "k", "1"], ["WATCH", "k"], ["SET", "k", "2"], ["RESET"], ["MULTI"], ["INCR", "k"], ["EXEC"],
        # Out of subscribed mode: PING answers +PONG, not a message array; other commands run.
        ["SUBSCRIBE", "ch"], ["PSUBSCRIBE", "p*"], ["RESET"], ["PING"], ["GET", "k"], ["PUBSUB", "NUMSUB", "ch"],
        ["PUBSUB", "NUMPAT"], ["RESET"], ["DEL", "k"],
    ]
    assert transcript(server.port, *script) == transcript(reference_redis, *script)
    # Back to RESP2: the reply after RESET is an array again, not a RESP3 map. (HELLO's own
    # reply names the server, so only what follows RESET is compared.)
    after_hello = [["HSET", "h", "f", "v"], ["HGETALL", "h"], ["RESET"], ["HGETALL", "h"], ["DEL", "h"]]
    ours = transcript(server.port, ["HELLO", "3"], *after_hello)
    theirs = transcript(reference_redis, ["HELLO", "3"], *after_hello)
    assert ours.split(b"+RESET\r\n", 1)[1] == theirs.split(b"+RESET\r\n", 1)[1] == b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n:1\r\n" + END_OF_SCRIPT
    assert b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n+RESET" in ours, "HGETALL answered with a map before RESET"
