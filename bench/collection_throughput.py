"""Throughput and server CPU of the collection commands: redis-benchmark's own tests for
lists, sets, hashes and sorted sets (`-P 16`, 50 connections), against each server pinned to
core 0 with the benchmark on core 1, rounds interleaved; the median of the rounds.

At -P 16 one redis-benchmark process can be the bottleneck for the fast commands, and this
machine's throughput drifts by 10-20% between runs, so each test also reports the server's
user + system CPU per request (/proc/PID/stat around that test alone): the server's own cost,
which the load generator's pace does not change.

    python3 bench/collection_throughput.py [--requests 1000000] [--rounds 3]

The LRANGE tests send a tenth of --requests: each of their replies is 100 or 600 elements.
"""
import argparse
import statistics
import subprocess

from benchlib import cpu_seconds, start_redis, start_ringcache

TESTS = ["lpush", "rpush", "lpop", "rpop", "sadd", "hset", "spop", "zadd", "zpopmin", "lrange_100", "lrange_600"]
# redis-benchmark's own LRANGE tests first LPUSH as many elements as they then read, in the
# same run; here the list is filled beforehand (600 elements of redis-benchmark's default
# 3-byte value) so the CPU measured is LRANGE's alone.
LRANGE_COMMANDS = {"lrange_100": ["LRANGE", "mylist", "0", "99"], "lrange_600": ["LRANGE", "mylist", "0", "599"]}


def requests_for(test: str, requests: int) -> int:
    return max(1, requests // 10) if test.startswith("lrange") else requests


def run(server, test: str, requests: int) -> tuple[str, float, float]:
    """(the test's name as redis-benchmark prints it, ops/s, server CPU µs per request)."""
    if test in LRANGE_COMMANDS:
        client = server.client()
        client.delete("mylist")
        client.rpush("mylist", *([b"xxx"] * 600))
        workload = LRANGE_COMMANDS[test]
    else:
        workload = ["-t", test]
    user_before, system_before = cpu_seconds(server.pid)
    output = subprocess.run(["taskset", "-c", "1", "redis-benchmark", "-p", str(server.port), "-q", "-P", "16",
                             "-n", str(requests), *workload], capture_output=True, text=True, timeout=900).stdout
    user_after, system_after = cpu_seconds(server.pid)
    cpu_us = (user_after - user_before + system_after - system_before) * 1e6 / requests
    rates = [line for line in output.replace("\r", "\n").splitlines() if " requests per second" in line]
    if not rates:
        raise RuntimeError(f"redis-benchmark {' '.join(workload)} printed no rate: {output!r}")
    name, rest = rates[-1].split(":", 1)
    name = test.upper() if test in LRANGE_COMMANDS else name.split(" (")[0].strip()
    return name, float(rest.split("requests")[0]), cpu_us


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    rates: dict[str, dict[str, list[float]]] = {"redis": {}, "ringcache": {}}
    cpu: dict[str, dict[str, list[float]]] = {"redis": {}, "ringcache": {}}
    names: list[str] = []
    for _ in range(arguments.rounds):
        for server_name, start in (("redis", start_redis), ("ringcache", start_ringcache)):
            with start(cpu=0) as server:
                for test in TESTS:
                    name, rate, cpu_us = run(server, test, requests_for(test, arguments.requests))
                    if name not in names:
                        names.append(name)
                    rates[server_name].setdefault(name, []).append(rate)
                    cpu[server_name].setdefault(name, []).append(cpu_us)
    print(f"| redis-benchmark -P 16 -n {arguments.requests:,} (LRANGE {requests_for('lrange', arguments.requests):,}), "
          f"median of {arguments.rounds} | Redis ops/s | Ringcache ops/s | ratio "
          "| Redis server CPU µs/request | Ringcache server CPU µs/request | CPU ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in names:
        theirs, ours = statistics.median(rates["redis"][name]), statistics.median(rates["ringcache"][name])
        their_cpu, our_cpu = statistics.median(cpu["redis"][name]), statistics.median(cpu["ringcache"][name])
        cpu_ratio = f"{our_cpu / their_cpu:.2f}x" if their_cpu > 0 else "-"
        print(f"| {name} | {theirs:,.0f} | {ours:,.0f} | {ours / theirs:.2f}x | {their_cpu:.3f} | {our_cpu:.3f} | {cpu_ratio} |")


if __name__ == "__main__":
    main()
