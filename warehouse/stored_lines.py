"""Which input rows the warehouse already holds, for a re-export (flows/reexport.py).

Look-ups answer with hashes, not text: a million known rows cross into polars as a few
integer columns. `group_a`/`group_b` stand for a set's numbering group (athlete, session,
exercise key), `set_key` for its natural key without the set number; both sides of every
comparison are hashed here, by the same DuckDB, in the same run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl

from schemas.row_hash import HASH_COLUMNS
from warehouse.db import Warehouse, writer
from warehouse.load import SESSION_ID

# Two differently salted hashes of the group: a collision of both is never met in practice.
SET_HASHES = """
    hash({r}.athlete_id, {r}.session_id, {r}.exercise_key) AS group_a,
    hash('set group', {r}.exercise_key, {r}.session_id, {r}.athlete_id) AS group_b,
    hash({r}.athlete_id, {r}.exercise_key, CAST({r}.performed_at AS TIMESTAMPTZ)) AS set_key
"""
MATCHING_SETS = f"""
    SELECT s.line_hash, s.line_check, {SET_HASHES.format(r="s")}, s.set_index::BIGINT AS set_index
    FROM sets s SEMI JOIN line_hashes h
        ON s.line_hash = h.line_hash AND s.line_check = h.line_check
"""
# A stored reject's reasons follow from its row alone (only those keep hashes).
MATCHING_REJECTS = """
    SELECT r.line_hash, r.line_check, CAST(any_value(r.errors) AS VARCHAR) AS errors
    FROM rejects r SEMI JOIN line_hashes h
        ON r.line_hash = h.line_hash AND r.line_check = h.line_check
    GROUP BY r.line_hash, r.line_check
"""
SETS_SCHEMA = pl.Schema(
    {
        "line_hash": pl.UInt64(),
        "line_check": pl.UInt64(),
        "group_a": pl.UInt64(),
        "group_b": pl.UInt64(),
        "set_key": pl.UInt64(),
        "set_index": pl.Int64(),
    }
)
REJECTS_SCHEMA = pl.Schema(
    {"line_hash": pl.UInt64(), "line_check": pl.UInt64(), "errors": pl.String()}
)


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
            self._con = self._stack.enter_context(writer(self._where))
        return self._con

    def _query(self, sql: str, name: str, frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
        con = self._connection()
        if con is None:
            return pl.DataFrame(schema=schema)
        con.register(name, frame.to_arrow())
        try:
            return con.execute(sql).pl().cast(dict(schema))  # type: ignore[arg-type]
        finally:
            con.unregister(name)

    def matching(self, hashes: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The stored sets and rejects read from rows with these hashes (`line_hash`,
        `line_check`): each set's hashes, group, key and number; each reject's reasons."""
        hashes = hashes.select(HASH_COLUMNS)
        sets = self._query(MATCHING_SETS, "line_hashes", hashes, SETS_SCHEMA)
        rejects = self._query(MATCHING_REJECTS, "line_hashes", hashes, REJECTS_SCHEMA)
        return sets, rejects

    def set_hashes(self, records: pl.DataFrame, fmt: str) -> pl.DataFrame:
        """`group_a`, `group_b` and `set_key` of set records (schemas.validate), as `sets`
        will store them: the session id is derived as warehouse.load derives it."""
        keys = records.select(
            "athlete_id", "session_id", "session_key", "exercise_key", "performed_at"
        )
        with_session = (
            f"SELECT k.* REPLACE ({SESSION_ID.format(rows='k', fmt='$fmt')} AS session_id) "
            "FROM record_keys k"
        )
        con = self._connection()
        assert con is not None  # asked only after matching() found stored rows
        con.register("record_keys", keys.to_arrow())
        try:
            found = con.execute(
                f"SELECT {SET_HASHES.format(r='k')} FROM ({with_session}) k", {"fmt": fmt}
            ).pl()
        finally:
            con.unregister("record_keys")
        return found.cast(pl.UInt64)


@contextlib.contextmanager
def stored_lines(where: Warehouse) -> Iterator[StoredLines]:
    with contextlib.ExitStack() as stack:
        yield StoredLines(where, stack)
