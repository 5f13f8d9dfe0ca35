"""LZ4 value compression: which value sizes it pays for, the memory it saves on JSON-like
values of 1-4 KiB, and what it costs GET and SET throughput — with Redis alongside.

    python3 bench/compression.py [--keys N]

Throughput: each server is pinned to CPU 1 and the load generator to CPU 0 (taskset).
GETs come from redis-benchmark (keys in its `key:%012d` format); SETs of the JSON values
from redis-cli --pipe, timed.
"""
import argparse
import json
import random
import re
import subprocess
import time

from benchlib import pipe_load, start_redis, start_ringcache

WORDS = ("cache ring swift node replica primary shard slot gossip member alive suspect dead "
         "eviction policy memory value key ttl expire user order product price currency eur usd "
         "status active pending shipped delivered warehouse berlin paris tokyo lisbon").split()


def document(rng: random.Random, size: int) -> str:
    """A JSON object of about `size` bytes: ids, numbers, timestamps and words, like an API
    response or a serialized entity."""
    fields = {"id": rng.randrange(10**9), "created": 1_700_000_000 + rng.randrange(10**7)}
    index = 0
    while len(json.dumps(fields)) < size:
        kind = index % 4
        if kind == 0:
            fields[f"name_{index}"] = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        elif kind == 1:
            fields[f"amount_{index}"] = round(rng.uniform(0, 10_000), 2)
        elif kind == 2:
            fields[f"tags_{index}"] = [rng.choice(WORDS) for _ in range(rng.randint(1, 5))]
        else:
            fields[f"ref_{index}"] = f"{rng.randrange(16**12):012x}"
        index += 1
    return json.dumps(fields)[:size]


def resp(*words: str) -> str:
    return f"*{len(words)}\r\n" + "".join(f"${len(w.encode())}\r\n{w}\r\n" for w in words)


def threshold_study(rng: random.Random):
    print("| JSON value size | share stored compressed | bytes saved |")
    print("| --- | --- | --- |")
    with start_ringcache("--value-compression-threshold", "16") as server:
        client = server.client()
        for size in (32, 64, 128, 256, 512, 1024, 4096):
            client.flushall()
            docs = [document(rng, size) for _ in range(2000)]
            pipe_load(server, "".join(resp("SET", f"d{i}", doc) for i, doc in enumerate(docs)))
            memory = client.info("memory")
            print(f"| {size} B | {100 * memory['compressed_values'] / len(docs):.0f}% | "
                  f"{100 * memory['compression_saved_bytes'] / sum(map(len, docs)):.1f}% |", flush=True)


def memory_comparison(docs: list[str]):
    total = sum(map(len, docs))
    print(f"\n{len(docs):,} JSON-like values, 1-4 KiB each ({total / 2**20:.1f} MiB of values)\n")
    print("| server | RSS growth | used_memory growth | vs values |")
    print("| --- | --- | --- | --- |")
    load = "".join(resp("SET", f"key:{i:012d}", doc) for i, doc in enumerate(docs))
    for name, start, flags in [("Redis", start_redis, ()), ("Ringcache, compression off", start_ringcache, ("--value-compression-threshold", "0")),
                               ("Ringcache, default threshold", start_ringcache, ())]:
        with start(*flags) as server:
            client = server.client()
            rss, used = server.rss(), client.info("memory")["used_memory"]
            pipe_load(server, load)
            rss_growth, used_growth = server.rss() - rss, client.info("memory")["used_memory"] - used
            print(f"| {name} | {rss_growth / 2**20:.1f} MiB | {used_growth / 2**20:.1f} MiB | {100 * rss_growth / total:.0f}% |", flush=True)


def throughput(docs: list[str], rounds: int):
    load = "".join(resp("SET", f"key:{i:012d}", doc) for i, doc in enumerate(docs))
    results = {}
    configurations = [("Redis", start_redis, ()), ("Ringcache, compression off", start_ringcache, ("--value-compression-threshold", "0")),
                      ("Ringcache, default threshold", start_ringcache, ())]
    for _ in range(rounds):
        for name, start, flags in configurations:
            with start(*flags, cpu=1) as server:
                started = time.perf_counter()
                subprocess.run(["taskset", "-c", "0", "redis-cli", "-p", str(server.port), "--pipe"], input=load,
                               capture_output=True, text=True, check=True, timeout=600)
                set_rate = len(docs) / (time.perf_counter() - started)
                out = subprocess.run(["taskset", "-c", "0", "redis-benchmark", "-p", str(server.port), "-t", "get",
                                      "-r", str(len(docs)), "-n", "400000", "-P", "16", "-c", "50", "-q"],
                                     capture_output=True, text=True, check=True, timeout=600).stdout
                get_rate = float(re.search(r"GET: ([\d.]+) requests per second", out).group(1))
                results.setdefault(name, []).append((set_rate, get_rate))
    print(f"\nThroughput, median of {rounds} interleaved rounds (server on CPU 1, client on CPU 0)\n")
    print("| server | SET/s (redis-cli --pipe) | GET/s (redis-benchmark -P 16 -c 50) |")
    print("| --- | --- | --- |")
    for name, samples in results.items():
        sets = sorted(s for s, _ in samples)[len(samples) // 2]
        gets = sorted(g for _, g in samples)[len(samples) // 2]
        print(f"| {name} | {sets:,.0f} | {gets:,.0f} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    rng = random.Random(42)
    threshold_study(rng)
    docs = [document(rng, rng.randint(1024, 4096)) for _ in range(arguments.keys)]
    memory_comparison(docs)
    throughput(docs, arguments.rounds)


if __name__ == "__main__":
    main()
