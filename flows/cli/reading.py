"""The commands that read the analyst snapshot (or the lake): `flags`, `status` and `report`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from flows import progress, runs
from flows.cli.common import (
    AthleteOpt,
    ConfigOpt,
    DbOpt,
    Format,
    WarehouseOpt,
    analyst_target,
    app,
    clean_errors,
    err,
    fail,
    load_config,
    out,
    print_frame,
    read_frame,
)
from rules.reasons import prescription

# Loads in kg and, beside them, in the athlete's unit (load_unit), as v_current_flags has them.
FLAG_QUERY = """
SELECT f.athlete_id, f.exercise_id, e.name AS exercise, f.kind, f.action, f.current_sets,
       f.current_reps, f.current_load_kg, f.current_load, f.next_sets, f.next_reps,
       f.next_load_kg, f.next_load, f.load_unit, f.reason, f.evidence, f.program_id, f.as_of
FROM v_current_flags f
LEFT JOIN exercises e USING (exercise_id)
WHERE (? IS NULL OR f.athlete_id = ?)
ORDER BY f.athlete_id, f.exercise_id, f.kind DESC, f.action
"""
# Excel reads a CSV file as UTF-8 only when it starts with a byte order mark; without one it
# garbles "×" and every accent.
BOM = "\ufeff"


def print_flags(
    flags: pl.DataFrame,
    fmt: Format,
    shown: int | None = None,
    rest: str = "repflow flags",
    excel: bool = False,
) -> None:
    """Print `flags` as `fmt`; as a table, only the first `shown` of them when given, and the
    command `rest` that lists them all. `excel`: a CSV with the byte order mark Excel needs."""
    # Machine formats go to stdout as they are: rich would wrap long lines at the console's
    # width (breaking a JSON string) and read `[...]` in a reason as markup.
    if fmt is Format.json:
        sys.stdout.write(json.dumps(flags.to_dicts(), default=str, ensure_ascii=False, indent=2))
        sys.stdout.write("\n")
        return
    if fmt is Format.csv:
        text = (BOM if excel else "") + csv_safe(flags).write_csv()
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))  # UTF-8 whatever the locale says
        sys.stdout.buffer.flush()
        return
    rows = flags.head(shown) if shown is not None else flags
    table = rows.select(
        athlete="athlete_id",
        exercise="exercise_id",
        action="action",
        now=prescription(pl.col("current_sets"), pl.col("current_reps"), pl.col("current_load_kg")),
        next=prescription(pl.col("next_sets"), pl.col("next_reps"), pl.col("next_load_kg")),
        reason="reason",
    )
    print_frame("", table)
    if rows.height < flags.height:
        out.print(
            f"… and {flags.height - rows.height:,} more: `{rest}` lists them all "
            "(`--format csv` for a spreadsheet).",
            markup=False,
        )


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Neutralise spreadsheet formulas (=, +, -, @ at the start of a text cell)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    frame = frame.with_columns(pl.col(lists).list.eval(pl.element().cast(pl.String)).list.join(" "))
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(r"^[=+\-@\t\r]"))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text + lists
    )


@app.command()
def flags(
    db: DbOpt = None,
    athlete: AthleteOpt = None,
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    excel: Annotated[
        bool,
        typer.Option(
            "--excel", help="With --format csv: start with the byte order mark Excel needs."
        ),
    ] = False,
    config: ConfigOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Print the current flags (from the analyst snapshot, or the DuckLake). In CSV and JSON,
    loads are in kg and, beside them, in the athlete's unit (current_load, next_load)."""
    if excel and format is not Format.csv:
        raise typer.BadParameter("only with --format csv", param_hint="--excel")
    frame = read_frame(analyst_target(db, config, warehouse), FLAG_QUERY, [athlete, athlete])
    if frame.height == 0 and format is Format.table:
        out.print("no flags yet: run `repflow run` after loading some sets")
        return
    print_flags(frame, format, excel=excel)


@app.command()
def status(db: DbOpt = None, config: ConfigOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Recent runs, failed files and reject counts (from the analyst snapshot, or the lake)."""
    snapshot = analyst_target(db, config, warehouse)
    runs = read_frame(
        snapshot,
        "SELECT run_id, command, status, finished_at, files_loaded, files_duplicate, "
        "files_failed, rows_loaded, rows_revised, rows_rejected, flags_emitted, error "
        "FROM runs ORDER BY finished_at DESC LIMIT 10",
    )
    failed = read_frame(
        snapshot,
        "SELECT path, athlete_id, error, ingested_at FROM ingested_files "
        "WHERE status = 'failed' ORDER BY ingested_at DESC",
    )
    rejects = read_frame(
        snapshot,
        "SELECT f.path, count(*) AS rejected FROM rejects r "
        "JOIN (SELECT DISTINCT file_id, path FROM ingested_files WHERE status = 'loaded') f "
        "USING (file_id) GROUP BY f.path ORDER BY rejected DESC, f.path",
    )
    print_frame("Recent runs", runs)
    print_frame("Failed files", failed, empty="no failed files")
    print_frame("Rejected rows by file", rejects, empty="no rejected rows")


@app.command()
def report(
    db: DbOpt = None,
    athlete: AthleteOpt = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write index.html into [./reports].")
    ] = Path("reports"),
    config: ConfigOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Write the offline HTML report (what to change next session, charts, data quality)."""
    from report import SnapshotOutdated, UnknownAthlete, write_report

    loaded = load_config(db=db, config=config, warehouse=warehouse)
    snapshot = analyst_target(db, config, warehouse)
    today = runs.today(loaded.settings.timezone)
    with clean_errors(), progress.charts(err) as drawn:
        try:
            written = write_report(snapshot, out_dir, loaded.programs, today, athlete, drawn)
        except UnknownAthlete as exc:
            raise fail(str(exc), 2) from None
        except SnapshotOutdated as exc:
            raise fail(str(exc), 1) from None
    athletes = "1 athlete" if written.athletes == 1 else f"{written.athletes} athletes"
    charts = "1 chart" if written.charts == 1 else f"{written.charts} charts"
    size = f"{written.bytes / 1_000_000:.1f} MB"
    out.print(f"wrote {written.path} ({athletes}, {charts}, {size})", markup=False)
