"""DuckLake: the warehouse as a catalog database (SQLite or PostgreSQL) plus Parquet files.

The lake is attached as `lake` and made the default catalog, so the migrations, the loader and
the views run the same SQL as on the single DuckDB file. DuckDB's ducklake, sqlite and postgres
extensions come from the `repflow[lake]` wheels when installed, else from DuckDB's own
`INSTALL` (which downloads them once).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

ALIAS = "lake"
# The extension that reads each kind of catalog database.
CATALOG_EXTENSIONS = {"sqlite": "sqlite_scanner", "postgres": "postgres_scanner"}
SPEC_RE = r"ducklake:(sqlite|postgres):(.+)"


class LakeUnavailable(RuntimeError):
    """DuckDB's DuckLake support cannot be loaded, or the lake is set up wrongly (exit 2)."""


@dataclass(frozen=True)
class Lake:
    """Where a DuckLake lives: `kind` is sqlite or postgres; `catalog` the SQLite file or the
    libpq connection string; `data_path` the folder or URL of the Parquet files."""

    kind: str
    catalog: str
    data_path: str | None = None

    @classmethod
    def parse(cls, spec: str, data_path: str | None) -> Lake:
        """`ducklake:sqlite:<file>` or `ducklake:postgres:<libpq string>`; local paths are made
        absolute, because the catalog keeps the data path for every later reader."""
        match = re.fullmatch(SPEC_RE, spec)
        if match is None:
            raise LakeUnavailable(
                f"{spec!r} is not a DuckLake warehouse: use ducklake:sqlite:<file> "
                "or ducklake:postgres:<connection string>"
            )
        kind, catalog = match.groups()
        if kind == "sqlite":
            catalog = str(Path(catalog).expanduser().absolute())
        if data_path is not None and "://" not in data_path:
            data_path = str(Path(data_path).expanduser().absolute()) + "/"
        return cls(kind, catalog, data_path)

    @property
    def spec(self) -> str:
        return f"ducklake:{self.kind}:{self.catalog}"

    def __str__(self) -> str:
        return redact(self.spec)


# A password in a libpq key/value string: `password=x`, `password = 'x y'` (quoted, `\'` and `\\`
# escaped), also `sslpassword=` and `PGPASSWORD=`. An unquoted value runs to white space, as libpq
# reads it, so a message that wraps the string in quotes loses its closing quote, not a secret.
# `\\?'` also takes a value quoted inside a repr (`\'x y\'`).
_KEY_VALUE = re.compile(
    r"(password\s*=\s*)(?:\\?'(?:\\[\s\S]?|[^'\\])*'?|(?:\\[\s\S]?|[^\s\\])+)?", re.I
)
# A password in a URI's user info: `postgresql://user:secret@host/db`. libpq ends the user info at
# the first `@` or `/`, and takes the password from the first `:`; it may hold white space.
_USER_INFO = re.compile(r"([a-z][a-z0-9+.-]*://[^\s/@:]*:)[^/@\n]*@", re.I)


def redact(text: str) -> str:
    """`text` with every password of a connection string in it shown as `***`: the libpq
    key/value form (quoted or not) and the URI form. Redact text before quoting it for a shell or
    SQL: a password inside doubled SQL quotes is not recognised."""
    return _USER_INFO.sub(r"\1***@", _KEY_VALUE.sub(r"\1***", text))


def redact_error(error: BaseException) -> BaseException:
    """`error` and the errors chained to it, their messages redacted in place, so that whoever
    reports them (Prefect's logs and its failed state, a traceback) shows no password."""
    pending, seen = [error], set()
    while pending:
        exc = pending.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        with suppress(AttributeError, TypeError):  # an error type that keeps its text elsewhere
            exc.args = tuple(redact(a) if isinstance(a, str) else a for a in exc.args)
            if isinstance(exc, OSError):
                for name in ("strerror", "filename", "filename2"):
                    value = getattr(exc, name)
                    if isinstance(value, str):
                        setattr(exc, name, redact(value))
            notes = getattr(exc, "__notes__", None)
            if isinstance(notes, list):
                notes[:] = [redact(note) if isinstance(note, str) else note for note in notes]
        pending += [e for e in (exc.__cause__, exc.__context__) if e is not None]
    return error


