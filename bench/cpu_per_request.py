"""Server CPU per request at -P 1, Ringcache beside Redis: what sets the -P 1 latency tail.

At -P 1 with 50 connections the load generator, not the server, limits throughput, so both
servers answer about as many requests a second; what differs is how busy each is doing it.
A busier server batches more ready connections into one event-loop tick, and every request
of a long tick waits for all of it, so p99 follows utilisation (bench/RESULTS.md, "The -P 1
tail"). This measures user and system CPU time per request from /proc/PID/stat around a
fixed `redis-benchmark -t set -d 32 -r 1000000 -n N -c 50 -P 1` (then the same for GET),
servers pinned to CPU 1 and redis-benchmark to CPU 0, rounds interleaved, and prints the
medians with ops/s and p99, and the load generator's own CPU per request (getrusage of the
finished redis-benchmark): at -P 1 that, not the server, sets the pace.

`--busy-poll N...` adds a Ringcache for each N, started with `busy-poll N` (see BusyPoller;
the plain "Ringcache" row runs the default): its CPU per request then counts the polling
too, and the load generator's shows what that saves it.

    python3 bench/cpu_per_request.py [--rounds 3] [--requests 400000] [--busy-poll MICROSECONDS...]
"""
import argparse
import resource
import statistics

from benchlib import cpu_seconds, start_redis, start_ringcache
from compare import redis_benchmark

def measure(server, test: str, requests: int) -> dict[str, float]:
    arguments = ["-t", test, "-d", "32", "-r", "1000000", "-c", "50", "-P", "1"]
    redis_benchmark(server.port, *arguments, "-n", "50000")  # warm-up
    user_before, system_before = cpu_seconds(server.pid)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    row = redis_benchmark(server.port, *arguments, "-n", str(requests))[test.upper()]
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user_after, system_after = cpu_seconds(server.pid)
    load_generator = (children_after.ru_utime - children_before.ru_utime) + (children_after.ru_stime - children_before.ru_stime)
    return {"ops/s": row["rps"], "p99 ms": row["p99"],
            "user us": (user_after - user_before) * 1e6 / requests,
            "system us": (system_after - system_before) * 1e6 / requests,
            "load generator us": load_generator * 1e6 / requests}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400_000)
    parser.add_argument("--busy-poll", type=int, nargs="+", default=[], metavar="MICROSECONDS",
                        help="also run a Ringcache with busy-poll MICROSECONDS, for each one given")
    options = parser.parse_args()
    starters = {"Redis": lambda: start_redis(cpu=1),
                "Ringcache": lambda: start_ringcache("--save", "", "--value-compression-threshold", "0", cpu=1)}
    for microseconds in options.busy_poll:
        starters[f"Ringcache busy-poll {microseconds}"] = lambda microseconds=microseconds: start_ringcache(
            "--save", "", "--value-compression-threshold", "0", "--busy-poll", str(microseconds), cpu=1)
    samples: dict[tuple[str, str], list[dict[str, float]]] = {}
    for round_number in range(options.rounds):
        for name, start in starters.items():
            for test in ("set", "get"):
                # A fresh server per test, as bench/compare runs: SET fills an empty table.
                with start() as server:
                    if test == "get":
                        redis_benchmark(server.port, "-t", "set", "-d", "32", "-r", "1000000", "-n", str(options.requests),
                                        "-c", "50", "-P", "16")
                    result = measure(server, test, options.requests)
                samples.setdefault((name, test), []).append(result)
                print(f"round {round_number + 1} {name} {test.upper()}: " +
                      ", ".join(f"{key} {value:,.2f}" for key, value in result.items()), flush=True)
    print()
    print("| server | command | ops/s | p99 ms | user µs / request | system µs / request | redis-benchmark µs / request |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for (name, test), results in samples.items():
        median = {key: statistics.median(result[key] for result in results) for key in results[0]}
        print(f"| {name} | {test.upper()} | {median['ops/s']:,.0f} | {median['p99 ms']:.3f} | "
              f"{median['user us']:.2f} | {median['system us']:.2f} | {median['load generator us']:.2f} |")


if __name__ == "__main__":
    main()
