"""Helpers the app readers share to turn their columns into canonical text.

A value a reader cannot convert is passed on as it is, so the contract rejects it with the
value the user wrote, rather than the reader dropping it.
"""

from __future__ import annotations

import polars as pl

METRES_PER = {"m": 1.0, "meters": 1.0, "km": 1000.0, "mi": 1609.344, "miles": 1609.344}


def find(header: list[str], *names: str) -> str | None:
    """The header cell matching any of `names`, ignoring case and surrounding space."""
    wanted = {name.lower() for name in names}
    return next((cell for cell in header if cell.strip().lower() in wanted), None)


def text(column: str | None) -> pl.Expr:
    """The column's stripped text, or null when the file has no such column."""
    if column is None:
        return pl.lit(None, pl.String)
    return pl.col(column).str.strip_chars()


def blank(expr: pl.Expr) -> pl.Expr:
    return expr.is_null() | (expr == "")


def scaled(raw: pl.Expr, factor: pl.Expr | float, decimals: int = 6) -> pl.Expr:
    """`raw` as a number times `factor`, rounded to `decimals` (float dust such as
    6.80388555 or 60.000000001 goes); the raw text when it is not a number."""
    number = raw.cast(pl.Float64, strict=False)
    value = (number * factor).round(decimals)
    return (
        pl.when(number.is_not_null() & number.is_finite())
        .then(value.cast(pl.String))
        .otherwise(raw)
    )


def metres(raw: pl.Expr, unit: pl.Expr) -> pl.Expr:
    factor = unit.str.to_lowercase().replace_strict(
        METRES_PER, default=None, return_dtype=pl.Float64
    )
    return pl.when(factor.is_not_null()).then(scaled(raw, factor)).otherwise(raw)


def clock_seconds(raw: pl.Expr) -> pl.Expr:
    """`H:MM:SS`, `MM:SS` or plain seconds as seconds; the raw text when it is none of them."""
    parts = raw.str.split(":").list.eval(pl.element().cast(pl.Float64, strict=False))
    weights = (
        pl.when(parts.list.len() == 3)
        .then(pl.lit([3600.0, 60.0, 1.0]))
        .when(parts.list.len() == 2)
        .then(pl.lit([60.0, 1.0]))
        .otherwise(pl.lit([1.0]))
    )
    ok = parts.list.len().is_between(1, 3) & ~parts.list.eval(pl.element().is_null()).list.any()
    total = (parts * weights).list.sum()
    return pl.when(ok).then(total.cast(pl.String)).otherwise(raw)


def set_numbers(*group: pl.Expr) -> pl.Expr:
    """Sets numbered 1, 2, 3 in file order within each group (a workout and an exercise): an
    exercise done twice in one workout continues its numbering, so no set looks like a
    duplicate of another."""
    return (pl.int_range(pl.len()).over(list(group)) + 1).cast(pl.String)
