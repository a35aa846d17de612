"""Measure repflow against its baselines, side by side, in one run: medians of several runs.

    python -m bench.run [--rows N] [--repeat K] [--quick]

Each figure is a ratio to a baseline measured in the same process on the same file, because
these machines are shared and noisy. The last line is `ingest_vs_duckdb_read_csv: <ratio>`.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from flows import pipeline
from flows.config import load
from rules import evaluate_relation
from warehouse.db import writer
from warehouse.flags import rule_sets
from warehouse.load import FileInfo

COLUMNS = {
    "athlete_id": "VARCHAR",
    "performed_at": "TIMESTAMPTZ",
    "exercise": "VARCHAR",
    "reps": "INTEGER",
    "load": "DOUBLE",
    "unit": "VARCHAR",
    "rpe": "DOUBLE",
    "set_type": "VARCHAR",
}


def generate(path: Path, rows: int, bad_every: int = 100) -> None:
    """A canonical CSV of `rows` sets, one row in `bad_every` broken (1% by default)."""
    i = pl.int_range(rows, dtype=pl.Int64)
    frame = pl.select(i=i).select(
        athlete_id=pl.format("m{}", pl.col("i") % 20_000),
        performed_at=(
            pl.datetime(2024, 1, 1, time_zone="UTC")
            + pl.duration(minutes=pl.col("i") // 20_000 * 7 + pl.col("i") % 7)
        ).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        exercise=pl.format("Lift {}", pl.col("i") % 5),
        reps=pl.when(pl.col("i") % bad_every == 7)
        .then(pl.lit("ten"))
        .otherwise((pl.col("i") % 8 + 5).cast(pl.String)),
        load=(pl.col("i") % 40 * 2.5).cast(pl.String),
        unit=pl.lit("kg"),
        rpe=pl.lit(""),
        set_type=pl.lit("working"),
    )
    frame.write_csv(path)


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def duckdb_read_csv(csv: Path, folder: Path) -> None:
    db = folder / f"baseline-{time.monotonic_ns()}.duckdb"
    con = duckdb.connect(str(db))
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS.items())
    con.execute(
        f"CREATE TABLE t AS SELECT * FROM read_csv(?, header = true, columns = {{{columns}}}, "
        "ignore_errors = true)",
        [str(csv)],
    )
    con.close()
    db.unlink()


def ingest(csv: Path, folder: Path) -> None:
    """The ingest path: read, validate, reject with reasons, deduplicate, load."""
    db = folder / f"ingest-{time.monotonic_ns()}.duckdb"
    config = load({"db": db})
    pipeline.prepare(db, config, 0)
    info = pipeline.fingerprint(csv, csv.name, "bench")
    parsed = pipeline.parse(csv, "bench", config)
    assert not isinstance(parsed, str), parsed
    pipeline.store(
        db,
        FileInfo(info.file_id, info.path, info.sha256, info.bytes, "bench"),
        parsed,
        None,
        "bench",
    )
    db.unlink()


def whole_process_ingest(csv: Path, folder: Path) -> float:
    repflow = str(Path(sys.executable).with_name("repflow"))
    started = time.perf_counter()
    subprocess.run(
        [repflow, "ingest", str(csv), "--athlete", "bench", "--db", str(folder / "cli.duckdb")],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def rules_ratio(folder: Path, rows: int, repeat: int) -> tuple[float, float]:
    """Rule evaluation over `rows` stored sets against a plain GROUP BY over the same table."""
    db = folder / "rules.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        f"""
        CREATE TABLE sets AS
        SELECT (i // 100)::VARCHAR AS athlete_id,
               'ex' || (i % 100 // 25)::VARCHAR AS exercise_id,
               (i // 4 % 25)::VARCHAR AS session_id,
               TIMESTAMPTZ '2026-01-01 07:00:00+00' + to_days((i // 4 % 25) * 3)
                   + to_minutes((i % 4)::INTEGER) AS performed_at,
               'working' AS set_type, (5 + hash(i) % 11)::INTEGER AS reps,
               20 + (i // 4 % 25) * 2.5 AS load_kg, 'kg' AS load_unit, NULL::DOUBLE AS rpe,
               NULL::VARCHAR AS device_id, 'f' AS file_id, i AS source_line
        FROM range({rows}) r(i)
        """
    )
    con.execute(
        "CREATE TABLE machines (device_id VARCHAR, stack_increment_kg DOUBLE, file_id VARCHAR)"
    )
    programs = load({}).programs
    baseline = median_seconds(
        lambda: con.execute(
            "SELECT athlete_id, exercise_id, count(*) FROM sets GROUP BY ALL"
        ).fetchall(),
        repeat,
    )
    evaluated = median_seconds(
        lambda: evaluate_relation(con, rule_sets(con), programs, date(2026, 12, 31)), repeat
    )
    con.close()
    return evaluated, baseline


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rule-sets", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.rule_sets, args.repeat = 5_000, 20_000, 1
    with tempfile.TemporaryDirectory(prefix="repflow-bench-") as name:
        folder = Path(name)
        csv = folder / "sets.csv"
        generate(csv, args.rows)
        size_mb = csv.stat().st_size / 1e6
        with writer(folder / "warm.duckdb"):
            pass  # import and open once, so both sides run warm
        baseline = median_seconds(lambda: duckdb_read_csv(csv, folder), args.repeat)
        ingested = median_seconds(lambda: ingest(csv, folder), args.repeat)
        process = whole_process_ingest(csv, folder)
        rules, group_by = rules_ratio(folder, args.rule_sets, args.repeat)
        rows = [
            ("duckdb read_csv (baseline)", f"{args.rows:,} rows, {size_mb:.0f} MB", baseline, 1.0),
            ("ingest (read, validate, dedup, load)", "in-process", ingested, ingested / baseline),
            ("repflow ingest", "whole process", process, process / baseline),
            ("GROUP BY athlete, exercise (baseline)", f"{args.rule_sets:,} sets", group_by, 1.0),
            ("progression rules", f"{args.rule_sets:,} sets", rules, rules / group_by),
        ]
        print(f"{'measurement':40} {'input':28} {'seconds':>9} {'ratio':>7}")
        for label, what, seconds, ratio in rows:
            print(f"{label:40} {what:28} {seconds:9.2f} {ratio:7.2f}")
        print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")
        print(f"rules_vs_group_by: {rules / group_by:.2f}")
        print(f"ingest_vs_duckdb_read_csv: {ingested / baseline:.2f}")


if __name__ == "__main__":
    main()
