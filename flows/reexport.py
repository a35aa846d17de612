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
from dataclasses import dataclass
from typing import Protocol

import polars as pl

from schemas.row_hash import HASH_COLUMNS, file_seed, with_row_hashes
from schemas.set_row import RowContext
from schemas.validate import RECORD_COLUMNS, REJECT_SCHEMA, checked, cut_raw
from schemas.vectorized import blank
from warehouse.stored_lines import Numbers

# Below this many rows a file validates in milliseconds: not worth a look-up.
MIN_ROWS = 1_000
# New rows are validated in one frame, in memory: past this many, or past this share of the
# rows read so far, the file is no re-export, and the batched full read takes it.
MAX_NEW_ROWS = 250_000
MAX_NEW_SHARE = 0.5


class StoredRows(Protocol):
    """What the warehouse answers (warehouse.stored_lines)."""

    def line_hashes(self, fmt: str, athlete: str | None) -> tuple[pl.Series, pl.Series]: ...
    def matching_rejects(self, hashes: pl.DataFrame) -> pl.DataFrame: ...
    def number(self, file_rows: pl.DataFrame, records: pl.DataFrame, fmt: str) -> Numbers: ...


@dataclass(frozen=True)
class Reexport:
    sets: pl.DataFrame  # the new rows' set records (RECORD_COLUMNS), numbered
    rejects: pl.DataFrame  # REJECT_SCHEMA: the new rows' and the known bad rows'
    known: int  # rows stored already as sets, left as they are


def read_known(
    batches: Iterable[pl.DataFrame],
    fmt: str,
    context: RowContext,
    folder_athlete: str | None,
    stored: StoredRows,
) -> Reexport | None:
    """The file's new rows validated and numbered among its known ones, or None when the file
    is not a re-export this can take exactly (then read it in full)."""
    seed = file_seed(context, folder_athlete, fmt)
    hashes: tuple[pl.Series, pl.Series] | None = None
    order_parts, new_parts, again_parts = [], [], []
    rows = new = 0
    for batch in batches:
        if "source_format" in batch.columns:
            return None  # a bundle of several formats: numbered per member, read in full
        if hashes is None:
            # A file without an athlete column is the folder athlete's alone.
            one = None if "athlete_id" in batch.columns else folder_athlete
            hashes = stored.line_hashes(fmt, one)
            if hashes[0].is_empty():
                return None
        set_hashes, reject_hashes = hashes
        hashed = with_row_hashes(batch, seed).with_columns(pl.col("source_line").cast(pl.Int64))
        intact = hashed["structure_error"].is_null()
        known = intact & _within(hashed["line_hash"], set_hashes)
        bad_before = intact & ~known & _within(hashed["line_hash"], reject_hashes)
        numbered = ~blank(pl.col("set_index")) if "set_index" in batch.columns else pl.lit(False)
        # Selected before filtered: the text columns of a batch are not copied.
        order = hashed.select("source_line", *HASH_COLUMNS, known=known, numbered=numbered)
        order_parts.append(order.filter(~bad_before))
        # Only the new rows keep their text: the known ones are numbers from here on.
        new_parts.append(hashed.filter(~known & ~bad_before))
        again_parts.append(hashed.filter(bad_before).select("source_line", "raw", *HASH_COLUMNS))
        rows += hashed.height
        new += new_parts[-1].height
        if new > MAX_NEW_ROWS or new > rows * MAX_NEW_SHARE:
            return None
    again = pl.concat(again_parts)
    again = again.join(stored.matching_rejects(again), on=HASH_COLUMNS, how="left")
    if again["errors"].null_count():
        return None  # a 64-bit match that the second hash denies: its text is gone
    records, rejects = checked(pl.concat(new_parts), context, folder_athlete)
    numbers = stored.number(pl.concat(order_parts), records, fmt)
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
