"""The canonical CSV: a header row, `,`-separated, columns named as in docs/formats.md."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from sources.base import CANONICAL_COLUMNS, TRACE_COLUMNS, Parsed, ReadHints
from sources.content import Source
from sources.csv_text import UnreadableFile, first_line, header_names, read_tables, stream_table

FORMAT = "canonical_csv"
VERSION = 1
REQUIRED = ("performed_at", "exercise", "reps")
# Canonical column → the header names that mean it.
ALIASES = {"load": ("load", "weight"), "unit": ("unit", "load_unit")}


def detect(head: bytes) -> bool:
    names = set(header_names(first_line(head), ","))
    return all(column in names for column in REQUIRED)


def read(path: Source, hints: ReadHints) -> Parsed:
    """Our own format: its contract (docs/formats.md) is ISO 8601 times, and a missing unit is
    the athlete's `unit` setting, applied in validation. No hint is needed."""
    # Gym systems export whole member bases in this format: it is read in batches.
    table = stream_table(path, ",")
    columns, names_athletes = _columns(table.header, table.repeated)
    batches = (batch.select(columns) for batch in table.batches)
    return Parsed(format=FORMAT, rows=next(batches), more=batches, names_athletes=names_athletes)


def read_many(texts: Sequence[str]) -> list[Parsed | UnreadableFile | None]:
    """`read` of several small files' texts at once (it takes no hints); None for a text that
    must be read alone (csv_text.read_tables)."""
    done: list[Parsed | UnreadableFile | None] = []
    by_header: dict[
        tuple[tuple[str, ...], tuple[str, ...]], tuple[list[str | pl.Expr], bool] | UnreadableFile
    ] = {}
    for table in read_tables(texts, ","):
        if table is None:
            done.append(None)
            continue
        key = (tuple(table.header), tuple(table.repeated))
        if key not in by_header:  # most files of a night share one header
            try:
                by_header[key] = _columns(table.header, table.repeated)
            except UnreadableFile as exc:
                by_header[key] = exc
        selected = by_header[key]
        if isinstance(selected, UnreadableFile):
            done.append(selected)
            continue
        columns, names_athletes = selected
        rows = table.rows.select(columns)
        done.append(Parsed(format=FORMAT, rows=rows, names_athletes=names_athletes))
    return done


def _columns(header: list[str], repeated: list[str]) -> tuple[list[str | pl.Expr], bool]:
    """What to select of a file of this header, in canonical names; whether it names athletes."""
    twice = [name for name in repeated if name in CANONICAL_COLUMNS]
    if twice:
        raise UnreadableFile(f"the header names column {twice[0]!r} twice: which one is meant?")
    by_name: dict[str, str] = {}
    for cell in header:
        key = cell.strip().lower()
        canonical = next((c for c, names in ALIASES.items() if key in names), key)
        if canonical in by_name and canonical in CANONICAL_COLUMNS:
            raise UnreadableFile(f"the header names column {canonical!r} twice")
        by_name.setdefault(canonical, cell)
    missing = [column for column in REQUIRED if column not in by_name]
    if missing:
        raise UnreadableFile(f"the header has no {', '.join(missing)} column")
    columns: list[str | pl.Expr] = [
        *TRACE_COLUMNS,
        *[pl.col(by_name[c]).alias(c) for c in CANONICAL_COLUMNS if c in by_name],
    ]
    return columns, "athlete_id" in by_name
