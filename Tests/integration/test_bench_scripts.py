"""The benchmark scripts keep working (issue 9: `bench/compare --quick` in CI). Speed is not
asserted here; it is measured in bench/ and recorded in bench/RESULTS.md."""
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_compare_quick_runs_and_reports_every_row(tmp_path):
    chart = tmp_path / "compare.png"
    recorded = (ROOT / "bench" / "RESULTS.md").read_text()
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "compare.py"), "--quick", "--chart", str(chart)],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    tables = [[line for line in block.splitlines() if line.startswith("| ") and "---" not in line]
              for block in result.stdout.split("\n\n")]
    tables = [table for table in tables if table]
    assert [len(table) for table in tables] == [18, 3, 5], result.stdout  # headers, then 17 measures, 2 servers, 4 tests
    for row in tables[0][1:] + tables[1][1:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[3].endswith("x") and float(cells[3][:-1]) > 0, row
    for row in tables[2][1:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[3].endswith("x") and cells[6].endswith("x") and float(cells[3][:-1]) > 0, row
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (ROOT / "bench" / "RESULTS.md").read_text() == recorded, "--quick must not overwrite recorded results"


def test_collection_benchmarks_run_and_report_every_type():
    memory = subprocess.run([sys.executable, str(ROOT / "bench" / "collection_memory.py"), "--keys", "20", "--elements", "300"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT / "bench")
    assert memory.returncode == 0, memory.stdout + memory.stderr
    rows = [line for line in memory.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [row.split("|")[1].strip() for row in rows] == ["hash", "list", "set", "set of integers", "zset"], memory.stdout
    throughput = subprocess.run([sys.executable, str(ROOT / "bench" / "collection_throughput.py"), "--requests", "20000", "--rounds", "1"],
                                capture_output=True, text=True, timeout=300, cwd=ROOT / "bench")
    assert throughput.returncode == 0, throughput.stdout + throughput.stderr
    rows = [line for line in throughput.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    names = [row.split("|")[1].strip() for row in rows]
    assert names[:4] == ["LPUSH", "RPUSH", "LPOP", "RPOP"] and "LRANGE_600" in names, throughput.stdout
    assert all(float(row.split("|")[4].strip()[:-1]) > 0 for row in rows), throughput.stdout
    # Server CPU per request: a number for both servers on every row (0 is possible for so
    # few requests, at /proc's 10 ms resolution).
    assert all(float(row.split("|")[5]) >= 0 and float(row.split("|")[6]) >= 0 for row in rows), throughput.stdout


def test_cpu_per_request_reports_every_server_and_both_commands():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "cpu_per_request.py"), "--rounds", "1", "--requests", "20000",
                             "--busy-poll", "0", "50"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT / "bench")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [tuple(cell.strip() for cell in row.strip("|").split("|")[:2]) for row in rows] == \
        [("Redis", "SET"), ("Redis", "GET"), ("Ringcache", "SET"), ("Ringcache", "GET"),
         ("Ringcache busy-poll 0", "SET"), ("Ringcache busy-poll 0", "GET"),
         ("Ringcache busy-poll 50", "SET"), ("Ringcache busy-poll 50", "GET")], result.stdout
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        # Serving 20,000 requests takes CPU: a zero would mean the wrong process was read.
        assert float(cells[2].replace(",", "")) > 0 and float(cells[4]) + float(cells[5]) > 0, row
        # redis-benchmark's own CPU: it sends and reads every request, so never nothing.
        assert float(cells[6]) > 0, row


def run_latency_tail(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "bench" / "latency_tail.py"), *arguments],
                          capture_output=True, text=True, timeout=300, cwd=ROOT / "bench")


def table_rows(report: str) -> list[list[str]]:
    rows = [line for line in report.splitlines() if line.startswith("| ") and "---" not in line][1:]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def assert_every_round_counted(report: str, rounds: int):
    rows = table_rows(report)
    assert [cells[0] for cells in rows] == ["SET -P 1", "GET -P 1", "SET -P 16", "GET -P 16"], report
    for cells in rows:
        assert float(cells[1]) > 0 and float(cells[2]) > 0, cells
        # Every round lands in exactly one of below / equal / above.
        assert sum(int(count) for count in cells[5].split(" / ")) == rounds, cells
        assert 0 < float(cells[6]) <= 1, cells


def test_latency_tail_pairs_rounds_and_counts_every_one(tmp_path):
    result = run_latency_tail("--rounds", "2", "--requests", "10000", "--fill", "20000")
    assert result.returncode == 0, result.stdout + result.stderr
    assert_every_round_counted(result.stdout, 2)
    # Interleaved: the slices alternate, Redis first in odd rounds and Ringcache first in
    # even ones, so drift during a round favours neither.
    order = [line.split(":")[0] for line in result.stderr.splitlines() if line.startswith("round ")]
    assert order == ["round 1 redis", "round 1 ringcache", "round 2 ringcache", "round 2 redis"], result.stderr
    # The rounds it printed, read back: the same table.
    log = tmp_path / "rounds.log"
    log.write_text(result.stderr)
    pooled = run_latency_tail("--from-log", str(log))
    assert pooled.returncode == 0, pooled.stdout + pooled.stderr
    assert table_rows(pooled.stdout) == table_rows(result.stdout)


def test_latency_tail_with_fresh_servers_per_round():
    result = run_latency_tail("--fresh-servers", "--rounds", "1", "--requests", "10000", "--busy-poll", "50")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "a fresh server of each kind per round; Ringcache with busy-poll 50;" in result.stdout
    assert_every_round_counted(result.stdout, 1)


def test_the_sign_test_is_the_binomial_tail():
    sys.path.insert(0, str(ROOT / "bench"))
    from latency_tail import sign_test_p
    # 11 against 4: 2 * P(X <= 4), X ~ Binomial(15, 1/2) = 2 * 1941 / 32768.
    assert abs(sign_test_p(11, 4) - 2 * 1941 / 32768) < 1e-12
    assert sign_test_p(4, 11) == sign_test_p(11, 4)
    assert sign_test_p(5, 5) == 1.0 and sign_test_p(0, 0) == 1.0
    assert sign_test_p(15, 0) == 2 / 2 ** 15


def test_the_ratio_interval_brackets_the_geometric_mean():
    sys.path.insert(0, str(ROOT / "bench"))
    from latency_tail import geometric_mean_interval
    mean, low, high = geometric_mean_interval([0.5, 2.0, 1.0, 1.0])
    assert abs(mean - 1.0) < 1e-12 and low < 1.0 < high
    mean, low, high = geometric_mean_interval([1.1] * 10)
    assert abs(mean - 1.1) < 1e-12 and abs(low - 1.1) < 1e-12 and abs(high - 1.1) < 1e-12
