"""The commands that read the analyst snapshot (or the lake): `flags`, `status` and `report`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from flows import progress
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
from flows.runs import NOT_RUN, why_no_current_flags
from rules.reasons import prescription
from warehouse.flags import FLAG_ASSISTED

FLAG_QUERY = f"""
SELECT athlete_id, exercise_id, kind, action, current_sets, current_reps, current_load_kg,
       next_sets, next_reps, next_load_kg, load_unit, reason, evidence, f.program_id, as_of,
       {FLAG_ASSISTED} AS assisted
FROM v_current_flags f LEFT JOIN exercises e USING (exercise_id)
WHERE (? IS NULL OR athlete_id = ?)
ORDER BY athlete_id, exercise_id, kind DESC, action
"""


def print_flags(
    flags: pl.DataFrame, fmt: Format, shown: int | None = None, rest: str = "repflow flags"
) -> None:
    """Print `flags` as `fmt`; as a table, only the first `shown` of them when given, and the
    command `rest` that lists them all."""
    # Machine formats go to stdout as they are: rich would wrap long lines at the console's
    # width (breaking a JSON string) and read `[...]` in a reason as markup.
    if fmt is Format.json:
        sys.stdout.write(json.dumps(flags.to_dicts(), default=str, ensure_ascii=False, indent=2))
        sys.stdout.write("\n")
        return
    if fmt is Format.csv:
        sys.stdout.write(csv_safe(flags).write_csv())
        return
    rows = flags.head(shown) if shown is not None else flags
    # a run's own flags come from the rules, which do not say; the snapshot's do
    helped = pl.col("assisted") if "assisted" in rows.columns else None
    table = rows.select(
        athlete="athlete_id",
        exercise="exercise_id",
        action="action",
        now=prescription(
            pl.col("current_sets"), pl.col("current_reps"), pl.col("current_load_kg"), helped
        ),
        next=prescription(pl.col("next_sets"), pl.col("next_reps"), pl.col("next_load_kg"), helped),
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
    config: ConfigOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Print the current flags (from the analyst snapshot, or the DuckLake)."""
    where = analyst_target(db, config, warehouse)
    frame = read_frame(where, FLAG_QUERY, [athlete, athlete])
    if frame.height == 0 and format is Format.table:
        loaded = load_config(db=db, config=config, warehouse=warehouse)
        with clean_errors():
            why = why_no_current_flags(where, loaded, athlete)
        out.print(why or NOT_RUN, markup=False)
        return
    print_flags(frame, format)


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
    """Write the offline HTML report (charts, current flags, data quality) from the snapshot."""
    from report import SnapshotOutdated, UnknownAthlete, write_report  # loads matplotlib

    snapshot = analyst_target(db, config, warehouse)
    loaded = load_config(db=db, config=config, warehouse=warehouse)
    with clean_errors(), progress.charts(err) as drawn:
        try:
            why = why_no_current_flags(snapshot, loaded, athlete)
            written = write_report(snapshot, out_dir, athlete, drawn, why)
        except UnknownAthlete as exc:
            raise fail(str(exc), 2) from None
        except SnapshotOutdated as exc:
            raise fail(str(exc), 1) from None
    athletes = "1 athlete" if written.athletes == 1 else f"{written.athletes} athletes"
    out.print(f"wrote {written.path} ({athletes}, {written.charts} charts)", markup=False)
