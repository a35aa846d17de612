"""What the warehouse already holds of a file's rows, for a re-export (flows/reexport.py).

The known rows stay hashes: a million of them go to DuckDB as three integer columns, are
matched to their stored sets there, and are numbered there together with the file's new sets,
as `schemas.validate.number` numbers a whole file. Sets are grouped by hashes of their group
(athlete, session, exercise key) and of their key without the number, both computed here, by
one DuckDB, on both sides of every comparison.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from schemas.row_hash import HASH_COLUMNS
from warehouse.db import Warehouse, WarehouseLocked, bounded_memory, writer
from warehouse.ingested import earlier_reads
from warehouse.load import SESSION_ID

# Two differently salted hashes of the group: both colliding is not met in practice (and a
# key collision can only make a file fall back to the full read).
SET_HASHES = """
    hash({r}.athlete_id, {r}.session_id, {r}.exercise_key) AS group_a,
    hash('set group', {r}.exercise_key, {r}.session_id, {r}.athlete_id) AS group_b,
    hash({r}.athlete_id, {r}.exercise_key, CAST({r}.performed_at AS TIMESTAMPTZ)) AS set_key
"""
# Each known row with the stored sets its text gave: one, or several when the rows carry no
# set number and the same text stands in a group more than once.
STORED = f"""
    CREATE OR REPLACE TEMP TABLE reexport_stored AS
    SELECT o.source_line, o.numbered, s.set_index, {SET_HASHES.format(r="s")}
    FROM reexport_rows o JOIN sets s ON s.line_hash = o.line_hash AND s.line_check = o.line_check
    WHERE o.known
"""
# Every set of the file in file order, known and new, numbered as schemas.validate.number does:
# a set without a number is counted among every set of its group.
NUMBERED = f"""
    CREATE OR REPLACE TEMP TABLE reexport_numbered AS
    WITH known AS (
        SELECT source_line, true AS known, any_value(group_a) AS group_a,
               any_value(group_b) AS group_b, any_value(set_key) AS set_key,
               CASE WHEN any_value(numbered) THEN min(set_index) END AS given,
               min(set_index) AS stored_index, count(*) AS copies
        FROM reexport_stored
        GROUP BY source_line
    ),
    new AS (
        SELECT source_line, false AS known, {SET_HASHES.format(r="r")}, set_index AS given,
               NULL::INTEGER AS stored_index, NULL::BIGINT AS copies
        FROM (SELECT n.* REPLACE ({SESSION_ID.format(rows="n", fmt="$fmt")} AS session_id)
              FROM new_records n) r
    ),
    every AS (SELECT * FROM known UNION ALL SELECT * FROM new)
    SELECT *, coalesce(given, row_number() OVER (
        PARTITION BY group_a, group_b ORDER BY source_line)) AS set_index
    FROM every
"""
# Why a file cannot be taken as a re-export: a known row whose second hash denies the match
# (its text was not kept), one that would get another number than its stored set's, a key
# that repeats in the file (which copy is rejected is for the full read to say).
OBSTACLES = """
    SELECT
        (SELECT count(*) FROM reexport_rows WHERE known)
            - (SELECT count(*) FROM reexport_numbered WHERE known) AS unmatched,
        (SELECT count(*) FILTER (WHERE known AND copies = 1 AND set_index <> stored_index)
         FROM reexport_numbered)
        + (SELECT count(*) FROM reexport_numbered n
           WHERE n.known AND n.copies > 1 AND NOT EXISTS (
               SELECT 1 FROM reexport_stored s
               WHERE s.source_line = n.source_line AND s.set_index = n.set_index)) AS moved,
        (SELECT count(*) FROM (SELECT 1 FROM reexport_numbered
                               GROUP BY set_key, set_index HAVING count(*) > 1)) AS repeated
"""
# A stored reject's reasons follow from its row alone (only those keep hashes).
MATCHING_REJECTS = """
    SELECT r.line_hash, r.line_check, CAST(any_value(r.errors) AS VARCHAR) AS errors
    FROM rejects r SEMI JOIN line_hashes h
        ON r.line_hash = h.line_hash AND r.line_check = h.line_check
    GROUP BY r.line_hash, r.line_check
"""
# The files whose rejects a file's rows may repeat: of its format (and its folder athlete's).
FILE_SCOPE = "format = $fmt AND ($athlete IS NULL OR athlete_id = $athlete)"
# The stored hashes a look-up holds in memory, 8 bytes each: past this, files are read in full.
MAX_LOOKUP = 20_000_000
REJECTS_SCHEMA = pl.Schema(
    {"line_hash": pl.UInt64(), "line_check": pl.UInt64(), "errors": pl.String()}
)


@dataclass(frozen=True)
class Numbers:
    """The new sets' numbers, or what stands in the way (flows/reexport.py falls back)."""

    set_index: pl.DataFrame  # source_line, set_index of each new set
    unmatched: int
    moved: int
    repeated: int

    @property
    def exact(self) -> bool:
        return not (self.unmatched or self.moved or self.repeated)


