"""TLS on the client port (`tls-port`): redis-cli --tls and redis-py's SSL client, mutual TLS
with certificates made here with openssl, and one-line start-up errors for bad files."""
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
import redis

from conftest import free_port, free_udp_port, server_binary, wait_until


def _openssl(*arguments: str, cwd: Path):
    subprocess.run(["openssl", *arguments], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture
def certificates(tmp_path) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Ringcache test CA",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=tmp_path)
    (tmp_path / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=ringcache-{name}", "-keyout", f"{name}.key",
                 "-out", f"{name}.csr", cwd=tmp_path)
        extra = ["-extfile", "server.ext"] if name == "server" else []
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                 "-out", f"{name}.crt", *extra, cwd=tmp_path)
    return tmp_path


def _tls_flags(certs: Path, tls_port: int, *extra: str) -> list[str]:
    return ["--tls-port", str(tls_port), "--tls-cert-file", str(certs / "server.crt"), "--tls-key-file", str(certs / "server.key"),
            "--tls-ca-cert-file", str(certs / "ca.crt"), *extra]


def test_mutual_tls_with_redis_cli_and_redis_py(start_server, certificates):
    tls_port = free_port()
    server = start_server(*_tls_flags(certificates, tls_port))
    cli = subprocess.run(["redis-cli", "-p", str(tls_port), "--tls", "--cacert", str(certificates / "ca.crt"),
                          "--cert", str(certificates / "client.crt"), "--key", str(certificates / "client.key"), "set", "k", "over-tls"],
                         capture_output=True, text=True, timeout=30)
    assert cli.stdout.strip() == "OK", cli.stdout + cli.stderr
    client = redis.Redis(port=tls_port, ssl=True, ssl_ca_certs=str(certificates / "ca.crt"), ssl_certfile=str(certificates / "client.crt"),
                         ssl_keyfile=str(certificates / "client.key"), socket_timeout=5, protocol=3)
    assert client.get("k") == b"over-tls"
    client.rpush("l", *[str(n) for n in range(1000)])
    assert len(client.lrange("l", 0, -1)) == 1000, "a large reply crosses many TLS records"
    assert server.client().get("k") == b"over-tls", "the plain port serves the same keyspace"
    no_certificate = redis.Redis(port=tls_port, ssl=True, ssl_ca_certs=str(certificates / "ca.crt"), socket_timeout=5)
    with pytest.raises(redis.ConnectionError):
        no_certificate.ping()
    with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as plain:
        plain.sendall(b"PING\r\n")
        try:
            answer = plain.recv(64)
        except ConnectionResetError:
            answer = b""
        assert b"PONG" not in answer, "plain text is not served on the TLS port"


def test_tls_without_client_certificates(start_server, certificates):
    tls_port = free_port()
    start_server(*_tls_flags(certificates, tls_port, "--tls-auth-clients", "no"))
    context = ssl.create_default_context(cafile=str(certificates / "ca.crt"))
    with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as secure:
            assert secure.version() in ("TLSv1.2", "TLSv1.3")
            secure.sendall(b"PING\r\n")
            assert secure.recv(64) == b"+PONG\r\n"


def test_bad_tls_files_stop_the_start_with_one_line(certificates):
    missing = certificates / "missing.crt"
    result = subprocess.run([server_binary(), "--port", str(free_port()), "--cluster-port", str(free_udp_port()), "--tls-port", str(free_port()),
                             "--tls-cert-file", str(missing), "--tls-key-file", str(certificates / "server.key"),
                             "--tls-ca-cert-file", str(certificates / "ca.crt")], capture_output=True, text=True, timeout=30, cwd=certificates)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ringcache-server: cannot read tls-cert-file '{missing}'"), result.stderr
    result = subprocess.run([server_binary(), "--port", str(free_port()), "--cluster-port", str(free_udp_port()), "--tls-port", str(free_port()),
                             "--tls-cert-file", str(certificates / "server.crt"), "--tls-key-file", str(certificates / "server.key")],
                            capture_output=True, text=True, timeout=30, cwd=certificates)
    assert result.returncode == 1
    assert result.stderr.strip() == "ringcache-server: tls-auth-clients yes needs tls-ca-cert-file to verify client certificates"


def test_links_between_nodes_use_mutual_tls_under_tls_replication(start_server, certificates):
    """`tls-replication yes`: the replication and fill links run over TLS, each node presenting
    its certificate and checking the other's against the CA; writes still reach their replica
    (min-replicas-ack 1 waits for it), and a node without TLS can join the membership but
    never gets a link, so it is never filled."""
    from test_cluster import cluster_info, seed_flag
    from test_replication import cluster_client, settled, start_cluster
    flags = ("--tls-replication", "yes", "--tls-cert-file", str(certificates / "server.crt"),
             "--tls-key-file", str(certificates / "server.key"), "--tls-ca-cert-file", str(certificates / "ca.crt"),
             "--min-replicas-ack", "1")
    nodes = start_cluster(start_server, 3, *flags)
    client = cluster_client(nodes[0])
    for index in range(300):
        assert client.set(f"t:{index}", index), "acknowledged by a replica over a TLS link"
    wait_until(lambda: settled(nodes), timeout=20, interval=0.1, message="the writes on every owner")
    assert sum(node.client().dbsize() for node in nodes) == 600, "two copies of each key"
    handshake = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{nodes[0].bus_port}", "-CAfile", str(certificates / "ca.crt"),
                                "-cert", str(certificates / "client.crt"), "-key", str(certificates / "client.key")],
                               input=b"", capture_output=True, timeout=30)
    # After the handshake the node sends its binary HMAC challenge, which s_client prints too.
    printed = handshake.stdout.decode(errors="replace")
    assert "Verify return code: 0 (ok)" in printed, printed + handshake.stderr.decode(errors="replace")
    assert "CN = ringcache-server" in printed, "the node presents its certificate on the link port"
    plain = start_server("--min-replicas-ack", "1", *seed_flag(nodes[0]))
    wait_until(lambda: cluster_info(nodes[0])["cluster_known_nodes"] == "4", timeout=10, interval=0.05,
               message="the plain node to be known")
    # Negative over a bounded window: a link is set up within milliseconds when it can be.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert cluster_info(plain)["cluster_node_phase"] == "joining", "a node without TLS was filled over a TLS cluster's links"
        time.sleep(0.1)
    assert cluster_info(plain)["cluster_replication_links_up"] == "0"
    # The plain node is in the ring that data moves towards, so a graceful leave of the others
    # would wait for hand-offs to it that can never be acknowledged: remove it first.
    plain.stop(signal.SIGKILL)
    wait_until(lambda: all(cluster_info(node)["cluster_known_nodes"] == "3" or settled(nodes, after_failure=True) for node in nodes),
               timeout=15, interval=0.1, message="the plain node to be declared dead")


def test_tls_replication_needs_its_files(certificates):
    result = subprocess.run([server_binary(), "--port", str(free_port()), "--cluster-port", str(free_udp_port()), "--tls-replication", "yes",
                             "--tls-cert-file", str(certificates / "server.crt"), "--tls-key-file", str(certificates / "server.key")],
                            capture_output=True, text=True, timeout=30, cwd=certificates)
    assert result.returncode == 1
    assert result.stderr.strip() == "ringcache-server: tls-replication yes needs tls-cert-file, tls-key-file and tls-ca-cert-file"
