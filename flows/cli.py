"""The `repflow` command line.

Only `run` and `serve` start Prefect; every other command is plain Python, so it starts
in a fraction of a second. Exit codes: 0 fine, 1 a file failed or the warehouse is held,
2 bad usage or bad config.
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn

import duckdb
import polars as pl
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from flows import pipeline, progress, summary
from flows.config import Config, config_dir, load
from flows.server import LocalServer, ServerError, healthy
from rules.reasons import prescription
from schemas.config_files import ConfigError
from sources.csv_text import UnreadableFile
from warehouse.db import Warehouse, WarehouseLocked, WarehouseMissing, reader, target
from warehouse.lake import Lake, LakeUnavailable, quote, redact
from warehouse.lock import run_lock

app = typer.Typer(
    name="repflow",
    help="Nightly ingestion of strength-training logs into DuckDB, with progression flags.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Without a terminal (a log file, cron) tables keep their full width instead of wrapping at 80.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)

InboxOpt = Annotated[Path | None, typer.Option("--inbox", help="Inbox folder [./inbox].")]
DbOpt = Annotated[Path | None, typer.Option("--db", help="Working database [./warehouse.duckdb].")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Config folder.")]
AthleteOpt = Annotated[str | None, typer.Option("--athlete", help="Only this athlete.")]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", help="Print only the run summary: no progress bar, no line per file."
    ),
]
WarehouseOpt = Annotated[
    str | None,
    typer.Option(
        "--warehouse",
        help="A DuckLake instead of --db: ducklake:sqlite:<file> or ducklake:postgres:<dsn>.",
    ),
]
DataPathOpt = Annotated[
    str | None,
    typer.Option("--data-path", help="Folder or URL of the DuckLake's Parquet files."),
]


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def fail(message: str, code: int) -> typer.Exit:
    err.print(f"repflow: {redact(message)}", markup=False)  # a DSN's password never shows
    return typer.Exit(code)


@contextmanager
def clean_errors() -> Iterator[None]:
    """Known failures become one line and an exit code, never a traceback."""
    try:
        yield
    except (ConfigError, LakeUnavailable) as exc:
        raise fail(str(exc), 2) from None
    except (WarehouseLocked, WarehouseMissing, UnreadableFile, ServerError) as exc:
        raise fail(str(exc), 1) from None
    except OSError as exc:
        raise fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), 1) from None
    except duckdb.Error as exc:  # disk full, a read-only folder, a damaged database file
        first = redact(str(exc).splitlines()[0])
        raise fail(f"the warehouse could not be written or read: {first}", 1) from None


# What clean_errors turns into one line of its own.
CLEAN_ERRORS = (
    ConfigError,
    LakeUnavailable,
    WarehouseLocked,
    WarehouseMissing,
    UnreadableFile,
    ServerError,
    OSError,
    duckdb.Error,
)


@contextmanager
def run_failed() -> Iterator[None]:
    """An error no one foresaw ends a run in a line and exit 1, never a traceback; the run has
    recorded itself as failed (pipeline.recorded)."""
    try:
        yield
    except CLEAN_ERRORS:
        raise  # clean_errors says these in its own words
    except Exception as exc:
        raise fail(redact(f"the run failed: {type(exc).__name__}: {exc}"), 1) from None


def parse_as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date as YYYY-MM-DD", param_hint="--as-of"
        ) from None


def _config(**flags: Any) -> Config:
    with clean_errors():
        return load(flags)


def _prepare_prefect(config: Config) -> None:
    """Prefect keeps its state beside the warehouse, and says only what matters."""
    home = Path(
        os.environ.setdefault("PREFECT_HOME", str(config.settings.db.resolve().parent / ".prefect"))
    )
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The first start migrates Prefect's database; on a busy 2-core machine that can take longer
    # than Prefect's default 20 s, and a nightly run must not fail for it.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # Dask's scheduler and workers log every start and stop at INFO.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")


AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Evaluate the rules as of YYYY-MM-DD [today].")
]


@app.command()
def run(
    inbox: InboxOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    runner: Annotated[
        str | None,
        typer.Option("--runner", help="Where files are parsed: local or dask [local]."),
    ] = None,
    dask_workers: Annotated[
        int | None,
        typer.Option("--dask-workers", help="Worker processes of a local Dask cluster [cores]."),
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option("--dask-address", help="An existing Dask scheduler, tcp://host:port."),
    ] = None,
    warehouse: WarehouseOpt = None,
    data_path: DataPathOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run the nightly flow once: load new files, evaluate the rules, publish the snapshot."""
    day = parse_as_of(as_of)
    flags = {
        "inbox": inbox,
        "db": db,
        "config": config,
        "runner": runner,
        "dask_workers": dask_workers,
        "dask_address": dask_address,
        "warehouse": warehouse,
        "data_path": data_path,
    }
    loaded = _config(**flags)
    settings = loaded.settings
    # Take the writer's lock before Prefect starts: a second run fails in a second, not after
    # Prefect's start-up, and with one line rather than a failed flow's log.
    with clean_errors(), run_lock(target(settings), settings.lock_timeout_s):
        _prepare_prefect(loaded)
        from flows.nightly import run_nightly  # only the commands that run the flow import Prefect

        try:
            with progress.renderer(err, quiet):  # the flow finds it as progress.ACTIVE
                result = run_nightly(
                    settings={k: v for k, v in flags.items() if v is not None}, as_of=day
                )
        except (
            ConfigError,
            LakeUnavailable,
            WarehouseLocked,
            WarehouseMissing,
            UnreadableFile,
            OSError,
        ):
            raise
        except Exception as exc:  # the run must end in a message, never a traceback
            raise fail(redact(f"the run failed: {type(exc).__name__}: {exc}"), 1) from None
    _report(result)
    if result.flags is not None and result.flags.height:
        # A DSN may hold a password: redacted before quoting, which would hide it from redact.
        where = [
            f"--{name} {shlex.quote(redact(str(flags[name])))}" for name in WHERE if flags[name]
        ]
        _print_flags(
            result.flags,
            Format.table,
            shown=RUN_FLAGS_SHOWN,
            rest=" ".join(["repflow flags", *where]),
        )
    raise typer.Exit(result.exit_code)