def _load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load `name` from its PyPI wheel when installed, else through DuckDB's INSTALL."""
    try:
        if importlib.util.find_spec(f"duckdb_extension_{name}") is not None:
            from duckdb_extensions import import_extension

            import_extension(name, con=con)
        else:
            con.execute(f"INSTALL {name}")
        con.execute(f"LOAD {name}")
    except (duckdb.Error, ImportError) as exc:
        first = str(exc).splitlines()[0]
        raise LakeUnavailable(
            f"DuckDB's {name} extension cannot be loaded ({first}); install repflow[lake] "
            f"(the extension wheels for DuckDB {duckdb.__version__}) or allow DuckDB to "
            "download it"
        ) from None


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect_catalog_db(lake: Lake) -> duckdb.DuckDBPyConnection:
    """A connection with the extensions the lake needs, nothing attached yet."""
    con = duckdb.connect()
    try:
        _load_extension(con, "ducklake")
        _load_extension(con, CATALOG_EXTENSIONS[lake.kind])
        if lake.data_path is not None and "://" in lake.data_path:
            _load_extension(con, "httpfs")  # s3://, gs://, https:// data paths
    except BaseException:
        con.close()
        raise
    return con


def attach(
    lake: Lake, read_only: bool, at: int | datetime | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection with the lake attached as `lake` and used as the default catalog.

    `at` opens an earlier snapshot (a snapshot id or a point in time): every table and view
    then reads as it was, and the SQL stays unchanged."""
    if not read_only and lake.data_path is None:
        raise LakeUnavailable(
            f"writing {lake} needs a data path for its Parquet files: "
            "--data-path <dir or URL> (or data_path in repflow.toml)"
        )
    # The writer keeps every row in Parquet: DuckLake would otherwise "inline" small inserts
    # (a run's row, a file record) into the catalog database.
    options = (
        ["READ_ONLY"]
        if read_only
        else [f"DATA_PATH {quote(lake.data_path or '')}", "DATA_INLINING_ROW_LIMIT 0"]
    )
    if isinstance(at, datetime):
        options.append(f"SNAPSHOT_TIME {quote(at.isoformat())}")
    elif at is not None:
        options.append(f"SNAPSHOT_VERSION {int(at)}")
    con = connect_catalog_db(lake)
    try:
        con.execute(f"ATTACH {quote(lake.spec)} AS {ALIAS} ({', '.join(options)})")
        con.execute(f"USE {ALIAS}")
    except duckdb.Error as exc:
        con.close()
        if "does not match existing data path" in str(exc):  # a setting, not a damaged lake
            raise LakeUnavailable(
                f"{lake}: {redact(str(exc).splitlines()[0])} Give --data-path (or data_path in "
                "repflow.toml) as the catalog has it."
            ) from None
        raise
    except BaseException:
        con.close()
        raise
    return con


# One attached writer per lake and process: loading the extensions and attaching the catalog
# takes most of a second, and a run opens the warehouse once per file. Each use gets a cursor.
_WRITERS: dict[Lake, duckdb.DuckDBPyConnection] = {}


def writer_cursor(lake: Lake) -> duckdb.DuckDBPyConnection:
    base = _WRITERS.get(lake)
    if base is None:
        base = _WRITERS[lake] = attach(lake, read_only=False)
    cursor = base.cursor()
    cursor.execute(f"USE {ALIAS}")
    return cursor


def close_writers() -> None:
    """Detach every cached writer."""
    while _WRITERS:
        _, con = _WRITERS.popitem()
        close(con)


def close(con: duckdb.DuckDBPyConnection) -> None:
    """Close a connection to a catalog that may be gone. DuckDB rolls back an open transaction
    as it closes, and when the catalog's server has died that rollback fails in a destructor,
    which aborts the process (`terminate called after throwing an instance of
    'duckdb::Exception'`); rolled back first, the failure is an error here, and is dropped."""
    with suppress(duckdb.Error):
        con.execute("ROLLBACK")
    con.close()


@contextmanager
def lake_writers() -> Iterator[None]:
    """Keep writers attached for one run only: a long-lived process (a served flow) must not
    hold a catalog connection that the night's server restart may have cut."""
    try:
        yield
    finally:
        close_writers()


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT type FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return row is not None and row[0] == "ducklake"


def current_snapshot(con: duckdb.DuckDBPyConnection) -> int:
    """The lake's latest snapshot id: the version analysts can travel back to."""
    row = con.execute(f"SELECT max(snapshot_id) FROM {ALIAS}.snapshots()").fetchone()
    return int(row[0]) if row and row[0] is not None else 0
