"""Pub/sub on real servers: Redis's wire replies in RESP2 subscribed mode and RESP3 pushes,
ordered delivery to pattern subscribers, PUBSUB introspection, and PUBLISH across a cluster."""
import socket
import threading
import time

import redis

from conftest import wait_until
from test_cluster import converged, seed_flag


def exchange(port: int, *requests: bytes, expect: bytes) -> bytes:
    """Sends requests one by one and reads until the replies end with `expect` (bounded)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        for request in requests:
            connection.sendall(request)
        received = b""
        deadline = time.monotonic() + 5
        while not received.endswith(expect) and time.monotonic() < deadline:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_resp2_subscribed_mode_replies_as_redis_does(server):
    reply = exchange(server.port, b"SUBSCRIBE a b\r\n", b"GET x\r\n", b"PING\r\n", b"PING hi\r\n", b"PUBSUB NUMPAT\r\n",
                     b"UNSUBSCRIBE\r\n", b"UNSUBSCRIBE\r\n", b"PUNSUBSCRIBE\r\n", expect=b"punsubscribe\r\n$-1\r\n:0\r\n")
    assert reply == (
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
        b"*2\r\n$4\r\npong\r\n$0\r\n\r\n*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"
        b"-ERR Can't execute 'pubsub|numpat': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
        b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n"
        b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n")


def test_resp3_connections_get_pushes_and_keep_working(server):
    reply = exchange(server.port, b"HELLO 3\r\n", b"SUBSCRIBE a\r\n", b"SET k v\r\n", b"PING\r\n", b"PUBLISH a m\r\n",
                     expect=b"$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n:1\r\n")
    after_hello = reply[reply.index(b">3\r\n"):]
    assert after_hello == b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n+OK\r\n+PONG\r\n>3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n:1\r\n"


def test_a_pattern_subscriber_receives_every_publish_in_order(server):
    listener = server.client().pubsub()
    listener.psubscribe("orders.*")
    assert listener.get_message(timeout=5)["type"] == "psubscribe"
    received = []

    def consume():
        deadline = time.monotonic() + 60
        while len(received) < 10_000 and time.monotonic() < deadline:
            message = listener.get_message(timeout=1)
            if message and message["type"] == "pmessage":
                received.append((message["channel"], message["data"]))

    consumer = threading.Thread(target=consume)
    consumer.start()
    publisher = server.client()
    counts = [publisher.publish(f"orders.{index % 3}", f"order-{index}") for index in range(10_000)]
    consumer.join(timeout=70)
    listener.close()
    assert counts == [1] * 10_000
    assert received == [(f"orders.{index % 3}".encode(), f"order-{index}".encode()) for index in range(10_000)]


def test_pubsub_introspection(server):
    client = server.client()
    first, second = client.pubsub(), client.pubsub()
    first.subscribe("news", "sport")
    second.subscribe("news")
    second.psubscribe("n*", "s*")
    wait_until(lambda: client.pubsub_numpat() == 2, timeout=5, message="two patterns")
    assert sorted(client.pubsub_channels()) == [b"news", b"sport"]
    assert client.pubsub_channels("n*") == [b"news"]
    assert client.pubsub_numsub("news", "sport", "none") == [(b"news", 2), (b"sport", 1), (b"none", 0)]
    assert client.publish("news", "hello") == 3, "two channel subscribers and the pattern n*"
    first.close()
    second.close()
    wait_until(lambda: client.pubsub_numpat() == 0 and client.pubsub_channels() == [], timeout=5, message="subscriptions dropped on close")


def test_publish_reaches_subscribers_on_every_node(start_server):
    seed = start_server()
    nodes = [seed] + [start_server(*seed_flag(seed)) for _ in range(2)]
    wait_until(lambda: converged(nodes, 3), timeout=15, interval=0.1, message="three nodes to converge")
    listeners = []
    for node in nodes:
        listener = node.client().pubsub()
        listener.subscribe("events")
        assert listener.get_message(timeout=5)["type"] == "subscribe"
        listeners.append(listener)
    assert nodes[1].client().publish("events", "deployed") == 1, "PUBLISH counts this node's subscribers, as in Redis Cluster"
    for listener in listeners:
        message = None
        deadline = time.monotonic() + 5
        while message is None and time.monotonic() < deadline:
            candidate = listener.get_message(timeout=1)
            if candidate and candidate["type"] == "message":
                message = candidate
        assert message is not None and message["data"] == b"deployed"
        listener.close()
