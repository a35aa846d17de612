"""Measure repflow against its baselines, side by side, in one run: medians of several runs.

    python -m bench.run [--rows N] [--repeat K] [--files F] [--many-files 1000,10000] [--quick]

Each figure is a ratio to a baseline measured in the same process on the same file, because
these machines are shared and noisy. The nightly flow's files per second on Dask (1 and 2
workers) are set beside the local runner's. The last line is `ingest_vs_duckdb_read_csv: <ratio>`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

import sources
from bench import many_files
from bench.inbox import COLUMNS, build
from flows import discovery, loading, parsing, runs
from flows.config import Config, load
from flows.reexport import row_seed
from rules import evaluate_relation
from schemas.row_hash import with_row_hashes
from schemas.set_row import RowContext
from sources import content
from warehouse.db import writer
from warehouse.flags import rule_sets
from warehouse.load import FileInfo


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


def side_by_side(
    baseline: Callable[[], object], measured: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Medians of `baseline` and `measured`, run in turn: a shared machine's slow minutes then
    fall on both sides alike, not on one of them."""
    first, second = [], []
    for _ in range(repeat):
        first.append(median_seconds(baseline, 1))
        second.append(median_seconds(measured, 1))
    return statistics.median(first), statistics.median(second)


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
    runs.prepare(db, config, 0)
    _store(db, csv, config)
    db.unlink()


def whole_process_ingest(csv: Path, folder: Path, name: str = "cli") -> tuple[float, float]:
    """`repflow ingest` as a command: seconds and the peak RSS (MB) of that process."""
    repflow = str(Path(sys.executable).with_name("repflow"))
    db = folder / f"{name}.duckdb"
    command = [repflow, "ingest", str(csv), "--athlete", "bench", "--db", str(db)]
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: measure in a fresh child.
    probe = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
        "print(time.perf_counter() - t, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *command], check=True, capture_output=True, text=True
    ).stdout.split()
    db.unlink(missing_ok=True)
    return float(out[0]), float(out[1])


