"""A tiny run of `make bench`, so the benchmark cannot rot."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_bench_runs_and_ends_with_the_ingest_ratio() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    name, value = last.split(": ")
    assert name == "ingest_vs_duckdb_read_csv" and float(value) > 0
    assert "progression rules" in result.stdout
    stages = [
        line for line in result.stdout.splitlines() if line.startswith(("parse only", "store only"))
    ]
    assert len(stages) == 2 and all(float(line.split()[-2]) > 0 for line in stages)
    assert "bytes per row" in result.stdout
    # The re-export was taken from the warehouse: 99% of the 5,000 rows, less the bad ones.
    found = next(line for line in result.stdout.splitlines() if line.startswith("re-export"))
    assert int(found.split()[3].replace(",", "")) > 4_000, found
