"""cluster/up, kill, restart, add and down on real processes, in a run folder and on ports of
the test's own so a developer's running cluster is left alone."""
import os
import socket
import subprocess
from pathlib import Path

import redis

from conftest import ROOT, wait_until


def free_block(count: int) -> int:
    """A base port such that base … base+count-1 and their bus ports (+10000) are free."""
    for base in range(21000, 29000, 50):
        try:
            for port in range(base, base + count):
                for kind, offset in ((socket.SOCK_STREAM, 0), (socket.SOCK_DGRAM, 10000), (socket.SOCK_STREAM, 10000)):
                    with socket.socket(socket.AF_INET, kind) as probe:
                        probe.bind(("127.0.0.1", port + offset))
            return base
        except OSError:
            continue
    raise AssertionError("no free block of ports")


def run(script: str, *arguments: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / "cluster" / script), *arguments], env=env, capture_output=True, text=True, timeout=300)


def running_pids(run_folder: Path) -> list[int]:
    """Processes the scripts started (their pid files) that are still alive."""
    alive = []
    for pidfile in run_folder.glob("**/pid"):
        pid = int(pidfile.read_text().strip())
        try:
            os.kill(pid, 0)
            alive.append(pid)
        except ProcessLookupError:
            pass
    return alive


def test_up_kill_restart_add_down(tmp_path: Path):
    base = free_block(4)
    env = {**os.environ, "RINGCACHE_BASE_PORT": str(base), "RINGCACHE_RUN": str(tmp_path / "run")}
    try:
        up = run("up", env=env)
        assert up.returncode == 0, up.stderr + up.stdout
        assert "Ringcache is up: 3 nodes, one ring, every slot served." in up.stdout
        assert "healthy: 3 nodes" in up.stdout, "cluster/up prints ringctl status"
        clients = [redis.Redis(port=base + index, socket_timeout=5) for index in range(3)]
        tables = {repr(client.execute_command("CLUSTER", "SLOTS")) for client in clients}
        assert len(tables) == 1
        victim_id = clients[1].execute_command("CLUSTER", "MYID")

        assert run("kill", "2", env=env).returncode == 0
        wait_until(lambda: b",fail " in clients[0].execute_command("CLUSTER", "NODES"), timeout=5, message="node 2 marked dead")
        restart = run("restart", "2", env=env)
        assert restart.returncode == 0, restart.stderr
        assert f"node 2 rejoined as {victim_id.decode()}" in restart.stdout

        add = run("add", env=env)
        assert add.returncode == 0, add.stderr
        assert "node 4 joined: 4 nodes" in add.stdout
        assert clients[0].execute_command("CLUSTER", "INFO").decode().count("cluster_size:4") == 1
    finally:
        down = run("down", env=env)
    assert down.returncode == 0
    assert down.stdout.count("stopped") == 4
    assert running_pids(tmp_path / "run") == [], "cluster/down leaves no process behind"


def test_demo_failover_loses_no_acknowledged_write(tmp_path: Path):
    base = free_block(3)
    env = {**os.environ, "RINGCACHE_BASE_PORT": str(base), "RINGCACHE_RUN": str(tmp_path / "demo")}
    demo = run("demo-failover", env=env)
    print(demo.stdout[demo.stdout.find("Failover, measured"):])
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-2000:]
    for line in ("declared dead", "every slot has two copies again", "node 3 rejoined", "acknowledged writes lost: 0"):
        assert line in demo.stdout
    assert running_pids(tmp_path / "demo") == [], "the demo stops its nodes"


def test_demo_scale_moves_a_quarter_with_no_errors(tmp_path: Path):
    base = free_block(4)
    env = {**os.environ, "RINGCACHE_BASE_PORT": str(base), "RINGCACHE_RUN": str(tmp_path / "demo")}
    demo = run("demo-scale", env=env)
    print(demo.stdout[demo.stdout.find("Scale out and in, measured"):])
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-2000:]
    assert "acknowledged writes lost: 0" in demo.stdout and "handed its slots over and left" in demo.stdout
    moved = int(demo.stdout.split("slots that changed primary when node 4 joined: ")[1].split()[0])
    assert 0.15 * 16384 < moved < 0.35 * 16384
    assert running_pids(tmp_path / "demo") == []


def test_kubernetes_manifests_match_the_api_schemas():
    import pytest
    validate = pytest.importorskip("kubernetes_validate", reason="pip could not install kubernetes-validate")
    import yaml
    documents = [document for document in yaml.safe_load_all((ROOT / "cluster" / "k8s" / "ringcache.yaml").read_text()) if document]
    assert {document["kind"] for document in documents} == {"Service", "StatefulSet"}
    for document in documents:
        validate.validate(document, "1.30", strict=True)
    statefulset = next(document for document in documents if document["kind"] == "StatefulSet")
    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert "ringcache.$POD_NAMESPACE.svc.cluster.local:7000" in container["args"][0]


def test_a_failed_release_build_stops_the_scripts_even_with_an_older_binary_in_place():
    """build_release once piped the build through `tail`, so a build that failed passed for
    one whenever .build/release held a binary from before; the scripts then ran stale code."""
    assert (ROOT / ".build" / "release" / "ringcache-server").exists(), "the suite builds the release binaries first"
    result = subprocess.run(
        ["bash", "-c", 'source cluster/lib/common.sh && RELEASE_SWIFT_FLAGS=(--no-such-build-option) && build_release && echo built'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "release build of ringcache-server failed" in result.stderr
    assert "built" not in result.stdout.splitlines()
