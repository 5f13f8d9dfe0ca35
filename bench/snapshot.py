"""Snapshot save and load: one million keys (a third with a TTL), BGSAVE timed until
rdb_bgsave_in_progress drops to 0, then a restart timed until the server answers with all
keys loaded — Ringcache's LZ4 snapshot beside Redis's RDB, same data, same machine.

    python3 bench/snapshot.py [--keys N]
"""
import argparse
import os
import tempfile
import time

import redis

from benchlib import Server, free_port, pipe_load, ringcache_binary, free_udp_port


def run(name: str, arguments: list[str], port: int, directory: str, keys: int) -> tuple[float, float, int]:
    lines = "".join(f"SET key:{i} value-{i}{' EX 100000' if i % 3 == 0 else ''}\r\n" for i in range(keys))
    with Server(name, arguments, port) as server:
        pipe_load(server, lines)
        client = server.client()
        started = time.perf_counter()
        client.bgsave()
        while client.info("persistence")["rdb_bgsave_in_progress"]:
            time.sleep(0.005)
        saved = time.perf_counter() - started
    files = [os.path.join(directory, f) for f in os.listdir(directory) if not f.startswith("temp")]
    size = sum(os.path.getsize(f) for f in files)
    started = time.perf_counter()
    with Server(name, arguments, port) as server:
        assert server.client().dbsize() == keys
        loaded = time.perf_counter() - started
    return saved, loaded, size


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    arguments = parser.parse_args()
    print(f"| server | BGSAVE of {arguments.keys:,} keys | file size | restart until all keys are served |")
    print("| --- | --- | --- | --- |")
    for name in ("redis", "ringcache"):
        directory = tempfile.mkdtemp(prefix=f"snapshot-{name}-")
        port = free_port()
        if name == "redis":
            command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--appendonly", "no",
                       "--save", "", "--dir", directory]
        else:
            command = [ringcache_binary(), "--port", str(port), "--cluster-port", str(free_udp_port()), "--dir", directory]
        saved, loaded, size = run(name, command, port, directory, arguments.keys)
        print(f"| {'Redis (RDB)' if name == 'redis' else 'Ringcache'} | {saved:.2f} s | {size / 2**20:.1f} MiB | {loaded:.2f} s |", flush=True)


if __name__ == "__main__":
    main()
