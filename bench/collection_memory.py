"""Bytes per element of each collection type: 1,000 keys of each type with N elements
(16-byte members, 16-byte hash values, integer scores; and sets of 7-digit integers), loaded over pipelined connections,
measured from each server's RSS growth; and how close Ringcache's `used_memory` (its own
estimate for collections) comes to that growth.

    python3 bench/collection_memory.py [--keys 1000] [--elements 1000]
"""
import argparse

from benchlib import pipe_load, start_redis, start_ringcache

TYPES = {
    "hash": lambda key, indices: f"HSET {key} " + " ".join(f"field:{i:010d} value:{i:010d}" for i in indices),
    "list": lambda key, indices: f"RPUSH {key} " + " ".join(f"element:{i:08d}" for i in indices),
    "set": lambda key, indices: f"SADD {key} " + " ".join(f"member:{i:09d}" for i in indices),
    # Integer members, which Redis keeps in an intset up to set-max-intset-entries (512).
    "set of integers": lambda key, indices: f"SADD {key} " + " ".join(str(1_000_000 + 7 * i) for i in indices),
    "zset": lambda key, indices: f"ZADD {key} " + " ".join(f"{i} member:{i:09d}" for i in indices),
}


def measure(start, kind: str, keys: int, elements: int):
    # Elements go in batches of 100 per command, as a client building a collection would.
    lines = [TYPES[kind](f"{kind.replace(' ', '-')}:{k}", range(first, min(first + 100, elements)))
             for k in range(keys) for first in range(0, elements, 100)]
    with start() as server:
        client = server.client()
        rss_before = server.rss()
        used_before = client.info("memory")["used_memory"]
        pipe_load(server, "\r\n".join(lines) + "\r\n")
        assert client.dbsize() == keys
        rss_after = server.rss()
        used_after = client.info("memory")["used_memory"]
        total = keys * elements
        return (rss_after - rss_before) / total, (used_after - used_before) / total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--elements", type=int, default=1000)
    arguments = parser.parse_args()
    print(f"| type ({arguments.keys:,} keys x {arguments.elements:,} elements) | Redis B/element (RSS) | Ringcache B/element (RSS) | ratio | Ringcache used_memory vs RSS growth |")
    print("| --- | --- | --- | --- | --- |")
    for kind in TYPES:
        redis_rss, _ = measure(start_redis, kind, arguments.keys, arguments.elements)
        ring_rss, ring_used = measure(start_ringcache, kind, arguments.keys, arguments.elements)
        print(f"| {kind} | {redis_rss:.1f} | {ring_rss:.1f} | {ring_rss / redis_rss:.2f}x | {100 * (ring_used - ring_rss) / ring_rss:+.1f}% |")


if __name__ == "__main__":
    main()
