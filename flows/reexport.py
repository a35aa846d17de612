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

# Below this many rows a file validates in milliseconds: not worth a look-up.
MIN_ROWS = 1_000
# New rows are validated in one frame, in memory: past this many, or past this share of the
# rows read so far, the file is no re-export, and the batched full read takes it.
MAX_NEW_ROWS = 250_000
MAX_NEW_SHARE = 0.5


class StoredRows(Protocol):
    """What the warehouse answers (warehouse.stored_lines)."""

    def matching(self, hashes: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]: ...
    def set_hashes(self, records: pl.DataFrame, fmt: str) -> pl.DataFrame: ...


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
    new_parts, known_parts, found_parts, again_parts = [], [], [], []
    rows = new = 0
    for batch in batches:
        if "source_format" in batch.columns:
            return None  # a bundle of several formats: numbered per member, read in full
        hashed = with_row_hashes(batch, seed)
        intact = hashed.filter(pl.col("structure_error").is_null())
        found, rejected = stored.matching(intact.select(HASH_COLUMNS).unique())
        known = intact.join(found.select(HASH_COLUMNS).unique(), on=HASH_COLUMNS, how="semi")
        numbered = ~blank(pl.col("set_index")) if "set_index" in batch.columns else pl.lit(False)
        known_parts.append(known.select("source_line", *HASH_COLUMNS, numbered=numbered))
        rest = intact.join(found, on=HASH_COLUMNS, how="anti")
        # A bad row rejected before is rejected again with its stored reasons.
        again = rest.join(rejected, on=HASH_COLUMNS).select(REJECT_SCHEMA.keys())
        again_parts.append(again.cast(REJECT_SCHEMA))  # type: ignore[arg-type]
        rest = rest.join(rejected, on=HASH_COLUMNS, how="anti")
        new_parts.append(pl.concat([rest, hashed.filter(pl.col("structure_error").is_not_null())]))
        found_parts.append(found)
        rows += hashed.height
        new += new_parts[-1].height
        if new > MAX_NEW_ROWS or new > rows * MAX_NEW_SHARE:
            return None
    stubs = pl.concat(known_parts)
    if stubs.is_empty():
        return None
    records, rejects = checked(pl.concat(new_parts), context, folder_athlete)
    placed = _place(
        records.hstack(stored.set_hashes(records, fmt)), stubs, pl.concat(found_parts).unique()
    )
    if placed is None:
        return None
    return Reexport(
        sets=records.drop("set_index").join(placed, on="source_line").select(RECORD_COLUMNS),
        rejects=pl.concat([rejects, cut_raw(pl.concat(again_parts))]).sort("source_line"),
        known=stubs.height,
    )


def _place(records: pl.DataFrame, stubs: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame | None:
    """Number every set of the file, new and known, in file order. Gives each new record's
    `set_index`, or None when a known row would not stay exactly the stored set it matched,
    or when a key repeats in the file (which copy is rejected is for the full read to say)."""
    # A stored row's text gives one group and time; several sets only for sets without a number.
    facts = found.group_by(HASH_COLUMNS).agg(
        pl.col("group_a", "group_b", "set_key").first(),
        stored_index=pl.col("set_index").first(),
        copies=pl.len(),
    )
    stubs = stubs.join(facts, on=HASH_COLUMNS)
    if stubs.filter(pl.col("numbered") & (pl.col("copies") > 1)).height:
        return None
    columns = ("source_line", *HASH_COLUMNS, "group_a", "group_b", "set_key")
    every = pl.concat(
        [
            records.select(*columns, given=pl.col("set_index"), known=pl.lit(False)),
            stubs.select(
                *columns, given=pl.when("numbered").then("stored_index"), known=pl.lit(True)
            ),
        ],
        how="vertical_relaxed",
    ).sort("source_line")
    position = (pl.int_range(pl.len()).over("group_a", "group_b") + 1).cast(pl.Int64)
    every = every.with_columns(set_index=pl.coalesce("given", position))
    known = every.filter("known")
    still = known.join(found, on=[*HASH_COLUMNS, "set_index"], how="semi")
    repeated = every.select(pl.struct("set_key", "set_index").is_duplicated().any()).item()
    if still.height != known.height or repeated:
        return None
    return every.filter(~pl.col("known")).select("source_line", "set_index")
