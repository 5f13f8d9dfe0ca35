"""Starting, configuring and stopping the process."""
import signal
import socket
import subprocess
import tempfile

from conftest import free_port, server_binary, wait_until, free_udp_port


def test_starts_in_under_a_second(start_server):
    server = start_server()
    assert server.ready_after < 1.0, f"took {server.ready_after:.2f}s to answer PING"


def test_sigterm_and_sigint_exit_cleanly_after_replying(start_server):
    for sig in (signal.SIGTERM, signal.SIGINT):
        server = start_server()
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
            connection.sendall(b"SET k v\r\nGET k\r\n")
            expected = b"+OK\r\n$1\r\nv\r\n"
            data = b""
            while len(data) < len(expected):
                data += connection.recv(100)
            assert data == expected
            assert server.stop(sig) == 0
            assert connection.recv(100) == b"", "the connection is closed at shutdown"
        log = server.log_path.read_text()
        assert "Shutting down" in log and "ready to exit" in log


def test_config_file_and_flags(start_server, tmp_path):
    server = start_server("--hz", "25", config_text="# test node\nhz 15\nloglevel verbose\nmaxclients 77\n")
    client = server.client()
    assert client.config_get("hz") == {"hz": "25"}, "flags override the file"
    assert client.config_get("maxclients") == {"maxclients": "77"}
    assert client.config_get("loglevel") == {"loglevel": "verbose"}
    assert client.info("server")["config_file"].endswith(".conf")


def run_bad(*arguments: str) -> subprocess.CompletedProcess:
    """Runs the server expecting it to stop at once, in a folder of its own: a start that
    gets as far as the cluster identity writes nodes-PORT.conf into its working directory."""
    with tempfile.TemporaryDirectory() as folder:
        return subprocess.run([server_binary(), *arguments], capture_output=True, text=True, timeout=10, cwd=folder)


def test_bad_directives_stop_the_start_with_one_line(tmp_path):
    result = run_bad("--port", str(free_port()), "--maxmemroy", "100mb")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["ringcache-server: bad directive 'maxmemroy' (the command line): unknown directive"]
    config = tmp_path / "bad.conf"
    config.write_text("port 7001\nhz lots\n")
    result = run_bad(str(config))
    assert result.returncode == 1
    assert result.stderr.strip() == f"ringcache-server: bad directive 'hz' (line 2 of {config}): argument couldn't be parsed into an integer"


def test_cluster_start_errors_are_one_line(tmp_path):
    result = run_bad("--port", "60000", "--dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip() == "ringcache-server: the cluster bus port would be 70000 (port + 10000): set cluster-port to a free UDP port"
    (tmp_path / "nodes-7123.conf").write_text("id not-hex\n")
    result = run_bad("--port", "7123", "--dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip() == f"ringcache-server: bad cluster config file '{tmp_path}/nodes-7123.conf' at line 1: id not-hex"
    result = run_bad("--port", "7123", "--cluster-seeds", "nohost")
    assert result.stderr.strip() == "ringcache-server: bad directive 'cluster-seeds' (the command line): 'nohost' is not host:port"


def test_port_in_use_fails_with_a_clear_error(start_server):
    server = start_server()
    result = run_bad("--port", str(server.port), "--cluster-port", str(free_udp_port()))
    assert result.returncode == 1
    assert f"Could not create server TCP listening socket 127.0.0.1:{server.port}: bind: Address already in use" in result.stdout + result.stderr


def test_every_bind_address_accepts_connections(start_server):
    """bind with two addresses, IPv4 and IPv6 loopback, as in redis.conf's `bind 127.0.0.1 -::1`."""
    server = start_server("--bind", "127.0.0.1", "::1")
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        with socket.socket(family, socket.SOCK_STREAM) as connection:
            connection.settimeout(5)
            connection.connect((host, server.port))
            connection.sendall(b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n")
            assert connection.recv(64) == b"$2\r\nhi\r\n"


def test_version_and_help():
    assert "Ringcache server v=" in run_bad("--version").stdout
    assert "Usage: ringcache-server" in run_bad("--help").stdout


def test_shutdown_command_stops_gracefully(start_server):
    server = start_server()
    assert server.cli("SHUTDOWN", "ABORT").stdout.strip() == "ERR No shutdown in progress."
    assert server.cli("SHUTDOWN", "BOGUS").stdout.strip() == "ERR syntax error"
    assert server.process.poll() is None
    server.cli("SHUTDOWN", "NOSAVE")
    assert server.process.wait(timeout=10) == 0
    assert "User requested shutdown" in server.log_path.read_text()


def test_out_of_descriptors_connections_wait_in_the_backlog_until_some_close(start_server):
    """With every descriptor in use, accept fails (EMFILE): the connection stays in the
    backlog, the server warns once as Redis does, and serves it as soon as a descriptor is
    free again."""
    import resource
    import os

    server = start_server()
    in_use = len(os.listdir(f"/proc/{server.process.pid}/fd"))
    resource.prlimit(server.process.pid, resource.RLIMIT_NOFILE, (in_use + 8, in_use + 8))
    connections = []
    try:
        for _ in range(16):
            connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            connection.sendall(b"PING\r\n")
            connections.append(connection)
        wait_until(lambda: "Accepting client connection: Too many open files" in server.log_path.read_text(), timeout=10)
        # Free the first twelve: every accepted one and a few still waiting.
        for connection in connections[:12]:
            connection.close()
        for connection in connections[12:]:
            assert connection.recv(16) == b"+PONG\r\n"
        # Once per episode, not once per back-off (every 10 ms while waiting): a second
        # episode is possible while the closed ones are accepted and dropped.
        assert server.log_path.read_text().count("Accepting client connection") <= 2
    finally:
        for connection in connections:
            connection.close()
