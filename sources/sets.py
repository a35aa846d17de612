"""The rules every app reader shares, written once: what a set is and what a set-type marker
means (DESIGN.md, "Sources"); the units of loads are sources.units'.

Canonical CSV and machine JSON do not use these: their writers are ours, and a row there with
nothing measured is a reject (`reps_or_measure`), not a skipped row.
"""

from __future__ import annotations

import polars as pl

from sources.base import SESSION_KEY
from sources.columns import set_numbers

# Every spelling of a set type an app writes, lower-cased: Strong's `W`/`D`/`F` and
# `WARM_UP`/`FAILURE`, Hevy's `normal`/`dropset`, JEFIT's and Liftosaur's words.
MARKERS = {
    "w": "warmup",
    "warmup": "warmup",
    "warm_up": "warmup",
    "warm-up": "warmup",
    "warm up": "warmup",
    "d": "drop",
    "drop": "drop",
    "dropset": "drop",
    "drop_set": "drop",
    "drop-set": "drop",
    "drop set": "drop",
    "f": "failure",
    "failure": "failure",
    "normal": "working",
    "working": "working",
}
# A warm-up flag as apps write it (Fitbod's `isWarmup`, Liftosaur's `Is Warmup Set?`).
WARMUP_FLAGS = {"true": "warmup", "1": "warmup", "false": "working", "0": "working"}
# Zero in the spellings apps write it: `0`, `0.0`, ` 0`, `0:00:00`.
_ZERO = r"^\s*0*(?:[.,]0*)?(?::0+(?:[.,]0*)?)*\s*$"


def set_type(marker: pl.Expr) -> pl.Expr:
    """A marker as a set type. One that is not understood is passed on as written, so the
    contract rejects the row: a guess of `working` would make the rules count it."""
    return (
        marker.str.strip_chars()
        .str.to_lowercase()
        .replace_strict(MARKERS, default=marker.str.strip_chars(), return_dtype=pl.String)
    )


def warmup_flag(flag: pl.Expr) -> pl.Expr:
    """A warm-up flag as a set type; any other value is passed on, for the contract to reject."""
    return flag.str.to_lowercase().replace_strict(
        WARMUP_FLAGS, default=flag, return_dtype=pl.String
    )


def numbered(rows: pl.DataFrame) -> pl.DataFrame:
    """Sets numbered in file order within their workout (`session_key`) and exercise. Readers
    number after `only_sets`, so a row that is not a set takes no number."""
    exercise = pl.col("exercise").str.to_lowercase()
    return rows.with_columns(set_index=set_numbers(pl.col(SESSION_KEY), exercise))


def nothing(value: pl.Expr) -> pl.Expr:
    """Empty, or zero as some app writes it."""
    return value.is_null() | value.str.contains(_ZERO)


def only_sets(rows: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The rows that are sets, and how many are not (counted as skipped).

    A row with no reps, no time and no distance (each empty or zero) is not a set, whatever its
    weight. Reps 0 with a time or a distance is a timed or distance set: its reps are empty. A
    zero time or distance is no measure at all. A row whose structure is broken is kept, so
    that the contract rejects it with the reason."""
    reps, seconds, metres = (_column(rows, name) for name in ("reps", "duration_s", "distance_m"))
    unlogged = nothing(reps) & nothing(seconds) & nothing(metres)
    kept = rows.filter(pl.col("structure_error").is_not_null() | ~unlogged)
    cleared = kept.with_columns(
        reps=pl.when(nothing(reps) & ~(nothing(seconds) & nothing(metres)))
        .then(pl.lit(None, pl.String))
        .otherwise(reps),
        duration_s=pl.when(nothing(seconds)).then(pl.lit(None, pl.String)).otherwise(seconds),
        distance_m=pl.when(nothing(metres)).then(pl.lit(None, pl.String)).otherwise(metres),
    )
    return cleared, rows.height - kept.height


def _column(rows: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in rows.columns else pl.lit(None, pl.String)
