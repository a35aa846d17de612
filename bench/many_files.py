"""The many-small-files figure of `make bench`: N per-workout canonical CSV files of 20 sets,
`repflow run` as a whole process against DuckDB's `read_csv` over the same files in one
process, in the same run; the empty night (a run over an empty inbox) measured beside them.

    python -m bench.many_files [--files 1000,10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from bench.inbox import COLUMNS as BENCH_COLUMNS

EXERCISES = ("Squat", "Bench Press", "Deadlift", "Barbell Row")
HEADER = "performed_at,exercise,reps,load,unit,rpe,set_type"
# The bench file's columns, without the athlete: a per-workout file is in its athlete's folder.
COLUMNS = {name: kind for name, kind in BENCH_COLUMNS.items() if name != "athlete_id"}


def write_inbox(inbox: Path, files: int, sets: int = 20, athletes: int = 200) -> None:
    """`files` workouts of `sets` sets, one a file, spread over `athletes` athletes' folders: a
    night of per-workout exports (each athlete's in date order)."""
    start = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    for n in range(files):
        athlete = f"a{n % athletes:04d}"
        day = start + timedelta(days=n // athletes)
        lines = [HEADER]
        for s in range(sets):
            at = day + timedelta(minutes=3 * s)
            exercise = EXERCISES[s * len(EXERCISES) // sets]
            lines.append(
                f"{at:%Y-%m-%dT%H:%M:%SZ},{exercise},{5 + s % 5},{60 + 2.5 * (s % 5)},kg,,"
            )
        folder = inbox / athlete
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{day:%Y-%m-%d}-{n:05d}.csv").write_text("\n".join(lines) + "\n")


def duckdb_read_csv(inbox: Path, folder: Path) -> float:
    """Seconds for DuckDB, in this process, to read every file of `inbox` into a table."""
    db = folder / f"baseline-{time.monotonic_ns()}.duckdb"
    con = duckdb.connect(str(db))
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS.items())
    started = time.perf_counter()
    con.execute(
        f"CREATE TABLE t AS SELECT * FROM read_csv(?, header = true, columns = {{{columns}}}, "
        "filename = true)",
        [str(inbox / "*" / "*.csv")],
    )
    elapsed = time.perf_counter() - started
    con.close()
    db.unlink()
    return elapsed


# A child's wall time and the peak RSS of the largest child so far (a fresh probe each time).
PROBE = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
    "print(time.perf_counter() - t, "
    "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
)


def repflow_run(inbox: Path, db: Path, env: dict[str, str]) -> tuple[float, float]:
    """`repflow run` over `inbox` into a new warehouse `db`: seconds and peak RSS (MB)."""
    repflow = str(Path(sys.executable).with_name("repflow"))
    command = [repflow, "run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-06-01"]
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *command], check=True, capture_output=True, text=True, env=env
    ).stdout.split()
    return float(out[0]), float(out[1])


def environment(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PREFECT_HOME": str(folder / "prefect-home"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "REPFLOW_SETTLE_S": "0",
    }


@dataclass(frozen=True)
class Measured:
    """One file count's attempts, each a DuckDB read, a run over the files and an empty night
    right after it, in turn."""

    files: int
    baselines: list[float]  # DuckDB's read_csv, seconds
    runs: list[float]  # repflow run over the files, seconds
    nights: list[float]  # repflow run over an empty inbox, seconds
    peak_mb: float  # repflow run's peak RSS, the highest attempt's

    # The figures are the best attempt's: on a shared machine noise only adds time, and the
    # empty night alone (Prefect's start) varies by 2 s from run to run, as much as 2,000
    # files take. The median of each attempt's run less its night is shown beside.
    @property
    def baseline(self) -> float:
        return min(self.baselines)

    @property
    def run(self) -> float:
        return min(self.runs)

    @property
    def night(self) -> float:
        return min(self.nights)

    @property
    def beyond(self) -> float:
        return self.run - self.night

    @property
    def beyond_median(self) -> float:
        return statistics.median(r - n for r, n in zip(self.runs, self.nights, strict=True))


def measure(folder: Path, counts: list[int], repeat: int) -> list[Measured]:
    """Per file count, `repeat` attempts of DuckDB, the run and the empty night, in turn."""
    env = environment(folder)
    empty = folder / "empty-inbox"
    empty.mkdir()
    repflow_run(empty, folder / "warm-up.duckdb", env)  # Prefect's database, imports: warm
    measured = []
    for files in counts:
        inbox = folder / f"inbox-{files}"
        write_inbox(inbox, files)
        baselines, runs, nights, peaks = [], [], [], []
        for attempt in range(repeat):
            baselines.append(duckdb_read_csv(inbox, folder))
            seconds, peak = repflow_run(inbox, folder / f"run-{files}-{attempt}.duckdb", env)
            runs.append(seconds)
            peaks.append(peak)
            nights.append(repflow_run(empty, folder / f"empty-{files}-{attempt}.duckdb", env)[0])
        measured.append(Measured(files, baselines, runs, nights, max(peaks)))
    return measured


def report(measured: list[Measured]) -> list[str]:
    lines = [
        f"{'many small files (20 sets each), best of':40} {'seconds':>9} {'files/s':>9} "
        f"{'ratio':>7}"
    ]
    for m in measured:
        lines += [
            f"{f'duckdb read_csv, {m.files:,} files':40} {m.baseline:9.2f} "
            f"{m.files / m.baseline:9.0f} {1.0:7.2f}",
            f"{'repflow run, an empty inbox':40} {m.night:9.2f}",
            f"{f'repflow run, {m.files:,} files':40} {m.run:9.2f} {m.files / m.run:9.0f} "
            f"{m.run / m.baseline:7.1f}",
            f"{'  beyond the empty night':40} {m.beyond:9.2f} "
            f"{m.files / max(m.beyond, 1e-3):9.0f} {m.beyond / m.baseline:7.1f}",
            f"{'  median of run less its night':40} {m.beyond_median:9.2f} {'':>9} "
            f"{m.beyond_median / statistics.median(m.baselines):7.1f}",
            f"{'  attempts: runs':40} {' '.join(f'{r:.2f}' for r in m.runs)}",
            f"{'  attempts: empty nights':40} {' '.join(f'{n:.2f}' for n in m.nights)}",
            f"{'  peak RSS of repflow run (MB)':40} {m.peak_mb:9.0f}",
        ]
    for m in measured:
        lines.append(f"many_files_{m.files}_vs_duckdb_read_csv: {m.beyond / m.baseline:.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default="1000,10000", help="file counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    counts = [int(count) for count in args.files.split(",")]
    with tempfile.TemporaryDirectory(prefix="repflow-bench-files-") as name:
        for line in report(measure(Path(name), counts, args.repeat)):
            print(line)


if __name__ == "__main__":
    main()
