"""A spooled (large) file staged for the loader: its sets numbered across its batches and each
key's later rows set apart, read from the spool's Parquet parts as they are needed."""

from __future__ import annotations

import duckdb
import polars as pl

from schemas.validate import SET_GROUP
from warehouse.spool import Spool

# Key of a set within one file, for the duplicate check: validate() finds a file's repeated
# keys in polars when it reads the file at once; a spooled file's span batches.
FILE_KEY = "athlete_id, performed_at, exercise_key, set_index"
GROUP = ", ".join(SET_GROUP)
GROUP_MATCH = " AND ".join(f"o.{c} = s.{c}" for c in (*SET_GROUP, "batch"))
# Sets without a number were numbered within their batch: a group that goes on from earlier
# batches continues from the number of sets it had in them.
OFFSETS = f"""
    CREATE OR REPLACE TEMP TABLE spool_offsets AS
    SELECT * FROM (
        SELECT {GROUP}, batch,
               (sum(sets) OVER (PARTITION BY {GROUP} ORDER BY batch) - sets)::BIGINT AS earlier
        FROM {{groups}}
    )
    WHERE earlier > 0
"""
CONTINUED = f"""
    SELECT s.* EXCLUDE (set_index, derived, batch),
           s.set_index + CASE WHEN s.derived THEN coalesce(o.earlier, 0) ELSE 0 END AS set_index
    FROM {{sets}} s LEFT JOIN spool_offsets o ON {GROUP_MATCH}
"""
# Later rows of a repeated key: only rows whose key hash repeats are compared in full.
REPEATS = f"""
    CREATE OR REPLACE TEMP TABLE spool_repeats AS
    SELECT source_line FROM (
        SELECT source_line,
               row_number() OVER (PARTITION BY {FILE_KEY} ORDER BY source_line) AS copy
        FROM spooled
        WHERE hash({FILE_KEY}) IN (
            SELECT h FROM (SELECT hash({FILE_KEY}) AS h FROM spooled)
            GROUP BY h HAVING count(*) > 1
        )
    )
    WHERE copy > 1
"""


def unspool(con: duckdb.DuckDBPyConnection, spool: Spool) -> pl.DataFrame:
    """Stage a spool as the view `incoming_frame`, its sets numbered and each key's later rows
    left out; return those later rows, to be rejected."""
    sets = parquet(spool.sets_pattern)
    if spool.unnumbered:
        con.execute(OFFSETS.format(groups=parquet(spool.groups_pattern)))
        rows = CONTINUED.format(sets=sets)
    else:
        rows = f"SELECT * EXCLUDE (derived, batch) FROM {sets}"
    # A view: the spool is read as it is needed, never held whole.
    con.execute(f"CREATE OR REPLACE TEMP VIEW spooled AS {rows}")
    con.execute(REPEATS)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW incoming_frame AS SELECT * EXCLUDE (raw) FROM spooled "
        "WHERE source_line NOT IN (SELECT source_line FROM spool_repeats)"
    )
    return con.execute(
        "SELECT * FROM spooled WHERE source_line IN (SELECT source_line FROM spool_repeats) "
        "ORDER BY source_line"
    ).pl()


def parquet(pattern: str) -> str:
    return "read_parquet('{}')".format(pattern.replace("'", "''"))


def drop_spool(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP VIEW IF EXISTS incoming_frame")
    con.execute("DROP TABLE IF EXISTS spool_repeats")
    con.execute("DROP VIEW IF EXISTS spooled")
    con.execute("DROP TABLE IF EXISTS spool_offsets")
