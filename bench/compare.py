"""The race with Redis: Ringcache (one node) and Debian's redis-server 7, equivalent settings
(no persistence, no compression), each pinned to CPU 1 with taskset and the load generator to
CPU 0, run interleaved (Redis, Ringcache, Redis, Ringcache, ...) so machine drift hits both
alike. Reports medians and the Ringcache/Redis ratio:

- redis-benchmark -t set,get -d 32 -r 1000000 -n 1000000 -c 50 at -P 1 and -P 16 (ops/s, p50, p99)
- redis-benchmark -t get -c 1 -P 1: round-trip latency (p50)
- ringcache-bench (on RingcacheClient): Zipf(0.99) keys, 90% GET / 10% SET, 1 KiB random
  values, 50 connections (ops/s, p50, p99)
- bytes per key (1,000,000 keys, 32-byte values; from RSS growth)
- the client library as a load generator: ringcache-bench's GETs (1 KiB values, 100,000
  keys, 50 connections, -P 1) against redis-benchmark's same GETs, on each server
- io-threads 1 and 2 for each server, with nothing pinned: what a second core buys

and writes the table into bench/RESULTS.md (between the compare markers) with a PNG chart of
the ratios. --quick runs one small round and writes nothing unless --write is given; CI uses it
to keep this script working, without asserting speed.

    python3 bench/compare.py [--rounds 3] [--quick] [--chart PATH] [--no-write]
"""
import argparse
import csv
import datetime
import io
import statistics
import subprocess
import sys
from pathlib import Path

from benchlib import ROOT, machine, pipe_load, redis_version, start_redis, start_ringcache

MARK_BEGIN = "<!-- compare:begin -->"
MARK_END = "<!-- compare:end -->"


def redis_benchmark(port: int, *arguments: str, pinned: bool = True) -> dict[str, dict[str, float]]:
    command = [*(["taskset", "-c", "0"] if pinned else []), "redis-benchmark", "-p", str(port), "--csv", *arguments]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=900).stdout
    return {row["test"]: {"rps": float(row["rps"]), "p50": float(row["p50_latency_ms"]), "p99": float(row["p99_latency_ms"])}
            for row in csv.DictReader(io.StringIO(out))}


def ringcache_bench(port: int, seconds: float, keys: int, distribution: str = "zipf", read_ratio: float = 0.9) -> dict[str, float]:
    """ringcache-bench on the load generator's CPU: the client library against either server
    (Redis without cluster support is one node to it)."""
    import json
    bench = str(ROOT / ".build" / "release" / "ringcache-bench")
    command = ["taskset", "-c", "0", bench, "--port", str(port), "--connections", "50", "--pipeline", "1",
               "--keys", str(keys), "--distribution", distribution, "--alpha", "0.99", "--value-size", "1024",
               "--read-ratio", str(read_ratio), "--duration", str(seconds), "--populate", "--json", "--quiet"]
    report = json.loads(subprocess.run(command, capture_output=True, text=True, check=True, timeout=600).stdout)
    assert report["errors"] == 0, report
    return {"rps": report["ops_per_sec"], "p50": report["latency_us"]["p50"] / 1000, "p99": report["latency_us"]["p99"] / 1000}


def bytes_per_key(server, keys: int) -> float:
    before = server.rss()
    pipe_load(server, "".join(f"SET key:{i:07d} {'v' * 32}\r\n" for i in range(1, keys + 1)))
    return (server.rss() - before) / keys


def set_get_race(port: int, requests: int) -> dict[str, float]:
    """`redis-benchmark -t set,get -d 32 -r 1000000 -c 50` at -P 1 and then -P 16: ops/s, p50
    and p99 of each, keyed "SET -P 1 p99" and so on."""
    results = {}
    for pipeline in (1, 16):
        rows = redis_benchmark(port, "-t", "set,get", "-d", "32", "-r", "1000000", "-n", str(requests),
                               "-c", "50", "-P", str(pipeline))
        for test in ("SET", "GET"):
            for measure in ("rps", "p50", "p99"):
                results[f"{test} -P {pipeline} {measure}"] = rows[test][measure]
    return results


