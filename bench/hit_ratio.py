"""Hit ratio under a skewed workload: a Zipf(0.99) stream of GETs over one million keys, a miss
followed by a SET (cache-aside), every server given the same maxmemory — the memory Redis needs
to hold 10% of the keys. The stream is identical for every server (fixed seed); the first
third warms the cache and the hit ratio is counted over the rest from INFO stats.

    python3 bench/hit_ratio.py [--keys N] [--requests N]
"""
import argparse

import numpy as np

from benchlib import start_redis, start_ringcache

VALUE = b"v" * 64
BATCH = 2000


def zipf_stream(keys: int, requests: int, alpha: float, seed: int) -> np.ndarray:
    generator = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, keys + 1, dtype=np.float64) ** alpha
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    ranks = np.searchsorted(cdf, generator.random(requests))
    # Popularity rank -> key id, so the hot keys are not the low ids.
    return generator.permutation(keys)[ranks]


def run(server, stream: np.ndarray, warmup: int) -> float:
    client = server.client()
    for start in range(0, len(stream), BATCH):
        if start == warmup:
            client.config_resetstat()
        ids = stream[start:start + BATCH]
        pipe = client.pipeline(transaction=False)
        for key_id in ids:
            pipe.get(b"key:%d" % key_id)
        values = pipe.execute()
        pipe = client.pipeline(transaction=False)
        for key_id, value in zip(ids, values):
            if value is None:
                pipe.set(b"key:%d" % key_id, VALUE)
        pipe.execute()
    stats = client.info("stats")
    return stats["keyspace_hits"] / (stats["keyspace_hits"] + stats["keyspace_misses"]), stats["evicted_keys"]


def redis_bytes_for(keys: int) -> int:
    with start_redis() as server:
        client = server.client()
        pipe = client.pipeline(transaction=False)
        for key_id in range(keys):
            pipe.set(b"key:%d" % key_id, VALUE)
        pipe.execute()
        return client.info("memory")["used_memory"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=3_000_000)
    parser.add_argument("--alpha", type=float, default=0.99)
    parser.add_argument("--only", help="run only configurations whose policy contains this text")
    arguments = parser.parse_args()
    maxmemory = redis_bytes_for(arguments.keys // 10)
    stream = zipf_stream(arguments.keys, arguments.requests, arguments.alpha, seed=20261129)
    warmup = (arguments.requests // 3) // BATCH * BATCH
    configurations = [
        ("Redis", start_redis, "allkeys-lru"),
        ("Redis", start_redis, "allkeys-lfu"),
        ("Ringcache", start_ringcache, "allkeys-lru"),
        ("Ringcache", start_ringcache, "allkeys-lfu"),
        ("Ringcache", start_ringcache, "allkeys-s3fifo"),
    ]
    print(f"Zipf({arguments.alpha}) over {arguments.keys:,} keys, {arguments.requests:,} GETs (first {warmup:,} warm up), "
          f"64-byte values, maxmemory {maxmemory:,} bytes (Redis's used_memory with {arguments.keys // 10:,} keys)\n")
    print("| server | policy | hit ratio | keys evicted |")
    print("| --- | --- | --- | --- |")
    for name, start, policy in configurations:
        if arguments.only and arguments.only not in f"{name} {policy}":
            continue
        with start("--maxmemory", str(maxmemory), "--maxmemory-policy", policy) as server:
            ratio, evicted = run(server, stream, warmup)
        print(f"| {name} | {policy} | {100 * ratio:.2f}% | {evicted:,} |", flush=True)


if __name__ == "__main__":
    main()
