"""Which input rows a warehouse already holds: a 128-bit hash of each row's text.

A row's stored values follow from its text columns and from what else validation reads: the
settings (timezones, units), the folder's athlete, the file's format, and the validation code
itself. Those go into the seeds, so one hash stands for "this text, read this way". Two
independent 64-bit halves (`line_hash`, `line_check`) make a false match of a new row for a
stored one a 2^-128 event, not a 2^-64 one.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

import polars as pl
import pydantic
import pydantic_core

from schemas.set_row import RowContext

HASH_COLUMNS = ("line_hash", "line_check")
# Bookkeeping columns that do not decide a row's values: where it stands in the file, and its
# raw text (its fields are the text columns).
NOT_HASHED = ("source_line", "raw", "structure_error")


@cache
def code_fingerprint() -> str:
    """The validation code and the polars and pydantic versions: a change to any reads rows
    anew.

    Polars' hash is stable only within one version. Pydantic's core explains the rejected rows,
    and a known bad row is rejected again with its stored explanation."""
    versions = (pl.__version__, pydantic.VERSION, pydantic_core.__version__)
    digest = hashlib.sha256(" ".join(versions).encode())
    package = resources.files("schemas")
    for entry in sorted(package.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".py"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return digest.hexdigest()


def file_seed(context: RowContext, folder_athlete: str | None, fmt: str, *code: str) -> bytes:
    """What the rows of one file are read with, as one digest. `code` is whatever else, outside
    `schemas/`, decides what a row stores (the loader's session id formula)."""
    settings = repr(
        (
            context.timezone,
            context.unit,
            sorted(context.athlete_timezones.items()),
            sorted(context.athlete_units.items()),
        )
    )
    return hashlib.sha256(
        "\x1f".join((code_fingerprint(), settings, folder_athlete or "", fmt, *code)).encode()
    ).digest()


def with_row_hashes(rows: pl.DataFrame, seed: bytes) -> pl.DataFrame:
    """`rows` with `line_hash` and `line_check`: hashes of every text column.

    The column names go into the seeds (a hash of a struct sees only its values), in order of
    name: the same fields under a reordered header hash the same."""
    text = sorted(c for c in rows.columns if c not in NOT_HASHED and c not in HASH_COLUMNS)
    digest = hashlib.sha256(seed + "\x1f".join(text).encode()).digest()
    row = pl.struct(*(pl.col(c) for c in text))
    return rows.with_columns(
        line_hash=row.hash(seed=int.from_bytes(digest[:8], "little")),
        line_check=row.hash(seed=int.from_bytes(digest[8:16], "little")),
    )
