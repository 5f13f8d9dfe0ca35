"""The latency tail of `bench/compare`, with enough rounds to tell a difference from noise.

One five-round race gives five p99s per server, and on this machine a server's p99 moves by
a fifth between rounds, so the medians of two such runs can fall either side of each other.
This runs only the p99 rows of the race, `redis-benchmark -t set,get -d 32 -r 1000000
-n 1000000 -c 50` at `-P 1` and `-P 16` against a fresh server of each kind per round (each
pinned to CPU 1, the load generator to CPU 0, Redis first then Ringcache), and reports for
each row the per-round ratios Ringcache/Redis, their median, in how many rounds Ringcache's
p99 was below, equal to (redis-benchmark's percentiles are quantized) and above Redis's,
and the two-sided sign-test p-value of those counts under "neither is better" (ties left
out): small means one server's tail is reliably shorter; large means the rounds cannot
tell them apart.

    python3 bench/latency_tail.py [--rounds 11] [--requests 1000000]
"""
import argparse
import math
import statistics
import sys

from benchlib import machine, redis_version, start_redis, start_ringcache
from compare import set_get_race

ROWS = [(test, pipeline) for pipeline in (1, 16) for test in ("SET", "GET")]


def one_round(start, requests: int) -> dict[tuple[str, int], float]:
    with start(cpu=1) as server:
        race = set_get_race(server.port, requests)
    return {(test, pipeline): race[f"{test} -P {pipeline} p99"] for test, pipeline in ROWS}


def sign_test_p(below: int, above: int) -> float:
    """Two-sided sign test: the chance that fair coin flips split at least as unevenly."""
    flips = below + above
    if flips == 0:
        return 1.0
    fewer = min(below, above)
    return min(1.0, 2 * sum(math.comb(flips, k) for k in range(0, fewer + 1)) / 2 ** flips)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--requests", type=int, default=1_000_000)
    arguments = parser.parse_args()
    redis_p99: dict[tuple[str, int], list[float]] = {row: [] for row in ROWS}
    ring_p99: dict[tuple[str, int], list[float]] = {row: [] for row in ROWS}
    for round_number in range(arguments.rounds):
        for name, start, samples in (("redis", start_redis, redis_p99),
                                     ("ringcache", lambda **kw: start_ringcache("--value-compression-threshold", "0", **kw), ring_p99)):
            figures = one_round(start, arguments.requests)
            for row, value in figures.items():
                samples[row].append(value)
            print(f"round {round_number + 1} {name}: " + ", ".join(f"{test} -P {pipeline} p99 {figures[(test, pipeline)]:.3f}"
                                                                   for test, pipeline in ROWS), file=sys.stderr, flush=True)
    rounds = arguments.rounds
    print(f"Measured on {machine()}; Redis {redis_version()}; {rounds} interleaved rounds, "
          f"{arguments.requests:,} requests per test.\n")
    print("| p99, redis-benchmark -d 32 -r 1000000 -c 50 | Redis median ms | Ringcache median ms | median of the per-round ratios "
          "| rounds Ringcache below / equal / above Redis | sign test p (two-sided) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for test, pipeline in ROWS:
        ours, theirs = ring_p99[(test, pipeline)], redis_p99[(test, pipeline)]
        ratios = [mine / other for mine, other in zip(ours, theirs)]
        below = sum(1 for mine, other in zip(ours, theirs) if mine < other)
        above = sum(1 for mine, other in zip(ours, theirs) if mine > other)
        print(f"| {test} -P {pipeline} | {statistics.median(theirs):.3f} | {statistics.median(ours):.3f} | "
              f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}x-{max(ratios):.2f}x) | "
              f"{below} / {rounds - below - above} / {above} | {sign_test_p(below, above):.3f} |")


if __name__ == "__main__":
    main()
