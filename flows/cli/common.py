"""What every `repflow` command shares: the Typer app, the consoles, the options, one-line
errors with their exit codes, and printing a frame as a table or plain columns.

Exit codes: 0 fine, 1 a file failed or the warehouse is held, 2 bad usage or bad config.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import duckdb
import polars as pl
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from flows.config import Config, check_catalog, load
from flows.printable import printable, printable_column
from flows.server import ServerError
from schemas.config_files import ConfigError
from sources.csv_text import UnreadableFile
from warehouse.db import Warehouse, WarehouseLocked, WarehouseMissing, reader, target
from warehouse.lake import Lake, LakeUnavailable, redact

app = typer.Typer(
    name="repflow",
    help="Nightly ingestion of strength-training logs into DuckDB, with progression flags.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# Without a terminal (a log file, cron) tables keep their full width instead of wrapping at 80.
# Nothing printed is rich markup or an emoji code: names and errors are data (`:x:` stays).
out = Console(
    highlight=False, markup=False, emoji=False, width=None if sys.stdout.isatty() else 200
)


err = Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)


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


AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Evaluate the rules as of YYYY-MM-DD [today].")
]


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def fail(message: str, code: int) -> typer.Exit:
    # A DSN's password never shows; a control character in a name or an error is escaped.
    err.print(f"repflow: {printable(redact(message))}", markup=False)
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
    recorded itself as failed (runs.recorded)."""
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


def load_config(catalog: bool = False, **flags: Any) -> Config:
    """The config of a command's flags; with `catalog`, for a command that loads sets, its
    exercise catalog checked too."""
    with clean_errors():
        loaded = load(flags)
        if catalog:
            check_catalog(loaded)
        return loaded


def prepare_prefect(config: Config, console_level: str = "WARNING") -> None:
    """Prefect keeps its state beside the warehouse, and says only what matters: on the
    console, `console_level` and above of the flow's log (INFO for a service's journal)."""
    home = Path(
        os.environ.setdefault("PREFECT_HOME", str(config.settings.db.resolve().parent / ".prefect"))
    )
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # The flow's own log (each file, the summary) goes to Prefect at INFO, where
    # `prefect flow-run logs` and the UI show it; `repflow run` prints its own lines, so its
    # console shows warnings only.
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", console_level)
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The first start migrates Prefect's database; on a busy 2-core machine that can take longer
    # than Prefect's default 20 s, and a nightly run must not fail for it.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # Dask's scheduler and workers log every start and stop at INFO.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")


def analyst_target(db: Path | None, config: Path | None, warehouse: str | None) -> Warehouse:
    """What analysts read: the DuckLake itself, else the snapshot of the DuckDB file."""
    settings = load_config(db=db, config=config, warehouse=warehouse).settings
    with clean_errors():
        where = target(settings)
    return where if isinstance(where, Lake) else settings.analytics_path


def read_frame_unchecked(
    where: Warehouse, sql: str, params: list[Any] | None = None, at: int | datetime | None = None
) -> pl.DataFrame:
    with reader(where, at) as con:
        return con.execute(sql, params or []).pl()


def read_frame(where: Warehouse, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
    with clean_errors():
        return read_frame_unchecked(where, sql, params)


# Past this many rows, a table prints as plain aligned columns: rich lays a table out at about a
# millisecond a row (20 s for 20,000 flags), plain columns take milliseconds in all.
RICH_ROWS = 200


def print_frame(title: str, frame: pl.DataFrame, empty: str = "nothing yet") -> None:
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
    """Every column as text, blank for null: lists as `[a, b]`, structs as JSON, control
    characters escaped (flows.printable)."""
    return frame.select(
        printable_column(_text(pl.col(name), dtype).fill_null("")).alias(name)
        for name, dtype in frame.schema.items()
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