def reexport(folder: Path, rows: int, repeat: int) -> tuple[float, float, float, int]:
    """Re-ingesting a file whose rows are 99% stored, against the first load of its new 1%.

    The target adds the time to hash and scan the file: measured as reading it into rows and
    hashing every row (`scan`), the least any look-up of stored rows must do. Also gives how
    many rows the re-export found stored (0 would mean it fell back to the full read)."""
    full, new = folder / "reexport-full.csv", folder / "reexport-new.csv"
    generate(full, rows)
    table = pl.read_csv(full, infer_schema=False)
    old_part = table.head(rows - rows // 100)
    old_csv = folder / "reexport-old.csv"
    old_part.write_csv(old_csv)
    table.tail(rows // 100).write_csv(new)
    known = []

    def timed_ingest(target: Path, before: Path | None) -> float:
        db = folder / f"reexport-{time.monotonic_ns()}.duckdb"
        config = load({"db": db})
        runs.prepare(db, config, 0)
        if before is not None:
            _store(db, before, config)
        started = time.perf_counter()
        known.append(_store(db, target, config))
        elapsed = time.perf_counter() - started
        db.unlink()
        return elapsed

    again = statistics.median(timed_ingest(full, old_csv) for _ in range(repeat))
    found = known[-1]
    first_new = statistics.median(timed_ingest(new, None) for _ in range(repeat))
    scan = median_seconds(lambda: hash_rows(full), repeat)
    return again, first_new, scan, found


def hash_rows(csv: Path) -> None:
    """Read a file into rows and hash each, as a re-export does before it looks anything up."""
    seed = row_seed(RowContext(), "bench", "canonical_csv")
    for batch in sources.read(csv).batches():
        with_row_hashes(batch, seed)


def _store(db: Path, csv: Path, config: Config) -> int:
    """Parse and store one file as the local runner does; give how many rows were known."""
    read = content.read(csv, None, keep=True, copy_to=csv.parent)  # as a run reads a new file
    info = parsing.file_info(read, csv.name, "bench")
    parsed = parsing.parse(read, "bench", config)
    if read.copy is not None:
        read.copy.unlink()
    assert not isinstance(parsed, str), parsed
    loading.store(
        db,
        FileInfo(info.file_id, info.path, info.sha256, info.bytes, "bench"),
        parsed,
        None,
        "bench",
    )
    return parsed.known


EMPTY_FLOW = """
from prefect import flow

@flow(name="empty")
def empty() -> None:
    pass

empty()
"""


def nothing_to_do(folder: Path, repeat: int) -> tuple[float, float]:
    """`repflow run` over an inbox that is all loaded, against an empty Prefect flow run, both
    whole processes with the same (already migrated) Prefect home."""
    inbox = folder / "noop-inbox"
    (inbox / "bench").mkdir(parents=True)
    generate(inbox / "bench" / "sets.csv", 1_000)
    db = folder / "noop.duckdb"
    env = {
        **os.environ,
        "PREFECT_HOME": str(folder / "prefect-home"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }
    repflow = str(Path(sys.executable).with_name("repflow"))
    command = [repflow, "run", "--inbox", str(inbox), "--db", str(db), "--as-of", "2026-06-01"]
    empty = [sys.executable, "-c", EMPTY_FLOW]
    subprocess.run(command, check=True, capture_output=True, env=env)  # loads, migrates Prefect
    subprocess.run(empty, check=True, capture_output=True, env=env)

    def run(args: list[str]) -> None:
        subprocess.run(args, check=True, capture_output=True, env=env)

    return median_seconds(lambda: run(command), repeat), median_seconds(lambda: run(empty), repeat)


def rules_ratio(folder: Path, rows: int, repeat: int) -> tuple[float, float]:
    """Rule evaluation over `rows` stored sets against a plain GROUP BY over the same table."""
    db = folder / "rules.duckdb"
    con = duckdb.connect(str(db))
    # The shape: 100 k athlete x exercise pairs, so 10 M sets are 25 sessions of 4 sets.
    # Types and session ids as the warehouse stores them (load_kg DOUBLE; ids derived from an md5
    # per athlete and workout, as warehouse.load does): a DECIMAL(22,1) load_kg took DuckDB 5 s
    # to decode, and ids '0'..'24' let a join filter on their range stand in for a hash lookup.
    per_pair = max(rows // 100_000, 4)
    athlete, session = f"(i // ({per_pair} * 4))", f"(i // 4 % ({per_pair} // 4))"
    con.execute(
        f"""
        CREATE TABLE sets AS
        SELECT {athlete}::VARCHAR AS athlete_id,
               'ex' || (i // {per_pair} % 4)::VARCHAR AS exercise_id,
               'lift ' || (i // {per_pair} % 4)::VARCHAR AS exercise_key,
               's' || substr(md5({athlete}::VARCHAR || '/' || {session}::VARCHAR), 1, 15)
                   AS session_id,
               TIMESTAMPTZ '2026-01-01 07:00:00+00' + to_days({session} * 3)
                   + to_minutes((i % 4)::INTEGER) AS performed_at,
               'working' AS set_type, (5 + hash(i) % 11)::INTEGER AS reps,
               (20 + {session} * 2.5)::DOUBLE AS load_kg, 'kg' AS load_unit,
               NULL::DOUBLE AS rpe, NULL::VARCHAR AS device_id, 'f' AS file_id, i AS source_line
        FROM range({rows}) r(i)
        """
    )
    con.execute(
        "CREATE TABLE machines (device_id VARCHAR, stack_increment_kg DOUBLE, file_id VARCHAR)"
    )
    # The four exercises are in the catalog, which says whether each is assisted (a name the
    # catalog does not know is matched against "assisted" in every language instead: dearer).
    con.execute(
        "CREATE TABLE exercises AS SELECT 'ex' || i::VARCHAR AS exercise_id, false AS assisted "
        "FROM range(4) r(i)"
    )
    programs = load({}).programs
    # The day after the last session: a later as-of date leaves the exercises dormant (no flags).
    as_of = date(2026, 1, 1) + timedelta(days=3 * (per_pair // 4 - 1) + 1)
    baseline = median_seconds(
        lambda: con.execute(
            "SELECT athlete_id, exercise_id, count(*) FROM sets GROUP BY ALL"
        ).fetchall(),
        repeat,
    )
    evaluated = median_seconds(
        lambda: evaluate_relation(con, rule_sets(con), programs, as_of), repeat
    )
    con.close()
    return evaluated, baseline


RUNNERS = (("local (baseline)", "local", None), ("dask", "dask", 1), ("dask", "dask", 2))


def runner_rates(folder: Path, files: int, sessions: int) -> list[tuple[str, float, int]]:
    """The nightly flow over one generated inbox with each runner, each into a fresh warehouse:
    (label, seconds, rows read). Dask's time includes starting its cluster; Prefect's API is
    started before any of them."""
    inbox = folder / "inbox"
    build(inbox, files, sessions=sessions)
    # Prefect's state in the bench's folder, its API started once for all three runs.
    os.environ["PREFECT_HOME"] = str(folder / ".prefect")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    from flows.nightly import run_nightly

    # Start Prefect's API (and import everything) before the clock runs: an empty inbox.
    (folder / "empty").mkdir()
    run_nightly({"inbox": str(folder / "empty"), "db": str(folder / "warm-up.duckdb")})
    measured = []
    for label, runner, workers in RUNNERS:
        settings = {
            "inbox": str(inbox),
            "db": str(folder / f"{runner}-{workers}.duckdb"),
            "analytics_db": str(folder / f"{runner}-{workers}-analytics.duckdb"),
            "runner": runner,
            "dask_workers": workers,
        }
        started = time.perf_counter()
        summary = run_nightly(settings, as_of=date(2026, 11, 30))
        seconds = time.perf_counter() - started
        rows = sum(o.loaded + o.revised + o.unchanged + o.rejected for _, o in summary.files)
        name = label if workers is None else f"{label}, {workers} worker{'s' * (workers > 1)}"
        measured.append((name, seconds, rows))
    return measured


def stage_rates(inbox: Path, folder: Path) -> list[tuple[str, float, int, int]]:
    """Parse alone (one process, as one Dask worker does it) and store alone (the one writer),
    over the generated inbox, without Prefect: (stage, seconds, files, rows)."""
    db = folder / "stages.duckdb"
    config = load({"inbox": inbox, "db": db})
    files, _ = discovery.inbox_files(config)
    runs.prepare(db, config, 0)
    reads = [(parsing.read_found(f, 0.0, True, folder), f) for f in files]
    infos = [parsing.file_info(read, f.relative, f.athlete_id) for read, f in reads]
    started = time.perf_counter()
    results = [parsing.parse(read, f.athlete_id, config) for read, f in reads]
    parsed = time.perf_counter() - started
    started = time.perf_counter()
    for info, result in zip(infos, results, strict=True):
        if isinstance(result, str):
            loading.store(db, info, None, result, "bench")
        else:
            loading.store(db, info, result, None, "bench")
    stored = time.perf_counter() - started
    rows = sum(r.sets.height + r.rejects.height for r in results if not isinstance(r, str))
    return [
        ("parse only: detect, read, validate", parsed, len(files), rows),
        ("store only: the one writer", stored, len(files), rows),
    ]


def parquet_bytes_per_row(db: Path, folder: Path) -> float:
    """The stored sets as zstd Parquet, in bytes per row: the size of a lake's data files."""
    out = folder / "sets.parquet"
    with writer(db) as con:
        con.execute(f"COPY sets TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
        rows = con.execute("SELECT count(*) FROM sets").fetchone()
    return out.stat().st_size / max(rows[0] if rows else 0, 1)


def free_disk_mb(folder: Path) -> float:
    return shutil.disk_usage(folder).free / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--large-rows", type=int, default=10_000_000, help="the large file (0: skip it)"
    )
    parser.add_argument("--rule-sets", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--files", type=int, default=200, help="files for the runner comparison")
    parser.add_argument("--sessions", type=int, default=20, help="sessions in each of those files")
    parser.add_argument("--many-files", default="1000,10000", help="small files (0: skip them)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    args = parser.parse_args()
    # The bench writes its files just before it reads them: they count as settled at once.
    os.environ["REPFLOW_SETTLE_S"] = "0"
    if args.quick:
        args.rows, args.large_rows, args.rule_sets, args.repeat = 5_000, 0, 20_000, 1
        args.files, args.sessions, args.many_files = 8, 2, "0"
    with tempfile.TemporaryDirectory(prefix="repflow-bench-") as name:
        folder = Path(name)
        csv = folder / "sets.csv"
        generate(csv, args.rows)
        size_mb = csv.stat().st_size / 1e6
        with writer(folder / "warm.duckdb"):
            pass  # import and open once, so both sides run warm
        baseline, ingested = side_by_side(
            lambda: duckdb_read_csv(csv, folder), lambda: ingest(csv, folder), args.repeat
        )
        process, process_rss = whole_process_ingest(csv, folder)
        rows = [
            ("duckdb read_csv (baseline)", f"{args.rows:,} rows, {size_mb:.0f} MB", baseline, 1.0),
            ("ingest (read, validate, dedup, load)", "in-process", ingested, ingested / baseline),
            (
                "repflow ingest",
                f"whole process, {process_rss:.0f} MB peak",
                process,
                process / baseline,
            ),
        ]
        large_rss: float | None = None
        # The large file is read in batches (docs/performance.md): its memory does not grow with
        # it, but the file itself needs disk space.
        need_mb = 2.5 * size_mb * args.large_rows / args.rows
        if args.large_rows and need_mb > free_disk_mb(folder):
            print(
                f"skipped the {args.large_rows:,}-row file: it and its spool need about "
                f"{need_mb:,.0f} MB of disk, {free_disk_mb(folder):,.0f} MB free"
            )
        elif args.large_rows:
            large = folder / "large.csv"
            generate(large, args.large_rows)
            large_mb = large.stat().st_size / 1e6
            large_base = median_seconds(lambda: duckdb_read_csv(large, folder), 1)
            large_ingest = median_seconds(lambda: ingest(large, folder), 1)
            large_process, large_rss = whole_process_ingest(large, folder, "large")
            large.unlink()
            rows += [
                (
                    "duckdb read_csv (baseline)",
                    f"{args.large_rows:,} rows, {large_mb:.0f} MB",
                    large_base,
                    1.0,
                ),
                (
                    "ingest (in-process)",
                    f"{args.large_rows:,} rows",
                    large_ingest,
                    large_ingest / large_base,
                ),
                (
                    "repflow ingest",
                    f"whole process, {large_rss:.0f} MB peak",
                    large_process,
                    large_process / large_base,
                ),
            ]
        again, first_new, scan, known = reexport(folder, args.rows, args.repeat)
        rows += [
            ("first load of the new 1% (baseline)", f"{args.rows // 100:,} rows", first_new, 1.0),
            ("read and hash the whole file", f"{args.rows:,} rows", scan, scan / first_new),
            ("re-export: 99% stored", f"{known:,} rows found stored", again, again / first_new),
        ]
        rules, group_by = rules_ratio(folder, args.rule_sets, args.repeat)
        rows += [
            ("GROUP BY athlete, exercise (baseline)", f"{args.rule_sets:,} sets", group_by, 1.0),
            ("progression rules", f"{args.rule_sets:,} sets", rules, rules / group_by),
        ]
        # Four Prefect start-ups: too slow for the smoke run that `make test` includes.
        noop, empty = (0.0, 1.0) if args.quick else nothing_to_do(folder, args.repeat)
        if not args.quick:
            rows += [
                ("empty Prefect flow run (baseline)", "whole process", empty, 1.0),
                ("repflow run, nothing new", "whole process", noop, noop / empty),
            ]
        print(f"{'measurement':40} {'input':34} {'seconds':>9} {'ratio':>7}")
        for label, what, seconds, ratio in rows:
            print(f"{label:40} {what:34} {seconds:9.2f} {ratio:7.2f}")
        # Three Prefect flows and two Dask clusters: left out of the smoke run (tests/flows/
        # test_dask.py runs both runners); its generated inbox and the stages are kept.
        if args.quick:
            build(folder / "inbox", args.files, sessions=args.sessions)
        else:
            runs = runner_rates(folder, args.files, args.sessions)
            print(f"\n{'nightly flow, runner':40} {'input':34} {'seconds':>9} {'files/s':>7} ratio")
            for label, seconds, read in runs:
                what = f"{args.files} files, {read:,} rows"
                ratio = runs[0][1] / seconds  # above 1: faster than the local runner
                rate = args.files / seconds
                print(f"{label:40} {what:34} {seconds:9.2f} {rate:7.2f} {ratio:5.2f}")
        # Whole processes against DuckDB over the same small files (bench/many_files.py).
        counts = [int(count) for count in args.many_files.split(",") if int(count)]
        if counts:
            print()
            print("\n".join(many_files.report(many_files.measure(folder, counts, 3))))
        print(f"\n{'stage, in one process':40} {'files/s':>9} {'rows/s':>9}")
        for stage, seconds, count, read in stage_rates(folder / "inbox", folder):
            print(f"{stage:40} {count / seconds:9.1f} {read / seconds:9,.0f}")
        parquet = parquet_bytes_per_row(folder / "stages.duckdb", folder)
        print(f"sets as zstd Parquet: {parquet:.1f} bytes per row")
        print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")
        if large_rss is not None:
            print(f"large_file_peak_rss_mb: {large_rss:.0f}")
        print(f"reexport_vs_first_load_of_new_rows: {(again - scan) / first_new:.2f}")
        if not args.quick:
            print(f"nothing_to_do_vs_empty_flow: {noop / empty:.2f}")
        print(f"rules_seconds: {rules:.2f}")
        print(f"rules_vs_group_by: {rules / group_by:.2f}")
        print(f"ingest_vs_duckdb_read_csv: {ingested / baseline:.2f}")


if __name__ == "__main__":
    main()
