"""The commands that read the analyst snapshot (or the lake): `flags`, `status` and `report`."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

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
    read_frame_unchecked,
)
from flows.runs import NOT_RUN, why_no_current_flags
from rules.reasons import prescription
from warehouse import journal
from warehouse.db import Warehouse, WarehouseMissing, target
from warehouse.flags import FLAG_ASSISTED
from warehouse.holders import holder
from warehouse.journal import journal_path
from warehouse.lock import lock_path

# Loads in kg and, beside them, in the athlete's unit (load_unit), as v_current_flags has them;
# `assisted`: the load is help (shown as such).
FLAG_QUERY = f"""
SELECT f.athlete_id, f.exercise_id, e.name AS exercise, f.kind, f.action, f.current_sets,
       f.current_reps, f.current_load_kg, f.current_load, f.next_sets, f.next_reps,
       f.next_load_kg, f.next_load, f.load_unit, f.reason, f.evidence, f.program_id, f.as_of,
       {FLAG_ASSISTED} AS assisted
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
    where = analyst_target(db, config, warehouse)
    frame = read_frame(where, FLAG_QUERY, [athlete, athlete])
    if frame.height == 0 and format is Format.table:
        loaded = load_config(db=db, config=config, warehouse=warehouse)
        with clean_errors():
            why = why_no_current_flags(where, loaded, athlete)
        out.print(why or NOT_RUN, markup=False)
        return
    print_flags(frame, format, excel=excel)


RUNS_QUERY = f"SELECT {', '.join(journal.RUN_COLUMNS)} FROM runs"
RUNS_SHOWN = 10


@app.command()
def status(db: DbOpt = None, config: ConfigOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Recent runs (the snapshot's, with the runs journal beside the warehouse), failed files
    and reject counts. Never opens the working database, which a run may be writing."""
    settings = load_config(db=db, config=config, warehouse=warehouse).settings
    snapshot = analyst_target(db, config, warehouse)
    with clean_errors():
        where = target(settings)
    records = journal.read(journal_path(where, settings.db))
    with clean_errors():
        try:
            stored: pl.DataFrame | None = read_frame_unchecked(snapshot, RUNS_QUERY)
        except WarehouseMissing:
            if not records:  # nothing ever ran: say so
                raise
            stored = None  # every run so far failed before it could publish
    print_frame("Recent runs", recent_runs(stored, records, where).drop("finished_at"))
    if stored is not None:
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
        print_frame("Failed files", failed, empty="no failed files")
        print_frame("Rejected rows by file", rejects, empty="no rejected rows")
    ended = [r for r in records if r.get("event") == "end"]
    problems = (ended[-1].get("problems") or []) if ended else []
    if problems:
        print_frame("Not read by the last run", pl.DataFrame({"path": problems}))


TIMES = ("started_at", "finished_at")


def recent_runs(
    stored: pl.DataFrame | None, records: list[dict[str, Any]], where: Warehouse
) -> pl.DataFrame:
    """The last RUNS_SHOWN runs: the journal's, which has every run (and the last word on each),
    and the snapshot's from before the journal. A run that started and never ended is
    `interrupted`, or `running` while it still holds the run lock."""
    rows = journal.runs(records)
    running = holder(lock_path(where)) if isinstance(where, Path) else None
    for row in rows:
        if row["status"] == "interrupted" and running is not None and row["pid"] == running:
            row.update(status="running", error=None)
        for name in TIMES:
            row[name] = _instant(row[name])
    schema = {
        name: pl.Datetime("us", "UTC")
        if name in TIMES
        else pl.Int64
        if name.startswith(("files_", "rows_", "flags_"))
        else pl.String
        for name in journal.RUN_COLUMNS
    }
    logged = pl.DataFrame([{k: row[k] for k in schema} for row in rows], schema=schema)
    if stored is not None:
        stored = stored.with_columns(
            pl.col(TIMES).dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        ).cast(schema)  # type: ignore[arg-type]
        logged = pl.concat([stored.join(logged, on="run_id", how="anti"), logged])
    return logged.sort("started_at", descending=True, nulls_last=True).head(RUNS_SHOWN)


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        return None


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
            why = why_no_current_flags(snapshot, loaded, athlete)
            written = write_report(snapshot, out_dir, loaded.programs, today, athlete, drawn, why)
        except UnknownAthlete as exc:
            raise fail(str(exc), 2) from None
        except SnapshotOutdated as exc:
            raise fail(str(exc), 1) from None
    athletes = "1 athlete" if written.athletes == 1 else f"{written.athletes} athletes"
    charts = "1 chart" if written.charts == 1 else f"{written.charts} charts"
    size = f"{written.bytes / 1_000_000:.1f} MB"
    out.print(f"wrote {written.path} ({athletes}, {charts}, {size})", markup=False)