def run_round(start, requests: int, latency_requests: int, keys: int, bench_seconds: float) -> dict[str, float]:
    with start(cpu=1) as server:
        results = set_get_race(server.port, requests)
        rows = redis_benchmark(server.port, "-t", "get", "-n", str(latency_requests), "-c", "1", "-P", "1")
        results["GET -c 1 p50"] = rows["GET"]["p50"]
        for measure, value in ringcache_bench(server.port, bench_seconds, min(keys, 100_000)).items():
            results[f"bench zipf {measure}"] = value
        # The client library as a load generator: the same GETs of 1 KiB values over 100,000
        # keys from redis-benchmark and from ringcache-bench (issue 9: at least 0.8x).
        rows = redis_benchmark(server.port, "-t", "set,get", "-d", "1024", "-r", "100000", "-n", str(requests // 3),
                               "-c", "50", "-P", "1")
        results["redis-benchmark get 1k rps"] = rows["GET"]["rps"]
        results["bench get 1k rps"] = ringcache_bench(server.port, bench_seconds, min(keys, 100_000), "uniform", 1.0)["rps"]
    with start() as server:
        results["bytes per key"] = bytes_per_key(server, keys)
    return results


ROWS = [
    ("SET -P 1 rps", "SET ops/s, -P 1", True), ("SET -P 1 p50", "SET p50 ms, -P 1", False), ("SET -P 1 p99", "SET p99 ms, -P 1", False),
    ("GET -P 1 rps", "GET ops/s, -P 1", True), ("GET -P 1 p50", "GET p50 ms, -P 1", False), ("GET -P 1 p99", "GET p99 ms, -P 1", False),
    ("SET -P 16 rps", "SET ops/s, -P 16", True), ("SET -P 16 p50", "SET p50 ms, -P 16", False), ("SET -P 16 p99", "SET p99 ms, -P 16", False),
    ("GET -P 16 rps", "GET ops/s, -P 16", True), ("GET -P 16 p50", "GET p50 ms, -P 16", False), ("GET -P 16 p99", "GET p99 ms, -P 16", False),
    ("GET -c 1 p50", "round trip, -c 1 -P 1 (p50 ms)", False),
    ("bench zipf rps", "ringcache-bench Zipf 90/10 1 KiB ops/s", True), ("bench zipf p50", "ringcache-bench p50 ms", False),
    ("bench zipf p99", "ringcache-bench p99 ms", False),
    ("bytes per key", "bytes per key (RSS)", False),
]


def io_threads_round(requests: int) -> dict[str, float]:
    """What a second core buys: each server with one and with two threads, every process
    free to run on both cores (nothing pinned), redis-benchmark sharing them."""
    results = {}
    configurations = (("ringcache", lambda threads: start_ringcache("--value-compression-threshold", "0", "--io-threads", str(threads))),
                      ("redis", lambda threads: start_redis("--io-threads", str(threads), "--io-threads-do-reads", "yes")))
    for name, start in configurations:
        for threads in (1, 2):
            with start(threads) as server:
                for pipeline, count in ((16, requests), (1, requests // 3)):
                    rows = redis_benchmark(server.port, "-t", "set,get", "-d", "32", "-r", "1000000", "-n", str(count),
                                           "-c", "50", "-P", str(pipeline), pinned=False)
                    for test in ("SET", "GET"):
                        results[f"{name} {threads} {test} -P {pipeline}"] = rows[test]["rps"]
    return results


def io_threads_table(medians: dict[str, float]) -> list[str]:
    lines = ["| io-threads, nothing pinned (ops/s) | Ringcache 1 | Ringcache 2 | 2 / 1 | Redis 1 | Redis 2 | 2 / 1 |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for pipeline in (16, 1):
        for test in ("SET", "GET"):
            cells = []
            for name in ("ringcache", "redis"):
                one, two = medians[f"{name} 1 {test} -P {pipeline}"], medians[f"{name} 2 {test} -P {pipeline}"]
                cells += [f"{one:,.0f}", f"{two:,.0f}", f"{two / one:.2f}x"]
            lines.append(f"| {test} -P {pipeline} | " + " | ".join(cells) + " |")
    return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one small round; writes nothing unless --write")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--chart", help="where to draw the chart (default bench/compare.png when writing results)")
    arguments = parser.parse_args()
    write = arguments.write or not (arguments.quick or arguments.no_write)
    chart = arguments.chart or (str(ROOT / "bench" / "compare.png") if write else "/tmp/ringcache-compare.png")
    rounds = 1 if arguments.quick else arguments.rounds
    requests, latency_requests, keys = (50_000, 5_000, 50_000) if arguments.quick else (1_000_000, 100_000, 1_000_000)
    samples: dict[str, dict[str, list[float]]] = {"redis": {}, "ringcache": {}}
    for round_number in range(rounds):
        for name, start in (("redis", start_redis), ("ringcache", lambda **kw: start_ringcache("--value-compression-threshold", "0", **kw))):
            results = run_round(start, requests, latency_requests, keys, 2 if arguments.quick else 10)
            for key, value in results.items():
                samples[name].setdefault(key, []).append(value)
            # Each round's own figures, so the spread behind a median can be seen (stderr:
            # stdout carries the tables).
            print(f"round {round_number + 1} {name}: " + ", ".join(
                f"{test} -P {pipeline} {results[f'{test} -P {pipeline} rps']:,.0f}/s p99 {results[f'{test} -P {pipeline} p99']:.3f}"
                for pipeline in (1, 16) for test in ("SET", "GET")), file=sys.stderr, flush=True)
    threads_samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        for key, value in io_threads_round(requests).items():
            threads_samples.setdefault(key, []).append(value)
    threads_medians = {key: statistics.median(values) for key, values in threads_samples.items()}
    medians = {name: {key: statistics.median(values) for key, values in data.items()} for name, data in samples.items()}
    lines = [f"Measured {datetime.date.today().isoformat()} on {machine()}; Redis {redis_version()}; "
             f"median of {rounds} interleaved round{'s' if rounds > 1 else ''}"
             f"{' (--quick: 50,000 requests, 50,000 keys)' if arguments.quick else ''}.", "",
             "| measure | Redis | Ringcache | Ringcache / Redis |", "| --- | --- | --- | --- |"]
    ratios = []
    for key, label, higher_is_better in ROWS:
        redis_value, ring_value = medians["redis"][key], medians["ringcache"][key]
        ratio = ring_value / redis_value if redis_value else float("nan")
        better = ratio if higher_is_better else (1 / ratio if ratio else float("nan"))
        if key.endswith("rps") or key in ("GET -c 1 p50", "bytes per key", "bench zipf p99"):
            ratios.append((label, better))
        fmt = (lambda v: f"{v:,.0f}") if key.endswith("rps") else (lambda v: f"{v:.1f}") if key == "bytes per key" else (lambda v: f"{v:.3f}")
        lines.append(f"| {label} | {fmt(redis_value)} | {fmt(ring_value)} | {ratio:.2f}x |")
    lines += ["", "| the client library as load generator: GET, 1 KiB values, 100,000 keys, 50 connections, -P 1 (ops/s) "
              "| redis-benchmark | ringcache-bench | ringcache-bench / redis-benchmark |", "| --- | --- | --- | --- |"]
    for name, label in (("ringcache", "against Ringcache"), ("redis", "against Redis")):
        tool, library = medians[name]["redis-benchmark get 1k rps"], medians[name]["bench get 1k rps"]
        lines.append(f"| {label} | {tool:,.0f} | {library:,.0f} | {library / tool:.2f}x |")
    lines += ["", *io_threads_table(threads_medians)]
    table = "\n".join(lines)
    print(table)
    draw_chart(ratios, chart)
    if write:
        results = ROOT / "bench" / "RESULTS.md"
        text = results.read_text()
        section = f"{MARK_BEGIN}\n{table}\n\n![Ringcache / Redis, higher is better](compare.png)\n{MARK_END}"
        if MARK_BEGIN in text:
            text = text[:text.index(MARK_BEGIN)] + section + text[text.index(MARK_END) + len(MARK_END):]
        else:
            text += f"\n## The race with Redis\n\n`bench/compare` (`python3 bench/compare.py`).\n\n{section}\n"
        results.write_text(text)


def draw_chart(ratios: list[tuple[str, float]], path: str):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [label for label, _ in ratios]
    values = [value for _, value in ratios]
    figure, axes = plt.subplots(figsize=(8, 0.5 * len(labels) + 1.2))
    colors = ["#2e7d32" if value >= 1 else "#c62828" for value in values]
    axes.barh(labels, values, color=colors)
    axes.axvline(1.0, color="black", linewidth=1)
    axes.set_xlabel("Ringcache relative to Redis (higher is better; 1.0 = equal)")
    for index, value in enumerate(values):
        axes.text(value, index, f" {value:.2f}x", va="center")
    axes.invert_yaxis()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


if __name__ == "__main__":
    main()
