"""A re-export: a file whose rows are mostly stored already is validated only where it is new.

Apps export a member's whole history every time, so a nightly file is mostly rows the warehouse
holds. Each row is hashed (schemas.row_hash) and looked up; a row whose hash is stored is
"known", and is not validated, staged or merged again. What a known row still decides comes
from its stored set: it counts in the numbering of sets without a number (every set of a group
counts), and it may be the first copy of a repeated key. Where the file and the stored sets
disagree (a known row would now get another number, or would be the later copy of a key), the
look-up gives up and the file is read in full, so a file always stores what a full read would.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

import polars as pl

from schemas.row_hash import HASH_COLUMNS, file_seed, with_row_hashes
from schemas.set_row import RowContext
from schemas.validate import RECORD_COLUMNS, REJECT_SCHEMA, checked, cut_raw
from schemas.vectorized import blank
from warehouse.load import SESSION_ID
from warehouse.stored_lines import FileRows

# Below this many rows a file validates in milliseconds: not worth a look-up.
MIN_ROWS = 1_000
# New rows are validated in one frame, in memory: past this many, the file is no re-export
# (or a large one with a large new part), and the batched full read takes it.
MAX_NEW_ROWS = 250_000


class StoredRows(Protocol):
    """What the warehouse answers (warehouse.stored_lines)."""

    def line_hashes(self, fmt: str, athlete: str | None) -> tuple[pl.Series, pl.Series]: ...
    def matching_rejects(self, hashes: pl.DataFrame) -> pl.DataFrame: ...
    def file_rows(self) -> AbstractContextManager[FileRows]: ...


@dataclass(frozen=True)
class Reexport:
    sets: pl.DataFrame  # the new rows' set records (RECORD_COLUMNS), numbered
    rejects: pl.DataFrame  # REJECT_SCHEMA: the new rows' and the known bad rows'
    known: int  # rows stored already as sets, left as they are


def row_seed(context: RowContext, folder_athlete: str | None, fmt: str) -> bytes:
    """The seed of a file's row hashes. Known rows are grouped by their stored session ids: the
    formula that derives them is part of what a hash stands for."""
    return file_seed(context, folder_athlete, fmt, SESSION_ID)


def stored_hashes(
    first: pl.DataFrame, fmt: str, folder_athlete: str | None, stored: StoredRows
) -> tuple[pl.Series, pl.Series] | None:
    """The sorted hashes of the stored sets and rejects a file's rows may match, or None when
    the file is too small to be worth a look-up or no set is stored for it (a first load).
    `first` is its first batch."""
    if first.height < MIN_ROWS:
        return None
    # A file without an athlete column is the folder athlete's alone.
    one = None if "athlete_id" in first.columns else folder_athlete
    hashes = stored.line_hashes(fmt, one)
    return None if hashes[0].is_empty() else hashes


def read_known(
    batches: Iterable[pl.DataFrame],
    fmt: str,
    context: RowContext,
    folder_athlete: str | None,
    stored: StoredRows,
    hashes: tuple[pl.Series, pl.Series],
) -> Reexport | None:
    """The file's new rows validated and numbered among its known ones, or None when the file
    is not a re-export this can take exactly (then read it in full). `hashes` are from
    `stored_hashes`."""
    seed = row_seed(context, folder_athlete, fmt)
    set_hashes, reject_hashes = hashes
    new_parts, again_parts = [], []
    rows = new = 0
    with stored.file_rows() as file_rows:
        sessions_given = set()
        for batch in batches:
            if "source_format" in batch.columns:
                return None  # a zip bundle: its members' formats differ, read in full
            if "session_id" in batch.columns:
                sessions_given |= set(
                    batch.select(blank(pl.col("session_id")).unique()).to_series()
                )
                if len(sessions_given) > 1:
                    # A given session id and a blank one's local date may be one session key
                    # (one numbering group) but two stored sessions: read in full.
                    return None
            if batch["source_line"].is_duplicated().any():
                # Sets that share a line (a StrongLifts workout row, JEFIT's packed logs) are
                # told apart by more than their line, which the look-up numbers them by.
                return None
            hashed = with_row_hashes(batch, seed).with_columns(pl.col("source_line").cast(pl.Int64))
            intact = hashed["structure_error"].is_null()
            known = intact & _within(hashed["line_hash"], set_hashes)
            bad_before = intact & ~known & _within(hashed["line_hash"], reject_hashes)
            numbered = (
                ~blank(pl.col("set_index")) if "set_index" in batch.columns else pl.lit(False)
            )
            # Selected before filtered: the text columns of a batch are not copied.
            order = hashed.select("source_line", *HASH_COLUMNS, known=known, numbered=numbered)
            file_rows.add(order.filter(~bad_before))
            # Only the new rows keep their text: the known ones are hashes in DuckDB from here on.
            new_parts.append(_own_text(hashed.filter(~known & ~bad_before)))
            again = hashed.filter(bad_before).select("source_line", "raw", *HASH_COLUMNS)
            again_parts.append(_own_text(again))
            rows += hashed.height
            new += new_parts[-1].height
            if new > MAX_NEW_ROWS:
                return None
        again = pl.concat(again_parts)
        again = again.join(stored.matching_rejects(again), on=HASH_COLUMNS, how="left")
        if again["errors"].null_count():
            return None  # a 64-bit match that the second hash denies: its text is gone
        records, rejects = checked(pl.concat(new_parts), context, folder_athlete)
        numbers = file_rows.number(records, fmt)
        if not numbers.exact:
            return None
        # A bad row rejected before is rejected again with its stored reasons.
        again_rejects = again.select(REJECT_SCHEMA.keys()).cast(REJECT_SCHEMA)  # type: ignore[arg-type]
        return Reexport(
            sets=records.drop("set_index")
            .join(numbers.set_index, on="source_line")
            .select(RECORD_COLUMNS),
            rejects=pl.concat([rejects, cut_raw(again_rejects)]).sort("source_line"),
            known=rows - new - again_rejects.height,
        )


def _own_text(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with strings of its own. A filtered frame's strings are views into the whole
    batch's buffers: kept batch after batch, they held every batch's text (1.5 GB at 10 M rows).
    Arrow's oldest string layout is a copy into one buffer per column."""
    copied = pl.from_arrow(frame.to_arrow(compat_level=pl.CompatLevel.oldest()))
    assert isinstance(copied, pl.DataFrame)  # a table converts to a frame
    return copied


def _within(values: pl.Series, stored: pl.Series) -> pl.Series:
    """Whether each value is in `stored` (sorted): a binary search, not a join per batch. The
    values are searched in sorted order too, which keeps the search in the cache."""
    hits = pl.repeat(False, values.len(), eager=True)
    if stored.is_empty():
        return hits
    order = values.arg_sort()
    ordered = values.gather(order)
    at = stored.search_sorted(ordered).clip(0, stored.len() - 1)
    return hits.scatter(order, stored.gather(at) == ordered)
