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
        timeout=600,  # it starts Prefect and two Dask clusters: minutes on a busy machine
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    name, value = last.split(": ")
    assert name == "ingest_vs_duckdb_read_csv" and float(value) > 0
    assert "progression rules" in result.stdout
    rates = {
        line[:40].strip(): float(line.split()[-2])
        for line in result.stdout.splitlines()
        if line.startswith(("local (baseline)", "dask, "))
    }
    assert set(rates) == {"local (baseline)", "dask, 1 worker", "dask, 2 workers"}
    assert all(files_per_second > 0 for files_per_second in rates.values())
