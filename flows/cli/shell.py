"""`repflow sql`: one read-only query, or the DuckDB shell on the snapshot (or the lake)."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import duckdb
import polars as pl
import typer

from flows.cli.common import (
    ConfigOpt,
    DbOpt,
    WarehouseOpt,
    analyst_target,
    app,
    clean_errors,
    err,
    fail,
    print_frame,
)
from warehouse.db import Warehouse, reader
from warehouse.lake import Lake, quote, redact


@app.command()
def sql(
    query: Annotated[str | None, typer.Argument(help="SQL to run; none opens a shell.")] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    warehouse: WarehouseOpt = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="DuckLake only: read the lake as of a snapshot id or an ISO timestamp."
        ),
    ] = None,
) -> None:
    """Run a read-only query on the analyst snapshot (or the lake), or open the DuckDB shell."""
    snapshot = analyst_target(db, config, warehouse)
    version = parse_at(at, snapshot)
    if query is None:
        _open_shell(snapshot, version)
    # Opening the warehouse fails as any command's does (exit 1, a lake's password hidden);
    # only the query's own error is the user's (exit 2).
    with clean_errors(), reader(snapshot, version) as con:
        try:
            frame = _fetch(con, query)
        except duckdb.Error as exc:  # a mistyped query is the user's, not a crash
            raise fail(redact(str(exc).splitlines()[0]), 2) from None
    print_frame("", frame, empty="no rows")


def _fetch(con: duckdb.DuckDBPyConnection, query: str) -> pl.DataFrame:
    relation = con.sql(query)
    if relation is None:  # a statement that returns nothing (SET ...)
        return pl.DataFrame()
    if any("INTERVAL" in str(kind) for kind in relation.types):
        # Polars takes no INTERVAL, and panics on one in a list: DuckDB gives them as text.
        columns = [
            (f"CAST(#{n} AS VARCHAR)" if "INTERVAL" in str(kind) else f"#{n}")
            + ' AS "{}"'.format(name.replace('"', '""'))
            for n, (kind, name) in enumerate(zip(relation.types, relation.columns, strict=True), 1)
        ]
        relation = relation.project(", ".join(columns))
    return relation.pl()


def parse_at(value: str | None, where: Warehouse) -> int | datetime | None:
    """A snapshot id, or a timestamp (ISO 8601; without an offset it is UTC)."""
    if value is None:
        return None
    if not isinstance(where, Lake):
        raise fail("--at reads an earlier snapshot of a DuckLake: give --warehouse ducklake:...", 2)
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"--at: {value!r} is neither a snapshot id nor an ISO timestamp", 2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _open_shell(where: Warehouse, at: int | datetime | None) -> NoReturn:
    """The DuckDB shell on the snapshot (or the lake), read-only.

    On a snapshot this process becomes the shell. A lake's ATTACH, whose connection string may
    hold a password, reaches the shell through its init file (`_shell_with_init`), never its
    command line, which `ps` shows every user."""
    with clean_errors(), reader(where, at):
        pass  # the same one-line errors as a query when the warehouse is missing or damaged
    if isinstance(where, Lake):
        how = f"in any DuckDB client: {_attach_sql(redact(where.spec), at)}"
    else:
        how = f"(the snapshot is {where})"
    # On PATH, or beside this Python: where the hint's pip puts it.
    beside = str(Path(sys.executable).parent)
    shell = shutil.which("duckdb") or shutil.which("duckdb", path=beside)
    if shell is None:
        pip = Path(beside) / "pip"
        raise fail(
            "no duckdb shell on PATH: install the DuckDB CLI of repflow's DuckDB with "
            f"`{pip if pip.exists() else 'pip'} install duckdb-cli=={version('duckdb')}`, "
            f'or run one query with repflow sql "SELECT ..." {how}',
            2,
        )
    if not isinstance(where, Lake):
        os.execv(shell, [shell, "-readonly", str(where)])
    # The DuckDB shell finds the extensions where the first attach installed them. An init file
    # replaces ~/.duckdbrc, so it reads that first.
    rc = Path(os.path.expanduser("~/.duckdbrc"))
    personal = f".read '{rc}'\n" if rc.is_file() and "'" not in str(rc) else ""
    with clean_errors():
        code = _shell_with_init(shell, personal + _attach_sql(where.spec, at) + "\n")
    raise typer.Exit(code)


def _attach_sql(spec: str, at: int | datetime | None) -> str:
    """The statements that open the lake `spec` read-only, at a snapshot when `at` is given."""
    option = (
        ""
        if at is None
        else f", SNAPSHOT_VERSION {at}"
        if isinstance(at, int)
        else f", SNAPSHOT_TIME {quote(at.isoformat())}"
    )
    return f"ATTACH {quote(spec)} AS lake (READ_ONLY{option}); USE lake;"


# How long the shell may take to open its init file (a `duckdb` launcher script starts Python).
INIT_WAIT_S = 60.0


def _shell_with_init(shell: str, statements: str) -> int:
    """Run `shell -init PATH`, where PATH hands it `statements`; give its exit code.

    PATH is a named pipe (mode 0600) in a private temporary folder (mode 0700): the statements
    pass through it once, when the shell opens it at start, and never reach a disk. The pipe
    and its folder are removed as soon as the shell has read them, or has ended without, so
    nothing is left behind. A path, unlike an inherited descriptor, also works through a
    `duckdb` that is a launcher script (pip's duckdb-cli starts the binary with its
    descriptors closed)."""
    folder = Path(tempfile.mkdtemp(prefix="repflow-shell-"))
    init = folder / "init.sql"
    try:
        os.mkfifo(init, 0o600)
        child = subprocess.Popen([shell, "-init", str(init)])
        with _shell_signals(child):
            try:
                _feed(init, statements.encode(), child)
            finally:
                init.unlink()
                folder.rmdir()
            code = child.wait()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return code if code >= 0 else 128 - code  # killed by a signal: as a shell reports it


def _feed(init: Path, data: bytes, child: subprocess.Popen[bytes]) -> None:
    """Write `data` to the named pipe `init` once the shell has opened it for reading."""
    deadline = time.monotonic() + INIT_WAIT_S
    while True:
        try:
            fd = os.open(init, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as exc:  # ENXIO: no reader yet
            if exc.errno != errno.ENXIO or child.poll() is not None:
                return
            if time.monotonic() > deadline:
                err.print(
                    f"repflow: the duckdb shell did not open its init file in {INIT_WAIT_S:g} s",
                    markup=False,
                )
                return
            time.sleep(0.01)
    try:
        os.set_blocking(fd, True)
        while data:
            data = data[os.write(fd, data) :]
    except BrokenPipeError:  # the shell ended before reading it all
        pass
    finally:
        os.close(fd)


@contextmanager
def _shell_signals(child: subprocess.Popen[bytes]) -> Iterator[None]:
    """While the shell runs, Ctrl-C and Ctrl-\\ are its own (the terminal sends them to both
    processes), and a SIGTERM or SIGHUP to this process goes on to it."""

    def forward(signum: int, frame: FrameType | None) -> None:
        child.send_signal(signum)

    previous = {number: signal.signal(number, signal.SIG_IGN) for number in QUIET_SIGNALS}
    previous |= {number: signal.signal(number, forward) for number in FORWARDED_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


QUIET_SIGNALS = (signal.SIGINT, signal.SIGQUIT)


FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