@app.command()
def ingest(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Files to load now; a folder is read like an inbox.", show_default=False
        ),
    ],
    athlete: Annotated[
        str | None,
        typer.Option("--athlete", help="Owner of files that name no athlete themselves."),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    warehouse: WarehouseOpt = None,
    data_path: DataPathOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Load these files now, without Prefect; the rules run with the next `repflow run`. A
    folder is read like an inbox: its athlete folders, or with --athlete every file in it."""
    loaded = _config(db=db, config=config, warehouse=warehouse, data_path=data_path)
    with clean_errors(), progress.renderer(err, quiet) as observer:
        try:
            found, skipped = pipeline.named_files(files, athlete, loaded)
        except pipeline.UsageError as exc:
            raise fail(str(exc), 2) from None
        with run_failed():
            result = pipeline.execute(
                loaded, found, "ingest", None, progress=observer, skipped=skipped
            )
    _report(result)
    raise typer.Exit(result.exit_code)


@app.command()
def reload(
    inbox: InboxOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    warehouse: WarehouseOpt = None,
    data_path: DataPathOpt = None,
    as_of: AsOfOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Re-read the stored files that an older version of their reader read (after an upgrade
    that fixed a reader), from their copies in the inbox; changed sets are corrections, and the
    rules run again when a set changed. Without Prefect."""
    loaded = _config(inbox=inbox, db=db, config=config, warehouse=warehouse, data_path=data_path)
    day = parse_as_of(as_of) or pipeline.today(loaded.settings.timezone)
    with clean_errors(), progress.renderer(err, quiet) as observer, run_failed():
        result = pipeline.reload(loaded, day, progress=observer)
    _report(result)
    if not result.files and not result.skipped_paths:
        out.print("nothing to re-read: every stored file was read by its current reader")
    raise typer.Exit(1 if result.skipped_paths else result.exit_code)


def _report(result: pipeline.RunSummary) -> None:
    for line in summary.lines(result):
        out.print(line, markup=False)


def _snapshot(db: Path | None, config: Path | None, warehouse: str | None) -> Warehouse:
    """What analysts read: the DuckLake itself, else the snapshot of the DuckDB file."""
    settings = _config(db=db, config=config, warehouse=warehouse).settings
    with clean_errors():
        where = target(settings)
    return where if isinstance(where, Lake) else settings.analytics_path


def _query_unchecked(
    where: Warehouse, sql: str, params: list[Any] | None = None, at: int | datetime | None = None
) -> pl.DataFrame:
    with reader(where, at) as con:
        return con.execute(sql, params or []).pl()


def _query(where: Warehouse, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
    with clean_errors():
        return _query_unchecked(where, sql, params)


FLAG_QUERY = """
SELECT athlete_id, exercise_id, kind, action, current_sets, current_reps, current_load_kg,
       next_sets, next_reps, next_load_kg, load_unit, reason, evidence, program_id, as_of
FROM v_current_flags
WHERE (? IS NULL OR athlete_id = ?)
ORDER BY athlete_id, exercise_id, kind DESC, action
"""


# A run's own output lists this many of its flags: a gym's nightly log gets the counts by
# action and a pointer to `repflow flags`, not a line per member and exercise.
RUN_FLAGS_SHOWN = 20
# The options of `run` that say which warehouse `flags` should read.
WHERE = ("db", "config", "warehouse")


def _print_flags(
    flags: pl.DataFrame, fmt: Format, shown: int | None = None, rest: str = "repflow flags"
) -> None:
    """Print `flags` as `fmt`; as a table, only the first `shown` of them when given, and the
    command `rest` that lists them all."""
    # Machine formats go to stdout as they are: rich would wrap long lines at the console's
    # width (breaking a JSON string) and read `[...]` in a reason as markup.
    if fmt is Format.json:
        sys.stdout.write(json.dumps(flags.to_dicts(), default=str, ensure_ascii=False, indent=2))
        sys.stdout.write("\n")
        return
    if fmt is Format.csv:
        sys.stdout.write(csv_safe(flags).write_csv())
        return
    rows = flags.head(shown) if shown is not None else flags
    table = rows.select(
        athlete="athlete_id",
        exercise="exercise_id",
        action="action",
        now=prescription(pl.col("current_sets"), pl.col("current_reps"), pl.col("current_load_kg")),
        next=prescription(pl.col("next_sets"), pl.col("next_reps"), pl.col("next_load_kg")),
        reason="reason",
    )
    _print_frame("", table)
    if rows.height < flags.height:
        out.print(
            f"… and {flags.height - rows.height:,} more: `{rest}` lists them all "
            "(`--format csv` for a spreadsheet).",
            markup=False,
        )


def aligned(frame: pl.DataFrame) -> str:
    """`frame`'s text columns as plain left-aligned columns under a header, built in polars.
    Widths are counted in characters: text of double-width characters (CJK) is not aligned."""
    longest = frame.select(pl.all().str.len_chars().max().fill_null(0)).row(0)
    widths = {c: max(len(c), int(n)) for c, n in zip(frame.columns, longest, strict=True)}
    *padded, last = frame.columns  # the last column is not padded: no trailing blanks
    line = pl.concat_str(
        [pl.col(c).str.pad_end(widths[c]) for c in padded] + [pl.col(last)], separator="  "
    )
    header = "  ".join([*(c.ljust(widths[c]) for c in padded), last])
    body = frame.select(line).to_series()
    return "\n".join([header, "  ".join("-" * widths[c] for c in frame.columns), *body]) + "\n"


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Neutralise spreadsheet formulas (=, +, -, @ at the start of a text cell)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    frame = frame.with_columns(pl.col(lists).list.eval(pl.element().cast(pl.String)).list.join(" "))
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(r"^[=+\-@\t\r]"))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text + lists
    )


