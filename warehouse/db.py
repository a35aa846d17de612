"""Opening the warehouse: lock waits with a clear message, and numbered migrations.

The warehouse is a DuckDB file or a DuckLake (warehouse/lake.py); both run the same SQL.
DuckDB allows one read-write process or many read-only ones. A writer that finds the file held
waits a bounded time, then says which process holds it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb

from schemas.settings import Settings
from warehouse import lake as ducklake
from warehouse.holders import describe
from warehouse.lake import Lake

# Where the warehouse lives: a DuckDB file, or a DuckLake.
Warehouse = Path | Lake

LOCK_POLL_S = 0.2


class WarehouseLocked(RuntimeError):
    """Another process holds the database; the message names it when DuckDB does."""


class WarehouseMissing(FileNotFoundError):
    """A reader asked for a database that no run has written yet."""


def target(settings: Settings) -> Warehouse:
    """The DuckLake that `warehouse` names, else the DuckDB file at `db`."""
    if settings.warehouse is None:
        return settings.db
    return Lake.parse(settings.warehouse, settings.data_path)


def _holder(message: str) -> str:
    """The process DuckDB names as holding its file lock, with its command line: another tool
    (a DuckDB shell, a notebook) as often as another run."""
    pid = re.search(r"PID (\d+)", message)
    return describe(int(pid.group(1))) if pid else "another process"


def connect(
    path: Path, read_only: bool = False, timeout_s: float = 0.0
) -> duckdb.DuckDBPyConnection:
    """Open `path`, waiting up to `timeout_s` for another process's lock to go away."""
    if read_only and not path.exists():
        raise WarehouseMissing(f"{path} does not exist yet: run `repflow run` or `repflow ingest`")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLocked(
                    f"{path} is held by {_holder(str(exc))}; waited {timeout_s:g} s"
                ) from None
            time.sleep(LOCK_POLL_S)


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every file in warehouse/migrations, in order."""
    found = []
    for entry in resources.files("warehouse.migrations").iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _create_migrations_table(con: duckdb.DuckDBPyConnection) -> None:
    with transaction(con):
        con.execute(
            "CREATE TABLE schema_migrations "
            "(version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
        for target, text in (
            ("TABLE schema_migrations", "Numbered SQL migrations applied to this database."),
            (
                "COLUMN schema_migrations.version",
                "The number of the migration file (0001_*.sql is 1).",
            ),
            ("COLUMN schema_migrations.name", "The name of the migration file after its number."),
            ("COLUMN schema_migrations.applied_at", "When it was applied."),
        ):
            con.execute(f"COMMENT ON {target} IS '{text}'")


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending migrations, each in its own transaction; return the versions applied.

    A database that is up to date is only read: opening the warehouse writes nothing."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE table_name = 'schema_migrations' AND database_name = current_database()"
    ).fetchone()
    if not exists or not exists[0]:
        _create_migrations_table(con)
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    in_lake = ducklake.is_lake(con)
    applied = []
    for version, name, sql in migrations():
        if version in done:
            continue
        with transaction(con):
            if in_lake:
                _execute_in_lake(con, sql)
            else:
                con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
        applied.append(version)
    return applied


VIEW_COLUMN_COMMENT = re.compile(r"(?:\s|--[^\n]*\n)*COMMENT ON COLUMN (\w+)\.", re.IGNORECASE)
CREATE_VIEW = re.compile(r"(?:\s|--[^\n]*\n)*CREATE (?:OR REPLACE )?VIEW (\w+)", re.IGNORECASE)


def _execute_in_lake(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """DuckLake keeps comments on tables, views and table columns, not on view columns: those
    are skipped there (docs/warehouse.md, generated from a DuckDB file, still has them)."""
    views = {
        row[0]
        for row in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE database_name = current_database()"
        ).fetchall()
    }
    for statement in con.extract_statements(sql):
        if created := CREATE_VIEW.match(statement.query):
            views.add(created.group(1))
        commented = VIEW_COLUMN_COMMENT.match(statement.query)
        if commented is None or commented.group(1) not in views:
            con.execute(statement)


@contextmanager
def writer(where: Warehouse, timeout_s: float = 0.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """The read-write connection, migrated to the current schema."""
    if isinstance(where, Lake):
        con = ducklake.writer_cursor(where)
    else:
        con = connect(where, timeout_s=timeout_s)
    try:
        migrate(con)
        yield con
    finally:
        con.close()


@contextmanager
def reader(
    where: Warehouse, at: int | datetime | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; on a lake, `at` opens an earlier snapshot."""
    if isinstance(where, Lake):
        if where.kind == "sqlite" and not Path(where.catalog).exists():
            raise WarehouseMissing(f"{where} does not exist yet: run `repflow run` or `ingest`")
        con = ducklake.attach(where, read_only=True, at=at)
    else:
        con = connect(where, read_only=True)
    try:
        yield con
    finally:
        con.close()


# DuckDB would otherwise keep up to 80% of the machine's memory for a large file's numbering,
# duplicate check and new row groups; under this limit it writes them out or spills instead.
BOUNDED_MEMORY = "512MB"


@contextmanager
def bounded_memory(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """DuckDB held to BOUNDED_MEMORY, and free to produce rows in any order (keeping the
    order of a large input makes it buffer). Settings are not part of a transaction: they are
    reset however the block ends, and a failed reset never hides the block's own error."""
    con.execute(f"SET memory_limit = '{BOUNDED_MEMORY}'")
    con.execute("SET preserve_insertion_order = false")
    try:
        yield con
    except BaseException:
        with suppress(duckdb.Error):
            _reset_memory(con)
        raise
    _reset_memory(con)


def _reset_memory(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("RESET memory_limit")
    con.execute("RESET preserve_insertion_order")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
