"""What measuring costs: redis-benchmark SET/GET at -P 1 and -P 16 against Ringcache with
`latency-tracking yes` (every command timed for INFO commandstats, the latency histograms and
SLOWLOG) and `no`, interleaved rounds, server pinned to CPU 1 and load generator to CPU 0.

    python3 bench/metrics_overhead.py [--rounds N]
"""
import argparse
import csv
import io
import statistics
import subprocess

from benchlib import start_ringcache


def run_benchmark(port: int, pipeline: int, requests: int) -> dict:
    out = subprocess.run(["taskset", "-c", "0", "redis-benchmark", "-p", str(port), "-t", "set,get", "-d", "32",
                          "-r", "1000000", "-n", str(requests), "-c", "50", "-P", str(pipeline), "--csv"],
                         capture_output=True, text=True, check=True, timeout=600).stdout
    return {row["test"]: float(row["rps"]) for row in csv.DictReader(io.StringIO(out))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    results: dict = {}
    for _ in range(arguments.rounds):
        for tracking in ("yes", "no"):
            with start_ringcache("--latency-tracking", tracking, "--value-compression-threshold", "0", cpu=1) as server:
                for pipeline, requests in ((1, 300_000), (16, 2_000_000)):
                    for test, rps in run_benchmark(server.port, pipeline, requests).items():
                        results.setdefault((test, pipeline, tracking), []).append(rps)
    print(f"median of {arguments.rounds} interleaved rounds, ops/s\n")
    print("| test | latency-tracking yes | latency-tracking no | cost |")
    print("| --- | --- | --- | --- |")
    for test in ("SET", "GET"):
        for pipeline in (1, 16):
            on = statistics.median(results[(test, pipeline, "yes")])
            off = statistics.median(results[(test, pipeline, "no")])
            print(f"| {test} -P {pipeline} | {on:,.0f} | {off:,.0f} | {100 * (off - on) / off:+.1f}% |")


if __name__ == "__main__":
    main()
