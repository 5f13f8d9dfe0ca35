"""The latency tail of `bench/compare`, with enough rounds to tell a difference from noise.

One five-round race gives five p99s per server, and on this machine a server's p99 moves by
a fifth between rounds, so the medians of two such runs can fall either side of each other.
This runs only the p99 rows of the race, `redis-benchmark -t set,get -d 32 -r 1000000 -c 50`
at `-P 1` and `-P 16`, with each server pinned to CPU 1 and the load generator to CPU 0, and
reports for each row the per-round ratios Ringcache/Redis, their median, in how many rounds
Ringcache's p99 was below, equal to (redis-benchmark's percentiles are quantized) and above
Redis's, and the two-sided sign-test p-value of those counts under "neither is better" (ties
left out): small means one server's tail is reliably shorter; large means the rounds cannot
tell them apart. It also gives the geometric mean of the per-round ratios with a 95%
bootstrap interval (resampling rounds, fixed seed): how large a difference the rounds leave
room for, either way.

Two ways to pair the servers:

- interleaved (the default): both servers run for the whole measurement, each first filled
  with `--fill` SETs over the race's key space (3,000,000: about 950,000 of its 1,000,000
  keys, so every round sees nearly the same table), and a round is one slice of each,
  `--requests` per test (300,000 unless given), in the order Redis, Ringcache in odd rounds
  and Ringcache, Redis in even ones, so a drift during a round favours neither. The server
  not being measured is stopped (SIGSTOP) for the other's slice, so neither's idle threads
  run on the measured core. A round takes about 15 s, so both halves of it see the same
  machine.
- `--fresh-servers`: a fresh server of each kind per round, Redis first, 1,000,000 requests
  per test unless given; a round then takes about a minute and a half, and this machine's
  speed moves by up to a fifth within that (bench/RESULTS.md, "The tail slice by slice").

Each round's figures go to stderr as they come; `--from-log FILE...` reads such lines back
(several runs pooled) instead of measuring.

`--busy-poll N` runs Ringcache with `busy-poll N` instead of the default (see BusyPoller).

    python3 bench/latency_tail.py [--rounds 11] [--requests N] [--fill N] [--fresh-servers] [--busy-poll N] [--from-log FILE...]
"""
import argparse
import contextlib
import math
import random
import re
import signal
import statistics
import sys

from benchlib import machine, redis_version, start_redis, start_ringcache
from compare import redis_benchmark, set_get_race

ROWS = [(test, pipeline) for pipeline in (1, 16) for test in ("SET", "GET")]


def p99_rows(port: int, requests: int) -> dict[tuple[str, int], float]:
    race = set_get_race(port, requests)
    return {(test, pipeline): race[f"{test} -P {pipeline} p99"] for test, pipeline in ROWS}


def start_ringcache_like_redis(*flags: str, **options):
    # Redis does not compress values; neither does Ringcache in the race.
    return start_ringcache("--value-compression-threshold", "0", *flags, **options)


@contextlib.contextmanager
def stopped(server):
    """`server` (every thread of it) does not run inside the block."""
    server.process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        server.process.send_signal(signal.SIGCONT)


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


def print_round(round_number: int, name: str, figures: dict[tuple[str, int], float]):
    print(f"round {round_number} {name}: " + ", ".join(f"{test} -P {pipeline} p99 {figures[(test, pipeline)]:.3f}"
                                                     for test, pipeline in ROWS), file=sys.stderr, flush=True)


def measure_fresh_servers(rounds: int, requests: int, ringcache_flags: list[str]) -> tuple[dict, dict]:
    redis_p99: dict[tuple[str, int], list[float]] = {row: [] for row in ROWS}
    ring_p99: dict[tuple[str, int], list[float]] = {row: [] for row in ROWS}
    for round_number in range(1, rounds + 1):
        start_ringcache_as_asked = lambda **options: start_ringcache_like_redis(*ringcache_flags, **options)
        for name, start, samples in (("redis", start_redis, redis_p99), ("ringcache", start_ringcache_as_asked, ring_p99)):
            with start(cpu=1) as server:
                figures = p99_rows(server.port, requests)
            for row, value in figures.items():
                samples[row].append(value)
            print_round(round_number, name, figures)
    return redis_p99, ring_p99


