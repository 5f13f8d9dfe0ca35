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
tell them apart. It also gives the geometric mean of the per-round ratios with a 95%
bootstrap interval (resampling rounds, fixed seed): how large a difference the rounds leave
room for, either way.

Each round's figures go to stderr as they come; `--from-log FILE...` reads such lines back
(several runs pooled) instead of measuring.

    python3 bench/latency_tail.py [--rounds 11] [--requests 1000000] [--from-log FILE...]
"""
import argparse
import math
import random
import re
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


def geometric_mean_interval(ratios: list[float], resamples: int = 20_000) -> tuple[float, float, float]:
    """The geometric mean of `ratios` and its 95% bootstrap interval (rounds resampled with
    replacement, seed fixed so the same rounds give the same interval)."""
    logs = [math.log(ratio) for ratio in ratios]
    generator = random.Random(1)
    means = sorted(statistics.fmean(generator.choices(logs, k=len(logs))) for _ in range(resamples))
    return math.exp(statistics.fmean(logs)), math.exp(means[int(0.025 * resamples)]), math.exp(means[int(0.975 * resamples) - 1])


ROUND_LINE = re.compile(r"round \d+ (redis|ringcache): (.*)")
FIGURE = re.compile(r"(SET|GET) -P (\d+) p99 ([0-9.]+)")


def read_logs(paths: list[str]) -> tuple[dict, dict]:
    """Rounds as printed on stderr by earlier runs: each Redis line paired with the Ringcache
    line after it."""
    redis_p99: dict[tuple[str, int], list[float]] = {row: [] for row in ROWS}
    ring_p99: dict[tuple[str, int], list[float]] = {row: [] for row in ROWS}
    for path in paths:
        with open(path) as log:
            for line in log:
                match = ROUND_LINE.match(line.strip())
                if not match:
                    continue
                samples = redis_p99 if match.group(1) == "redis" else ring_p99
                for test, pipeline, value in FIGURE.findall(match.group(2)):
                    samples[(test, int(pipeline))].append(float(value))
    counts = {len(values) for values in list(redis_p99.values()) + list(ring_p99.values())}
    if len(counts) != 1:
        raise SystemExit(f"the logs do not pair up: {sorted(counts)} rounds per row")
    return redis_p99, ring_p99


def measure(rounds: int, requests: int) -> tuple[dict, dict]:
    redis_p99: dict[tuple[str, int], list[float]] = {row: [] for row in ROWS}
    ring_p99: dict[tuple[str, int], list[float]] = {row: [] for row in ROWS}
    for round_number in range(rounds):
        for name, start, samples in (("redis", start_redis, redis_p99),
                                     ("ringcache", lambda **kw: start_ringcache("--value-compression-threshold", "0", **kw), ring_p99)):
            figures = one_round(start, requests)
            for row, value in figures.items():
                samples[row].append(value)
            print(f"round {round_number + 1} {name}: " + ", ".join(f"{test} -P {pipeline} p99 {figures[(test, pipeline)]:.3f}"
                                                                   for test, pipeline in ROWS), file=sys.stderr, flush=True)
    return redis_p99, ring_p99


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--from-log", nargs="+", metavar="FILE", help="pool the rounds these stderr logs printed")
    arguments = parser.parse_args()
    if arguments.from_log:
        redis_p99, ring_p99 = read_logs(arguments.from_log)
        rounds = len(redis_p99[ROWS[0]])
        print(f"{rounds} paired rounds from {', '.join(arguments.from_log)}.\n")
    else:
        redis_p99, ring_p99 = measure(arguments.rounds, arguments.requests)
        rounds = arguments.rounds
        print(f"Measured on {machine()}; Redis {redis_version()}; {rounds} interleaved rounds, "
              f"{arguments.requests:,} requests per test.\n")
    print("| p99, redis-benchmark -d 32 -r 1000000 -c 50 | Redis median ms | Ringcache median ms | median of the per-round ratios "
          "| geometric mean of the ratios (95% bootstrap interval) | rounds Ringcache below / equal / above Redis "
          "| sign test p (two-sided) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for test, pipeline in ROWS:
        ours, theirs = ring_p99[(test, pipeline)], redis_p99[(test, pipeline)]
        ratios = [mine / other for mine, other in zip(ours, theirs)]
        below = sum(1 for mine, other in zip(ours, theirs) if mine < other)
        above = sum(1 for mine, other in zip(ours, theirs) if mine > other)
        mean, low, high = geometric_mean_interval(ratios)
        print(f"| {test} -P {pipeline} | {statistics.median(theirs):.3f} | {statistics.median(ours):.3f} | "
              f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}x-{max(ratios):.2f}x) | {mean:.2f}x ({low:.2f}x-{high:.2f}x) | "
              f"{below} / {rounds - below - above} / {above} | {sign_test_p(below, above):.3f} |")


if __name__ == "__main__":
    main()
