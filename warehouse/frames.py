"""A per-file column of a frame concatenated from several files' rows: the batch steps' (parse
and store). Not in `schemas/`: every file there is part of the row hashes' seed
(schemas.row_hash.code_fingerprint), and a helper that decides no row's value must not make
every stored row read anew."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def each_row(
    values: Sequence[object],
    heights: Sequence[int],
    name: str,
    dtype: pl.DataType | type[pl.DataType],
) -> pl.Series:
    """Each of several files' `values` repeated for its `heights` rows: a per-file column of
    frames concatenated in that order."""
    per_file = pl.DataFrame({name: values, "rows": heights}, schema={name: dtype, "rows": pl.Int64})
    return per_file.select(pl.col(name).repeat_by("rows")).explode(name, empty_as_null=False)[name]
