"""The file records: a file as discovered and what became of it (`ingested_files`), and what
the warehouse holds of files: contents loaded, paths recorded, an athlete's earlier reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import duckdb
import polars as pl

from warehouse.db import transaction

Status = Literal["loaded", "duplicate", "failed"]


@dataclass(frozen=True)
class FileInfo:
    """A file as discovered: where it is, what it holds, and whose it is."""

    file_id: str
    path: str
    sha256: str
    bytes: int
    athlete_id: str | None


@dataclass(frozen=True)
class FileOutcome:
    status: Status
    format: str | None = None
    error: str | None = None
    loaded: int = 0
    revised: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0
    corrected: int = 0  # stored sets a fixed reader changed or removed (set_corrections)
    reader_version: int | None = None
    # What was decided for the file (sources.base.Decisions): stored, and listed.
    unit: str | None = None  # the unit its loads were read in
    unit_source: str | None = None  # file_unit, file, loads, earlier_files or setting
    unit_evidence: str | None = None  # what was decided, and from what
    date_order: str | None = None  # dmy or mdy, for dates written in numbers
    date_order_source: str | None = None  # file, earlier_files, setting or undecided
    # How the file was read (sources.base.Notes): listed in the run's summary, not stored.
    ignored: tuple[str, ...] = ()  # members of a bundle ignored as junk
    unknown: tuple[str, ...] = ()  # members of a bundle in no known format, with why
    decoded_as: str | None = None  # an encoding other than UTF-8


# Per format, the unit and the day/month order of this athlete's latest loaded files whose own
# were decided, not stated or set (the sources are the readers' to name: `sticky_*`).
EARLIER_READS = """
    SELECT format,
           arg_max(unit, ingested_at) FILTER (WHERE list_contains($units, unit_source)),
           arg_max(date_order, ingested_at) FILTER (WHERE list_contains($orders, date_order_source))
    FROM ingested_files
    WHERE athlete_id = $athlete AND status = 'loaded' AND file_id IS DISTINCT FROM $excluding
    GROUP BY format
"""


def earlier_reads(
    con: duckdb.DuckDBPyConnection,
    athlete_id: str,
    sticky_units: tuple[str, ...],
    sticky_orders: tuple[str, ...],
    excluding: str | None = None,
) -> dict[str, tuple[str | None, str | None]]:
    """Per format: the unit and the day/month order this athlete's earlier files of that format
    were read in, the latest whose unit came from one of `sticky_units` (and whose order from
    one of `sticky_orders`); the file `excluding` (one being read again) left out."""
    params = {
        "athlete": athlete_id,
        "units": list(sticky_units),
        "orders": list(sticky_orders),
        "excluding": excluding,
    }
    rows = con.execute(EARLIER_READS, params).fetchall()
    return {fmt: (unit, order) for fmt, unit, order in rows if unit or order}


def loaded_file_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT DISTINCT file_id FROM ingested_files WHERE status = 'loaded'")
    return {row[0] for row in rows.fetchall()}


def known_paths(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(file_id, path) pairs already recorded: a repeat sighting is not recorded again."""
    rows = con.execute("SELECT file_id, path FROM ingested_files WHERE status <> 'failed'")
    return {(row[0], row[1]) for row in rows.fetchall()}


def ingested_now() -> datetime:
    """When a file is recorded: later than any file recorded before it by this process, also
    within one batch's transaction (where now() stands still), so the latest of an athlete's
    files is the last stored (`warehouse.ingested.EARLIER_READS`)."""
    global _last_ingested
    at = max(datetime.now(UTC), _last_ingested + timedelta(microseconds=1))
    _last_ingested = at
    return at


_last_ingested = datetime.min.replace(tzinfo=UTC)


RECORD_COLUMNS = (
    "file_id, path, sha256, bytes, format, athlete_id, status, error, rows_loaded, "
    "rows_revised, rows_unchanged, rows_rejected, rows_skipped, run_id, ingested_at, "
    "reader_version, unit, unit_source, unit_evidence, date_order, date_order_source"
)


def _record_row(info: FileInfo, outcome: FileOutcome, run_id: str) -> tuple[object, ...]:
    """A file's row of `ingested_files`, in RECORD_COLUMNS' order."""
    return (
        info.file_id,
        info.path,
        info.sha256,
        info.bytes,
        outcome.format,
        info.athlete_id,
        outcome.status,
        outcome.error,
        outcome.loaded,
        outcome.revised,
        outcome.unchanged,
        outcome.rejected,
        outcome.skipped,
        run_id,
        ingested_now(),
        outcome.reader_version,
        outcome.unit,
        outcome.unit_source,
        outcome.unit_evidence,
        outcome.date_order,
        outcome.date_order_source,
    )


def record(
    con: duckdb.DuckDBPyConnection, info: FileInfo, outcome: FileOutcome, run_id: str
) -> None:
    """Record a file in `ingested_files`, in the caller's transaction."""
    # A failed attempt is replaced by the next attempt on the same file and path; a file that
    # could not be read at all (no sha256) by the next record of its path, whatever it holds.
    con.execute(
        "DELETE FROM ingested_files WHERE (file_id = ? AND path = ?) "
        "OR (path = ? AND athlete_id IS NOT DISTINCT FROM ? AND sha256 = '')",
        [info.file_id, info.path, info.path, info.athlete_id],
    )
    placeholders = ", ".join("?" for _ in RECORD_COLUMNS.split(","))
    con.execute(
        f"INSERT INTO ingested_files ({RECORD_COLUMNS}) VALUES ({placeholders})",
        list(_record_row(info, outcome, run_id)),
    )


def record_outcome(
    con: duckdb.DuckDBPyConnection, info: FileInfo, outcome: FileOutcome, run_id: str
) -> None:
    """Record a file that loaded nothing: a duplicate, or a failure with its reason."""
    with transaction(con):
        record(con, info, outcome, run_id)


def record_all(
    con: duckdb.DuckDBPyConnection,
    infos: list[FileInfo],
    outcomes: list[FileOutcome],
    run_id: str,
) -> None:
    """`record` of every file at once: no two files of a run share a path, so no record of one
    replaces another's."""
    rows = [
        _record_row(info, outcome, run_id) for info, outcome in zip(infos, outcomes, strict=True)
    ]
    names = [name.strip() for name in RECORD_COLUMNS.split(",")]
    frame = pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
    con.register("records_frame", frame.to_arrow())
    try:
        con.execute(
            "DELETE FROM ingested_files i USING records_frame r "
            "WHERE (i.file_id = r.file_id AND i.path = r.path) "
            "OR (i.path = r.path AND i.athlete_id IS NOT DISTINCT FROM r.athlete_id "
            "AND i.sha256 = '')"
        )
        con.execute(
            f"INSERT INTO ingested_files ({RECORD_COLUMNS}) SELECT {RECORD_COLUMNS} "
            "FROM records_frame"
        )
    finally:
        con.unregister("records_frame")
