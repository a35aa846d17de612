"""The run lock: one writer at a time, released by the operating system when a process dies.

A DuckDB file and a lake with a SQLite catalog are locked by a flock beside the file. A lake with
a PostgreSQL catalog is written from many machines, so its lock is a PostgreSQL advisory lock,
held by an open transaction: the server releases it when the holder ends or its connection
drops.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from warehouse.db import LOCK_POLL_S, Warehouse, WarehouseLocked
from warehouse.holders import describe, holder
from warehouse.lake import Lake, close, connect_catalog_db, quote

# Locks this process holds: taking one again is a no-op, so a command can lock before starting
# Prefect and the flow inside it can lock the same warehouse without waiting on itself.
_HELD: set[Path | Lake] = set()
# The advisory lock key: "repflow" in ASCII. One lake per PostgreSQL database.
ADVISORY_KEY = 0x7265706C6F77


def lock_path(db: Path) -> Path:
    """The lock beside the real file: two paths to one warehouse (a symbolic link) share it."""
    real = db.resolve()
    return real.with_name(real.name + ".run.lock")


def _held_by(handle: IO[str], path: Path, name: Warehouse, timeout_s: float) -> str:
    """Who holds the run lock: the kernel's holder when it can say (another repflow run writes
    its PID into the file; a backup's `flock` does not, and leaves the last run's PID there)."""
    handle.seek(0)
    written = handle.read().strip()
    pid = holder(path)
    waited = f"waited {timeout_s:g} s"
    if pid is not None and written != str(pid):
        return f"{name} is held by {describe(pid)}, which holds its run lock {path}; {waited}"
    return f"another repflow run (PID {written or pid or 'unknown'}) is writing {name}; {waited}"


@contextmanager
def run_lock(where: Warehouse, timeout_s: float = 0.0) -> Iterator[None]:
    """Hold the writer's lock on `where`; wait up to `timeout_s`, then say who holds it."""
    if isinstance(where, Path):
        with _file_lock(where, where.resolve(), timeout_s):
            yield
    elif where in _HELD:
        yield
    elif where.kind == "sqlite":
        with _file_lock(Path(where.catalog), where, timeout_s):
            yield
    else:
        with _advisory_lock(where, timeout_s):
            _HELD.add(where)
            try:
                yield
            finally:
                _HELD.discard(where)


@contextmanager
def _file_lock(db: Path, name: Warehouse, timeout_s: float) -> Iterator[None]:
    """An exclusive flock beside `db`."""
    path = lock_path(db)
    if path in _HELD:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseLocked(_held_by(handle, path, name, timeout_s)) from None
                time.sleep(LOCK_POLL_S)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        _HELD.add(path)
        try:
            yield
        finally:
            _HELD.discard(path)
    finally:
        handle.close()  # closing the descriptor releases the flock


@contextmanager
def _advisory_lock(lake: Lake, timeout_s: float) -> Iterator[None]:
    """pg_try_advisory_xact_lock in a transaction kept open on a connection of its own."""
    con = connect_catalog_db(lake)
    try:
        con.execute(f"ATTACH {quote(lake.catalog)} AS lock_db (TYPE postgres)")
        con.execute("BEGIN TRANSACTION")
        deadline = time.monotonic() + timeout_s
        while True:
            got = con.execute(
                "SELECT * FROM postgres_query('lock_db', "
                f"'SELECT pg_try_advisory_xact_lock({ADVISORY_KEY})')"
            ).fetchone()
            if got and got[0]:
                break
            if time.monotonic() >= deadline:
                raise WarehouseLocked(
                    f"another repflow run is writing {lake} (it holds PostgreSQL advisory "
                    f"lock {ADVISORY_KEY}); waited {timeout_s:g} s"
                )
            time.sleep(LOCK_POLL_S)
        yield
    finally:
        close(con)  # ends the transaction and so releases the lock, the server alive or not
