"""Throughput of the collection commands: redis-benchmark's own tests for lists, sets, hashes
and sorted sets (`-P 16`, 50 connections), against each server pinned to core 0 with the
benchmark on core 1, rounds interleaved; the median of the rounds.

    python3 bench/collection_throughput.py [--requests 200000] [--rounds 3]
"""
import argparse
import statistics
import subprocess

from benchlib import start_redis, start_ringcache

TESTS = "lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600"


def run(server, requests: int) -> dict[str, float]:
    output = subprocess.run(["taskset", "-c", "1", "redis-benchmark", "-p", str(server.port), "-q", "-P", "16",
                             "-n", str(requests), "-t", TESTS], capture_output=True, text=True, timeout=900).stdout
    rates = {}
    for line in output.replace("\r", "\n").splitlines():
        if " requests per second" in line:
            name, rest = line.split(":", 1)
            rates[name.split(" (")[0].strip()] = float(rest.split("requests")[0])
    return rates


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    results: dict[str, dict[str, list[float]]] = {"redis": {}, "ringcache": {}}
    for _ in range(arguments.rounds):
        for name, start in (("redis", start_redis), ("ringcache", start_ringcache)):
            with start(cpu=0) as server:
                for test, rate in run(server, arguments.requests).items():
                    results[name].setdefault(test, []).append(rate)
    print(f"| redis-benchmark -P 16 -n {arguments.requests:,}, median of {arguments.rounds} | Redis ops/s | Ringcache ops/s | ratio |")
    print("| --- | --- | --- | --- |")
    for test, rates in results["redis"].items():
        ours = statistics.median(results["ringcache"].get(test, [0]))
        theirs = statistics.median(rates)
        print(f"| {test} | {theirs:,.0f} | {ours:,.0f} | {ours / theirs:.2f}x |")


if __name__ == "__main__":
    main()
