"""Bytes per key: one million keys `key:0000001`... with 32-byte values, loaded over a pipelined
connection, measured from each server's RSS growth; then the same with a TTL on every key.

    python3 bench/memory_per_key.py [--keys N]
"""
import argparse

from benchlib import pipe_load, start_redis, start_ringcache

VALUE = "v" * 32


def measure(start, keys: int, ttl: bool):
    with start() as server:
        client = server.client()
        rss_before = server.rss()
        used_before = client.info("memory")["used_memory"]
        suffix = " EX 100000" if ttl else ""
        pipe_load(server, "".join(f"SET key:{i:07d} {VALUE}{suffix}\r\n" for i in range(1, keys + 1)))
        assert client.dbsize() == keys
        rss_after = server.rss()
        used_after = client.info("memory")["used_memory"]
        return (rss_after - rss_before) / keys, (used_after - used_before) / keys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    arguments = parser.parse_args()
    rows = []
    for ttl in (False, True):
        redis_rss, redis_used = measure(start_redis, arguments.keys, ttl)
        ring_rss, ring_used = measure(start_ringcache, arguments.keys, ttl)
        rows.append((ttl, redis_rss, redis_used, ring_rss, ring_used))
    print(f"| keys ({arguments.keys:,}, 32-byte values) | Redis B/key (RSS) | Ringcache B/key (RSS) | ratio | Redis used_memory/key | Ringcache used_memory/key | Ringcache used_memory vs RSS growth |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for ttl, redis_rss, redis_used, ring_rss, ring_used in rows:
        print(f"| {'with a TTL' if ttl else 'no TTL'} | {redis_rss:.1f} | {ring_rss:.1f} | {ring_rss / redis_rss:.2f}x | "
              f"{redis_used:.1f} | {ring_used:.1f} | {100 * (ring_used - ring_rss) / ring_rss:+.1f}% |")


if __name__ == "__main__":
    main()