class StoredLines:
    """Look-ups in one warehouse, connected on first use: most files never ask."""

    def __init__(self, where: Warehouse, stack: contextlib.ExitStack) -> None:
        self._where = where
        self._stack = stack
        self._con: duckdb.DuckDBPyConnection | None = None

    def _connection(self) -> duckdb.DuckDBPyConnection | None:
        if self._con is None:
            if isinstance(self._where, Path) and not self._where.exists():
                return None  # nothing stored yet, and parsing must not create the file
            try:
                self._con = self._stack.enter_context(writer(self._where))
            except WarehouseLocked:
                return None  # the look-up only saves work: the file is read in full
        return self._con

    def line_hashes(self, fmt: str, athlete: str | None) -> tuple[pl.Series, pl.Series]:
        """The `line_hash` of every stored set of format `fmt` (of `athlete` alone, when the
        file is one athlete's), and of every reject of such files, each sorted: a file's rows
        are looked up in these batch by batch, and the warehouse is asked about the ones that
        match once per file. Nothing, when there are more than MAX_LOOKUP such sets."""
        none = pl.Series(dtype=pl.UInt64), pl.Series(dtype=pl.UInt64)
        con = self._connection()
        if con is None:
            return none
        scope = "source_format = $fmt AND ($athlete IS NULL OR athlete_id = $athlete)"
        params = {"fmt": fmt, "athlete": athlete}
        count = con.execute(f"SELECT count(*) FROM sets WHERE {scope}", params).fetchone()
        if count is None or count[0] > MAX_LOOKUP:
            return none
        with bounded_memory(con):
            sets = con.execute(
                f"SELECT line_hash FROM sets WHERE {scope} AND line_hash NOT NULL ORDER BY 1",
                params,
            ).pl()
            rejects = con.execute(
                "SELECT line_hash FROM rejects WHERE line_hash NOT NULL AND file_id IN ("
                f"SELECT file_id FROM ingested_files WHERE {FILE_SCOPE}) ORDER BY 1",
                params,
            ).pl()
        return sets.to_series().cast(pl.UInt64), rejects.to_series().cast(pl.UInt64)

    def earlier_reads(
        self,
        athlete: str | None,
        sticky_units: tuple[str, ...],
        sticky_orders: tuple[str, ...],
        excluding: str | None = None,
    ) -> dict[str, tuple[str | None, str | None]]:
        """warehouse.ingested.earlier_reads for `athlete`; nothing for a file of no folder athlete,
        or before anything is stored."""
        con = self._connection() if athlete is not None else None
        if con is None or athlete is None:
            return {}
        return earlier_reads(con, athlete, sticky_units, sticky_orders, excluding)

    def matching_rejects(self, hashes: pl.DataFrame) -> pl.DataFrame:
        """Per hash pair (`line_hash`, `line_check`) stored as a reject: its reasons."""
        con = self._connection()
        if con is None:
            return pl.DataFrame(schema=REJECTS_SCHEMA)
        with _registered(con, line_hashes=hashes.select(HASH_COLUMNS)):
            found = con.execute(MATCHING_REJECTS).pl()
        return found.cast(dict(REJECTS_SCHEMA))  # type: ignore[arg-type]

    @contextlib.contextmanager
    def file_rows(self) -> Iterator[FileRows]:
        """A file's rows as DuckDB holds them, batch by batch: a temporary table that DuckDB
        may spill, so a ten-million-row file is not held in memory. Dropped at the end."""
        con = self._connection()
        assert con is not None  # asked only after line_hashes() found stored rows
        with bounded_memory(con):
            con.execute(ROWS)
            try:
                yield FileRows(con)
            finally:
                for table in ("reexport_rows", "reexport_stored", "reexport_numbered"):
                    con.execute(f"DROP TABLE IF EXISTS {table}")


# Every row of a file that is a set or may be one, in file order: its hashes, whether its hash
# is stored (`known`) and whether it gives its set number (`numbered`).
ROWS = """
    CREATE OR REPLACE TEMP TABLE reexport_rows (
        source_line BIGINT, line_hash UBIGINT, line_check UBIGINT, known BOOLEAN,
        numbered BOOLEAN
    )
"""


@dataclass(frozen=True)
class FileRows:
    con: duckdb.DuckDBPyConnection

    def add(self, rows: pl.DataFrame) -> None:
        """Append a batch's rows (source_line, line_hash, line_check, known, numbered)."""
        with _registered(self.con, batch_rows=rows):
            self.con.execute("INSERT INTO reexport_rows SELECT * FROM batch_rows")

    def number(self, records: pl.DataFrame, fmt: str) -> Numbers:
        """Number the new `records` (schemas.validate.checked) among all the file's sets."""
        new = records.select(
            "source_line", "athlete_id", "session_id", "session_key", "exercise_key",
            "performed_at", "set_index",
        )  # fmt: skip
        with _registered(self.con, new_records=new):
            self.con.execute(STORED)
            self.con.execute(NUMBERED, {"fmt": fmt})
        unmatched, moved, repeated = self.con.execute(OBSTACLES).fetchone() or (0, 0, 0)
        numbers = self.con.execute(
            "SELECT source_line, set_index::BIGINT AS set_index FROM reexport_numbered "
            "WHERE NOT known"
        ).pl()
        return Numbers(numbers, unmatched, moved, repeated)


@contextlib.contextmanager
def _registered(con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    for name, frame in frames.items():
        con.register(name, frame.to_arrow())
    try:
        yield
    finally:
        for name in frames:
            con.unregister(name)


@contextlib.contextmanager
def stored_lines(where: Warehouse) -> Iterator[StoredLines]:
    with contextlib.ExitStack() as stack:
        yield StoredLines(where, stack)
