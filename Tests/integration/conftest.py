"""Fixtures that start real ringcache-server processes on loopback ports chosen at run time.

Every process a test starts is stopped by the fixture, and every wait polls a condition
with a deadline instead of sleeping for a fixed time.
"""
import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]


def server_binary() -> str:
    path = os.environ.get("RINGCACHE_SERVER", str(ROOT / ".build" / "release" / "ringcache-server"))
    if not os.access(path, os.X_OK):
        pytest.exit(f"ringcache-server not found at {path}: build it (cluster/test does) or set RINGCACHE_SERVER", returncode=2)
    return path


# Ports handed out in this run: the kernel may hand a port out again once its probe socket
# closes, before the server that was given it has bound it.
_handed_out: set[int] = set()


def _free_tcp_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def free_port() -> int:
    """A port the kernel just handed out; the server binds it right after."""
    return _free_tcp_port()


def free_udp_port() -> int:
    """A port for a node's cluster bus, free for UDP (gossip) and TCP (replication links);
    client port + 10000 may be out of range."""
    while True:
        port = _free_tcp_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def wait_until(condition, timeout: float, interval: float = 0.01, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def http_get_status(port: int, path: str) -> int:
    """The status of GET `path` on the admin port, or 0 while nothing answers."""
    try:
        return http_get(port, path)[0]
    except (urllib.error.URLError, ConnectionError):
        return 0


class LatencyProbe:
    """Runs one command in a loop on its own connection while the test does something else,
    timing each reply; a context manager that stops and joins its thread on exit."""

    def __init__(self, server, *command: str, pause: float = 0.002):
        import threading
        self.server = server
        self.command = command or ("PING",)
        self.pause = pause
        self.latencies: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        connection = self.server.client()
        while not self.stop.is_set():
            started = time.perf_counter()
            connection.execute_command(*self.command)
            self.latencies.append(time.perf_counter() - started)
            self.after_sample(connection)
            time.sleep(self.pause)  # a probe's cadence, not a wait for a condition
        connection.close()

    def after_sample(self, connection):
        """Subclasses look at something else on the same connection between samples."""

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)


class Server:
    """One ringcache-server process."""

    def __init__(self, tmp_path: Path, *flags: str, config_text: str | None = None, port: int | None = None,
                 bus_port: int | None = None):
        self.port = port or free_port()
        self.bus_port = bus_port or free_udp_port()
        self.flags = flags
        self.log_path = tmp_path / f"server-{self.port}.log"
        arguments = [server_binary()]
        if config_text is not None:
            config_path = tmp_path / f"node-{self.port}.conf"
            config_path.write_text(config_text)
            arguments.append(str(config_path))
        arguments += ["--port", str(self.port), "--cluster-port", str(self.bus_port), *flags]
        self.log = open(self.log_path, "a")
        self.started_at = time.monotonic()
        # The test's own folder is the working directory: `dir .` and its snapshots land there.
        self.process = subprocess.Popen(arguments, stdout=self.log, stderr=subprocess.STDOUT, cwd=tmp_path)
        self.ready_after = None
        try:
            wait_until(self._answers_ping, timeout=10, message=f"server on port {self.port} to answer PING")
        except AssertionError:
            self.stop()
            raise AssertionError(f"server did not start: {self.log_path.read_text()}")
        self.ready_after = time.monotonic() - self.started_at

    def _answers_ping(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"server exited with {self.process.returncode}: {self.log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                # A server with a password answers NOAUTH: it is up all the same.
                return connection.recv(16) in (b"+PONG\r\n", b"-NOAUTH Authenti")
        except OSError:
            return False

    def client(self, **options) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10, **options)

    def cli(self, *arguments: str, input: str | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(["redis-cli", "-p", str(self.port), *arguments], input=input,
                              capture_output=True, text=True, timeout=timeout)

    def stop(self, sig=signal.SIGTERM, timeout: float = 10) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        self.log.close()
        return self.process.returncode


@pytest.fixture
def start_server(tmp_path):
    started = []

    def start(*flags: str, config_text: str | None = None, port: int | None = None, bus_port: int | None = None) -> Server:
        server = Server(tmp_path, *flags, config_text=config_text, port=port, bus_port=bus_port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server) -> Server:
    return start_server()


@pytest.fixture
def client(server) -> redis.Redis:
    connection = server.client()
    yield connection
    connection.close()


@contextlib.contextmanager
def reference_redis_server(*flags: str):
    """A stock redis-server on a free port, to compare replies with; stopped on exit. With
    `--requirepass`, readiness is checked with that password."""
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1", *flags],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    password = flags[flags.index("--requirepass") + 1] if "--requirepass" in flags else None
    client = redis.Redis(port=port, password=password, socket_timeout=5)

    def answers() -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False
    try:
        wait_until(answers, timeout=10, message="redis-server to start")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
