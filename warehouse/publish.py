"""The analyst snapshot: a copy of the working database, replaced atomically.

Analysts open the snapshot read-only and never block the nightly writer; a reader that holds
the old file keeps reading it until it reconnects (rename keeps the old inode alive).
A DuckLake needs no copy: analysts attach the lake itself, read-only, and every commit is a
snapshot they can read or travel back to.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from warehouse.db import Warehouse, connect, writer
from warehouse.lake import Lake, current_snapshot


class DamagedCopy(RuntimeError):
    """The copy of the working database does not read back whole: the snapshot is kept."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(where: Warehouse, snapshot: Path, timeout_s: float = 0.0) -> int | None:
    """Checkpoint the file, copy it beside `snapshot`, and rename the copy over `snapshot`.

    A lake needs no copy: return its snapshot id, for the run summary."""
    if isinstance(where, Lake):
        with writer(where) as con:
            return current_snapshot(con)
    _copy(where, snapshot, timeout_s)
    return None


def _copy(db: Path, snapshot: Path, timeout_s: float) -> None:
    tmp = snapshot.with_name(snapshot.name + ".tmp")
    con = connect(db, timeout_s=timeout_s)
    try:
        con.execute("CHECKPOINT")
        shutil.copyfile(db, tmp)
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        con.close()  # a reader may then open the copy, the same file as the working database
        check(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk must not keep half a copy
        raise
    finally:
        con.close()
    os.replace(tmp, snapshot)
    _fsync_dir(snapshot.parent)


def check(copy: Path) -> None:
    """Read every row of every table of `copy`, so that DuckDB verifies each block's checksum: a
    damaged working database (a truncated file) must not replace a good snapshot."""
    try:
        con = duckdb.connect(str(copy), read_only=True)
        try:
            tables = con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchall()
            for (table,) in tables:
                quoted = '"' + table.replace('"', '""') + '"'
                con.execute(f"SELECT max(hash(t)) FROM {quoted} AS t").fetchall()
        finally:
            con.close()
    except duckdb.Error as exc:
        raise DamagedCopy(
            "the working database does not read back whole, so the snapshot was not replaced: "
            + str(exc).splitlines()[0]
        ) from None
