"""Starting Ringcache and Redis side by side for the benchmarks in bench/.

Both servers run with equivalent settings (no persistence, same maxmemory and policy where a
benchmark sets one) on loopback ports chosen at run time, and are stopped when the benchmark
ends, whatever happens.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_udp_port() -> int:
    """A port for a node's cluster bus, free for UDP (gossip) and TCP (replication links):
    client port + 10000 may not exist or be free."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of every thread of `pid` so far, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may hold spaces; the fields after its closing parenthesis do not.
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS_PER_SECOND, int(fields[12]) / TICKS_PER_SECOND


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Server:
    """A running server: `name`, `port`, `pid`, `client()`; stop() ends it."""

    def __init__(self, name: str, arguments: list[str], port: int, cpu: int | None = None):
        self.name = name
        self.port = port
        self.workdir = tempfile.mkdtemp(prefix=f"bench-{name}-")
        if cpu is not None and shutil.which("taskset"):
            arguments = ["taskset", "-c", str(cpu), *arguments]
        self.log = open(os.path.join(self.workdir, "server.log"), "w")
        self.process = subprocess.Popen(arguments, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.monotonic() + 15
        while True:
            try:
                if redis.Redis(port=port, socket_timeout=1).ping():
                    break
            except redis.exceptions.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{name} did not start; see {self.log.name}")
            time.sleep(0.02)
        self.pid = self.process.pid

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=120)

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        self.log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def ringcache_binary() -> str:
    path = os.environ.get("RINGCACHE_SERVER", str(ROOT / ".build" / "release" / "ringcache-server"))
    if not os.access(path, os.X_OK):
        raise SystemExit(f"no release build at {path}: run cluster/up or bench/compare first, which build it")
    return path


def start_ringcache(*flags: str, cpu: int | None = None) -> Server:
    port = free_port()
    return Server("ringcache", [ringcache_binary(), "--port", str(port), "--cluster-port", str(free_udp_port()), *flags], port, cpu)


def start_redis(*flags: str, cpu: int | None = None) -> Server:
    port = free_port()
    return Server("redis", ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                            "--bind", "127.0.0.1", *flags], port, cpu)


def redis_version() -> str:
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    return out.split("v=")[1].split()[0] if "v=" in out else out.strip()


def pipe_load(server: Server, lines: str):
    """Loads commands (one per line, inline syntax) through redis-cli --pipe."""
    result = subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], input=lines,
                            capture_output=True, text=True, timeout=600)
    if "errors: 0" not in result.stdout:
        raise RuntimeError(f"{server.name}: redis-cli --pipe reported errors: {result.stdout[-500:]}")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**30} GiB"