def measure_interleaved(rounds: int, requests: int, fill: int, ringcache_flags: list[str]) -> tuple[dict, dict]:
    redis_p99: dict[tuple[str, int], list[float]] = {row: [] for row in ROWS}
    ring_p99: dict[tuple[str, int], list[float]] = {row: [] for row in ROWS}
    with start_redis(cpu=1) as redis_server, start_ringcache_like_redis(*ringcache_flags, cpu=1) as ring_server:
        servers = {"redis": (redis_server, ring_server, redis_p99), "ringcache": (ring_server, redis_server, ring_p99)}
        keys = {}
        for name, (server, other, _) in servers.items():
            with stopped(other):
                # The race's key space, nearly full, so the slices' SETs hardly change its size.
                redis_benchmark(server.port, "-t", "set", "-d", "32", "-r", "1000000", "-n", str(fill), "-c", "50", "-P", "16")
            keys[name] = server.client().dbsize()
        for round_number in range(1, rounds + 1):
            order = ("redis", "ringcache") if round_number % 2 else ("ringcache", "redis")
            for name in order:
                server, other, samples = servers[name]
                with stopped(other):
                    figures = p99_rows(server.port, requests)
                for row, value in figures.items():
                    samples[row].append(value)
                print_round(round_number, name, figures)
                # SETs only add keys: a server that lost some (while stopped, say) would serve
                # GETs from a smaller table, and the comparison would not be fair.
                size = server.client().dbsize()
                if size < keys[name]:
                    raise SystemExit(f"{name} lost keys between slices: {keys[name]} then {size}")
                keys[name] = size
    return redis_p99, ring_p99


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--requests", type=int, help="requests per test and slice (default 300,000, or 1,000,000 "
                                                     "with --fresh-servers)")
    parser.add_argument("--fill", type=int, default=3_000_000, help="SETs that fill each server before the first round")
    parser.add_argument("--fresh-servers", action="store_true", help="a fresh server of each kind per round")
    parser.add_argument("--from-log", nargs="+", metavar="FILE", help="pool the rounds these stderr logs printed")
    parser.add_argument("--busy-poll", type=int, metavar="MICROSECONDS", help="run Ringcache with busy-poll MICROSECONDS "
                                                                             "(default: the server's default)")
    arguments = parser.parse_args()
    ringcache_flags = [] if arguments.busy_poll is None else ["--busy-poll", str(arguments.busy_poll)]
    if arguments.from_log:
        redis_p99, ring_p99 = read_logs(arguments.from_log)
        rounds = len(redis_p99[ROWS[0]])
        print(f"{rounds} paired rounds from {', '.join(arguments.from_log)}.\n")
    else:
        rounds = arguments.rounds
        if arguments.fresh_servers:
            requests = arguments.requests or 1_000_000
            redis_p99, ring_p99 = measure_fresh_servers(rounds, requests, ringcache_flags)
            method = "a fresh server of each kind per round"
        else:
            requests = arguments.requests or 300_000
            redis_p99, ring_p99 = measure_interleaved(rounds, requests, arguments.fill, ringcache_flags)
            method = (f"both servers running throughout, filled with {arguments.fill:,} SETs, one slice of each per round, "
                      "the other stopped meanwhile")
        if arguments.busy_poll is not None:
            method += f"; Ringcache with busy-poll {arguments.busy_poll}"
        print(f"Measured on {machine()}; Redis {redis_version()}; {rounds} rounds, {method}; "
              f"{requests:,} requests per test.\n")
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
