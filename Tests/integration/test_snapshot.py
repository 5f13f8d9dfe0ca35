"""Snapshots: save, warm restart, crash safety, corruption, latency during BGSAVE."""
import os
import signal
import subprocess
import time

from conftest import LatencyProbe, server_binary, wait_until


def load_keys(server, count: int, ttl_every: int = 3):
    lines = "".join(
        f"SET key:{i} value-{i}{' EX 100000' if i % ttl_every == 0 else ''}\r\n" for i in range(count))
    result = subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], input=lines,
                            capture_output=True, text=True, timeout=300)
    assert f"errors: 0, replies: {count}" in result.stdout, result.stdout


def wait_for_bgsave(client, timeout=120):
    wait_until(lambda: client.info("persistence")["rdb_bgsave_in_progress"] == 0, timeout=timeout,
               interval=0.05, message="BGSAVE to finish")


def test_a_million_keys_save_and_load_with_ttls(start_server, tmp_path):
    server = start_server()
    load_keys(server, 1_000_000)
    client = server.client()
    client.set("short", "lived", px=300)
    short_expires_at = time.time() + 0.3
    started = time.monotonic()
    assert client.bgsave()
    wait_for_bgsave(client)
    saved_in = time.monotonic() - started
    info = client.info("persistence")
    assert info["rdb_last_bgsave_status"] == "ok" and info["rdb_changes_since_last_save"] == 0
    snapshot = tmp_path / "ringcache.snapshot"
    size = snapshot.stat().st_size
    assert client.lastsave().timestamp() >= time.time() - 60
    assert server.stop() == 0
    # "short" must expire while the node is down: wait for the clock, not a guessed interval.
    wait_until(lambda: time.time() > short_expires_at + 0.05, timeout=5, message="the short key's expiry time to pass")
    started = time.monotonic()
    restarted = start_server(port=server.port)
    loaded_in = time.monotonic() - started
    client = restarted.client()
    assert client.dbsize() == 1_000_000, "every key back, the expired one dropped"
    assert client.get("key:123457") == b"value-123457"
    assert 99_000 < client.ttl("key:3") <= 100_000 and client.ttl("key:4") == -1
    assert client.exists("short") == 0
    persistence = client.info("persistence")
    assert persistence["rdb_last_load_keys_loaded"] == 1_000_000 and persistence["rdb_last_load_keys_expired"] == 1
    print(f"\n1M keys: BGSAVE {saved_in:.2f}s, file {size / 2**20:.1f} MiB, restart to first PONG {loaded_in:.2f}s")


def test_clients_keep_their_latency_during_bgsave(start_server):
    server = start_server()
    load_keys(server, 1_000_000)
    client = server.client()
    with LatencyProbe(server, "SET", "probe", "x", pause=0.001) as probe:
        wait_until(lambda: len(probe.latencies) >= 20, timeout=10, message="baseline SETs")
        before = len(probe.latencies)
        assert client.bgsave()
        wait_for_bgsave(client)
        during = probe.latencies[before:]
    worst = max(during)
    print(f"\n{len(during)} SETs during BGSAVE of 1M keys, worst {worst * 1000:.1f} ms")
    assert len(during) > 50
    assert worst < 0.1, f"a SET waited {worst * 1000:.0f} ms during BGSAVE"


def test_sigkill_during_bgsave_leaves_the_old_snapshot_loadable(start_server, tmp_path):
    server = start_server()
    client = server.client()
    client.set("generation", "old")
    assert client.save()
    load_keys(server, 1_000_000)
    client.set("generation", "new")
    assert client.bgsave()
    wait_until(lambda: any(p.name.startswith("temp-") for p in tmp_path.iterdir()), timeout=10,
               message="the temporary snapshot to appear")
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)
    restarted = start_server(port=server.port)
    client = restarted.client()
    assert client.get("generation") == b"old"
    assert client.dbsize() == 1


def test_flipped_and_truncated_snapshots_are_refused_with_file_and_offset(start_server, tmp_path):
    server = start_server()
    client = server.client()
    for index in range(1000):
        client.set(f"k{index}", f"v{index}")
    assert client.save()
    assert server.stop() == 0
    snapshot = tmp_path / "ringcache.snapshot"
    good = snapshot.read_bytes()
    for damaged, reason in [
        (good[:40] + bytes([good[40] ^ 0xFF]) + good[41:], None),
        (good[:len(good) // 2], "truncated"),
        (good[:-1] + bytes([good[-1] ^ 1]), "file checksum mismatch"),
    ]:
        snapshot.write_bytes(damaged)
        result = subprocess.run([server_binary(), "--port", str(server.port), "--cluster-port", str(server.bus_port)], cwd=tmp_path,
                                capture_output=True, text=True, timeout=20)
        assert result.returncode == 1
        message = result.stderr.strip()
        assert message.startswith("ringcache-server: bad snapshot './ringcache.snapshot' at offset "), message
        assert "--ignore-bad-snapshot" in message
        if reason:
            assert reason in message, message
    ignoring = start_server("--ignore-bad-snapshot", port=server.port)
    assert ignoring.client().dbsize() == 0
    assert "ignore-bad-snapshot is set" in ignoring.log_path.read_text()


def test_save_points_and_shutdown_save(start_server, tmp_path):
    server = start_server("--save", "1 1")
    client = server.client()
    client.set("a", "1")
    wait_until(lambda: client.info("persistence")["rdb_saves"] >= 1, timeout=10, message="a scheduled save")
    client.set("b", "2")
    server.cli("SHUTDOWN")  # save points are configured: SHUTDOWN saves
    assert server.process.wait(timeout=20) == 0
    restarted = start_server("--save", "1 1", port=server.port)
    assert restarted.client().mget("a", "b") == [b"1", b"2"]
    restarted.client().set("c", "3")
    assert restarted.stop(signal.SIGTERM) == 0, "SIGTERM saves too when save points are configured"
    again = start_server("--save", "1 1", port=server.port)
    assert again.client().get("c") == b"3"
    again.client().set("d", "4")
    again.cli("SHUTDOWN", "NOSAVE")
    assert again.process.wait(timeout=20) == 0
    last = start_server(port=server.port)
    assert last.client().get("d") is None


def test_bgsave_replies(start_server):
    server = start_server()
    load_keys(server, 300_000)
    assert server.cli("BGSAVE").stdout.strip() == "Background saving started"
    assert server.cli("BGSAVE").stdout.strip() == "ERR Background save already in progress"
    assert server.cli("BGSAVE", "SCHEDULE").stdout.strip() == "Background saving scheduled"
    client = server.client()
    wait_until(lambda: client.info("persistence")["rdb_saves"] >= 2, timeout=30, message="the scheduled BGSAVE")