@app.command()
def flags(
    db: DbOpt = None,
    athlete: AthleteOpt = None,
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    config: ConfigOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Print the current flags (from the analyst snapshot, or the DuckLake)."""
    frame = _query(_snapshot(db, config, warehouse), FLAG_QUERY, [athlete, athlete])
    if frame.height == 0 and format is Format.table:
        out.print("no flags yet: run `repflow run` after loading some sets")
        return
    _print_flags(frame, format)


@app.command()
def status(db: DbOpt = None, config: ConfigOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Recent runs, failed files and reject counts (from the analyst snapshot, or the lake)."""
    snapshot = _snapshot(db, config, warehouse)
    runs = _query(
        snapshot,
        "SELECT run_id, command, status, finished_at, files_loaded, files_duplicate, "
        "files_failed, rows_loaded, rows_revised, rows_rejected, flags_emitted, error "
        "FROM runs ORDER BY finished_at DESC LIMIT 10",
    )
    failed = _query(
        snapshot,
        "SELECT path, athlete_id, error, ingested_at FROM ingested_files "
        "WHERE status = 'failed' ORDER BY ingested_at DESC",
    )
    rejects = _query(
        snapshot,
        "SELECT f.path, count(*) AS rejected FROM rejects r "
        "JOIN (SELECT DISTINCT file_id, path FROM ingested_files WHERE status = 'loaded') f "
        "USING (file_id) GROUP BY f.path ORDER BY rejected DESC, f.path",
    )
    _print_frame("Recent runs", runs)
    _print_frame("Failed files", failed, empty="no failed files")
    _print_frame("Rejected rows by file", rejects, empty="no rejected rows")


# Past this many rows, a table prints as plain aligned columns: rich lays a table out at about a
# millisecond a row (20 s for 20,000 flags), plain columns take milliseconds in all.
RICH_ROWS = 200


def _print_frame(title: str, frame: pl.DataFrame, empty: str = "nothing yet") -> None:
    """`frame` as a table under `title`; past RICH_ROWS rows (a query's whole table), as plain
    columns."""
    if frame.height == 0:
        out.print(f"{title}: {empty}" if title else empty, markup=False)
        return
    text = as_text(frame)
    if text.height > RICH_ROWS:
        if title:
            out.print(title, markup=False)
        sys.stdout.write(aligned(text))
        return
    table = Table(*text.columns, title=title, title_justify="left")
    for row in text.iter_rows():
        table.add_row(*map(Text, row))  # cells are data: `[a, b]` is no rich markup
    out.print(table)


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text, blank for null: lists as `[a, b]`, structs as JSON."""
    return frame.select(
        _text(pl.col(name), dtype).fill_null("").alias(name) for name, dtype in frame.schema.items()
    )


def _text(column: pl.Expr, dtype: pl.DataType | pl.datatypes.DataTypeClass) -> pl.Expr:
    if isinstance(dtype, pl.List | pl.Array):
        inner = dtype.inner
        assert inner is not None  # a list type always has an element type
        items = column.cast(pl.List(inner)).list.eval(_text(pl.element(), inner).fill_null("null"))
        items = items.list.join(", ")
        return pl.concat_str(pl.lit("["), items, pl.lit("]"))
    if isinstance(dtype, pl.Struct):
        return column.struct.json_encode()
    if dtype == pl.Binary:
        return column.bin.encode("hex")
    if isinstance(dtype, pl.Datetime):  # no fraction for a whole second, an offset when zoned
        zone = "%:z" if dtype.time_zone else ""
        return column.dt.to_string(f"%Y-%m-%d %H:%M:%S%.f{zone}")
    return column.cast(pl.String)


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
    snapshot = _snapshot(db, config, warehouse)
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
    _print_frame("", frame, empty="no rows")


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
    shell = shutil.which("duckdb")
    if shell is None:
        raise fail(
            "no duckdb shell on PATH: install the DuckDB CLI "
            "(https://duckdb.org/docs/installation), or run one query with "
            f'repflow sql "SELECT ..." {how}',
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


@app.command()
def report(
    db: DbOpt = None,
    athlete: AthleteOpt = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write index.html into [./reports].")
    ] = Path("reports"),
    config: ConfigOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Write the offline HTML report (charts, current flags, data quality) from the snapshot."""
    from report import SnapshotOutdated, UnknownAthlete, write_report  # loads matplotlib

    snapshot = _snapshot(db, config, warehouse)
    with clean_errors(), progress.charts(err) as drawn:
        try:
            written = write_report(snapshot, out_dir, athlete, drawn)
        except UnknownAthlete as exc:
            raise fail(str(exc), 2) from None
        except SnapshotOutdated as exc:
            raise fail(str(exc), 1) from None
    athletes = "1 athlete" if written.athletes == 1 else f"{written.athletes} athletes"
    out.print(f"wrote {written.path} ({athletes}, {written.charts} charts)", markup=False)


# Set once a stop is asked for (SIGTERM or Ctrl-C). The KeyboardInterrupt a stop raises can land
# in code that wraps it (pydantic building a schema re-raises it as a SchemaError); that is
# still a stop.
_stop_requested = threading.Event()


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    _stop_requested.set()
    raise KeyboardInterrupt  # unwinds like Ctrl-C, so the local server is stopped on the way out


def _give_up() -> None:
    """The local server is gone for good: stop the runner as SIGTERM would, and exit 1."""
    os.kill(os.getpid(), signal.SIGTERM)


@app.command()
def serve(
    inbox: InboxOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            min=0,
            max=65535,
            help="Port of the local Prefect server when PREFECT_API_URL is not set "
            "(0: any free port); default: the schedule.server_port setting, 4200.",
        ),
    ] = None,
) -> None:
    """Serve the nightly flow on the cron from config until SIGTERM or Ctrl-C.

    Uses the Prefect server at PREFECT_API_URL, or starts and watches a local one."""
    flags = {"inbox": inbox, "db": db, "config": config}
    loaded = _config(**flags)
    settings_file = config_dir(config) / "repflow.toml"
    with clean_errors():  # an unwritable folder for Prefect's state is one line, not a traceback
        _prepare_prefect(loaded)
    _stop_requested.clear()
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)  # Ctrl-C: the same stop, flagged the same way
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    from flows import serve as serving  # imports Prefect: after its settings are in place

    schedule = loaded.settings.schedule
    server: LocalServer | None = None
    served = False
    try:
        with clean_errors(), ExitStack() as stack:
            serving.schedule(loaded, settings_file)  # a bad cron fails before a server starts
            api_url = get_current_settings().api.url
            if api_url is not None and not healthy(api_url):
                raise fail(f"no Prefect server answers at PREFECT_API_URL {api_url}", 1)
            if api_url is None:
                home = Path(os.environ["PREFECT_HOME"])
                chosen = schedule.server_port if port is None else port
                server = stack.enter_context(LocalServer(home, chosen, on_give_up=_give_up))
                api_url = os.environ["PREFECT_API_URL"] = server.api_url
                stack.enter_context(temporary_settings(updates={PREFECT_API_URL: api_url}))
                err.print(f"repflow: started a Prefect server, log {server.log_path}", markup=False)
            out.print(
                f"serving deployment nightly/{serving.DEPLOYMENT} on cron {schedule.cron!r} "
                f"({schedule.timezone}) against {api_url}; stop with Ctrl-C or SIGTERM",
                markup=False,
            )
            served = True
            try:
                serving.serve(loaded, flags, settings_file)
            except (ConfigError, OSError):
                raise
            except Exception as exc:  # after the server died the runner's error is noise
                if (server is None or server.error is None) and not _stop_requested.is_set():
                    raise fail(redact(f"serving failed: {type(exc).__name__}: {exc}"), 1) from None
    except (KeyboardInterrupt, SystemExit):  # Ctrl-C, SIGTERM, or Prefect's own exit on SIGTERM
        pass
    except Exception:  # a stop that landed in code wrapping it, say while the server started
        if not _stop_requested.is_set():
            raise
    if server is not None and server.error is not None:
        raise fail(server.error, 1)
    if served:
        out.print("stopped serving; the schedule stays active", markup=False)


def main() -> None:
    app()
