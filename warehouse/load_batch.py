"""Storing a batch of files in one transaction, with exactly what storing them one by one in
file order gives. The common night (new per-workout files, no stored set in their range, no
key shared between two of them) is one INSERT of their sets, one of their rejects and one of
their `ingested_files` rows; any other batch is stored file by file inside the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from warehouse.db import transaction
from warehouse.frames import each_row
from warehouse.ingested import FileInfo, FileOutcome, record, record_all, record_outcome
from warehouse.load import (
    SET_COLUMNS,
    Loadable,
    Merged,
    exercise_names_of,
    fresh,
    load_file,
    load_in,
    loaded_outcome,
    staged_rows,
)
from warehouse.spool import Spool

# Errors that are not a file's: the disk, memory, the database itself. They fail the run, and
# no file is marked failed for them (the next run retries). Any other error storing a file is
# that file's data (or a bug it meets): it fails that file alone.
NOT_A_FILES = (
    OSError,
    MemoryError,
    duckdb.OperationalError,  # I/O, out of memory, connection, transaction conflicts
    duckdb.FatalException,
    duckdb.InternalException,
    duckdb.InterruptException,
    duckdb.PermissionException,
)


@dataclass(frozen=True)
class Entry:
    """One file of a batch: its rows to store, or the outcome to record as it is (a duplicate,
    a failure)."""

    info: FileInfo
    parsed: Loadable | None = None
    outcome: FileOutcome | None = None


def store_batch(
    con: duckdb.DuckDBPyConnection, entries: Sequence[Entry], run_id: str
) -> list[FileOutcome]:
    """Store `entries` in file order, all or nothing; each file's outcome. A spooled (large)
    file is stored with its own memory bounds, in a transaction of its own."""
    if any(isinstance(entry.parsed and entry.parsed.sets, Spool) for entry in entries):
        return [_store_alone(con, entry, run_id) for entry in entries]
    with transaction(con):
        together = _together(con, entries, run_id)
        if together is not None:
            return together
        return [_store_in(con, entry, run_id) for entry in entries]


def _store_alone(con: duckdb.DuckDBPyConnection, entry: Entry, run_id: str) -> FileOutcome:
    if entry.parsed is None:
        assert entry.outcome is not None
        record_outcome(con, entry.info, entry.outcome, run_id)
        return entry.outcome
    return load_file(con, entry.info, entry.parsed, run_id)


def _store_in(con: duckdb.DuckDBPyConnection, entry: Entry, run_id: str) -> FileOutcome:
    if entry.parsed is None:
        assert entry.outcome is not None
        record(con, entry.info, entry.outcome, run_id)
        return entry.outcome
    return load_in(con, entry.info, entry.parsed, run_id)


def _plain(parsed: Loadable) -> bool:
    """A file of sets and rejects alone: no machines, muscle groups or reps to store with them,
    and no rows looked up as stored already."""
    extras = (parsed.machines, parsed.muscles, parsed.rep_metrics)
    return parsed.known == 0 and all(extra is None or extra.height == 0 for extra in extras)


def _together(
    con: duckdb.DuckDBPyConnection, entries: Sequence[Entry], run_id: str
) -> list[FileOutcome] | None:
    """The batch stored set-based, when that is what storing its files one by one would store:
    every file plain, no key in two of its files, no stored set in its range for its athletes
    (`fresh`). None otherwise, with nothing written."""
    loads = [
        (entry.info, entry.parsed, entry.parsed.sets, entry.parsed.rejects)
        for entry in entries
        if entry.parsed is not None and _plain(entry.parsed)
    ]
    if len(loads) < 2 or len(loads) < sum(entry.parsed is not None for entry in entries):
        return None
    tables = {
        info.file_id: (parsed, sets, rejects)
        for info, parsed, sets, rejects in loads
        if isinstance(sets, pl.DataFrame) and isinstance(rejects, pl.DataFrame)
    }
    if len(tables) < len(loads):  # spooled, or a copy of a file of the batch: file by file
        return None
    sets = _frame([(file_id, own[1], own[0].format) for file_id, own in tables.items()])
    key = ["source_format", "athlete_id", "performed_at", "exercise_key", "set_index"]
    if sets.height and sets.select(pl.struct(key).is_duplicated().any()).item():
        return None
    con.register("incoming_frame", sets.to_arrow())
    try:
        fmt = loads[0][1].format
        if not fresh(con, fmt):
            return None
        with exercise_names_of(con, fmt):
            con.execute(
                f"INSERT INTO sets ({SET_COLUMNS}) SELECT *, $run_id AS run_id FROM "
                f"({staged_rows('$fmt', 'f.file_id')})",
                {"fmt": fmt, "run_id": run_id},
            )
    finally:
        con.unregister("incoming_frame")
    rejects = _frame([(file_id, own[2], None) for file_id, own in tables.items()])
    con.register("rejects_frame", rejects.to_arrow())
    try:
        con.execute(
            "INSERT INTO rejects (file_id, source_line, raw, errors, run_id, line_hash, "
            "line_check) SELECT file_id, source_line, raw, CAST(errors AS JSON), $run_id, "
            "line_hash, line_check FROM rejects_frame",
            {"run_id": run_id},
        )
    finally:
        con.unregister("rejects_frame")
    outcomes = []
    for entry in entries:
        if entry.parsed is None:
            assert entry.outcome is not None
            outcomes.append(entry.outcome)
            continue
        _, own_sets, own_rejects = tables[entry.info.file_id]
        merged = Merged(own_sets.height, 0, 0, 0)
        outcomes.append(loaded_outcome(entry.parsed, merged, own_sets.height, own_rejects.height))
    record_all(con, [entry.info for entry in entries], outcomes, run_id)
    return outcomes


def _frame(parts: list[tuple[str, pl.DataFrame, str | None]]) -> pl.DataFrame:
    """The files' rows as one frame, each with its file's id, and for sets its format (a file's
    rows name their own only when it holds several): as each file's own load stages them."""
    frame = pl.concat([rows for _, rows, _ in parts], how="vertical_relaxed")
    heights = [rows.height for _, rows, _ in parts]
    ids = each_row([file_id for file_id, _, _ in parts], heights, "file_id", pl.String)
    frame = frame.with_columns(ids)
    if parts[0][2] is None:  # rejects
        return frame
    fmt = each_row([fmt for _, _, fmt in parts], heights, "format", pl.String)
    return frame.with_columns(pl.col("source_format").fill_null(fmt))
